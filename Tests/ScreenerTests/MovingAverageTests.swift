import Screener
import Testing

/// The averages and the cross against values worked out by hand (the arithmetic is in each comment).
@Suite struct MovingAverageTests {
    /// 7 closes; MA2 and MA4 by hand:
    /// index 3: MA2 (8+7)/2 = 7.5, MA4 (10+9+8+7)/4 = 8.5  below
    /// index 4: MA2 (7+8)/2 = 7.5, MA4 (9+8+7+8)/4 = 8      below
    /// index 5: MA2 (8+10)/2 = 9,  MA4 (8+7+8+10)/4 = 8.25  above: the cross
    /// index 6: MA2 (10+12)/2 = 11, MA4 (7+8+10+12)/4 = 9.25 above
    static let short: [Int64] = [10, 9, 8, 7, 8, 10, 12]

    @Test func meansOfTheLastCloses() {
        #expect(MovingAverages.mean(Self.short, period: 2, endingAt: 6) == 11)
        #expect(MovingAverages.mean(Self.short, period: 4, endingAt: 6) == 9.25)
        #expect(MovingAverages.mean(Self.short, period: 4, endingAt: 3) == 8.5)
        #expect(MovingAverages.mean(Self.short, period: 4, endingAt: 2) == nil)
        #expect(MovingAverages.mean(Self.short, period: 8, endingAt: 6) == nil)
        #expect(MovingAverages.mean(Self.short, period: 1, endingAt: 7) == nil)
    }

    @Test func crossFoundWhereTheFastAverageFirstRoseAbove() {
        #expect(MovingAverages.fastAbove(Self.short, fast: 2, slow: 4, at: 4) == false)
        #expect(MovingAverages.fastAbove(Self.short, fast: 2, slow: 4, at: 5) == true)
        #expect(MovingAverages.cross(Self.short, fast: 2, slow: 4, lookback: 5) == .crossed(daysAgo: 1))
        #expect(MovingAverages.cross(Self.short, fast: 2, slow: 4, lookback: 1) == .crossed(daysAgo: 1))
        // Looking back no further than the last close, the cross is older than the window.
        #expect(MovingAverages.cross(Self.short, fast: 2, slow: 4, lookback: 0) == .aboveSince(checkedDays: 0))
    }

    @Test func equalAveragesAreNotAbove() {
        #expect(MovingAverages.cross([5, 5, 5, 5, 5], fast: 2, slow: 4, lookback: 3) == .below)
        #expect(
            MovingAverages.cross([5, 5, 5, 5], fast: 2, slow: 4, lookback: 3) == .notEnoughCloses(have: 4, need: 5)
        )
    }

    /// 200 closes falling 1000, 998, … 602, then 60 rising 602, 614, … 1310.
    /// Last day: MA50 = 602 + 12 × mean(10…59) = 602 + 12 × 34.5 = 1016;
    /// MA200 = (140 closes 1000 − 2i, i = 60…199, mean 741; 60 closes mean 956) = (140 × 741 + 60 × 956) / 200 = 805.5.
    /// Index 238 (21 days before the last): MA50 782.04 > MA200 775.26; index 237: MA50 773.36 < MA200 774.59.
    static let vShape: [Int64] = (0..<200).map { 1_000 - 2 * Int64($0) } + (0..<60).map { 602 + 12 * Int64($0) }

    @Test func goldenCrossOfMA50AndMA200() {
        let last = Self.vShape.count - 1
        #expect(MovingAverages.mean(Self.vShape, period: 50, endingAt: last) == 1_016)
        #expect(MovingAverages.mean(Self.vShape, period: 200, endingAt: last) == 805.5)
        #expect(MovingAverages.mean(Self.vShape, period: 50, endingAt: 238) == 782.04)
        #expect(MovingAverages.mean(Self.vShape, period: 200, endingAt: 238) == 775.26)
        #expect(MovingAverages.cross(Self.vShape, fast: 50, slow: 200, lookback: 30) == .crossed(daysAgo: 21))
        #expect(MovingAverages.cross(Self.vShape, fast: 50, slow: 200, lookback: 20) == .aboveSince(checkedDays: 20))
        #expect(MovingAverages.cross(Array(Self.vShape.prefix(230)), fast: 50, slow: 200, lookback: 30) == .below)
    }

    /// Rising 1…250: MA50 = mean(201…250) = 225.5, MA200 = mean(51…250) = 150.5; above wherever MA200 exists
    /// (from index 199), so looking back past index 199 finds no cross, only how far it could look.
    @Test func anUptrendHasNoRecentCross() {
        let rising = (1...250).map(Int64.init)
        #expect(MovingAverages.mean(rising, period: 50, endingAt: 249) == 225.5)
        #expect(MovingAverages.mean(rising, period: 200, endingAt: 249) == 150.5)
        #expect(MovingAverages.cross(rising, fast: 50, slow: 200, lookback: 30) == .aboveSince(checkedDays: 30))
        #expect(MovingAverages.cross(rising, fast: 50, slow: 200, lookback: 60) == .aboveSince(checkedDays: 50))
    }

    @Test func aFastPeriodNotShorterThanTheSlowIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            _ = MovingAverages.cross([1, 2, 3], fast: 4, slow: 4, lookback: 0)
        }
        await #expect(processExitsWith: .failure) {
            _ = MovingAverages.cross([1, 2, 3], fast: 1, slow: 2, lookback: -1)
        }
    }
}
