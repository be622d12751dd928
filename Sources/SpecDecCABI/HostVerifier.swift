import CSpecDecABI
import SpecDecCore

/// A target model implemented by the host through `specdec_verifier_vtable_t`.
final class HostVerifier: Verifier {
    let vtable: specdec_verifier_vtable_t
    let instance: UnsafeMutableRawPointer?
    let vocabSize: Int
    private var tokens: [Int32] = []
    private var parents: [Int32] = []
    private static let maxDraft = 64

    init(vtable: specdec_verifier_vtable_t, instance: UnsafeMutableRawPointer?, vocabSize: Int) {
        self.vtable = vtable
        self.instance = instance
        self.vocabSize = vocabSize
    }

    var remainingCapacity: Int {
        guard let remaining = vtable.remaining_capacity else { return Int(Int32.max) }
        return Int(remaining(instance))
    }

    var maxDraftTokens: Int { max(0, min(HostVerifier.maxDraft, remainingCapacity - 1)) }

    func prefill(_ prompt: UnsafeBufferPointer<Int32>, logits: UnsafeMutablePointer<Float>) throws(SpecDecError) {
        let status = vtable.prefill(instance, prompt.baseAddress, Int32(prompt.count), logits)
        if status < 0 { throw .init(.callback, "the verifier's prefill failed (returned \(status))") }
    }

    func score(pending: Int32, draft: Draft, logits: UnsafeMutablePointer<Float>) throws(SpecDecError) {
        tokens.removeAll(keepingCapacity: true)
        parents.removeAll(keepingCapacity: true)
        tokens.append(pending)
        parents.append(-1)
        for i in 0..<draft.count {
            tokens.append(draft.tokens[i])
            parents.append(draft.parents[i] + 1)  // node numbering shifts by the pending token
        }
        let status = tokens.withUnsafeBufferPointer { t in
            parents.withUnsafeBufferPointer { p in vtable.score(instance, t.baseAddress, p.baseAddress, Int32(t.count), logits) }
        }
        if status < 0 { throw .init(.callback, "the verifier's score failed (returned \(status))") }
    }

    func commit(path: [Int], of draft: Draft) throws(SpecDecError) {
        let indices = path.map { Int32($0 + 1) }
        let status = indices.withUnsafeBufferPointer { vtable.commit(instance, $0.baseAddress, Int32($0.count)) }
        if status < 0 { throw .init(.callback, "the verifier's commit failed (returned \(status))") }
    }
}
