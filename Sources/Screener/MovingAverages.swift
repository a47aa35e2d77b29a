/// Simple moving averages of daily closes and the golden cross between two of them.
///
/// Comparisons are exact: two averages are compared as `sumFast × slow` against `sumSlow × fast` in integers, so
/// a cross never depends on how a division rounded.
public enum MovingAverages {
    /// The mean of the `period` closes ending at `index` (inclusive), or nil when fewer than `period` closes end
    /// there.
    public static func mean(_ closes: [Int64], period: Int, endingAt index: Int) -> Double? {
        guard let sum = Self.sum(closes, period: period, endingAt: index) else { return nil }
        return Double(sum) / Double(period)
    }

    /// Whether the `fast`-day average is strictly above the `slow`-day one at `index`; nil without enough closes.
    public static func fastAbove(_ closes: [Int64], fast: Int, slow: Int, at index: Int) -> Bool? {
        guard let fastSum = Self.sum(closes, period: fast, endingAt: index),
            let slowSum = Self.sum(closes, period: slow, endingAt: index)
        else { return nil }
        // Closes below 10^8 KRW and periods below 10^3 keep both products under 10^14.
        return fastSum * Int64(slow) > slowSum * Int64(fast)
    }

    /// How the fast average stands against the slow one on the last close.
    public enum Cross: Sendable, Equatable {
        /// Fast above slow; it crossed above `daysAgo` closes before the last (0: on the last close).
        case crossed(daysAgo: Int)
        /// Fast above slow through every one of the `checkedDays` + 1 last closes: the cross is older.
        case aboveSince(checkedDays: Int)
        /// Fast at or below slow on the last close.
        case below
        /// Fewer closes than the slow average needs, plus one.
        case notEnoughCloses(have: Int, need: Int)
    }

    /// The most recent golden cross within the last `lookback` closes (oldest first).
    /// - Complexity: O(`lookback` × `slow`), allocation-free.
    public static func cross(_ closes: [Int64], fast: Int, slow: Int, lookback: Int) -> Cross {
        precondition(
            fast > 0 && fast < slow,
            "the fast period \(fast) must be positive and shorter than the slow \(slow)"
        )
        precondition(lookback >= 0, "lookback \(lookback) is negative")
        let last = closes.count - 1
        guard closes.count >= slow + 1 else { return .notEnoughCloses(have: closes.count, need: slow + 1) }
        guard Self.fastAbove(closes, fast: fast, slow: slow, at: last) == true else { return .below }
        for daysAgo in 0...lookback {
            guard let before = Self.fastAbove(closes, fast: fast, slow: slow, at: last - daysAgo - 1) else {
                return .aboveSince(checkedDays: daysAgo)
            }
            if !before { return .crossed(daysAgo: daysAgo) }
        }
        return .aboveSince(checkedDays: lookback)
    }

    private static func sum(_ closes: [Int64], period: Int, endingAt index: Int) -> Int64? {
        guard period > 0, index < closes.count, index - period + 1 >= 0 else { return nil }
        var sum: Int64 = 0
        for i in (index - period + 1)...index { sum += closes[i] }
        return sum
    }
}
