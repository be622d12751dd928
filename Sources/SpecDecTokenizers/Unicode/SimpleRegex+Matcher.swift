extension SimpleRegex {
    /// Backtracking state for one search; a class so that the continuation closures can
    /// share it without exclusive-access conflicts.
    final class Matcher {
        let nodes: [Node]
        let text: [UInt32]
        /// Work budget per search, so a pathological pattern cannot hang the caller, and a
        /// nesting limit, so a long text cannot exhaust the stack (a search that hits either
        /// reports no match). The nesting limit is also bounded by the stack the calling
        /// thread has left, which may be far less than the main thread's.
        var steps = 0
        var depth = 0
        static let maximumSteps = 5_000_000
        static let maximumDepth = 1_500
        let stackFloor: UInt

        init(nodes: [Node], text: [UInt32]) {
            self.nodes = nodes
            self.text = text
            stackFloor = StackSpace.floor()
        }

        /// Matches `node` at `position` and returns the end of the first successful match.
        func match(_ node: Int, _ position: Int) -> Int? {
            steps = 0
            var result: Int?
            _ = run(node, position) { end in result = end; return true }
            return result
        }

        /// Continuation-passing backtracking: `next` is called with each candidate end
        /// position in priority order until it returns true.
        func run(_ index: Int, _ position: Int, _ next: (Int) -> Bool) -> Bool {
            steps += 1
            if steps > Matcher.maximumSteps || depth > Matcher.maximumDepth || StackSpace.current() < stackFloor { return false }
            depth += 1
            defer { depth -= 1 }
            switch nodes[index] {
            case .empty:
                return next(position)
            case .scalar(let value, let caseInsensitive):
                guard position < text.count else { return false }
                let c = text[position]
                if c == value || (caseInsensitive && SimpleRegex.foldEqual(c, value)) { return next(position + 1) }
                return false
            case .set(let set, let caseInsensitive):
                guard position < text.count else { return false }
                let c = text[position]
                if set.contains(c) || (caseInsensitive && SimpleRegex.foldVariants(c).contains { set.contains($0) }) {
                    return next(position + 1)
                }
                return false
            case .any:
                guard position < text.count, text[position] != 0x0A else { return false }
                return next(position + 1)
            case .sequence(let items):
                return runSequence(items, 0, position, next)
            case .alternation(let options):
                for option in options where run(option, position, next) { return true }
                return false
            case .repeatNode(let child, let min, let max, let greedy):
                return runRepeat(child, min, max, greedy, 0, position, -1, next)
            case .lookahead(let child, let negative):
                var matched = false
                _ = run(child, position) { _ in matched = true; return true }
                return matched != negative ? next(position) : false
            case .lineStart:
                return position == 0 || text[position - 1] == 0x0A ? next(position) : false
            case .lineEnd:
                return position == text.count || text[position] == 0x0A ? next(position) : false
            case .textStart:
                return position == 0 ? next(position) : false
            case .textEnd:
                return position == text.count ? next(position) : false
            case .textEndBeforeNewline:
                let ok = position == text.count || (position == text.count - 1 && text[position] == 0x0A)
                return ok ? next(position) : false
            case .wordBoundary, .notWordBoundary:
                let before = position > 0 && SimpleRegex.isWord(text[position - 1])
                let after = position < text.count && SimpleRegex.isWord(text[position])
                var isBoundary = before != after
                if case .notWordBoundary = nodes[index] { isBoundary.toggle() }
                return isBoundary ? next(position) : false
            }
        }

        func runSequence(_ items: [Int], _ k: Int, _ position: Int, _ next: (Int) -> Bool) -> Bool {
            if k == items.count { return next(position) }
            return run(items[k], position) { end in self.runSequence(items, k + 1, end, next) }
        }

        /// Whether `node` matches exactly one character, and if so whether it matches `c`.
        func singleCharacter(_ node: Int, _ c: UInt32) -> Bool? {
            switch nodes[node] {
            case .scalar(let value, let caseInsensitive):
                return c == value || (caseInsensitive && SimpleRegex.foldEqual(c, value))
            case .set(let set, let caseInsensitive):
                return set.contains(c) || (caseInsensitive && SimpleRegex.foldVariants(c).contains { set.contains($0) })
            case .any:
                return c != 0x0A
            default:
                return nil
            }
        }

        func runRepeat(_ child: Int, _ min: Int, _ max: Int, _ greedy: Bool, _ count: Int, _ position: Int,
                       _ lastPosition: Int, _ next: (Int) -> Bool) -> Bool {
            if count == 0, position <= text.count, singleCharacter(child, 0) != nil {
                // A repeated single character: measure the run, then try the lengths in
                // priority order without one stack frame per character.
                var run = 0
                while max < 0 || run < max, position + run < text.count,
                      singleCharacter(child, text[position + run]) == true {
                    run += 1
                }
                if run < min { return false }
                if greedy {
                    var k = run
                    while k >= min {
                        if next(position + k) { return true }
                        k -= 1
                    }
                } else {
                    for k in min...run where next(position + k) { return true }
                }
                return false
            }
            // An iteration that consumed nothing cannot make progress: stop repeating.
            if count > min, position == lastPosition { return false }
            let canStop = count >= min
            let canContinue = max < 0 || count < max
            if !greedy, canStop, next(position) { return true }
            if canContinue {
                let ok = run(child, position) { end in
                    self.runRepeat(child, min, max, greedy, count + 1, end, position, next)
                }
                if ok { return true }
            }
            if greedy, canStop { return next(position) }
            return false
        }
    }

}
