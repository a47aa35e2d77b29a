public import Candles
public import Crypto
public import Feed
import Orders
public import Ring
public import Risk
public import Strategy
import Synchronization
public import TickCore

/// The engine's market path, built one way for every run: the feed's rings, the market stage (bars, the strategy,
/// risk, the order book and positions) and the rings to the order side. Whoever drives it supplies the rest:
///
/// ```
///  driver's decoding thread ──FeedRouter──▶ ticks, gaps (ring) ─┐
///                                          books (latest/code) ─┼─▶ market stage ──orders──▶ dispatch ring ──▶ sender
///                                          notices (ring) ──────┘     ▲        │
///  sender's reports, housekeeper's news ──────────────────────────────┘        └──journal rows──▶ journal ring
/// ```
///
/// - `Engine` (live): the WebSocket feed thread decodes into the router, a dispatcher sends the orders to KIS, a
///   journal thread writes the rows, a housekeeper reconciles; the stage runs on a thread of its own.
/// - `ReplayEngine`: one thread decodes a capture, runs the stage inline (`MarketStage.poll`) on replay time and
///   answers the orders from a simulated exchange.
/// - `kistick bench`: one thread feeds a capture from memory; the stage runs on its own thread, as live.
///
/// No KIS, network or database code lives here; the module is what all three share.
public final class Pipeline<Clock: NanoClock>: Sendable {
    public let settings: PipelineSettings
    public let symbols: SymbolTable
    public let feed: FeedPorts
    public let orders: OrderPorts
    public let monitor: PipelineMonitor
    public let killSwitch: KillSwitch
    /// Where the stage reads "now": the wall clock live, the replay's time in a replay.
    public let clock: Clock
    /// The market stage's wake-up, which the feed, the sender and the housekeeper ring.
    public let doorbell: Doorbell
    public let parameters: ScalpingParameters
    private let limits: RiskLimits
    /// The venue settings (`PipelineSettings.venues()`): what the engine subscribes and routes.
    public let venues: VenueSettings

    /// - Throws: `.settings` for a code list that is not a symbol table or a bad strategy or risk setting, naming
    ///   the setting and `settings.settingsPath`.
    public init(settings: PipelineSettings, clock: Clock, killSwitch: KillSwitch = KillSwitch()) throws(PipelineError) {
        self.settings = settings
        do {
            self.symbols = try SymbolTable(settings.codes)
        } catch {
            throw .settings(path: "the codes", reason: "\(error)")
        }
        (self.parameters, self.limits) = try settings.strategyAndRisk()
        self.venues = try settings.venues()
        self.clock = clock
        self.killSwitch = killSwitch
        self.doorbell = Doorbell()
        self.feed = FeedPorts(
            symbols: settings.codes.count,
            capacity: settings.ringCapacity,
            lanes: settings.feedLanes,
            doorbell: self.doorbell
        )
        self.orders = OrderPorts(doorbell: self.doorbell)
        self.monitor = PipelineMonitor()
    }

    /// The sink for the thread that decodes the feed into `lane` (the only one that may use it).
    /// - Parameter lane: in `0..<settings.feedLanes`, one per feed thread.
    public func router(lane: Int = 0) -> FeedRouter {
        FeedRouter(symbols: self.symbols, ports: self.feed, lane: lane)
    }

    /// The market stage, from where the day starts. Build one per pipeline; run it inline (`poll`) or on its
    /// own thread (`start`).
    /// The market stage of a run starting from `opening`, its strategy having learnt `pastMinutes` (the previous
    /// trading day's minute bars, when its parameters ask for them: `ScalpingParameters.wantsPastMinuteBars`).
    public func stage(opening: consuming PipelineOpening, pastMinutes: [Candle] = []) -> MarketStage<Clock> {
        var board = MarketBoard(
            codes: self.settings.codes,
            calendar: self.venues.calendar,
            combinedFeed: self.venues.mode == .combined
        )
        if let second = opening.secondOfDay { board.advance(secondOfDay: second) }
        let broker = PipelineBroker(
            symbols: self.symbols,
            gate: RiskGate(limits: self.limits, killSwitch: self.killSwitch),
            board: board,
            venueMode: self.venues.mode,
            opening: opening,
            orders: self.orders,
            log: self.settings.log
        )
        var strategy = MarketStage<Clock>.Strategy(
            parameters: self.parameters,
            symbols: self.symbols,
            windows: self.venues.calendar.continuousWindows(self.venues.mode)
        )
        for bar in pastMinutes {
            if let symbol = self.symbols.index(of: bar.code) { strategy.onPastMinute(bar, symbol: symbol) }
        }
        return MarketStage(
            strategy: strategy,
            broker: broker,
            speed: self.settings.speed,
            clock: self.clock,
            candleVenue: self.venues.candleVenue,
            feed: self.feed,
            orders: self.orders,
            monitor: self.monitor,
            killSwitch: self.killSwitch
        )
    }

    /// Runs `stage` on a thread of its own until `MarketThread.stop()`.
    public func start(_ stage: consuming MarketStage<Clock>, waiting: MarketWait) throws(PipelineError) -> MarketThread
    {
        let box = StageBox(stage)
        let running = MarketThread.Flag()
        let doorbell = self.doorbell
        do {
            let thread: StageThread
            switch waiting {
            case .spinThenPark(let spin):
                thread = try StageThread(name: "ks-market") {
                    var stage = box.take()
                    stage.run(running: running.value, wait: SpinThenPark(doorbell: doorbell, spinNanoseconds: spin))
                }
            case .busyPoll(let cpu):
                thread = try StageThread(name: "ks-market", cpu: cpu) {
                    var stage = box.take()
                    stage.run(running: running.value, wait: BusySpin())
                }
            }
            return MarketThread(thread: thread, running: running, doorbell: doorbell, monitor: self.monitor)
        } catch {
            throw .thread(error)
        }
    }
}

/// How the market thread waits when nothing comes.
public enum MarketWait: Sendable, Equatable {
    /// Spins this long after the last event, then sleeps until the feed, the sender or the housekeeper rings (or
    /// the 1 ms timer is due). The default: a busy burst is taken without a wake-up, a quiet feed costs no core.
    case spinThenPark(spinNanoseconds: Int64)
    /// Never sleeps: spins on its rings, pinned to `cpu` if given. For a machine with a core to give each busy
    /// thread; on a shared core it takes the time the others need.
    case busyPoll(cpu: Int?)

    /// The default's spin: the gaps inside a burst of KIS frames are tens of microseconds.
    public static let `default` = MarketWait.spinThenPark(spinNanoseconds: 50_000)
}

/// The market stage's thread.
public final class MarketThread: @unchecked Sendable {
    // Safe because: `thread` is used by the owner's thread alone (stop), the rest are immutable references.
    final class Flag: Sendable {
        let value = Atomic<Bool>(true)
    }

    private let thread: StageThread
    private let running: Flag
    private let doorbell: Doorbell
    private let monitor: PipelineMonitor

    fileprivate init(thread: StageThread, running: Flag, doorbell: Doorbell, monitor: PipelineMonitor) {
        self.thread = thread
        self.running = running
        self.doorbell = doorbell
        self.monitor = monitor
    }

    /// Lets the stage drain what it has, publish its last snapshot and end; waits for it. Call once.
    public func stop() {
        self.running.value.store(false, ordering: .releasing)
        self.doorbell.ring()
        self.thread.join()
        self.monitor.finish()
    }
}

/// Hands a stage built on one thread to the one thread that will run it.
final class StageBox<Clock: NanoClock>: @unchecked Sendable {
    // Safe because: filled before the thread starts, taken once by that thread alone.
    private var stage: MarketStage<Clock>?

    init(_ stage: consuming MarketStage<Clock>) {
        self.stage = consume stage
    }

    func take() -> MarketStage<Clock> {
        guard let stage = self.stage.take() else { preconditionFailure("a market stage taken twice") }
        return stage
    }
}

/// Decodes whole WebSocket messages (a capture's records, a benchmark's frames) into a pipeline's router: what a
/// driver that is not the live feed thread uses in its place. Each message is one batch (one publication).
public struct MessageFeeder: ~Copyable {
    private var decoder: FeedDecoder
    /// The router the feeder decodes into; a driver may hand it records of its own (a replay's simulated notices).
    public var router: FeedRouter
    /// Records decoded, and messages that failed to decode (counted and skipped, as the live feed does).
    public private(set) var records = 0
    public private(set) var malformed = 0

    public init(router: FeedRouter) throws(CryptoError) {
        self.decoder = try FeedDecoder()
        self.router = router
    }

    /// Decodes one message (changed in place: a notice is decrypted there), stamped `localTs`, and publishes it.
    /// - Complexity: O(payload); no allocation.
    public mutating func feed(_ payload: UnsafeMutableRawBufferPointer, localTs: Int64) {
        self.decode(payload, localTs: localTs)
        self.router.endOfBatch()
    }

    /// Decodes one message without publishing it: a batch of messages (one socket read's) ends with `publish()`.
    public mutating func decode(_ payload: UnsafeMutableRawBufferPointer, localTs: Int64) {
        do {
            let decoded = try self.decoder.decode(payload, localTs: localTs, into: &self.router)
            if case .records(_, let count) = decoded { self.records += count }
        } catch {
            self.malformed += 1
        }
    }

    /// Publishes what was decoded since the last publication and wakes the market stage.
    public mutating func publish() {
        self.router.endOfBatch()
    }

    /// `feed`, with `tap` seeing every record too (a replay's exchange watches the market).
    public mutating func feed<Tap: FeedSink>(_ payload: UnsafeMutableRawBufferPointer, localTs: Int64, tap: inout Tap) {
        var tee = Tee(router: self.router, tap: tap)
        do {
            let decoded = try self.decoder.decode(payload, localTs: localTs, into: &tee)
            if case .records(_, let count) = decoded { self.records += count }
        } catch {
            self.malformed += 1
        }
        tap = tee.tap
        self.router = tee.router
        self.router.endOfBatch()
    }
}

/// The router, with a second sink that sees the same records.
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

    mutating func marketStatus(_ status: MarketStatus) {
        self.router.marketStatus(status)
        self.tap.marketStatus(status)
    }
}
