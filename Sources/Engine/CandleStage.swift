import Candles
import Ring
import Synchronization
import TickCore

/// When a market event passed each stage, wall-clock nanoseconds (the axis of `Tick.localTs`).
struct Arrival: BitwiseCopyable {
    /// The socket read that delivered the record.
    var read: Int64
    /// The feed thread finished decoding it.
    var decoded: Int64
    /// The candle stage finished with it.
    var candled: Int64
}

/// What the candle stage hands the strategy stage, in the order it happened.
enum MarketEvent: BitwiseCopyable {
    case trade(Tick, arrival: Arrival)
    /// A book, with its features; the strategy reads the features, risk the book's best prices and auction fields.
    case book(Book, BookFeatures, symbol: SymbolIndex, arrival: Arrival)
    /// A completed bar (or one closed early: its flags say why).
    case candle(Candle, symbol: SymbolIndex)
}

/// The candle stage: trades and gap marks into bars, books into features, all forwarded to the strategy stage.
///
/// Owns its `CandleBuilder` and market clock; runs on its own thread until `running` is cleared.
struct CandleStage: ~Copyable {
    private var builder: CandleBuilder
    private var clock: MarketClock
    private let rings: FeedRings
    private let market: SpillingProducer<MarketEvent>
    /// Market second of the last `advance`: quiet codes' bars close on time, once per market second.
    private var advancedTo: UInt32 = 0
    /// How long after its end a quiet bar is closed, in market seconds: the feed delivers a trade up to a
    /// publication interval late (KIS batches about 0.1 s; a simulator at speed n makes that 0.1 × n market seconds),
    /// and a bar closed before its last trade arrives would count that trade late.
    private let closeDelay: UInt32

    /// The bar lengths the stage builds, seconds; a strategy's entry interval must be one of them.
    static let intervals = [60, 300]
    /// Book levels the top-of-book imbalance reads (the scalper's `min_imbalance` is over these).
    static let topLevels = 5

    init(
        symbols: Int, speed: Double, rings: FeedRings, market: SpillingProducer<MarketEvent>,
        time: StageClock = StageClock()
    ) {
        do {
            self.builder = try CandleBuilder(symbols: symbols, intervals: Self.intervals)
        } catch {
            // Only a symbol count outside 1...64 or bad intervals can fail, and both are fixed before this point.
            preconditionFailure("candle stage for \(symbols) codes: \(error)")
        }
        self.clock = MarketClock(speed: speed, source: time)
        self.rings = rings
        self.market = market
        self.closeDelay = UInt32(max(1, (0.1 * speed).rounded(.up)))
    }

    /// Trades the builder found older than their bar, which changed nothing.
    var lateTrades: Int { self.builder.lateTrades }

    /// Runs until `running` is false, then drains what is left.
    mutating func run<Wait: WaitStrategy>(running: borrowing Atomic<Bool>, wait: Wait, late: borrowing Atomic<Int>) {
        var wait = wait
        while running.load(ordering: .relaxed) {
            if self.poll() == 0 { wait.idle() } else { wait.reset() }
            late.store(self.builder.lateTrades, ordering: .relaxed)
        }
        while self.poll() > 0 {}
        late.store(self.builder.lateTrades, ordering: .relaxed)
    }

    /// One pass over the inputs: a batch of trades, every dirty book, then the bar clock.
    /// - Returns: events handled.
    /// - Complexity: O(batch + codes); no allocation.
    mutating func poll() -> Int {
        var emitter = CandleEmitter(market: self.market)
        var handled = self.rings.records.ring.drain(max: 256) { record in
            switch record {
            case .trade(let trade, let decoded):
                self.clock.observe(exchangeTime: trade.exchangeTime, receivedAt: trade.localTs)
                self.builder.update(trade, into: &emitter)
                let arrival = Arrival(read: trade.localTs, decoded: decoded, candled: WallClock().now())
                self.market.push(.trade(trade, arrival: arrival))
            case .gap(let symbol):
                let now = UInt32(truncatingIfNeeded: self.clock.now() / 1_000_000_000)
                self.builder.markGap(symbol: symbol, at: now, into: &emitter)
            }
        }
        handled += self.rings.books.readDirty { symbol, book in
            let features = BookFeatures(book: book, topLevels: Self.topLevels)
            let arrival = Arrival(read: book.localTs, decoded: book.localTs, candled: WallClock().now())
            self.market.push(.book(book, features, symbol: SymbolIndex(symbol), arrival: arrival))
        }
        if self.clock.isAnchored {
            let second = UInt32(truncatingIfNeeded: self.clock.now() / 1_000_000_000) &- self.closeDelay
            if second > self.advancedTo {
                self.advancedTo = second
                self.builder.advance(to: second, into: &emitter)
            }
        }
        if handled == 0 { self.market.flush() }
        return handled
    }
}

/// Forwards completed bars into the strategy ring.
private struct CandleEmitter: CandleSink {
    let market: SpillingProducer<MarketEvent>

    mutating func candle(_ candle: Candle, symbol: SymbolIndex) {
        self.market.push(.candle(candle, symbol: symbol))
    }
}
