import CSpecDecABI
import SpecDecCore

/// A drafter implemented by the host through `specdec_drafter_vtable_t`: a C function
/// table, a Python callback, a Rust closure or a loaded plugin.
final class HostDrafter: Drafter {
    let vtable: specdec_drafter_vtable_t
    let instance: UnsafeMutableRawPointer?
    private var tokens: [Int32] = []
    private var parents: [Int32] = []
    private var probabilities: [Float] = []

    init(vtable: specdec_drafter_vtable_t, instance: UnsafeMutableRawPointer?) {
        self.vtable = vtable
        self.instance = instance
    }

    var proposesTrees: Bool { true }

    private func withRequest<R>(_ context: DraftContext, maxTokens: Int, _ body: (UnsafePointer<specdec_draft_request_t>) -> R) -> R {
        var request = specdec_draft_request_t()
        request.struct_size = UInt32(MemoryLayout<specdec_draft_request_t>.size)
        request.tokens = context.tokens.baseAddress
        request.n_tokens = Int32(context.tokens.count)
        request.n_prompt = Int32(context.promptLength)
        request.source = context.source.baseAddress
        request.n_source = Int32(context.source.count)
        request.max_tokens = Int32(maxTokens)
        request.vocab_size = Int32(context.vocabSize)
        request.want_probabilities = context.wantsDistributions && !context.sampling.isGreedy ? 1 : 0
        return withUnsafePointer(to: request, body)
    }

    func begin(context: DraftContext) throws(SpecDecError) {
        guard let begin = vtable.begin else { return }
        let status = withRequest(context, maxTokens: 0) { begin(instance, $0) }
        if status < 0 { throw .init(.callback, "the drafter's begin callback failed (returned \(status))") }
    }

    func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
        let vocab = context.vocabSize
        let wantsProbabilities = context.wantsDistributions && !context.sampling.isGreedy
        if tokens.count < maxTokens {
            tokens = [Int32](repeating: 0, count: maxTokens)
            parents = tokens
        }
        if wantsProbabilities && probabilities.count < maxTokens * vocab {
            probabilities = [Float](repeating: 0, count: maxTokens * vocab)
        }
        var output = specdec_draft_output_t()
        let status: Int32 = tokens.withUnsafeMutableBufferPointer { t in
            parents.withUnsafeMutableBufferPointer { p in
                probabilities.withUnsafeMutableBufferPointer { q in
                    output.tokens = t.baseAddress
                    output.parents = p.baseAddress
                    output.probabilities = wantsProbabilities ? q.baseAddress : nil
                    output.n_tokens = 0
                    output.has_probabilities = 0
                    return withRequest(context, maxTokens: maxTokens) { vtable.propose(instance, $0, &output) }
                }
            }
        }
        if status < 0 { throw .init(.callback, "the drafter failed (propose returned \(status))") }
        let n = Int(output.n_tokens)
        guard n >= 0 else { throw .init(.callback, "the drafter returned a negative token count (\(n))") }
        guard n <= maxTokens else {
            throw .init(.callback, "the drafter returned \(n) tokens, more than the \(maxTokens) asked for")
        }
        draft.tokens.append(contentsOf: tokens[0..<n])
        draft.parents.append(contentsOf: parents[0..<n])
        if wantsProbabilities && output.has_probabilities != 0 {
            draft.distributions = Array(probabilities[0..<(n * vocab)])
            draft.vocabSize = vocab
        }
    }

    func accepted(path: [Int], of draft: Draft, next: Int32) {
        guard let accepted = vtable.accepted else { return }
        let indices = path.map { Int32($0) }
        indices.withUnsafeBufferPointer { accepted(instance, $0.baseAddress, Int32($0.count), next) }
    }
}
