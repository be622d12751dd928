import CSpecDecABI
import SpecDecCore
import XCTest

/// Requests beyond the machine's memory are statuses, and creating and destroying sessions
/// and models gives back what they took. XCTest runs these one at a time, so the process's
/// resident size is not disturbed by other tests while they measure it.
final class CABIResourceLimitTests: XCTestCase {
    let llama = Fixtures.decoder("llama_f32")

    /// 24 layers of 64-wide keys and values over 16 million positions: about 200 GB of KV
    /// cache for a session that asks for the whole context.
    func testArenaLargerThanPhysicalMemoryIsOutOfMemory() throws {
        let dir = TemporaryDirectory()
        let shape = SyntheticLlama(layers: 24, contextLength: (1 << 24) - 1)
        shape.write(to: dir)
        let (status, model) = CABI.loadModel(dir.path)
        XCTAssertEqual(status, SPECDEC_OK, CABI.lastMessage)
        defer { specdec_model_destroy(model) }
        let kvBytesPerToken = shape.layers * 2 * shape.kvHeads * shape.headDim * 4
        let physical = PhysicalMemory.bytes
        let before = ProcessProbe.residentBytes
        if kvBytesPerToken * shape.contextLength > physical {
            let (refused, session) = CABI.createSession(model, capacity: 0)
            XCTAssertEqual(refused, SPECDEC_ERR_OUT_OF_MEMORY, CABI.lastMessage)
            XCTAssertNil(session)
            XCTAssertTrue(CABI.lastMessage.contains("physical memory") && CABI.lastMessage.contains("kv_capacity"), CABI.lastMessage)
        }
        // Within the context but beyond memory: the same.
        let tooMany = physical / kvBytesPerToken + 1
        if tooMany < shape.contextLength {
            let (refused, session) = CABI.createSession(model, capacity: Int32(tooMany))
            XCTAssertEqual(refused, SPECDEC_ERR_OUT_OF_MEMORY, CABI.lastMessage)
            XCTAssertNil(session)
        }
        XCTAssertLessThan(ProcessProbe.residentBytes - before, 64 << 20)
        // A capacity that fits works.
        let (fits, session) = CABI.createSession(model, capacity: 1024)
        XCTAssertEqual(fits, SPECDEC_OK, CABI.lastMessage)
        defer { specdec_session_destroy(session) }
        XCTAssertEqual(CABI.generate(session, [1, 2, 3], count: 4).0, SPECDEC_OK)
    }

    /// The arena's own bound, below the C API: no size wraps around.
    func testArenaSizesBeyondMemory() {
        for size in [Int.max, Int.max - 4000, PhysicalMemory.bytes + 1, -1] {
            XCTAssertThrowsError(try Arena(byteCount: size, backend: .mmap), "\(size)") { error in
                XCTAssertEqual((error as? SpecDecError)?.kind, .outOfMemory)
            }
        }
    }

    /// A long context costs memory only as it fills: the mapped arena is not touched ahead.
    func testUnusedContextIsNotResident() throws {
        let dir = TemporaryDirectory()
        SyntheticLlama(layers: 4, contextLength: 1 << 20).write(to: dir)
        let (_, model) = CABI.loadModel(dir.path)
        defer { specdec_model_destroy(model) }
        var params = specdec_session_default_params()
        params.arena_backend = SPECDEC_ARENA_MMAP
        params.n_threads = 1
        let before = ProcessProbe.residentBytes
        var session: OpaquePointer? = nil
        XCTAssertEqual(specdec_session_create(model, &params, &session), SPECDEC_OK, CABI.lastMessage)
        defer { specdec_session_destroy(session) }
        XCTAssertEqual(CABI.generate(session, [1, 2, 3], count: 4).0, SPECDEC_OK)
        // 4 layers × 2 × 64 floats × 1M positions = 2 GiB reserved, a few pages used.
        XCTAssertLessThan(ProcessProbe.residentBytes - before, 256 << 20)
    }

    /// Thousands of sessions created, used and destroyed: memory and threads stay flat.
    func testSessionsCreatedAndDestroyedInALoop() throws {
        let (_, model) = CABI.loadModel(llama)
        defer { specdec_model_destroy(model) }
        let prompt: [Int32] = [9, 10, 11, 12, 9, 10, 11, 12]
        func cycle(_ i: Int) {
            var params = specdec_session_default_params()
            params.n_threads = i % 3 == 0 ? 2 : 1
            var session: OpaquePointer? = nil
            guard specdec_session_create(model, &params, &session) == SPECDEC_OK else { return XCTFail(CABI.lastMessage) }
            defer { specdec_session_destroy(session) }
            if i % 25 == 0 {
                let spec = CABI.speculative(i % 50 == 0 ? SPECDEC_DRAFTER_MODEL : SPECDEC_DRAFTER_SUFFIX, draftModel: model)
                XCTAssertEqual(CABI.generate(session, prompt, count: 4, spec: spec).0, SPECDEC_OK)
            } else if i % 10 == 0 {
                XCTAssertEqual(CABI.generate(session, prompt, count: 2).0, SPECDEC_OK)
            }
        }
        for i in 0..<100 { cycle(i) }
        let residentBefore = ProcessProbe.residentBytes, virtualBefore = ProcessProbe.virtualBytes
        let threadsBefore = ProcessProbe.threadCount
        for i in 0..<2000 { cycle(i) }
        let grown = ProcessProbe.residentBytes - residentBefore
        XCTAssertLessThan(grown, 8 << 20, "resident size grew by \(grown) bytes over 2000 sessions")
        // Arenas are mapped lazily: one leaked unused would not show in the resident size.
        let reserved = ProcessProbe.virtualBytes - virtualBefore
        XCTAssertLessThan(reserved, 64 << 20, "address space grew by \(reserved) bytes over 2000 sessions")
        // Each session's compute threads are joined when it is destroyed (the test runner's
        // own threads may come and go meanwhile, so the count may only fall).
        XCTAssertLessThanOrEqual(ProcessProbe.threadCount, threadsBefore)
    }

    /// Models loaded and destroyed (mapped and read into memory) give their memory back.
    func testModelsLoadedAndDestroyedInALoop() throws {
        func cycle(_ i: Int) {
            let (status, model) = CABI.loadModel(i % 2 == 0 ? llama : Seq2SeqFixtures.directory("marian_f32"), useMmap: i % 4 < 2)
            guard status == SPECDEC_OK else { return XCTFail(CABI.lastMessage) }
            defer { specdec_model_destroy(model) }
            let (_, session) = CABI.createSession(model, capacity: 32)
            specdec_session_destroy(session)
        }
        for i in 0..<40 { cycle(i) }
        let residentBefore = ProcessProbe.residentBytes, virtualBefore = ProcessProbe.virtualBytes
        for i in 0..<400 { cycle(i) }
        let grown = ProcessProbe.residentBytes - residentBefore
        XCTAssertLessThan(grown, 8 << 20, "resident size grew by \(grown) bytes over 400 models")
        let reserved = ProcessProbe.virtualBytes - virtualBefore
        XCTAssertLessThan(reserved, 64 << 20, "address space grew by \(reserved) bytes over 400 models (mapped weights?)")
    }
}
