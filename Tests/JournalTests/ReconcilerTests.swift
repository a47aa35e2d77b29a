import JSON
import Journal
import Orders
import Recovery
import Testing
import TickCore

@testable import KIS

@Suite struct ReconcilerTests {
    static let code = Sample.code

    /// Order 1 as the journal left it: sent, answer lost (or process killed), no ODNO.
    static let pending = OrderSnapshot(
        id: OrderID(rawValue: 1),
        target: OrderID(rawValue: 1),
        code: code,
        side: .buy,
        action: .new,
        purpose: .entry,
        quantity: 10,
        price: 70_000,
        state: .unknown,
        remaining: 10,
        needsReconciliation: true
    )

    static func state(_ orders: [OrderSnapshot], positions: [Position] = []) -> RecoveredState {
        RecoveredState(orders: orders, positions: positions, totals: DayTotals(), nextOrderID: OrderID(rawValue: 2))
    }

    static func record(_ number: UInt64, filled: Int32, remaining: Int32, price: Int32 = 70_000) -> BrokerOrder {
        BrokerOrder(
            orderNumber: number,
            code: Self.code,
            side: .buy,
            quantity: 10,
            price: price,
            filled: filled,
            filledValue: Int64(filled) * 70_000,
            remaining: remaining,
            time: 90_001,
            organization: 6590
        )
    }

    @Test func pendingFoundAtKISTakesItsNumberAndFills() throws {
        let result = Reconciler().reconcile(
            Self.state([Self.pending]),
            holdings: [BrokerHolding(code: Self.code, quantity: 10, cost: 700_000)],
            orders: [Self.record(7, filled: 10, remaining: 0)]
        )
        #expect(
            result.discrepancies == [
                .pendingFound(OrderID(rawValue: 1), orderNumber: 7), .fillsFound(OrderID(rawValue: 1), quantity: 10),
            ]
        )
        let order = try #require(result.state.orders.first)
        #expect(order.state == .filled && order.orderNumber == 7 && order.organization == 6590)
        #expect(result.fills.map(\.quantity) == [10])
        #expect(result.state.positions.map(\.quantity) == [10])
        #expect(result.state.totals.turnover == 700_000)
    }

    @Test func pendingNotAtKISWasNeverSent() {
        let result = Reconciler().reconcile(Self.state([Self.pending]), holdings: [], orders: [])
        #expect(result.discrepancies == [.pendingNotPlaced(OrderID(rawValue: 1))])
        #expect(result.state.orders.map(\.state) == [.notPlaced])
        #expect(result.fills.isEmpty)
    }

    @Test func positionMismatchBrokerWins() {
        var journaled = Position(code: Self.code)
        journaled.quantity = 5
        journaled.cost = 350_000
        journaled.lastPrice = 70_000
        let result = Reconciler().reconcile(
            Self.state([], positions: [journaled]),
            holdings: [BrokerHolding(code: Self.code, quantity: 8, cost: 568_000)],
            orders: []
        )
        #expect(result.discrepancies == [.position(Self.code, journal: 5, broker: 8)])
        let position = result.state.positions.first
        #expect(position?.quantity == 8 && position?.cost == 568_000)
        #expect(position?.averagePrice == 71_000 * Position.priceScale)
        #expect(result.state.totals.unrealised == 8 * 70_000 - 568_000)
    }

    @Test func soldOutAtKISIsFlat() {
        var journaled = Position(code: Self.code)
        journaled.quantity = 5
        journaled.cost = 350_000
        let result = Reconciler().reconcile(Self.state([], positions: [journaled]), holdings: [], orders: [])
        #expect(result.discrepancies == [.position(Self.code, journal: 5, broker: 0)])
        #expect(result.state.positions.first?.quantity == 0)
    }

    @Test func openOrderUnknownToTheJournalIsAdoptedAndFlagged() throws {
        let result = Reconciler().reconcile(
            Self.state([]),
            holdings: [BrokerHolding(code: Self.code, quantity: 3, cost: 210_000)],
            orders: [Self.record(99, filled: 3, remaining: 7), Self.record(98, filled: 0, remaining: 0)]
        )
        // Its 3 fills were before the journal knew it: the balance has them, the journal's positions did not.
        #expect(
            result.discrepancies == [
                .adopted(OrderID(rawValue: 2), orderNumber: 99), .position(Self.code, journal: 0, broker: 3),
            ]
        )
        let order = try #require(result.state.orders.first)
        #expect(order.id == OrderID(rawValue: 2) && order.state == .partiallyFilled && order.remaining == 7)
        #expect(order.needsReconciliation)
        #expect(result.state.nextOrderID == OrderID(rawValue: 3))
        #expect(result.state.positions.map(\.quantity) == [3])
    }

    @Test func fillsTheNoticesMissedAreFound() throws {
        let accepted = OrderSnapshot(
            id: OrderID(rawValue: 1),
            target: OrderID(rawValue: 1),
            code: Self.code,
            side: .buy,
            action: .new,
            purpose: .entry,
            quantity: 10,
            price: 70_000,
            state: .partiallyFilled,
            orderNumber: 7,
            organization: 6590,
            filled: 4,
            fillValue: 280_000,
            remaining: 6
        )
        var journaled = Position(code: Self.code)
        journaled.quantity = 4
        journaled.cost = 280_000
        let result = Reconciler().reconcile(
            Self.state([accepted], positions: [journaled]),
            holdings: [BrokerHolding(code: Self.code, quantity: 10, cost: 700_000)],
            orders: [Self.record(7, filled: 10, remaining: 0)]
        )
        #expect(result.discrepancies == [.fillsFound(OrderID(rawValue: 1), quantity: 6)])
        #expect(result.state.orders.first?.state == .filled)
        #expect(result.state.positions.first?.quantity == 10)
    }

    /// The same, from KIS's own answer types, as `balance()` and `dailyOrders` return them.
    @Test func readsKISRecords() throws {
        let row = JSON.obj([
            "ord_dt": "20261127", "ord_gno_brno": "06590", "odno": "0000000007", "orgn_odno": "", "pdno": "005930",
            "sll_buy_dvsn_cd": "02", "ord_dvsn_cd": "00", "ord_qty": "10", "ord_unpr": "70000", "ord_tmd": "090001",
            "tot_ccld_qty": "10", "avg_prvs": "70000.0", "rmn_qty": "0", "rjct_qty": "0", "cncl_yn": "N",
        ])
        let holding = Holding(
            JSON.obj([
                "pdno": "005930", "hldg_qty": "10", "ord_psbl_qty": "10", "pchs_avg_pric": "70000.0",
                "pchs_amt": "700000",
            ])
        )
        let balance = Balance(holdings: [holding], cash: 0, cashD2: 0, securitiesValue: 0, totalValue: 0, profit: 0)
        let unreadable = OrderRecord(JSON.obj(["odno": "", "pdno": "005930", "sll_buy_dvsn_cd": "02"]))
        let result = Reconciler().reconcile(
            Self.state([Self.pending]),
            balance: balance,
            orders: [OrderRecord(row), unreadable]
        )
        #expect(
            result.discrepancies == [
                .pendingFound(OrderID(rawValue: 1), orderNumber: 7), .fillsFound(OrderID(rawValue: 1), quantity: 10),
                .unreadable(orderNumber: ""),
            ]
        )
        #expect(BrokerOrder(OrderRecord(row))?.organization == 6590)
        #expect(BrokerOrder(OrderRecord(row))?.filledValue == 700_000)
    }

    /// Numbers no Int64 holds in a row of KIS's answer ("1e30", "nan", an average price whose product with the
    /// quantity overflows) once trapped while it was read (found by FuzzOrderAnswer): now a field reads as none and
    /// a row whose fill value cannot be is unreadable, which the reconciliation lists.
    @Test func numbersNoInt64HoldsAreNoneNotATrap() {
        var fields: [(String, JSON)] = [
            ("odno", "0000000008"), ("pdno", "005930"), ("sll_buy_dvsn_cd", "02"), ("ord_qty", "1e30"),
            ("ord_unpr", "nan"), ("tot_ccld_qty", "-inf"), ("rmn_qty", "9.3e18"),
        ]
        let garbled = OrderRecord(.object(fields))
        #expect(garbled.quantity == 0 && garbled.price == 0 && garbled.filledQuantity == 0)
        #expect(garbled.remainingQuantity == 0)
        fields = [
            ("odno", "0000000009"), ("pdno", "005930"), ("sll_buy_dvsn_cd", "02"), ("ord_qty", "10"),
            ("tot_ccld_qty", "10"), ("avg_prvs", "1e300"),
        ]
        #expect(BrokerOrder(OrderRecord(.object(fields))) == nil)
        fields[5] = ("avg_prvs", "nan")
        #expect(OrderRecord(.object(fields)).averageFillPrice == 0)
    }
}
