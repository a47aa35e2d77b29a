import Feed
import Foundation
import Testing

/// The KRX day: pre-open call auction, continuous trading, closing call auction, close, and the next day.
@Suite struct SessionTests {
    @Test func auctionsOpenAndCloseTheDay() async throws {
        let h = try await Harness { $0.startTime = 85_900 }
        defer { Task { await h.stop() } }
        let client = try await MarketFeedTests.subscribedClient(h)
        var decoder = try FeedDecoder()
        var decoded = Decoded()
        try await h.advance(30)
        try await client.collect(frames: 3, decoder: &decoder, into: &decoded)
        // Before 09:00 only books move: expected-price class B, an expected price, no trades.
        #expect(decoded.bookFields.allSatisfy { $0[2] == "B" && Int($0[47])! > 0 })
        #expect(decoded.tradeFields.isEmpty)

        // Past 09:00 by one publication interval: the opening print has been flushed.
        try await h.advance(31)
        decoded = Decoded()
        while decoded.tradeFields.isEmpty {
            try await client.collect(frames: 1, decoder: &decoder, into: &decoded)
        }
        let opening = try #require(decoded.tradeFields.first)
        // The opening auction prints once, at 09:00:00, neither buy- nor sell-initiated.
        #expect(opening[1] == "090000" && opening[21] == "3")
        #expect(opening[12] == opening[13])
        #expect(opening[2] == opening[7])
        await client.close()
    }

    @Test func closingAuctionThenClosedThenANewDay() async throws {
        let h = try await Harness {
            $0.startTime = 151_950
            $0.pingInterval = 1e9
        }
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let client = try await MarketFeedTests.subscribedClient(h)
        try await h.advance(20)
        var decoder = try FeedDecoder()
        var decoded = Decoded()
        while !decoded.bookFields.contains(where: { $0[2] == "A" }) {
            try await client.collect(frames: 1, decoder: &decoder, into: &decoded)
        }
        let auctionTrades = decoded.tradeFields.filter { $0[1] >= "152000" }
        #expect(auctionTrades.isEmpty)

        try await h.advance(600)
        decoded = Decoded()
        while !decoded.tradeFields.contains(where: { $0[1] == "153000" }) {
            try await client.collect(frames: 1, decoder: &decoder, into: &decoded)
        }
        let closing = decoded.tradeFields.first { $0[1] == "153000" }!
        #expect(closing[21] == "3")
        #expect(closing[34] == "21")
        let close = Int64(closing[2])!

        // After the close, orders are refused.
        let late = try await h.order(token: token, quantity: 1, price: 60_000)
        #expect(late.object["msg_cd"] as? String == "APBK0919")

        // The next trading day (2026-06-09) starts from that close.
        try await h.advance(18 * 3_600)
        let quote = try await h.quote(token: token)
        #expect(quote["stck_sdpr"] == String(close))
        let state = try await h.http("GET", "/sim/state")
        #expect((state.object["market_time"] as? String)?.hasPrefix("20260609") == true)
        await client.close()
    }
}
