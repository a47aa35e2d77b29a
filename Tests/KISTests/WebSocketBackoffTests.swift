import Testing

@testable import KIS

@Suite struct WebSocketBackoffTests {
    static let ms: UInt64 = 1_000_000

    @Test func delaysStayUnderCeilingsThatDoubleUpToTheCap() {
        var backoff = ReconnectBackoff(base: 250 * Self.ms, cap: 30_000 * Self.ms, seed: 7)
        let ceilings: [UInt64] = [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000].map {
            $0 * Self.ms
        }
        for (attempt, ceiling) in ceilings.enumerated() {
            #expect(backoff.ceiling(attempt: attempt) == ceiling)
            #expect(backoff.next() <= ceiling)
        }
        #expect(backoff.ceiling(attempt: 10_000) == 30_000 * Self.ms)
    }

    @Test func jitterCoversTheWholeRangeAndFollowsTheSeed() {
        var backoff = ReconnectBackoff(base: 1_000 * Self.ms, cap: 1_000 * Self.ms, seed: 1)
        let draws = (0..<2_000).map { _ in backoff.next() }
        // Full jitter: uniform over [0, ceiling], so both ends are approached.
        #expect(draws.min()! < 10 * Self.ms)
        #expect(draws.max()! > 990 * Self.ms)
        #expect(draws.allSatisfy { $0 <= 1_000 * Self.ms })

        var same = ReconnectBackoff(base: 1_000 * Self.ms, cap: 1_000 * Self.ms, seed: 1)
        var other = ReconnectBackoff(base: 1_000 * Self.ms, cap: 1_000 * Self.ms, seed: 2)
        let replay = (0..<2_000).map { _ in same.next() }
        let otherDraws = (0..<2_000).map { _ in other.next() }
        #expect(replay == draws)
        #expect(otherDraws != draws)
    }

    @Test func resetStartsFromTheBaseAgain() {
        var backoff = ReconnectBackoff(base: 250 * Self.ms, cap: 30_000 * Self.ms, seed: 3)
        for _ in 0..<20 { _ = backoff.next() }
        #expect(backoff.attempt == 20)
        backoff.reset()
        #expect(backoff.attempt == 0)
        #expect(backoff.next() <= 250 * Self.ms)
        #expect(backoff.attempt == 1)
    }
}
