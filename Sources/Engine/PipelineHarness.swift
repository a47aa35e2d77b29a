import Candles
import Feed
public import Metrics
import Orders
public import Ring
import Risk
import Strategy
import Synchronization
public import TickCore
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The engine's market path with the socket replaced by the caller: WebSocket frames parsed and decoded on the
/// caller's thread into the same feed router, then the candle and strategy stages on their own threads, joined by
/// the same rings, with the same strategy and risk. Orders the strategy sends are answered "refused" by the caller's
/// thread instead of going to KIS. For the pipeline benchmark, and for replay (`ReplayEngine`), which runs it inline
/// on replay time and answers the orders from a simulated exchange.
public final class PipelineHarness: @unchecked Sendable {
    // Safe because: the feed-side state (`reader`, `decoder`, `router`) is used only by the one thread that calls
    // `feed` and `settle`; the rest is set in `init` and shared through the rings' own synchronisation.
    private let codes: [SymbolCode]
    let symbols: SymbolTable
    private let parameters: ScalpingParameters
    private let limits: RiskLimits
    private let speed: Double
    let feedRings: FeedRings
    let rings: StrategyRings
    private let flags = StageFlags()
    private var threads: [StageThread] = []
    private var inlineCandles: CandleStage?
    private var inlineStrategy: StrategyStage<ScalpingStrategy<LiveBroker, ClockReading>>?
    private var reader = WebSocketReader(maxMessageSize: 1 << 20)
    private var decoder: FeedDecoder
    private var router: FeedRouter
    /// Records decoded, and messages that failed to decode (counted and skipped, as the live feed does).
    public private(set) var records = 0
    public private(set) var malformed = 0
    /// Whether `feed` answers the strategy's orders with refusals; a replay answers them itself.
    var answersOrders = true

    /// - Parameter settingsPath: where `parameters` came from, for the error that names a bad one.
    public init(
        codes: [SymbolCode], parameters: [String: String] = [:], settingsPath: String = "the pipeline's settings",
        speed: Double = 1, ringCapacity: Int = 1 << 14
    ) throws(EngineError) {
        self.codes = codes
        var settings = EngineSettings(codes: codes, journalPath: "")
        settings.parameters = parameters
        settings.settingsPath = settingsPath
        (self.parameters, self.limits) = try settings.strategyAndRisk()
        do {
            self.symbols = try SymbolTable(codes)
        } catch {
            throw .settings(path: "the pipeline's codes", reason: "\(error)")
        }
        do {
            self.decoder = try FeedDecoder()
        } catch {
            throw .thread("no notice cipher: \(error)")
        }
        self.speed = speed
        self.feedRings = FeedRings(symbols: codes.count, capacity: ringCapacity)
        self.rings = StrategyRings(capacity: ringCapacity)
        self.router = FeedRouter(symbols: self.symbols, rings: self.feedRings)
    }

    private func broker(buyingPower: Int64) -> LiveBroker {
        var broker = LiveBroker(
            symbols: self.symbols, gate: RiskGate(limits: self.limits, killSwitch: KillSwitch()),
            board: MarketBoard(codes: self.codes), book: OrderBook(capacity: 4_096), positions: Positions(capacity: 64),
            dispatch: self.rings.dispatch, journal: self.rings.journal, nextID: OrderID(rawValue: 1))
        broker.account.buyingPower = BuyingPower(reported: buyingPower)
        return broker
    }

    /// Runs the candle and strategy stages on the caller's thread, after each `feed`: what the whole path costs on
    /// one core, with no thread hand-over and no scheduler in the way. With `time` the stages read it instead of the
    /// wall clock (a replay).
    public func startInline(buyingPower: Int64 = 100_000_000, time: ReplayTime? = nil) {
        self.inlineCandles = CandleStage(
            symbols: self.symbols.count, speed: self.speed, rings: self.feedRings, market: self.rings.market,
            time: StageClock(time))
        self.inlineStrategy = StrategyStage(
            strategy: ScalpingStrategy(parameters: self.parameters, symbols: self.symbols),
            broker: self.broker(buyingPower: buyingPower), speed: self.speed, feed: self.feedRings, rings: self.rings,
            killSwitch: KillSwitch(), time: StageClock(time))
    }

    /// Starts the candle and strategy stages, each on its own thread, or both on one (`fused`), waiting on their
    /// rings with `wait`.
    public func start<Wait: WaitStrategy & Sendable>(wait: Wait, fused: Bool = false, buyingPower: Int64 = 100_000_000)
        throws(EngineError)
    {
        let (feed, rings, symbols, parameters, speed) = (self.feedRings, self.rings, self.symbols, self.parameters, self.speed)
        let broker = self.broker(buyingPower: buyingPower)
        do {
            self.threads = try startMarketStages(
                MarketStages(
                    symbols: symbols, parameters: parameters, speed: speed, feed: feed, rings: rings,
                    killSwitch: KillSwitch(), broker: Handoff(broker), fused: fused),
                wait: wait, flags: self.flags)
        } catch {
            throw .thread("\(error)")
        }
    }

    /// Parses `bytes` (WebSocket frames, as one socket read delivers them) and decodes every complete message
    /// into the rings, stamped `localTs` (wall-clock ns) as the feed thread stamps a read.
    /// - Complexity: O(bytes); no allocation once the reader holds the largest read.
    public func feed(_ bytes: UnsafeRawBufferPointer, localTs: Int64) {
        _ = self.reader.write(bytes)
        var tap = NoTap()
        while let message = try? self.reader.next() {
            self.reader.withUnsafeMutableBytes(of: message) { payload in
                self.decode(payload, localTs: localTs, tap: &tap)
            }
        }
        self.endOfBatch()
    }

    /// Decodes one complete WebSocket message (its payload, as a capture holds it; a notice is decrypted in place)
    /// into the rings, stamped `localTs`, and runs the inline stages.
    /// - Complexity: O(payload); no allocation.
    public func feedMessage(_ payload: UnsafeMutableRawBufferPointer, localTs: Int64) {
        var tap = NoTap()
        self.decode(payload, localTs: localTs, tap: &tap)
        self.endOfBatch()
    }

    /// Decodes one message into the router, and into `tap` as well (a replay's exchange watches the market).
    func decode<Tap: FeedSink>(_ payload: UnsafeMutableRawBufferPointer, localTs: Int64, tap: inout Tap) {
        var tee = Tee(router: self.router, tap: tap)
        defer { tap = tee.tap }
        do {
            let decoded = try self.decoder.decode(payload, localTs: localTs, into: &tee)
            if case .records(_, let count) = decoded { self.records += count }
        } catch {
            self.malformed += 1
        }
    }

    /// Publishes what was decoded, runs the inline stages until nothing is left, and answers orders (unless a
    /// replay does).
    func endOfBatch() {
        self.router.endOfBatch()
        self.runInline()
        if self.answersOrders { self.answerOrders() }
    }

    /// Polls the inline stages until both are idle; nothing when the stages run on their own threads.
    func runInline() {
        if var candles = self.inlineCandles.take(), var strategy = self.inlineStrategy.take() {
            while candles.poll() + strategy.poll() > 0 {}
            self.inlineCandles = consume candles
            self.inlineStrategy = consume strategy
        }
    }

    /// Answers every order the strategy sent with a refusal, as a dispatcher with no lane would.
    private func answerOrders() {
        _ = self.rings.dispatch.drain(max: 256) { slot in
            self.rings.orderEvents.push(
                OrderEventSlot(
                    event: .refused(slot.dispatch.intent.id, messageCode: PackedASCII(ascii: "BENCH")),
                    at: WallClock().now()))
        }
    }

    /// Waits until the stages have taken everything fed so far.
    public func settle() {
        while self.feedRings.records.flush() > 0 || self.feedRings.records.ring.approximateCount > 0
            || self.rings.market.ring.approximateCount > 0 || self.feedRings.books.written > self.feedRings.books.delivered + self.feedRings.books.conflated
        {
            self.answerOrders()
            sched_yield()
        }
    }

    /// Stops the stages and returns every latency they recorded.
    public func stop() -> PipelineLatency {
        if var strategy = self.inlineStrategy.take() {
            strategy.finish()
        } else {
            self.settle()
        }
        self.flags.running.store(false, ordering: .releasing)
        for thread in self.threads { thread.join() }
        var latency = PipelineLatency()
        self.rings.latency.collectFinal(into: &latency)
        return latency
    }

    /// The inline strategy stage's positions (none before `startInline`).
    func inlinePositions() -> [Position] {
        guard let strategy = self.inlineStrategy.take() else { return [] }
        let positions = strategy.broker.positions.all
        self.inlineStrategy = consume strategy
        return positions
    }

    /// Books replaced before the candle stage read them, and elements that had to wait in an overflow queue.
    public var conflatedBooks: Int { self.feedRings.books.conflated }
    public var spilled: Int { self.feedRings.records.spilled + self.rings.market.spilled }
    public var lost: Int { self.feedRings.records.lost + self.rings.market.lost }
}

/// Hands a value built on one thread to the one stage thread that will own it.
final class Handoff<Value>: @unchecked Sendable {
    // Safe because: written once before the thread starts, then used by that thread alone.
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The feed router, with a second sink that sees the same records.
struct Tee<Tap: FeedSink>: FeedSink {
    var router: FeedRouter
    var tap: Tap

    mutating func trade(_ trade: Trade) {
        self.router.trade(trade)
        self.tap.trade(trade)
    }

    mutating func book(_ book: Book) {
        self.router.book(book)
        self.tap.book(book)
    }

    mutating func notice(_ notice: Notice) {
        self.router.notice(notice)
        self.tap.notice(notice)
    }
}

/// A tap that sees nothing.
struct NoTap: FeedSink {
    mutating func trade(_ trade: Trade) {}
    mutating func book(_ book: Book) {}
    mutating func notice(_ notice: Notice) {}
}
