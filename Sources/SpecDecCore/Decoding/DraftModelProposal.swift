extension DecodingTarget {
    /// What a draft model does for one proposal, whatever its kind: bring its cache up to
    /// the verified tokens (the matching prefix stays), then pick up to `maxTokens` tokens,
    /// one pass each.
    func proposeChain(_ context: DraftContext, maxTokens: Int, picker: inout DraftTokenPicker,
                      into draft: inout Draft) throws(SpecDecError) {
        let k = min(maxTokens, capacity - context.tokens.count)
        guard k > 0 else { return }
        picker.start(context, draft: &draft)
        try picker.logits.withUnsafeMutableBufferPointer { (l) throws(SpecDecError) in try prefill(context.tokens, logits: l.baseAddress!) }
        for i in 0..<k {
            let token = picker.pick(into: &draft)
            if i + 1 < k {
                try picker.logits.withUnsafeMutableBufferPointer { (l) throws(SpecDecError) in try step(token, logits: l.baseAddress!) }
            }
        }
    }
}
