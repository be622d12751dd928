/// `TemplateProcessing` (single-sequence template), and Bert/Roberta processing, which
/// are the fixed templates "[CLS] $A [SEP]" and "<s> $A </s>".
struct TemplatePostProcessor: PostProcessor {
    enum Item: Sendable {
        case sequence
        case special([Int32])
    }

    let single: [Item]

    func process(_ ids: [Int32], addSpecialTokens: Bool) -> [Int32] {
        guard addSpecialTokens else { return ids }
        var out: [Int32] = []
        out.reserveCapacity(ids.count + 4)
        for item in single {
            switch item {
            case .sequence: out.append(contentsOf: ids)
            case .special(let special): out.append(contentsOf: special)
            }
        }
        return out
    }
}
