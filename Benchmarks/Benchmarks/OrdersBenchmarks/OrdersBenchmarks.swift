import Benchmark
import BenchmarkSupport
import Orders
import TickCore

/// The order state machine and positions run per order event and per fill on the engine thread: their steady state
/// must not allocate (thresholds hold mallocCountTotal at 0; `scripts/bench check` fails on any regression).
let benchmarks: @Sendable () -> Void = {
    configureAllocationFreeBenchmarks()

    // One iteration is an order's life: submit, written, REST ack, acceptance notice, two fills. Slots of filled
    // orders are reused, so the book stays at its capacity.
    Benchmark("order-life-6-events") { benchmark in
        var book = OrderBook(capacity: 256)
        var sink = CountingSink()
        var next: UInt32 = 0
        func life() {
            next &+= 1
            let id = OrderID(rawValue: next)
            let number = UInt64(next) + 1_000
            let intent = OrderIntent(
                id: id,
                code: SymbolCode(ascii: "005930"),
                side: .buy,
                quantity: 10,
                price: 70_000,
                purpose: .entry
            )
            _ = try? book.submit(intent, into: &sink)
            _ = book.apply(.written(id, at: 1), into: &sink)
            _ = book.apply(.acknowledged(id, orderNumber: number, organization: 6590), into: &sink)
            var notice = Notice()
            notice.code = intent.code
            notice.orderNumber = number
            notice.quantity = 10
            notice.acceptCode = 2
            _ = book.apply(.notice(notice), into: &sink)
            notice.isFill = true
            notice.quantity = 4
            notice.price = 70_000
            notice.exchangeTime = 1
            _ = book.apply(.notice(notice), into: &sink)
            notice.quantity = 6
            notice.exchangeTime = 2
            _ = book.apply(.notice(notice), into: &sink)
        }
        for _ in 0..<512 { life() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { life() }
        benchmark.stopMeasurement()
        blackHole(sink.checksum)
    }

    // One iteration: a buy fill, a sell fill and a mark, across four symbols.
    Benchmark("position-2-fills-1-mark") { benchmark in
        var positions = Positions(capacity: 64)
        let codes = ["005930", "000660", "035720", "005380"].map { SymbolCode($0)! }
        var i = 0
        func pass() {
            i &+= 1
            let code = codes[i & 3]
            let price = Int32(70_000 + (i & 15) * 100)
            try? positions.apply(Fill(id: OrderID(rawValue: 1), code: code, side: .buy, quantity: 10, price: price))
            try? positions.apply(
                Fill(id: OrderID(rawValue: 2), code: code, side: .sell, quantity: 7, price: price + 100)
            )
            positions.mark(code, price: Int64(price + 200))
        }
        pass()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { pass() }
        benchmark.stopMeasurement()
        blackHole(positions.totals)
    }
}

/// Folds what the book emits into a number, so nothing is optimised away and nothing is stored.
struct CountingSink: OrderSink {
    var checksum: Int64 = 0

    mutating func orderChanged(_ change: OrderChange) {
        self.checksum &+= Int64(change.filled) &+ Int64(change.state.rawValue)
    }
    mutating func filled(_ fill: Fill) { self.checksum &+= Int64(fill.quantity) &* Int64(fill.price) }
}
