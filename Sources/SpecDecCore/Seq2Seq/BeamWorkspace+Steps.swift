#if canImport(Glibc)
import Glibc
#endif

/// The steps of one beam-search iteration over the workspace's buffers, in transformers'
/// order (GenerationMixin._beam_search: c. top-K continuations, d. which finish, e. the next
/// running beams, f. the finished slots, g. the reordered running beams). Scores are fp32 and
/// "-1e9" is transformers' stand-in for minus infinity.
extension BeamWorkspace {
    static let negative: Float = -1.0e9

    // Lists are [2][beams][maxLength]: `running` / `finished` select the current half.
    @inline(__always) func sequence(_ half: Int, _ beam: Int) -> UnsafeMutablePointer<Int32> { sequences + (half * beams + beam) * maxLength }
    @inline(__always) func slots(_ half: Int, _ beam: Int) -> UnsafeMutablePointer<Int32> { history + (half * beams + beam) * maxLength }
    @inline(__always) func finishedList(_ half: Int, _ slot: Int) -> UnsafeMutablePointer<Int32> { finishedTokens + (half * beams + slot) * maxLength }

    /// Running beams: the start token (in cache slot 0), score 0 for beam 0 and -1e9 for the
    /// others; every finished slot empty at -1e9.
    func start(beams count: Int, startToken: Int32) {
        running = 0
        finished = 0
        for b in 0..<count {
            sequence(running, b)[0] = startToken
            slots(running, b)[0] = 0
            runningScores[b] = b == 0 ? 0 : BeamWorkspace.negative
            finishedScores[b] = BeamWorkspace.negative
            finishedFlags[b] = 0
            finishedLengths[b] = 0
        }
    }

    /// c. The K best (beam, token) continuations of the first `rows` beams by
    /// log_softmax(logits) + running score, best first (ties: the lower beam · vocab + token).
    func collectContinuations(rows: Int, vocab: Int, k: Int) {
        var filled = 0
        for b in 0..<rows {
            let row = logits + b * vocab
            var maxLogit = -Float.infinity
            for v in 0..<vocab where row[v] > maxLogit { maxLogit = row[v] }
            var sum: Float = 0
            for v in 0..<vocab { sum += expf(row[v] - maxLogit) }
            let logSum = logf(sum)
            let base = runningScores[b]
            for v in 0..<vocab {
                let value = ((row[v] - maxLogit) - logSum) + base
                if filled == k && !(value > candidateScores[k - 1]) { continue }
                var j = filled < k ? filled : k - 1
                if filled < k { filled += 1 }
                while j > 0 && candidateScores[j - 1] < value {
                    candidateScores[j] = candidateScores[j - 1]
                    candidateIndices[j] = candidateIndices[j - 1]
                    j -= 1
                }
                candidateScores[j] = value
                candidateIndices[j] = b * vocab + v
            }
        }
    }

    /// d. + e. Marks the continuations that finish (an end token, or the length limit) and
    /// chooses the next running beams: the best `beams` of score - 1e9 · finished. Returns
    /// whether every continuation finished.
    func chooseRunning(beams count: Int, k: Int, vocab: Int, endTokens: [Int32], atLimit: Bool) -> Bool {
        var allHit = true
        for i in 0..<k {
            let hit = atLimit || endTokens.contains(Int32(candidateIndices[i] % vocab))
            candidateHits[i] = hit ? 1 : 0
            allHit = allHit && hit
            adjusted[i] = candidateScores[i] + (hit ? BeamWorkspace.negative : 0)
        }
        for j in 0..<count {
            var best = -1
            for i in 0..<k where !Self.contains(chosen, j, i) {
                if best < 0 || adjusted[i] > adjusted[best] { best = i }
            }
            chosen[j] = best
        }
        return allHit
    }

    func everyFinished(beams count: Int) -> Bool {
        for b in 0..<count where finishedFlags[finished * beams + b] == 0 { return false }
        return true
    }

    /// f. Continuations among the first `beams` that finished get score / length ** penalty and
    /// compete with the finished slots; the best `beams` of both become the new slots.
    /// `closed`: no new hypothesis may enter (transformers adds -1e9 when every slot is finished
    /// under early_stopping=True, or once the heuristic says no improvement is possible).
    func mergeFinished(beams count: Int, k: Int, vocab: Int, length: Int, denominator: Float, closed: Bool) {
        let negative = BeamWorkspace.negative
        for i in 0..<k {
            var score = candidateScores[i] / denominator
            if closed { score += negative }
            if !(candidateHits[i] != 0 && i < count) { score += negative }
            finalScores[i] = score
        }
        let old = finished * beams, new = (1 - finished) * beams
        @inline(__always) func merged(_ m: Int) -> Float { m < count ? finishedScores[old + m] : finalScores[m - count] }
        for slot in 0..<count {
            var best = -1
            for m in 0..<(count + k) where !Self.contains(mergedOrder, slot, m) {
                if best < 0 || merged(m) > merged(best) { best = m }
            }
            mergedOrder[slot] = best
            let target = finishedList(1 - finished, slot)
            if best < count {
                let n = Int(finishedLengths[old + best])
                target.update(from: finishedList(finished, best), count: n)
                finishedLengths[new + slot] = Int32(n)
                finishedFlags[new + slot] = finishedFlags[old + best]
            } else {
                let c = best - count
                target.update(from: sequence(running, candidateIndices[c] / vocab) + 1, count: length - 1)
                target[length - 1] = Int32(candidateIndices[c] % vocab)
                finishedLengths[new + slot] = Int32(length)
                finishedFlags[new + slot] = candidateHits[c] != 0 && c < count ? 1 : 0
            }
            finishedScores[new + slot] = merged(best)
        }
        finished = 1 - finished
    }

    /// g. The chosen continuations become the running beams: their parent's tokens and cache
    /// slots (indices only) plus the new token, and the adjusted score.
    func advanceRunning(beams count: Int, vocab: Int, length: Int) {
        let next = 1 - running
        for j in 0..<count {
            let c = chosen[j], parent = candidateIndices[c] / vocab
            sequence(next, j).update(from: sequence(running, parent), count: length)
            sequence(next, j)[length] = Int32(candidateIndices[c] % vocab)
            slots(next, j).update(from: slots(running, parent), count: length)
            runningScores[j] = adjusted[c]
        }
        running = next
    }

    /// transformers' early-stop heuristic: can the best running beam, scored as `bestPossible`,
    /// still beat a finished slot (an empty slot counts as -1e9, a finished one as the worst score)?
    func runningCanImprove(beams count: Int, bestPossible: Float) -> Bool {
        let base = finished * beams
        var worst = finishedScores[base]
        for b in 0..<count { worst = min(worst, finishedScores[base + b]) }
        for b in 0..<count where bestPossible > (finishedFlags[base + b] != 0 ? worst : BeamWorkspace.negative) { return true }
        return false
    }

    /// The best `count` finished hypotheses, best first.
    func hypotheses(beams total: Int, count: Int, endTokens: [Int32]) -> [BeamHypothesis] {
        var result: [BeamHypothesis] = []
        let base = finished * beams
        for slot in 0..<total where result.count < count && finishedFlags[base + slot] != 0 {
            let tokens = Array(UnsafeBufferPointer(start: finishedList(finished, slot), count: Int(finishedLengths[base + slot])))
            result.append(BeamHypothesis(tokens: tokens, score: Double(finishedScores[base + slot]),
                                         endedWithEndToken: tokens.last.map { endTokens.contains($0) } ?? false))
        }
        return result
    }

    /// Whether `value` is among list[0..<count].
    @inline(__always)
    static func contains(_ list: UnsafeMutablePointer<Int>, _ count: Int, _ value: Int) -> Bool {
        for i in 0..<count where list[i] == value { return true }
        return false
    }
}
