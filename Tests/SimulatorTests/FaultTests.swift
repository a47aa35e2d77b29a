import Feed
import Foundation
import Testing
import Wire

/// Every fault of issue 3, triggered mid-session through `POST /sim/fault`.
@Suite struct FaultTests {
    @Test func dropMidFrameLeavesAHalfFrameAndNoCloseFrame() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let client = try await MarketFeedTests.subscribedClient(h, trs: ["H0STCNT0"])
        try await h.fault(#"{"fault":"drop_mid_frame"}"#)
        try await h.advance(30)
        // Raw bytes: a frame header promising more than arrives, then EOF.
        var bytes: [UInt8] = []
        while let chunk = try await client.connection.receive() { bytes += chunk }
        var reader = WebSocketReader(maxMessageSize: 1 << 20)
        reader.write(bytes)
        #expect(try reader.next() == nil)
        #expect(reader.unparsedCount > 0)
        #expect(bytes.first == 0x81)
    }

    @Test func silenceStopsDataAndPingsButRequestsStillCount() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let approval = try await h.approvalKey()
        let client = try await FeedClient(port: h.ws)
        try await h.fault(#"{"fault":"silence","enabled":true}"#)
        try await client.send(
            text:
                #"{"header":{"approval_key":"\#(approval)","custtype":"P","tr_type":"1","content-type":"utf-8"},"body":{"input":{"tr_id":"H0STCNT0","tr_key":"005930"}}}"#
        )
        try await h.advance(60)
        try await h.fault(#"{"fault":"silence","enabled":false}"#)
        // The first thing after the silence is the answer to this request: nothing (data, ack, PINGPONG) came
        // during it, yet the silenced subscribe took effect.
        let again = try await client.request(approval: approval, tr: "H0STCNT0", key: "005930")
        #expect(again.at("body", "msg_cd") as? String == "OPSP0002")
        await client.close()
    }

    @Test func expireTokenNow() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        try await h.fault(#"{"fault":"expire_token"}"#)
        let answer = try await h.get(
            "\(Harness.pricePath)?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930",
            token: token,
            tr: "FHKST01010100"
        )
        #expect(answer.status == 500)
        #expect(answer.object["msg_cd"] as? String == "EGW00123")
    }

    @Test func rateLimitBurst() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        try await h.fault(#"{"fault":"rate_limit","count":3}"#)
        var statuses: [Int] = []
        for _ in 0..<4 {
            statuses.append(
                try await h.get(
                    "\(Harness.pricePath)?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930",
                    token: token,
                    tr: "FHKST01010100"
                ).status
            )
        }
        #expect(statuses == [500, 500, 500, 200])
    }

    @Test func orderTimeoutAfterTheOrderWasAccepted() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        try await h.fault(#"{"fault":"order_timeout","count":1}"#)
        let answer = try await h.order(token: token, quantity: 1, price: 60_000)
        #expect(answer.status == 500)
        #expect(answer.object["msg_cd"] as? String == "EGW00302")
        let daily = try await h.get(TradingTests.ccld, token: token, tr: "TTTC0081R")
        #expect((daily.object["output1"] as? [[String: String]])?.first?["ord_qty"] == "1")
    }

    @Test func delayedOrderResponseIsHeldWhileTheOrderWorks() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        try await h.fault(#"{"fault":"order_delay","seconds":5}"#)
        let pending = Task { try await h.order(token: token, quantity: 1, price: 60_000) }
        // The order is in the book while its answer is held.
        var listed = false
        for _ in 0..<200 where !listed {
            let daily = try await h.get(TradingTests.ccld, token: token, tr: "TTTC0081R")
            listed = (daily.object["output1"] as? [Any])?.count == 1
        }
        #expect(listed)
        try await h.advance(5)
        let answer = try await pending.value
        #expect(answer.object["msg_cd"] as? String == "APBK0013")
    }

    @Test func malformedFrameThenNormalFrames() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let client = try await MarketFeedTests.subscribedClient(h, trs: ["H0STCNT0"])
        try await h.fault(#"{"fault":"malformed_frame"}"#)
        try await h.advance(30)
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        var outcomes: [Bool] = []
        while outcomes.count < 5 {
            guard case .text(var bytes) = try await client.next() else { break }
            let ok = bytes.withUnsafeMutableBytes { buffer in
                (try? decoder.decode(buffer, localTs: 0, into: &sink)) != nil
            }
            outcomes.append(ok)
        }
        #expect(outcomes == [false, true, true, true, true])
        await client.close()
    }

    @Test func schemaDriftAppendsFieldsTheDecoderTolerates() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        try await h.fault(#"{"fault":"schema_drift","fields":2}"#)
        let client = try await MarketFeedTests.subscribedClient(h)
        try await h.advance(30)
        var decoder = try FeedDecoder()
        var decoded = Decoded()
        try await client.collect(frames: 20, decoder: &decoder, into: &decoded)
        #expect(!decoded.tradeFields.isEmpty && decoded.tradeFields.allSatisfy { $0.count == 48 })
        #expect(!decoded.bookFields.isEmpty && decoded.bookFields.allSatisfy { $0.count == 64 })
        #expect(decoded.sink.trades.count == decoded.tradeFields.count)
        await client.close()
    }

    @Test func duplicatedNotices() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let client = try await FeedClient(port: h.ws)
        var decoder = try await client.noticeDecoder(approval: try await h.approvalKey())
        try await h.fault(#"{"fault":"duplicate_notice","enabled":true}"#)
        _ = try await h.order(token: token, quantity: 1, price: 60_000)
        let (notices, frames) = try await client.notices(2, decoder: &decoder)
        #expect(frames[0] == frames[1])
        #expect(notices[0] == notices[1])
        await client.close()
    }

    @Test func serverErrorFailsQueriesButNotOrders() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        try await h.fault(#"{"fault":"server_error","count":2}"#)
        let order = try await h.order(token: token, quantity: 1, price: 60_000)
        #expect(order.status == 200 && order.object["rt_cd"] as? String == "0")
        var statuses: [Int] = []
        var envelopes: [Bool] = []
        for _ in 0..<3 {
            let path = "\(Harness.pricePath)?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930"
            let answer = try await h.get(path, token: token, tr: "FHKST01010100")
            statuses.append(answer.status)
            envelopes.append(answer.object["rt_cd"] != nil)
        }
        #expect(statuses == [500, 500, 200])
        // A proxy's page, not a KIS envelope: the client must not take it for an answer.
        #expect(envelopes == [false, false, true])
        // The failed queries never reached an endpoint, so they spent nothing of the rate budget.
        #expect(h.simulator.answeredCount(trID: "FHKST01010100") == 1)
    }

    @Test func unknownFaultIsRefused() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let answer = try await h.http("POST", "/sim/fault", body: #"{"fault":"meteor"}"#)
        #expect(answer.status == 400)
    }
}
