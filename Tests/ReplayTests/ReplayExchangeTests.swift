import Testing
import TickCore

@testable import Orders
@testable import Replay

/// The simulated exchange against hand-built books and trades.
@Suite("Replay exchange")
struct ReplayExchangeTests {
    static let code = SymbolCode("005930")!
    static let latency = ReplayLatency(entry: 1_000, ack: 2_000)

    static func exchange() throws -> ReplayExchange {
        ReplayExchange(symbols: try SymbolTable([Self.code]), latency: Self.latency)
    }

    /// Asks 70 100 × 10, 70 200 × 20, 70 300 × 30; bids 70 000 × 10, 69 900 × 20, 69 800 × 30.
    static func book() -> Book {
        var book = Book()
        book.code = Self.code
        book.exchangeTime = 1_780_880_000
        for level in 0..<3 {
            book.askPrices[level] = Int32(70_100 + 100 * level)
            book.askQuantities[level] = Int32(10 * (level + 1))
            book.bidPrices[level] = Int32(70_000 - 100 * level)
            book.bidQuantities[level] = Int32(10 * (level + 1))
        }
        return book
    }

    static func order(_ id: UInt32, _ side: OrderSide, quantity: Int32, price: Int32) -> OrderDispatch {
        OrderDispatch(
            intent: OrderIntent(
                id: OrderID(rawValue: id),
                code: Self.code,
                side: side,
                quantity: quantity,
                price: price,
                purpose: .entry
            ),
            targetOrderNumber: 0,
            targetOrganization: 0
        )
    }

    /// Runs everything due by `time`, arrivals included, and returns the rest.
    static func run(_ exchange: inout ReplayExchange, until time: Int64) -> [(Int64, ExchangeOutput)] {
        var out: [(Int64, ExchangeOutput)] = []
        while let (at, output) = exchange.next(dueBy: time) {
            if case .arrive(let dispatch) = output {
                exchange.arrive(dispatch, at: at)
            } else {
                out.append((at, output))
            }
        }
        return out
    }

    static func fills(_ outputs: [(Int64, ExchangeOutput)]) -> [(quantity: Int32, price: Int32, at: Int64)] {
        outputs.compactMap { at, output in
            if case .notice(let notice) = output, notice.isFill { return (notice.quantity, notice.price, at) }
            return nil
        }
    }

    @Test("a marketable buy takes the asks level by level up to its limit, answered after entry + ack latency")
    func marketableBuy() throws {
        var exchange = try Self.exchange()
        exchange.book(Self.book(), at: 0)
        exchange.send(Self.order(1, .buy, quantity: 25, price: 70_200), at: 10_000)
        let outputs = Self.run(&exchange, until: 20_000)
        guard case .event(.written(let id, let written)) = outputs.first?.1 else {
            Issue.record("first output: \(String(describing: outputs.first))")
            return
        }
        #expect(id == OrderID(rawValue: 1) && written == 10_000)
        guard case .event(.acknowledged(_, let number, _)) = outputs[1].1 else {
            Issue.record("second output: \(outputs[1])")
            return
        }
        #expect(number != 0 && outputs[1].0 == 13_000)
        let fills = Self.fills(outputs)
        #expect(fills.map(\.quantity) == [10, 15])
        #expect(fills.map(\.price) == [70_100, 70_200])
        #expect(fills.allSatisfy { $0.at == 13_000 })
        #expect(exchange.restingCount == 0)
    }

    @Test("a buy below the ask rests; a trade at its limit leaves it, a trade below fills it up to the trade's volume")
    func restingBuy() throws {
        var exchange = try Self.exchange()
        exchange.book(Self.book(), at: 0)
        exchange.send(Self.order(1, .buy, quantity: 30, price: 70_000), at: 0)
        #expect(Self.fills(Self.run(&exchange, until: 5_000)).isEmpty)
        #expect(exchange.restingCount == 1)
        var trade = Trade()
        trade.code = Self.code
        trade.price = 70_000
        trade.volume = 50
        exchange.trade(trade, at: 6_000)
        #expect(Self.fills(Self.run(&exchange, until: 10_000)).isEmpty)
        trade.price = 69_900
        trade.volume = 12
        exchange.trade(trade, at: 11_000)
        let fills = Self.fills(Self.run(&exchange, until: 20_000))
        #expect(fills.map(\.quantity) == [12] && fills.map(\.price) == [70_000] && fills.map(\.at) == [13_000])
        #expect(exchange.restingCount == 1)
    }

    @Test("a resting sell fills when a later book bids at or above its limit")
    func restingSellTakesNewBook() throws {
        var exchange = try Self.exchange()
        exchange.book(Self.book(), at: 0)
        exchange.send(Self.order(1, .sell, quantity: 5, price: 70_200), at: 0)
        _ = Self.run(&exchange, until: 5_000)
        var moved = Self.book()
        moved.bidPrices[0] = 70_300
        exchange.book(moved, at: 8_000)
        let fills = Self.fills(Self.run(&exchange, until: 20_000))
        #expect(fills.map(\.quantity) == [5] && fills.map(\.price) == [70_300])
        #expect(exchange.restingCount == 0)
    }

    @Test("a cancel takes what rests and is confirmed by a notice; a cancel of a filled order is refused")
    func cancels() throws {
        var exchange = try Self.exchange()
        exchange.book(Self.book(), at: 0)
        exchange.send(Self.order(1, .buy, quantity: 5, price: 69_000), at: 0)
        let first = Self.run(&exchange, until: 5_000)
        guard case .event(.acknowledged(_, let number, _)) = first.last?.1 else {
            Issue.record("no ack: \(first)")
            return
        }
        var cancel = Self.order(2, .buy, quantity: 0, price: 69_000)
        cancel.intent.action = .cancel
        cancel.intent.target = OrderID(rawValue: 1)
        cancel.targetOrderNumber = number
        exchange.send(cancel, at: 6_000)
        let outputs = Self.run(&exchange, until: 20_000)
        let notices = outputs.compactMap { if case .notice(let n) = $0.1 { n } else { nil } }
        #expect(notices.count == 1 && notices.first?.amendCode == 2 && notices.first?.originalOrderNumber == number)
        #expect(exchange.restingCount == 0)
        exchange.send(cancel, at: 30_000)
        let again = Self.run(&exchange, until: 40_000)
        #expect(
            again.contains { if case .event(.refused(let id, _)) = $0.1 { id == OrderID(rawValue: 2) } else { false } }
        )
    }
}
