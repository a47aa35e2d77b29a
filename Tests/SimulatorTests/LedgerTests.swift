import Foundation
import Testing

/// `GET /sim/ledger`: what scripts/chaos and scripts/soak check a client against.
@Suite struct LedgerTests {
    @Test func ledgerListsOrdersHoldingsAndFaults() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        // A market buy fills at once; a limit far below the market rests; a sell of more than is held is rejected.
        _ = try await h.order(token: token, type: "01", quantity: 3, price: 0)
        let resting = try await h.order(token: token, quantity: 1, price: 60_000)
        _ = try await h.order(token: token, tr: "TTTC0011U", type: "01", quantity: 10, price: 0)
        try await h.fault(#"{"fault":"order_timeout","count":2}"#)
        let ledger = try await h.http("GET", "/sim/ledger").object
        let orders = try #require(ledger["orders"] as? [[String: Any]])
        #expect(orders.map { $0["number"] as? Int } == [1, 2, 3])
        #expect(orders.map { $0["kind"] as? String } == ["new", "new", "new"])
        #expect(orders.map { $0["account"] as? String } == Array(repeating: Harness.account, count: 3))
        #expect(orders[0]["filled"] as? Int == 3 && orders[0]["open"] as? Bool == false)
        #expect(orders[1]["open"] as? Bool == true && orders[1]["price"] as? Int == 60_000)
        #expect(orders[2]["rejected"] as? Int == 10 && orders[2]["side"] as? String == "sell")
        #expect((resting.object["output"] as? [String: String])?["ODNO"] == "0000000002")
        let holdings = try #require(ledger["holdings"] as? [[String: Any]])
        #expect(holdings.count == 1)
        #expect(holdings.first?["code"] as? String == "005930" && holdings.first?["quantity"] as? Int == 3)
        #expect((ledger["faults"] as? [String: Any])?["order_timeouts_left"] as? Int == 2)
    }

    @Test func ledgerLogsSessionsRegistrationsAndCuts() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let client = try await MarketFeedTests.subscribedClient(h, trs: ["H0STCNT0", "H0STASP0"])
        let open = try #require((try await h.http("GET", "/sim/ledger").object["sessions"] as? [[String: Any]])?.first)
        #expect(open["registrations"] as? Int == 2)
        #expect((open["registered_us"] as? Int ?? 0) >= (open["opened_us"] as? Int ?? .max))
        // The first registration is the first the client asked for, not the last.
        #expect(open["first_tr"] as? String == "H0STCNT0")
        #expect((open["first_us"] as? Int ?? .max) <= (open["registered_us"] as? Int ?? 0))
        #expect(open["closed_us"] is NSNull)
        // Two acks went out, and the book the second one asked for.
        #expect((open["messages"] as? Int ?? 0) >= 2)
        try await h.fault(#"{"fault":"drop_mid_frame"}"#)
        try await h.advance(30)
        while try await client.connection.receive() != nil {}
        var closed: [String: Any] = [:]
        for _ in 0..<100 {
            let ledger = try await h.http("GET", "/sim/ledger").object
            closed = (ledger["sessions"] as? [[String: Any]])?.first ?? [:]
            if !(closed["closed_us"] is NSNull) {
                #expect((ledger["cuts_us"] as? [Int])?.count == 1)
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect((closed["closed_us"] as? Int ?? 0) >= (closed["registered_us"] as? Int ?? .max))
    }
}
