import EventLog
import Foundation
import Orders
import Ring
import Risk
import Strategy
import Testing
import TickCore

@testable import Pipeline

/// The broker between the strategy and the dispatcher, without threads: what it lets the kill switch amend.
@Suite struct PipelineBrokerTests {
    static let code = SymbolCode("005930")!

    /// A broker with Samsung at 50,000 in the continuous session, and one buy of 2 working at KIS as order 1.
    static func brokerWithAWorkingBuy(log: LogProducer? = nil) throws -> (PipelineBroker, OrderID) {
        var (broker, id) = try Self.brokerWithASentBuy(log: log)
        Self.settle(&broker, .acknowledged(id, orderNumber: 1, organization: 950))
        return (broker, id)
    }

    /// The same buy, written to KIS and its answer not yet back.
    static func brokerWithASentBuy(log: LogProducer? = nil) throws -> (PipelineBroker, OrderID) {
        let orders = OrderPorts(doorbell: Doorbell())
        var board = MarketBoard(codes: [Self.code])
        board.advance(secondOfDay: 10 * 3_600)
        try board.setPreviousClose(at: 0, 50_000)
        var book = Book()
        book.code = Self.code
        book.bidPrices[0] = 49_950
        book.askPrices[0] = 50_000
        board.apply(book, at: 0)
        var broker = PipelineBroker(
            symbols: try SymbolTable([Self.code]),
            gate: RiskGate(killSwitch: KillSwitch()),
            board: board,
            opening: PipelineOpening(
                book: OrderBook(capacity: 64),
                positions: Positions(capacity: 8),
                nextOrderID: OrderID(rawValue: 1),
                buyingPower: 10_000_000
            ),
            orders: orders,
            log: log
        )
        let id = broker.nextOrderID()
        let buy = OrderIntent(
            id: id,
            code: Self.code,
            side: .buy,
            quantity: 2,
            price: 50_000,
            purpose: .entry,
            decidedAt: 0
        )
        #expect(broker.submit(buy) == .accepted)
        Self.settle(&broker, .written(id, at: 1))
        return (broker, id)
    }

    /// What the market stage does with an event: hand it to the broker, and the strategy's updates to nobody.
    static func settle(_ broker: inout PipelineBroker, _ event: OrderEvent) {
        broker.apply(event)
        while broker.nextUpdate() != nil {}
    }

    /// The id `PipelineBroker.cancel` gives the cancel of the order just placed: the next one.
    static func cancel(of id: OrderID) -> OrderID { OrderID(rawValue: id.rawValue + 1) }

    static func row(filled: Int32, remaining: Int32) -> BrokerOrder {
        BrokerOrder(
            orderNumber: 1,
            code: Self.code,
            side: .buy,
            quantity: 2,
            price: 50_000,
            filled: filled,
            filledValue: Int64(filled) * 50_000,
            remaining: remaining,
            organization: 950
        )
    }

    /// One CI run's kill switch cancelled a buy KIS had filled (its last fill's notice taken for a duplicate) once a
    /// second for 45 s: each cancel refused, each taking an order slot the reconciliation needed.
    @Test func anOrderKISRefusedToCancelWaitsForTheReconciliation() throws {
        var (broker, id) = try Self.brokerWithAWorkingBuy()
        #expect(broker.amendableOrders().map(\.id) == [id])
        #expect(broker.cancel(id, decidedAt: 0) == .accepted)
        Self.settle(&broker, .refused(Self.cancel(of: id), messageCode: PackedASCII(ascii: "APBK0344")))
        #expect(broker.amendableOrders().isEmpty)
        #expect(broker.workingCount == 1, "still the broker's until KIS says what became of it")

        // KIS says it is working after all: it may be amended again.
        Self.settle(&broker, .reconciled(Self.row(filled: 0, remaining: 2), localTs: 2))
        #expect(broker.amendableOrders().map(\.id) == [id])
    }

    /// KIS's gateway refusing a new order for the app key's per-second budget never placed it: the strategy hears
    /// `throttled` and decides again on fresh prices; any other refusal stays `rejected`.
    @Test func aNewOrderRefusedForTheBudgetGoesBackToTheStrategyThrottled() throws {
        for (code, expected) in [("EGW00201", OrderUpdate.Kind.throttled), ("APBK0919", .rejected)] {
            var (broker, id) = try Self.brokerWithASentBuy()
            broker.apply(.refused(id, messageCode: try #require(PackedASCII(code))))
            var kinds: [OrderUpdate.Kind] = []
            while let update = broker.nextUpdate() {
                if update.id == id { kinds.append(update.kind) }
            }
            #expect(kinds == [expected], "\(code)")
            #expect(broker.workingCount == 0, "\(code): nothing of it works")
        }
    }

    /// While an order's answer was held (`kistick sim --order-delay`), the strategy, past its entry timeout, asked to
    /// cancel it on every event, and each refused cancel used up an order id: about 1,000 a second.
    @Test func aCancelThatCannotBeSentYetUsesNoID() throws {
        var (broker, id) = try Self.brokerWithASentBuy()
        for _ in 0..<1_000 { #expect(broker.cancel(id, decidedAt: 0) == .refused) }
        #expect(broker.counters.bookRefusals == 0)
        Self.settle(&broker, .acknowledged(id, orderNumber: 1, organization: 950))
        #expect(broker.cancel(id, decidedAt: 0) == .accepted)
        #expect(broker.book.order(Self.cancel(of: id)) != nil, "the cancel took the next id, none was burnt")
        // One amendment at a time: a second cancel waits for the first one's answer, again without an id.
        for _ in 0..<1_000 { #expect(broker.cancel(id, decidedAt: 0) == .refused) }
        #expect(broker.nextOrderID() == OrderID(rawValue: Self.cancel(of: id).rawValue + 1))
    }

    /// An order risk refuses leaves its id to the next one.
    @Test func anOrderRiskRefusesLeavesItsID() throws {
        var (broker, id) = try Self.brokerWithAWorkingBuy()
        for _ in 0..<100 {
            let offTick = OrderIntent(
                id: broker.nextOrderID(),
                code: Self.code,
                side: .buy,
                quantity: 1,
                price: 50_001,
                purpose: .entry,
                decidedAt: 0
            )
            #expect(broker.submit(offTick) == .refused)
        }
        #expect(broker.counters.riskRejections == 100)
        #expect(broker.counters.rejections[.offTickLadder] == 100, "counted by reason, for the status line")
        #expect(broker.nextOrderID() == OrderID(rawValue: id.rawValue + 1))
    }

    /// A strategy asking on every event for what risk refuses (here an off-tick buy and a sell of shares not held,
    /// on each of 100 events) leaves a line per reason in the log, not 200, and every refusal counted.
    @Test func aRefusalRepeatedOnEveryEventIsLoggedOnceASecondPerReason() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kistick-broker-log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var settings = EventLog.Settings(directory: directory)
        settings.consoleLevel = nil
        let log = try EventLog(settings: settings)
        let producer = log.producer(stage: "market", reasons: PipelineSettings.refusalNames)
        var (broker, _) = try Self.brokerWithAWorkingBuy(log: producer)
        for _ in 0..<100 {
            for (side, price) in [(OrderSide.buy, Int32(50_001)), (.sell, 50_000)] {
                let intent = OrderIntent(
                    id: broker.nextOrderID(),
                    code: Self.code,
                    side: side,
                    quantity: 5,
                    price: price,
                    purpose: side == .buy ? .entry : .exit,
                    decidedAt: 0
                )
                #expect(broker.submit(intent) == .refused)
            }
        }
        log.stop()
        #expect(broker.counters.riskRejections == 200)
        let reasons = RiskRejection.allCases.filter { broker.counters.rejections[$0] > 0 }
        #expect(reasons.count == 2)
        let file = try #require(log.currentPath)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == reasons.count)
        for reason in reasons { #expect(lines.contains { $0.contains("\"reason\":\"\(reason)\"") }) }
    }

    @Test func theReconciliationThatFindsItFilledEndsIt() throws {
        var (broker, id) = try Self.brokerWithAWorkingBuy()
        #expect(broker.cancel(id, decidedAt: 0) == .accepted)
        Self.settle(&broker, .refused(Self.cancel(of: id), messageCode: PackedASCII(ascii: "APBK0344")))
        Self.settle(&broker, .reconciled(Self.row(filled: 2, remaining: 0), localTs: 2))
        #expect(broker.workingCount == 0)
        #expect(broker.book.order(id)?.state == .filled)
    }

    /// Orders the journal brought back after a restart are the book's, so they are working orders for risk, the
    /// kill switch and the end of a run (a copy of working orders kept beside the book never held them).
    @Test func ordersARestartBroughtBackAreWorking() throws {
        let orders = OrderPorts(doorbell: Doorbell())
        var book = OrderBook(capacity: 64)
        try book.restore(
            OrderSnapshot(
                id: OrderID(rawValue: 7),
                target: OrderID(rawValue: 7),
                code: Self.code,
                side: .buy,
                action: .new,
                purpose: .entry,
                quantity: 3,
                price: 50_000,
                state: .accepted,
                orderNumber: 70,
                organization: 950,
                remaining: 3
            )
        )
        var board = MarketBoard(codes: [Self.code])
        board.advance(secondOfDay: 10 * 3_600)
        try board.setPreviousClose(at: 0, 50_000)
        var broker = PipelineBroker(
            symbols: try SymbolTable([Self.code]),
            gate: RiskGate(killSwitch: KillSwitch()),
            board: board,
            opening: PipelineOpening(
                book: book,
                positions: Positions(capacity: 8),
                nextOrderID: OrderID(rawValue: 8),
                buyingPower: 1_000_000
            ),
            orders: orders
        )
        #expect(broker.workingCount == 1)
        #expect(broker.openOrders(of: Self.code) == OpenOrders(buyOrders: 1, buyQuantity: 3))
        #expect(broker.exposure(0).workingBuyValue == 150_000)
        broker.cancelAmendable(decidedAt: 0)
        var sent: [OrderDispatch] = []
        _ = orders.takeOrders(max: 8) { sent.append($0.dispatch) }
        #expect(sent.map(\.intent.action) == [.cancel] && sent.first?.targetOrderNumber == 70)
    }

    /// A buy holds its value and fee from the buying power; a fill turns its share into the fill's cost, a cancel
    /// gives the rest back.
    @Test func aBuyHoldsBuyingPowerUntilItEnds() throws {
        var (broker, id) = try Self.brokerWithAWorkingBuy()
        let held = 10_000_000 - broker.account.buyingPower.available
        #expect(held == Costs().withFee(2 * 50_000))
        var fill = Notice()
        fill.code = Self.code
        fill.orderNumber = 1
        fill.isFill = true
        fill.quantity = 1
        fill.price = 50_000
        fill.sideCode = OrderSide.buy.rawValue
        fill.exchangeTime = 1_780_886_907
        Self.settle(&broker, .notice(fill))
        #expect(broker.positions.position(Self.code)?.quantity == 1)
        #expect(broker.cancel(id, decidedAt: 0) == .accepted)
        Self.settle(&broker, .written(Self.cancel(of: id), at: 2))
        Self.settle(&broker, .acknowledged(Self.cancel(of: id), orderNumber: 2, organization: 950))
        #expect(broker.workingCount == 0)
        // What is spent is the one share with its fee; everything else came back.
        #expect(10_000_000 - broker.account.buyingPower.available == Costs().withFee(50_000))
        #expect(broker.counters.accepted == 1 && broker.counters.partiallyFilled == 1 && broker.counters.cancelled == 1)
    }
}
