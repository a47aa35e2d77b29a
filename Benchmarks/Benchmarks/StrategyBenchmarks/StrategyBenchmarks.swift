import Benchmark
import BenchmarkSupport
import Candles
import Feed
import Fixtures
import Strategy
import TickCore

// The candle and strategy stages per event. Each benchmark's steady state must not allocate: the committed
// thresholds (Thresholds/) hold mallocCountTotal at 0.

/// Counts what it receives so the optimiser cannot drop the work.
struct CountingSink: CandleSink {
    var volume: Int64 = 0
    mutating func candle(_ candle: Candle, symbol: SymbolIndex) { self.volume &+= Int64(candle.volume) }
}

/// Accepts everything and holds nothing: what a strategy costs, not a broker.
struct AcceptingBroker: Broker {
    var lastID = OrderID(rawValue: 0)
    var submitted = 0

    mutating func nextOrderID() -> OrderID {
        self.lastID.rawValue &+= 1
        return self.lastID
    }

    mutating func submit(_ intent: OrderIntent) -> SubmitResult {
        self.submitted &+= 1
        return .accepted
    }

    mutating func cancel(_ id: OrderID, decidedAt: Int64) -> SubmitResult { .accepted }
    func position(of code: SymbolCode) -> Position { Position(code: code) }
    func openOrders(of code: SymbolCode) -> OpenOrders { OpenOrders() }
}

struct BenchClock: EngineClock {
    var now: Int64 = 0
}

/// The real 2026-06-08 prints and books of 005930.
func realRecords() throws -> RecordCollector {
    var decoder = try FeedDecoder()
    var sink = RecordCollector()
    for frame in Fixtures.tradeFrames + Fixtures.bookFrames {
        var bytes = frame
        _ = try bytes.withUnsafeMutableBytes { try decoder.decode($0, localTs: Fixtures.localTs, into: &sink) }
    }
    return sink
}

/// A book of `code` with best bid `bid`, one step to the ask, three times as much bid as ask.
func bookFeatures(_ code: SymbolCode, bid: Int64) -> BookFeatures {
    var book = Book()
    book.code = code
    book.hourClass = UInt8(ascii: "0")
    var bidPrice = bid
    var askPrice = KRX.up(bid)
    for level in 0..<10 {
        book.bidPrices[level] = Int32(bidPrice)
        book.askPrices[level] = Int32(askPrice)
        book.bidQuantities[level] = 3_000
        book.askQuantities[level] = 1_000
        bidPrice = KRX.down(bidPrice)
        askPrice = KRX.up(askPrice)
    }
    return BookFeatures(book: book, topLevels: 5)
}

let benchmarks: @Sendable () -> Void = {
    configureAllocationFreeBenchmarks()

    // One iteration feeds the 16 real prints into 1- and 5-minute bars, a minute later than the last pass, so
    // every pass closes a 1-minute bar and every fifth a 5-minute bar.
    Benchmark("candles-update-16-real-trades") { benchmark in
        var trades = try realRecords().trades.map { Tick($0, symbol: 0) }
        var builder = try CandleBuilder(symbols: 1)
        var sink = CountingSink()
        func pass() {
            for i in trades.indices {
                trades[i].exchangeTime &+= 60
                builder.update(trades[i], into: &sink)
            }
        }
        try measure(benchmark, pass)
        blackHole(sink.volume)
    }

    Benchmark("book-features-1-real-book") { benchmark in
        var book = try realRecords().books[0]
        var checksum: Int64 = 0
        func pass() {
            book.bidQuantities[0] &+= 1
            let features = BookFeatures(book: book, topLevels: 5)
            checksum &+= Int64(features.topImbalance) &+ Int64(features.spreadTicks)
        }
        try measure(benchmark, pass)
        blackHole(checksum)
    }

    // The most common decision: a print that does not break out (at the level, all else confirming).
    Benchmark("strategy-trade-no-signal") { benchmark in
        let code = SymbolCode(ascii: "005930")
        var strategy = ScalpingStrategy<AcceptingBroker, BenchClock>(
            parameters: ScalpingParameters(),
            symbols: try SymbolTable([SymbolCode(ascii: "000660"), code])
        )
        var broker = AcceptingBroker()
        let clock = BenchClock(now: KST.epochSeconds(date: 20_260_608, time: 100_005)! * 1_000_000_000)
        var bar = Candle()
        bar.code = code
        bar.start = UInt32(KST.epochSeconds(date: 20_260_608, time: 95_500)!)
        bar.seconds = 300
        bar.high = 60_000
        strategy.onCandle(bar, symbol: 1, broker: &broker, clock: clock)
        strategy.onBook(bookFeatures(code, bid: 60_000), symbol: 1, broker: &broker, clock: clock)
        var trade = Tick()
        trade.code = code
        trade.symbol = 1
        trade.exchangeTime = UInt32(clock.now / 1_000_000_000)
        trade.price = 60_000
        trade.volume = 10
        trade.sideCode = TradeSide.buy.rawValue
        trade.strength = 13_000
        func pass() {
            trade.volume &+= 1
            strategy.onTrade(trade, broker: &broker, clock: clock)
        }
        try measure(benchmark, pass)
        precondition(broker.submitted == 0, "the benchmark's print must not trade")
        blackHole(broker.submitted)
    }

    // A whole cycle of seven events, a day later each pass so the cooldown has passed: a 5-minute bar sets the
    // level, a book, a breakout print (entry), its fill, a book at the take-profit (exit), its fill, a timer.
    Benchmark("strategy-breakout-cycle-7-events", configuration: .init(scalingFactor: .one)) { benchmark in
        let code = SymbolCode(ascii: "005930")
        var strategy = ScalpingStrategy<AcceptingBroker, BenchClock>(
            parameters: ScalpingParameters(),
            symbols: try SymbolTable([code])
        )
        var broker = AcceptingBroker()
        let entryBook = bookFeatures(code, bid: 60_000)
        let exitBook = bookFeatures(code, bid: 60_700)
        var day: Int64 = 0
        func pass() {
            let shift = day * 86_400
            day += 1
            var clock = BenchClock(now: (KST.epochSeconds(date: 20_260_608, time: 100_000)! + shift) * 1_000_000_000)
            var bar = Candle()
            bar.code = code
            bar.start = UInt32(KST.epochSeconds(date: 20_260_608, time: 95_500)! + shift)
            bar.seconds = 300
            bar.high = 60_000
            strategy.onCandle(bar, symbol: 0, broker: &broker, clock: clock)
            strategy.onBook(entryBook, symbol: 0, broker: &broker, clock: clock)
            clock.now += 5_000_000_000
            var trade = Tick()
            trade.code = code
            trade.exchangeTime = UInt32(clock.now / 1_000_000_000)
            trade.price = 60_100
            trade.volume = 10
            trade.sideCode = TradeSide.buy.rawValue
            trade.strength = 13_000
            strategy.onTrade(trade, broker: &broker, clock: clock)
            let entry = OrderUpdate(
                id: broker.lastID,
                code: code,
                kind: .filled,
                side: .buy,
                fillQuantity: 16,
                fillPrice: 60_100
            )
            strategy.onOrderUpdate(entry, broker: &broker, clock: clock)
            clock.now += 1_000_000_000
            strategy.onBook(exitBook, symbol: 0, broker: &broker, clock: clock)
            let exit = OrderUpdate(
                id: broker.lastID,
                code: code,
                kind: .filled,
                side: .sell,
                fillQuantity: 16,
                fillPrice: 60_700
            )
            strategy.onOrderUpdate(exit, broker: &broker, clock: clock)
            strategy.onTimer(broker: &broker, clock: clock)
        }
        try measure(benchmark, pass)
        precondition(broker.submitted == 2 * Int(day), "every cycle must enter and exit once")
        blackHole(broker.submitted)
    }
}
