/// A batch session whose pass can run several new tokens per sequence: the pending token
/// and a draft to verify, for every sequence at once. Its `startSequences` leaves each
/// first token for a pass (returns false): the round's logits come from that pass.
protocol BatchVerifyingTarget: BatchDecodingTarget {
    /// Most rows one pass takes (a sequence's pending token plus its draft must fit).
    var maxBatch: Int { get }
    /// Whether source ids are target ids too (drafters may copy from the source).
    var sourceSharesTargetVocabulary: Bool { get }
    /// Runs `rows` tokens grouped by sequence: group g's tokens are new tokens of slot
    /// firstSlot + g, after what its cache holds; logits for every row.
    func verifyEachSequence(firstSlot: Int, tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, rows: Int,
                            groups: SequenceRowGroups, logits: UnsafeMutablePointer<Float>)
}

/// What a batched speculative call runs: one drafter for every sequence, the acceptance
/// rule (each sequence gets its own copy) and the most draft tokens a round.
public struct BatchSpeculation {
    public var drafter: BatchDrafter
    public var rule: AcceptanceRule
    public var draftLength: Int

    public init(drafter: BatchDrafter, rule: AcceptanceRule, draftLength: Int) {
        self.drafter = drafter
        self.rule = rule
        self.draftLength = draftLength
    }

    /// The batched form of a speculative request, or nil when it has none: the drafter
    /// keeps one request's state, or the draft length adapts to each sequence's timing.
    public init?(drafter: Drafter, rule: AcceptanceRule, speculative: SpeculativeOptions) {
        guard !speculative.adaptive, let batchDrafter = drafter as? BatchDrafter else { return nil }
        self.init(drafter: batchDrafter, rule: rule, draftLength: speculative.draftLength)
    }
}

/// Batched speculative decoding: every round drafts for all sequences in one drafter call,
/// verifies every sequence's pending token and draft in one target pass (rows grouped by
/// sequence, each group in its own cache), and accepts per sequence; finished sequences
/// leave and the queue refills their slots. A sequence's rounds are exactly those of
/// decoding it alone (`SpeculativeGenerator`): the same first token from a plain pass, the
/// same drafts, the same logits, the same rule, so its output is identical.
enum BatchSpeculativeLoop {
    /// The flat rows of one round, allocated once per call.
    private final class RoundBuffers {
        let arena: Arena
        let tokens, positions, groupOfRow, firstRows: UnsafeMutablePointer<Int32>
        let logits: UnsafeMutablePointer<Float>

        init(sequences: Int, rowsPerSequence: Int, vocabSize: Int) throws(SpecDecError) {
            let rows = sequences * rowsPerSequence
            arena = try Arena(byteCount: 4 * Arena.footprint(Int32.self, count: rows + 1) + Arena.footprint(Float.self, count: rows * vocabSize),
                              backend: .automatic)
            tokens = try arena.allocate(Int32.self, count: rows)
            positions = try arena.allocate(Int32.self, count: rows)
            groupOfRow = try arena.allocate(Int32.self, count: rows)
            firstRows = try arena.allocate(Int32.self, count: sequences + 1)
            logits = try arena.allocate(Float.self, count: rows * vocabSize)
        }
    }

    static func run<Target: BatchVerifyingTarget>(
        _ target: Target, inputs: [UnsafeBufferPointer<Int32>], options: GenerationOptions, seeds: [UInt64],
        schedule: BatchSchedule, speculation: BatchSpeculation, outputs: UnsafeMutablePointer<Int32>,
        stats: inout GenerationStats
    ) throws(SpecDecError) -> [BatchSequenceResult] {
        guard let slots = target.slots else { return [BatchSequenceResult](repeating: BatchSequenceResult(), count: inputs.count) }
        var rows = BatchRows(inputs: inputs, options: options, seeds: seeds, schedule: schedule, outputs: outputs, slots: slots)
        let vocab = target.vocabSize
        let maxDraft = max(0, min(speculation.draftLength, target.maxBatch - 1))
        let buffers = try RoundBuffers(sequences: rows.limit, rowsPerSequence: maxDraft + 1, vocabSize: vocab)
        let drafter = speculation.drafter
        try drafter.reserve(sequences: rows.limit, tokensPerSequence: options.maxNewTokens + 1)
        let wantsDistributions = !speculation.rule.acceptsTrees
        // Per slot (moving with its sequence): the sequence so far (prompt, then every token
        // emitted, the newest one not yet run), whether its first token was sampled, its
        // draft and its copy of the rule.
        var histories = [[Int32]](repeating: [], count: rows.limit)
        var speculating = [Bool](repeating: false, count: rows.limit)
        var drafts = [Draft](repeating: Draft(), count: rows.limit)
        var rules = [AcceptanceRule](repeating: speculation.rule, count: rows.limit)
        var contexts: [DraftContext] = [], ids: [Int] = [], rooms: [Int] = [], drafting: [Int] = []
        // A round's drafts: each sequence's draft moves in (its storage with it) for the
        // drafter call and back after it, so no round copies one.
        var roundDrafts: [Draft] = []
        var historyBuffers: [UnsafeBufferPointer<Int32>] = []
        for i in 0..<rows.limit {
            histories[i].reserveCapacity(options.maxNewTokens + 2)
            drafts[i].reserveCapacity(maxDraft)
        }
        stats.reserveDraftDepths(maxDraft)
        contexts.reserveCapacity(rows.limit)
        ids.reserveCapacity(rows.limit)
        rooms.reserveCapacity(rows.limit)
        drafting.reserveCapacity(rows.limit)
        roundDrafts.reserveCapacity(rows.limit)
        historyBuffers.reserveCapacity(rows.limit)
        let start = Clock.now()

        func context(_ row: Int, tokens: UnsafeBufferPointer<Int32>) -> DraftContext {
            DraftContext(tokens: tokens, promptLength: 1, source: rows.inputs[rows.owners[row]], sourceSharesTargetVocabulary: target.sourceSharesTargetVocabulary,
                         sampling: options.sampling, wantsDistributions: wantsDistributions, vocabSize: vocab)
        }

        func leave(_ row: Int, reason: StopReason, error: SpecDecError? = nil) {
            drafter.endSequence(rows.owners[row])
            let last = rows.finish(row, reason: reason, error: error, stats: &stats)
            histories.swapAt(row, last)
            speculating.swapAt(row, last)
            drafts.swapAt(row, last)
            rules.swapAt(row, last)
        }

        /// Emits `token` for `row`; false when its sequence ends (`rowStats.stopReason` says why).
        func emit(_ row: Int, _ token: Int32, _ rowStats: inout GenerationStats) -> Bool {
            histories[row].append(token)
            return rows.emitters[row].emit(token, stats: &rowStats) { _, _ in .proceed }
        }

        // Uses every row's fresh logits: the first token is sampled as a plain pass would,
        // later rounds accept a prefix of the draft and append the target's own token.
        func advanceReady() -> Int {
            var finished = 0
            for row in stride(from: rows.active - 1, through: 0, by: -1) where rows.ready[row] {
                rows.ready[row] = false
                let first = Int(buffers.firstRows[row])
                let logits = buffers.logits + first * vocab
                var rowStats = GenerationStats()
                rowStats.stopReason = .maxTokens
                var keeps: Bool
                var next: Int32
                if !speculating[row] {
                    let cache = slots.caches[row]
                    next = slots.samplers[row].sample(logits, history: cache.tokens, historyCount: cache.length)
                    keeps = emit(row, next, &rowStats)
                    if keeps {
                        do throws(SpecDecError) {
                            try histories[row].withUnsafeBufferPointer { (h) throws(SpecDecError) in
                                try drafter.beginSequence(rows.owners[row], context: context(row, tokens: h))
                            }
                        } catch {
                            leave(row, reason: .error, error: error)
                            finished += 1
                            continue
                        }
                        speculating[row] = true
                    }
                } else {
                    let draft = drafts[row]
                    let base = slots.caches[row].length - 1 - draft.count
                    let outcome = rules[row].accept(draft, AcceptanceInput(logits: logits, vocabSize: vocab, history: histories[row]),
                                                    sampler: &slots.samplers[row])
                    slots.caches[row].compact(keeping: outcome.path, offset: base + 1, startingAt: base + 1)
                    next = outcome.next
                    let (goOn, emittedDrafts) = outcome.emit(of: draft) { emit(row, $0, &rowStats) }
                    stats.recordDraft(draft, accepted: emittedDrafts)
                    keeps = goOn
                }
                if keeps && !rows.hasRoom(row, positionLimit: target.positionLimit) {
                    rowStats.stopReason = .capacity
                    keeps = false
                }
                if keeps { slots.tokens[row] = next; continue }
                leave(row, reason: rowStats.stopReason)
                finished += 1
            }
            return finished
        }

        // Drafts for every sequence past its first token, in one drafter call.
        func draftAll() throws(SpecDecError) {
            ids.removeAll(keepingCapacity: true)
            rooms.removeAll(keepingCapacity: true)
            drafting.removeAll(keepingCapacity: true)
            for row in 0..<rows.active {
                drafts[row].removeAll()
                drafts[row].vocabSize = vocab
                guard speculating[row] else { continue }
                let cache = slots.caches[row]
                let remaining = min(cache.capacity, target.positionLimit) - cache.length
                let room = min(maxDraft, remaining - 1, options.maxNewTokens - rows.emitters[row].produced - 1)
                guard room > 0 else { continue }
                drafting.append(row)
                ids.append(rows.owners[row])
                rooms.append(room)
            }
            guard !drafting.isEmpty else { return }
            roundDrafts.removeAll(keepingCapacity: true)
            // Index loops: an unoptimised build allocates for a for-in over an array.
            for i in drafting.indices {
                roundDrafts.append(Draft())
                swap(&roundDrafts[i], &drafts[drafting[i]])
            }
            defer { for i in drafting.indices { swap(&roundDrafts[i], &drafts[drafting[i]]) } }
            try histories.withElementBuffers(drafting, using: &historyBuffers) { (buffers) throws(SpecDecError) in
                contexts.removeAll(keepingCapacity: true)
                for i in drafting.indices { contexts.append(context(drafting[i], tokens: buffers[i])) }
                try drafter.propose(sequences: ids, contexts: contexts, maxTokens: rooms, into: &roundDrafts)
            }
            for i in drafting.indices {
                let draft = roundDrafts[i]
                if let problem = draft.problem(vocabSize: vocab, maxTokens: rooms[i]) { throw .init(.callback, problem) }
                if !speculation.rule.acceptsTrees && !draft.isChain { roundDrafts[i] = draft.firstChain() }
                guard roundDrafts[i].isChain else { throw .invalidArgument("a batched drafter proposes chains; the draft of sequence \(ids[i]) is a tree") }
            }
        }

        // Verifies every row's pending token and draft: as few target passes as the rows
        // fit in (a pass holds at most maxBatch rows; a sequence's rows never split).
        func verifyAll() {
            var total = 0
            for row in 0..<rows.active {
                let count = 1 + drafts[row].count, length = slots.caches[row].length
                buffers.firstRows[row] = Int32(total)
                for i in 0..<count {
                    buffers.tokens[total + i] = i == 0 ? slots.tokens[row] : drafts[row].tokens[i - 1]
                    buffers.positions[total + i] = Int32(length + i)
                }
                total += count
            }
            buffers.firstRows[rows.active] = Int32(total)
            // Each pass takes the next sequences whose rows fit together (no local function:
            // the variables it captured would be boxed every round in unoptimised builds).
            var firstSlot = 0
            while firstSlot < rows.active {
                let firstRow = Int(buffers.firstRows[firstSlot])
                var end = firstSlot + 1
                while end < rows.active && Int(buffers.firstRows[end + 1]) - firstRow <= target.maxBatch { end += 1 }
                let passRows = Int(buffers.firstRows[end]) - firstRow
                for g in firstSlot..<end {
                    for r in Int(buffers.firstRows[g])..<Int(buffers.firstRows[g + 1]) { buffers.groupOfRow[r] = Int32(g - firstSlot) }
                }
                // The pass sees its rows from 0: rebase the group starts for it, then back.
                let relative = buffers.firstRows + firstSlot
                for g in 0...(end - firstSlot) { relative[g] -= Int32(firstRow) }
                let groups = SequenceRowGroups(firstRows: UnsafePointer(relative), groupOfRow: UnsafePointer(buffers.groupOfRow + firstRow),
                                               count: end - firstSlot)
                target.verifyEachSequence(firstSlot: firstSlot, tokens: buffers.tokens + firstRow, positions: buffers.positions + firstRow,
                                          rows: passRows, groups: groups, logits: buffers.logits + firstRow * vocab)
                for g in 0...(end - firstSlot) { relative[g] += Int32(firstRow) }
                stats.targetCalls += 1
                firstSlot = end
            }
        }

        while true {
            let new = rows.admit(target, stats: &stats)
            for row in new {
                histories[row].removeAll(keepingCapacity: true)
                histories[row].append(slots.tokens[row])
                speculating[row] = false
                rules[row] = speculation.rule
            }
            if advanceReady() > 0 && rows.hasQueue { continue }
            if rows.active == 0 { break }
            let roundStart = Clock.now()
            do { try draftAll() } catch {
                // The drafter failed for the round: every sequence in it ends with the error.
                while rows.active > 0 { leave(rows.active - 1, reason: .error, error: error) }
                continue
            }
            let verifyStart = Clock.now()
            stats.draftSeconds += verifyStart - roundStart
            verifyAll()
            stats.verifySeconds += Clock.now() - verifyStart
            for row in 0..<rows.active { rows.ready[row] = true }
        }
        stats.prefillSeconds = rows.encodeSeconds
        stats.decodeSeconds = Clock.now() - start - rows.encodeSeconds
        return rows.results
    }
}
