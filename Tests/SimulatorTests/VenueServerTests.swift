import Feed
import Foundation
import Testing
import TickCore

/// The NXT and combined feeds of the real-environment server (docs/venues.md, docs/kis-protocol.md §6), read back
/// with kistick's own decoder.
@Suite struct VenueServerTests {
    static let allFeeds = ["H0STCNT0", "H0STASP0", "H0NXCNT0", "H0NXASP0", "H0UNCNT0", "H0UNASP0"]

    /// What a client subscribed to every feed of 005930 received over `seconds` of market time: the decoded records,
    /// and each TR's records as raw fields.
    struct Received {
        var sink = RecordCollector()
        var records: [String: [[String]]] = [:]
    }

    static func receive(_ h: Harness, seconds: Double) async throws -> Received {
        let approval = try await h.approvalKey()
        let client = try await MarketFeedTests.subscribedClient(h, trs: Self.allFeeds)
        try await h.advance(seconds)
        // The advance's frames are queued before this ack (one session, one outbox), so the ack ends them.
        try await client.send(
            text:
                #"{"header":{"approval_key":"\#(approval)","custtype":"P","tr_type":"1","content-type":"utf-8"},"body":{"input":{"tr_id":"H0STCNT0","tr_key":"005930"}}}"#
        )
        var decoder = try FeedDecoder()
        var received = Received()
        while true {
            guard case .text(var bytes) = try await client.next() else { throw TestFailure("connection ended") }
            let text = String(decoding: bytes, as: UTF8.self)
            if text.hasPrefix("{") {
                if text.contains("ALREADY IN SUBSCRIBE") { break }
                continue
            }
            let parts = text.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
            let (tr, count) = (String(parts[1]), Int(parts[2])!)
            let fields = parts[3].split(separator: "^", omittingEmptySubsequences: false).map(String.init)
            #expect(fields.count % count == 0)
            let width = fields.count / count
            for r in 0..<count {
                received.records[tr, default: []].append(Array(fields[(r * width)..<((r + 1) * width)]))
            }
            let result = bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(FeedError) -> DecodedMessage in
                    try decoder.decode(buffer, localTs: 0, into: &received.sink)
                }
            }
            if case .failure(let error) = result { throw TestFailure("\(error) decoding \(text.prefix(200))") }
        }
        await client.close()
        return received
    }

    @Test func nxtAndCombinedFeedsDecodeInTheirLayouts() async throws {
        let h = try await Harness { $0.symbols = ["005930"] }
        defer { Task { await h.stop() } }
        let received = try await Self.receive(h, seconds: 240)
        let krx = received.records["H0STCNT0"] ?? []
        let nxt = received.records["H0NXCNT0"] ?? []
        #expect(krx.count > 20)
        #expect(nxt.count > 3)
        #expect(krx.allSatisfy { $0.count == 46 } && nxt.allSatisfy { $0.count == 46 })
        #expect(received.records["H0STASP0"]?.allSatisfy { $0.count == 62 } == true)
        #expect(received.records["H0NXASP0"]?.isEmpty == false)
        #expect(received.records["H0NXASP0"]?.allSatisfy { $0.count == 65 } == true)
        #expect(received.records["H0UNASP0"]?.allSatisfy { $0.count == 65 } == true)
        // NXT's main market opens at 09:00:30, just after KRX's opening print.
        #expect(nxt.allSatisfy { $0[1] >= "090030" })
        // The combined tape is the union of the two venues' prints, record for record.
        let union = (krx + nxt).map { $0.joined(separator: "^") }.sorted()
        #expect(received.records["H0UNCNT0"]?.map { $0.joined(separator: "^") }.sorted() == union)

        // The decoder names each record's venue by its TR; NXT's chains hold on its own counters.
        let trades = received.sink.trades
        let nxtTrades = trades.filter { $0.venue == .nxt }
        #expect(trades.filter { $0.venue == .krx }.count == krx.count)
        #expect(nxtTrades.count == nxt.count)
        #expect(trades.filter { $0.venue == .combined }.count == krx.count + nxt.count)
        for (previous, trade) in zip(nxtTrades, nxtTrades.dropFirst()) {
            #expect(trade.cumulativeVolume == previous.cumulativeVolume + Int64(trade.volume))
        }
        // One basis for both venues (KRX's previous close), and NXT's prices, once its crowd has caught up with
        // KRX's opening (its book still holds the pre-market's quotes at 09:00:30), stay near KRX's last print.
        var lastKRX: Int32 = 0
        var compared = 0
        for trade in trades where trade.venue != .combined {
            if trade.venue == .krx {
                lastKRX = trade.price
                continue
            }
            #expect(trade.change == trade.price - 65_800)
            if KST.time(epochSeconds: Int64(trade.exchangeTime)) >= 90_300, lastKRX > 0 {
                #expect(abs(Double(trade.price) / Double(lastKRX) - 1) < 0.005)
                compared += 1
            }
        }
        #expect(compared > 0)
        let books = received.sink.books
        #expect(books.contains { $0.venue == .nxt } && books.contains { $0.venue == .combined })
        for record in received.records["H0NXASP0"] ?? [] {
            let (ask, bid) = (Int64(record[3])!, Int64(record[13])!)
            #expect(ask > bid && bid > 0)
            #expect(Int64(record[62])! == (ask + bid) / 2)
        }
    }

    @Test func eachVenuePrintsInItsOwnHours() async throws {
        // 15:17 → 15:35: KRX's last continuous minutes and closing call, NXT's pause and after-market.
        let h = try await Harness {
            $0.symbols = ["005930"]
            $0.startTime = 151_700
        }
        defer { Task { await h.stop() } }
        let received = try await Self.receive(h, seconds: 1_080)
        let krxTimes = (received.records["H0STCNT0"] ?? []).map { $0[1] }
        let nxtTimes = (received.records["H0NXCNT0"] ?? []).map { $0[1] }
        #expect(krxTimes.contains { $0 < "152000" })
        #expect(krxTimes.allSatisfy { $0 < "152000" || $0 == "153000" })
        #expect(krxTimes.contains("153000"))
        #expect(nxtTimes.contains { $0 < "152000" } && nxtTimes.contains { $0 >= "153000" })
        #expect(nxtTimes.allSatisfy { $0 < "152000" || $0 >= "153000" })
    }

    /// The simulated day starts at 08:00, NXT's pre-market, so a simulator started then trades NXT on its first day
    /// while KRX has not printed yet (its day starts with the opening call at 09:00).
    @Test func nxtPreMarketTradesOnTheFirstDay() async throws {
        let h = try await Harness {
            $0.symbols = ["005930"]
            $0.startTime = 80_000
        }
        defer { Task { await h.stop() } }
        let received = try await Self.receive(h, seconds: 600)
        let nxtTimes = (received.records["H0NXCNT0"] ?? []).map { $0[1] }
        #expect(nxtTimes.count > 3)
        #expect(nxtTimes.allSatisfy { $0 >= "080000" && $0 < "081000" })
        #expect(received.records["H0STCNT0"] == nil)
    }

    @Test func paperServesKRXFeedsOnly() async throws {
        let h = try await Harness { $0.servers = [.real: .init(), .paper: .init()] }
        defer { Task { await h.stop() } }
        let approval = try await h.approvalKey(appKey: Harness.paperKey, port: h.paperRest!)
        let client = try await FeedClient(port: h.paperWS!)
        for tr in ["H0NXCNT0", "H0NXASP0", "H0UNCNT0", "H0UNASP0"] {
            let ack = try await client.request(approval: approval, tr: tr, key: "005930")
            #expect(ack.at("body", "msg_cd") as? String == "OPSP0007")
        }
        let ack = try await client.request(approval: approval, tr: "H0STCNT0", key: "005930")
        #expect(ack.at("body", "msg_cd") as? String == "OPSP0000")
        await client.close()
    }
}

/// Orders on each venue's book, SOR's choice, and ORD_EXG_GB on every notice (docs/venues.md).
@Suite struct VenueOrderTests {
    /// Reads everything the server sent so far (up to the ack of a repeated subscription, which queues behind
    /// it): each venue's latest ask and bid from its book frames into `touches`, and the notices.
    static func sync(
        _ client: FeedClient,
        approval: String,
        decoder: inout FeedDecoder,
        touches: inout [String: (ask: Int64, bid: Int64)]
    ) async throws -> [Notice] {
        try await client.send(
            text:
                #"{"header":{"approval_key":"\#(approval)","custtype":"P","tr_type":"1","content-type":"utf-8"},"body":{"input":{"tr_id":"H0STASP0","tr_key":"005930"}}}"#
        )
        var sink = RecordCollector()
        while true {
            guard case .text(var bytes) = try await client.next() else { throw TestFailure("connection ended") }
            let text = String(decoding: bytes, as: UTF8.self)
            if text.contains("ALREADY IN SUBSCRIBE") { return sink.notices }
            if text.hasPrefix("1|") {
                _ = try bytes.withUnsafeMutableBytes { buffer in
                    Result { () throws(FeedError) -> DecodedMessage in
                        try decoder.decode(buffer, localTs: 1_780_876_800_000_000_000, into: &sink)
                    }
                }.get()
                continue
            }
            let parts = text.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, parts[1].hasSuffix("ASP0") else { continue }
            let fields = parts[3].split(separator: "^", omittingEmptySubsequences: false)
            touches[String(parts[1])] = (Int64(fields[3])!, Int64(fields[13])!)
        }
    }

    @Test func ordersMatchInTheirVenuesBookAndNoticesSayWhere() async throws {
        let h = try await Harness {
            $0.symbols = ["005930"]
            $0.startTime = 100_000
            $0.initialCash = 10_000_000_000
        }
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let approval = try await h.approvalKey()
        let client = try await FeedClient(port: h.ws)
        var decoder = try await client.noticeDecoder(approval: approval)
        for tr in ["H0STASP0", "H0NXASP0"] {
            let ack = try await client.request(approval: approval, tr: tr, key: "005930")
            #expect(ack.at("body", "msg_cd") as? String == "OPSP0000")
        }
        try await h.advance(1)
        var touches: [String: (ask: Int64, bid: Int64)] = [:]
        // Buys on each route (no EXCG_ID_DVSN_CD is KRX), then a SOR sell of a share they bought.
        for (venue, buy) in [("KRX", true), ("NXT", true), (nil, true), ("SOR", true), ("SOR", false)] {
            _ = try await Self.sync(client, approval: approval, decoder: &decoder, touches: &touches)
            let (krx, nxt) = (touches["H0STASP0"]!, touches["H0NXASP0"]!)
            // ORD_EXG_GB: 1 KRX, 2 NXT, 3 SOR→KRX, 4 SOR→NXT; SOR takes the better touch, KRX on a tie.
            let exchange: UInt8 =
                switch venue {
                case "NXT": 2
                case "SOR": (buy ? nxt.ask < krx.ask : nxt.bid > krx.bid) ? 4 : 3
                default: 1
                }
            let touch = exchange % 2 == 0 ? nxt : krx
            let answer = try await h.order(
                token: token,
                tr: buy ? "TTTC0012U" : "TTTC0011U",
                type: "01",
                quantity: 1,
                price: 0,
                venue: venue
            )
            #expect(answer.object["rt_cd"] as? String == "0", "\(answer.text)")
            let notices = try await Self.sync(client, approval: approval, decoder: &decoder, touches: &touches)
            #expect(notices.contains { $0.isFill })
            #expect(notices.allSatisfy { $0.exchangeCode == exchange }, "\(venue ?? "default") → \(exchange)")
            guard let fill = notices.first(where: \.isFill) else { continue }
            // A one-share market order takes the touch of the venue it went to.
            #expect(Int64(fill.price) == (buy ? touch.ask : touch.bid))
            #expect(fill.venue == (exchange % 2 == 0 ? .nxt : .krx))
            #expect(fill.routedBySOR == (venue == "SOR"))
            try await h.advance(1)
        }
        await client.close()
    }

    @Test func nxtOrdersTradeOutsideKRXHoursAndPaperRefusesThem() async throws {
        // 15:31: KRX has closed, NXT's after-market has opened.
        let h = try await Harness {
            $0.symbols = ["005930"]
            $0.startTime = 153_100
            $0.servers = [.real: .init(), .paper: .init()]
        }
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let client = try await FeedClient(port: h.ws)
        var decoder = try await client.noticeDecoder(approval: try await h.approvalKey())
        let krx = try await h.order(token: token, type: "01", quantity: 1, price: 0)
        #expect(krx.object["msg_cd"] as? String == "APBK0919")
        // The refusal is notified too, from KRX.
        #expect(try await client.notices(1, decoder: &decoder).notices.map(\.exchangeCode) == [1])
        for (venue, exchange) in [("NXT", UInt8(2)), ("SOR", UInt8(4))] {
            let answer = try await h.order(token: token, type: "01", quantity: 1, price: 0, venue: venue)
            #expect(answer.object["rt_cd"] as? String == "0", "\(answer.text)")
            var notices: [Notice] = []
            while !notices.contains(where: \.isFill) {
                notices += try await client.notices(1, decoder: &decoder).notices
            }
            #expect(notices.allSatisfy { $0.exchangeCode == exchange })
        }
        await client.close()

        let paper = h.paperRest!
        let paperToken = try await h.token(appKey: Harness.paperKey, port: paper)
        for venue in ["NXT", "SOR"] {
            let refused = try await h.order(
                token: paperToken,
                tr: "VTTC0012U",
                type: "01",
                quantity: 1,
                price: 0,
                port: paper,
                appKey: Harness.paperKey,
                venue: venue
            )
            #expect(refused.object["msg_cd"] as? String == "KSIM0001")
        }
    }
}
