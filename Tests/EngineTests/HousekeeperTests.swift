import Foundation
import KIS
import Orders
import PaperMarket
import Ring
import Testing
import TickCore

@testable import Engine
@testable import Pipeline

/// The housekeeper's side of a doubtful fill: the order it names is asked for by itself, at once.
@Suite struct HousekeeperTests {
    @Test func anOrderHoldingADoubtfulFillIsAskedForAlone() async throws {
        let market = try await PaperMarket(speed: 1)
        defer { market.remove() }
        let client = try market.client()
        defer { client.tokens.stop() }
        var lane = try client.makeOrderLane()
        let quote = try client.price("005930")
        let ticket = OrderTicket(
            side: .buy,
            code: SymbolCode("005930")!,
            quantity: 1,
            price: quote.price - 10 * quote.tickSize
        )
        let first = try lane.place(ticket)
        let second = try lane.place(ticket)

        let orders = OrderPorts(doorbell: Doorbell())
        let house = Housekeeper(client: client, news: FeedNews(), orders: orders, probe: SymbolCode("005930")!)
        #expect(orders.checks.tryPush(second.orderNumber))
        #expect(house.check())
        var rows: [BrokerOrder] = []
        _ = orders.house.ring.drain(max: 16) { event in
            if case .reconciled(let row) = event { rows.append(row) }
        }
        #expect(rows.map(\.orderNumber) == [second.orderNumber], "only that order, not \(first.orderNumber)")
        #expect(orders.reconciliations.load(ordering: .relaxed) == 0, "a check is not a reconciliation pass")
        await market.stop()
    }
}
