import Foundation
import KIS
import Net
import Testing
import TickCore

/// EXCG_ID_DVSN_CD on orders, modifies and cancels, and the paper server's KRX-only rule, against the simulator.
@Suite struct OrderVenueTests {
    static let samsung = SymbolCode("005930")!

    /// The order-cash body ends with the ticket's venue, as KIS spells it.
    @Test func theOrderBodyNamesItsVenue() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        var writer = OrderRequestWriter(settings: try kis.client().settings)
        var request = ByteWriter(capacity: 1_024)
        for route in OrderRoute.allCases {
            let ticket = OrderTicket(side: .buy, code: Self.samsung, quantity: 1, price: 70_000, route: route)
            writer.format(ticket, token: Secret("token"), into: &request)
            let text = String(decoding: request.bytes, as: UTF8.self)
            #expect(text.hasSuffix(#""ORD_UNPR":"70000","EXCG_ID_DVSN_CD":"\#(route)"}"#), "\(text)")
        }
    }

    static func refusedForTheVenue(_ error: any Error) -> Bool {
        guard case KISError.rejected(let failure) = error else { return false }
        return failure.msgCd == "KSIM0001" && failure.rtCd == "1"
    }

    /// Paper takes KRX orders only: an NXT order and a SOR cancel are refused before anything else is looked at
    /// (two requests: the paper budget is 2 a second).
    @Test func paperRefusesNXTAndSOR() async throws {
        let kis = try await SimulatedKIS(environment: .paper)
        defer { kis.finish() }
        var lane = try kis.client().makeOrderLane()
        #expect(
            performing: {
                _ = try lane.place(OrderTicket(side: .buy, code: Self.samsung, quantity: 1, price: 60_000, route: .nxt))
            },
            throws: Self.refusedForTheVenue
        )
        #expect(
            performing: {
                _ = try lane.revise(organization: 950, orderNumber: 1, .cancel, route: .sor)
            },
            throws: Self.refusedForTheVenue
        )
    }

    /// The real server takes every venue, and an NXT order is amended on NXT.
    @Test func realTakesEveryVenue() async throws {
        let kis = try await SimulatedKIS(environment: .real)
        defer { kis.finish() }
        // From 09:00 to NXT's main session, which opens at 09:00:30 (an NXT order before it gets APBK0919).
        kis.simulator.advance(seconds: 60)
        let client = try kis.client()
        var lane = try client.makeOrderLane()
        let price = try client.price("005930")
        let below = price.price - 20 * price.tickSize
        for route in OrderRoute.allCases {
            let ack = try lane.place(
                OrderTicket(side: .buy, code: Self.samsung, quantity: 1, price: below, route: route)
            )
            let cancelled = try lane.revise(
                organization: ack.organization,
                orderNumber: ack.orderNumber,
                .cancel,
                route: route
            )
            #expect(cancelled.orderNumber != 0)
        }
    }
}

@Suite struct VenueSubscriptionTests {
    @Test func eachVenueHasItsTRs() {
        let krx = Subscription.marketData("005930", venues: [.krx])
        #expect(krx == [.trades("005930"), .book("005930")])
        #expect(krx.map(\.tr) == [.h0stcnt0, .h0stasp0])
        let both = Subscription.marketData("005930", venues: [.krx, .nxt], status: true)
        #expect(both.map(\.tr) == [.h0stcnt0, .h0stasp0, .h0stmko0, .h0nxcnt0, .h0nxasp0, .h0nxmko0])
        let combined = Subscription.marketData("005930", venues: [.combined], status: true)
        #expect(combined.map(\.tr) == [.h0uncnt0, .h0unasp0, .h0unmko0])
        #expect(both.allSatisfy { $0.key == "005930" && $0.code == SymbolCode("005930") })
        #expect(both.filter(\.isTrades).map(\.tr) == [.h0stcnt0, .h0nxcnt0])
    }
}
