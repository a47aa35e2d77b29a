import Feed
import Foundation
import Simulator
import Testing
import TickCore

/// `SimConfig.market`: the simulator fed by a capture (the sample in captures/) instead of its generated market.
@Suite struct RecordedMarketTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("captures/sample.kcap").path
    static let market = Result { try RecordedMarket(path: Self.sample) }

    @Test func recordedFramesGoOutByteIdenticalAndInOrderAndQuotesFollowThem() async throws {
        let market = try Self.market.get()
        let h = try await Harness { $0.market = market }
        defer { Task { await h.stop() } }
        let codes = Array(market.codes.prefix(2))
        let client = try await MarketFeedTests.subscribedClient(h, codes: codes)
        // Ten seconds of the recording's clock at the clock's speed 1.
        try await h.advance(10)
        let due = market.frames.filter { $0.offsetNs / 1_000 <= 10_000_000 }
        let expected = due.filter { codes.contains($0.code) }.map(\.bytes)
        #expect(expected.count > 100 && expected.count < due.count, "\(expected.count) of \(due.count) frames")
        var received: [[UInt8]] = []
        while received.count < expected.count {
            guard case .text(let bytes) = try await client.next() else { throw TestFailure("connection ended") }
            // Acks and PINGPONGs are the simulator's own; data frames only come from the capture.
            if bytes.first != UInt8(ascii: "{") { received.append(bytes) }
        }
        let firstDifference = received.indices.first { received[$0] != expected[$0] }
        #expect(firstDifference == nil, "frame \(firstDifference ?? 0) differs")

        // The quotation answers from the last recorded trade.
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        for frame in due where frame.code == codes[0] {
            var bytes = frame.bytes
            _ = try bytes.withUnsafeMutableBytes { buffer throws(FeedError) in
                try decoder.decode(buffer, localTs: 0, into: &sink)
            }
        }
        let last = try #require(sink.trades.last)
        let token = try await h.token()
        let quote = try await h.quote(token: token, code: codes[0])
        #expect(quote["stck_prpr"] == String(last.price))
        await client.close()
    }
}
