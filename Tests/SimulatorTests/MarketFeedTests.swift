import Crypto
import Feed
import Foundation
import Testing
import TickCore

/// Collects what `FeedDecoder` produced.
/// Frames as they come off the socket, decoded with our own Feed decoder.
struct Decoded {
    var sink = RecordCollector()
    var frames: [String] = []
    var recordCounts: [String: [Int]] = [:]
    /// Raw `^` fields per record, for checks the typed structs do not carry (VWAP text, CTTR, book levels).
    var tradeFields: [[String]] = []
    var bookFields: [[String]] = []
    /// ACML_VOL of every trade and book record in arrival order.
    var accumulated: [(tr: String, volume: Int64)] = []
}

extension FeedClient {
    /// Reads messages until `count` data frames arrived, decoding each with `decoder`.
    func collect(frames count: Int, decoder: inout FeedDecoder, into decoded: inout Decoded) async throws {
        var seen = 0
        while seen < count {
            guard case .text(var bytes) = try await self.next() else { throw TestFailure("connection ended") }
            let text = String(decoding: bytes, as: UTF8.self)
            if text.hasPrefix("{") { continue }
            seen += 1
            decoded.frames.append(text)
            let parts = text.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
            let tr = String(parts[1])
            let n = Int(parts[2])!
            decoded.recordCounts[tr, default: []].append(n)
            if parts[0] == "0" {
                let fields = parts[3].split(separator: "^", omittingEmptySubsequences: false).map(String.init)
                let width = fields.count / n
                for r in 0..<n {
                    let record = Array(fields[(r * width)..<((r + 1) * width)])
                    if tr == "H0STCNT0" {
                        decoded.tradeFields.append(record)
                        decoded.accumulated.append((tr, Int64(record[13]) ?? -1))
                    } else if tr == "H0STASP0" {
                        decoded.bookFields.append(record)
                        decoded.accumulated.append((tr, Int64(record[53]) ?? -1))
                    }
                }
            }
            let result = bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(FeedError) -> DecodedMessage in
                    try decoder.decode(buffer, localTs: 0, into: &decoded.sink)
                }
            }
            do {
                _ = try result.get()
            } catch {
                throw TestFailure("\(error) decoding \(text.prefix(300))… (\(text.split(separator: "^").count) fields)")
            }
        }
    }
}

/// Real-time frames: layout, batching, and the consistency real data has (docs/kis-protocol.md §5.5, §6).
@Suite struct MarketFeedTests {
    static func subscribedClient(
        _ h: Harness,
        trs: [String] = ["H0STCNT0", "H0STASP0"],
        codes: [String] = ["005930"]
    ) async throws -> FeedClient {
        let approval = try await h.approvalKey()
        let client = try await FeedClient(port: h.ws)
        for tr in trs {
            for code in codes {
                let ack = try await client.request(approval: approval, tr: tr, key: code)
                #expect(ack.at("body", "msg_cd") as? String == "OPSP0000")
            }
        }
        return client
    }

    @Test func tradesAndBooksDecodeAndAreConsistent() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let client = try await Self.subscribedClient(h)
        var decoder = try FeedDecoder()
        var decoded = Decoded()
        try await h.advance(120)
        try await client.collect(frames: 60, decoder: &decoder, into: &decoded)

        let trades = decoded.sink.trades
        #expect(trades.count >= 20)
        #expect(decoded.recordCounts["H0STASP0"]?.allSatisfy { $0 == 1 } == true)
        #expect(decoded.recordCounts["H0STCNT0"]?.allSatisfy { (1...20).contains($0) } == true)
        #expect(decoded.tradeFields.allSatisfy { $0.count == 46 })
        #expect(decoded.bookFields.allSatisfy { $0.count == 62 })

        for (previous, trade) in zip(trades, trades.dropFirst()) {
            // The cumulative chains hold record to record, as in the real capture.
            #expect(trade.cumulativeVolume == previous.cumulativeVolume + Int64(trade.volume))
            #expect(trade.cumulativeValue == previous.cumulativeValue + Int64(trade.volume) * Int64(trade.price))
            switch trade.side {
            case .buy:
                #expect(trade.buyInitiatedVolume == previous.buyInitiatedVolume + Int64(trade.volume))
                #expect(trade.buyInitiatedCount == previous.buyInitiatedCount + 1)
            case .sell:
                #expect(trade.sellInitiatedVolume == previous.sellInitiatedVolume + Int64(trade.volume))
                #expect(trade.sellInitiatedCount == previous.sellInitiatedCount + 1)
            default: Issue.record("continuous trades are buy- or sell-initiated")
            }
        }
        for trade in trades {
            // VWAP = value / volume, trade strength = buy / sell volume × 100, both to 2 decimals.
            #expect(
                Int64(trade.vwap) == (trade.cumulativeValue * 100 * 2 + trade.cumulativeVolume)
                    / (2 * trade.cumulativeVolume)
            )
            if trade.sellInitiatedVolume > 0 {
                let strength =
                    (trade.buyInitiatedVolume * 10_000 * 2 + trade.sellInitiatedVolume)
                    / (2 * trade.sellInitiatedVolume)
                #expect(Int64(trade.strength) == strength)
            }
            // A buyer pays the best ask, a seller hits the best bid.
            if trade.side == .buy { #expect(trade.price == trade.askPrice) }
            if trade.side == .sell { #expect(trade.price == trade.bidPrice) }
            #expect(trade.high >= trade.price && trade.price >= trade.low)
            #expect(trade.change == trade.price - 65_800)
            #expect(trade.price % 100 == 0)
        }
        for record in decoded.bookFields {
            let asks = record[3...12].map { Int64($0)! }
            let bids = record[13...22].map { Int64($0)! }
            let askQuantities = record[23...32].map { Int64($0)! }
            let bidQuantities = record[33...42].map { Int64($0)! }
            #expect(askQuantities.reduce(0, +) == Int64(record[43])!)
            #expect(bidQuantities.reduce(0, +) == Int64(record[44])!)
            #expect(asks[0] > bids[0])
            #expect(zip(asks, asks.dropFirst()).allSatisfy { $1 == 0 || $1 > $0 })
            #expect(zip(bids, bids.dropFirst()).allSatisfy { $1 == 0 || $1 < $0 })
            #expect(Int64(record[59])! == (asks[0] + bids[0]) / 2)
        }
        // The book and trade feeds agree on the accumulated volume: a book follows the trades it reflects.
        var lastTrade: Int64?
        var compared = 0
        for (tr, volume) in decoded.accumulated {
            if tr == "H0STCNT0" {
                lastTrade = volume
            } else if let lastTrade {
                #expect(volume == lastTrade)
                compared += 1
            }
        }
        #expect(compared > 0)
        await client.close()
    }

    @Test func busyMarketsBatchUpToTwentyRecords() async throws {
        let h = try await Harness {
            $0.clock = .manual
            $0.publishInterval = 1
        }
        defer { Task { await h.stop() } }
        let client = try await Self.subscribedClient(h, trs: ["H0STCNT0"])
        var decoder = try FeedDecoder()
        var decoded = Decoded()
        try await h.advance(600)
        try await client.collect(frames: 40, decoder: &decoder, into: &decoded)
        let counts = decoded.recordCounts["H0STCNT0"] ?? []
        #expect(counts.contains { $0 > 1 })
        #expect(counts.allSatisfy { $0 <= 20 })
        await client.close()
    }

    @Test func sameSeedSameBytesHoweverTimeIsCut() async throws {
        var runs: [[String]] = []
        for steps in [[30.0], [7.5, 7.5, 15]] {
            let h = try await Harness()
            let client = try await Self.subscribedClient(h)
            for step in steps { try await h.advance(step) }
            var decoder = try FeedDecoder()
            var decoded = Decoded()
            try await client.collect(frames: 25, decoder: &decoder, into: &decoded)
            runs.append(decoded.frames)
            await client.close()
            await h.stop()
        }
        #expect(runs[0] == runs[1])

        let other = try await Harness { $0.seed = 2 }
        let client = try await Self.subscribedClient(other)
        try await other.advance(30)
        var decoder = try FeedDecoder()
        var decoded = Decoded()
        try await client.collect(frames: 25, decoder: &decoder, into: &decoded)
        #expect(decoded.frames != runs[0])
        await client.close()
        await other.stop()
    }

    @Test func dailyHistoryCoversMA200AndMatchesTheBase() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        var dates: [String] = []
        var pages: [Int] = []
        var end = "20260608"
        while true {
            let answer = try await h.get(
                "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930&FID_INPUT_DATE_1=20000101&FID_INPUT_DATE_2=\(end)&FID_PERIOD_DIV_CODE=D&FID_ORG_ADJ_PRC=0",
                token: token,
                tr: "FHKST03010100"
            )
            #expect(answer.keyOrder == ["output1", "output2", "rt_cd", "msg_cd", "msg1"])
            let rows = answer.object["output2"] as? [[String: String]] ?? []
            guard !rows.isEmpty else { break }
            if pages.isEmpty {
                // Yesterday's close is today's base price (stck_sdpr).
                #expect(rows[1]["stck_clpr"] == "65800")
                #expect((answer.object["output1"] as? [String: Any])?["stck_prdy_clpr"] as? String == "65800")
            }
            pages.append(rows.count)
            dates += rows.map { $0["stck_bsop_date"]! }
            // Page back the way the official backtester does: end = oldest − 1 day.
            end = String(Int(rows.last!["stck_bsop_date"]!)! - 1)
            try await h.advance(1)
        }
        #expect(dates.count >= 300)
        #expect(pages.dropLast().allSatisfy { $0 == 100 })
        #expect(dates.first == "20260608")
        #expect(dates == dates.sorted(by: >))
        #expect(Set(dates).count == dates.count)
    }
}
