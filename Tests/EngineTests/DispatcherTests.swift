import Foundation
import Journal
import KIS
import PaperMarket
import Testing
import TickCore

@testable import Engine
@testable import Orders
@testable import Pipeline

/// The dispatcher's side of an order whose answer is lost.
@Suite struct DispatcherTests {
    /// The lookup among today's orders looks from the market time the order was decided at, which is the clock KIS
    /// stamps it by: here a simulator whose market started at 09:00:30 (at real speed), whatever this machine's
    /// clock reads. Looking from the wall clock, the lookup missed the order at any hour after 09:00:35 KST (the
    /// 10-minute chaos run found it: a lost sell taken for never placed, then its exits refused for shares the
    /// account no longer held).
    @Test func aLostAnswerIsLookedUpByTheMarketsClock() async throws {
        let market = try await PaperMarket(speed: 1, codes: [SymbolCode("005930")!]) { $0.startTime = 90_030 }
        defer { market.remove() }
        let client = try market.client()
        defer { client.tokens.stop() }
        let today = KST.date(epochSeconds: WallClock().epochSeconds())
        let journal = try Journal.open(market.directory + "/journal.sqlite", day: today)
        var dispatcher = try Dispatcher(client: client, pending: try journal.pendingRecorder())
        let quote = try client.price("005930")
        // KIS took the order and its answer never came (EGW00302, the gateway's timeout).
        try market.fault(#"{"fault":"order_timeout","count":1}"#)
        let intent = OrderIntent(
            id: OrderID(rawValue: 7),
            code: SymbolCode("005930")!,
            side: .buy,
            quantity: 1,
            price: Int32(quote.price - 5 * quote.tickSize),
            purpose: .entry,
            decidedAt: 1
        )
        let marketTime = (KST.epochSeconds(date: today, time: 90_030)! + 1) * 1_000_000_000
        var events: [OrderEvent] = []
        dispatcher.send(
            DispatchSlot(
                dispatch: OrderDispatch(intent: intent, targetOrderNumber: 0, targetOrganization: 0),
                decided: WallClock().now(),
                marketTime: marketTime
            )
        ) { events.append($0.event) }
        await market.stop()
        #expect(events.contains { if case .lost = $0 { true } else { false } }, "\(events)")
        #expect(events.contains { if case .acknowledged = $0 { true } else { false } }, "found: \(events)")
        #expect(!events.contains { if case .notPlaced = $0 { true } else { false } }, "\(events)")
    }
}
