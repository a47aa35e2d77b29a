import Candles
public import Capture
import Feed
import Journal
public import KIS
import Metrics
import Orders
import Recovery
import Ring
import Risk
import Strategy
import Synchronization
public import TickCore

#if canImport(Glibc)
import Glibc
#endif

/// How an engine run is set up.
public struct EngineSettings: Sendable {
    /// The codes the engine can trade: its symbol table (at most `SymbolTable.capacity`).
    public var codes: [SymbolCode]
    /// The codes registered at start, at most 20 (two registrations each, and the notices, of KIS's 41), all in
    /// `codes`; nil: all of `codes`. A subscription scheduler sets it and moves it with `resubscribe`.
    public var subscribed: [SymbolCode]?
    /// Strategy and risk parameters (`ScalpingParameters.Key`, `RiskLimits.keys`), as read from `settingsPath`.
    public var parameters: [String: String] = [:]
    /// Where `parameters` came from, for error messages.
    public var settingsPath = "the settings"
    /// Market seconds per wall second: 1 live, more against an accelerated simulator.
    public var speed: Double = 1
    /// The SQLite journal; reopened after a crash to rebuild the day.
    public var journalPath: String
    /// Trade and market-event ring slots, a power of two.
    public var ringCapacity = 1 << 14
    /// How often today's orders are fetched to reconcile the order book (sooner when a notice looks wrong).
    public var reconcileSeconds: Double = 15
    /// How often the buying power is refreshed from KIS.
    public var buyingPowerSeconds: Double = 30
    /// Runs the candle and strategy stages on one thread (still joined by their ring). On a machine with fewer
    /// than four cores the feed, candle and strategy threads cannot each have one, and the scheduler's time slices
    /// would set the latency: on the 2-core benchmark machine fusing cut frame → decision p50 from ~40 µs to ~4 µs.
    public var fuseMarketStages = sysconf(Int32(_SC_NPROCESSORS_ONLN)) < 4
    /// Records every message the feed receives, with connects and disconnects; the caller finishes it after `stop`.
    public var capture: CaptureWriter?

    public init(codes: [SymbolCode], journalPath: String) {
        self.codes = codes
        self.journalPath = journalPath
    }

    /// Every key a settings file may hold.
    public static var knownKeys: Set<String> {
        Set(ScalpingParameters.Key.allCases.map(\.rawValue)).union(RiskLimits.keys)
    }

    /// `parameters` read into the strategy's and risk's own types, each taking its own keys.
    func strategyAndRisk() throws(EngineError) -> (ScalpingParameters, RiskLimits) {
        let strategyKeys = Set(ScalpingParameters.Key.allCases.map(\.rawValue))
        let read: (ScalpingParameters, RiskLimits)
        do {
            read = (
                try ScalpingParameters(self.parameters.filter { strategyKeys.contains($0.key) }),
                try RiskLimits(parameters: self.parameters.filter { !strategyKeys.contains($0.key) })
            )
        } catch {
            throw .settings(path: self.settingsPath, reason: "\(error)")
        }
        // A breakout level comes only from bars the candle stage builds; any other length would never trade.
        guard CandleStage.intervals.contains(Int(read.0.entryIntervalSeconds)) else {
            throw .settings(
                path: self.settingsPath,
                reason: "\(ScalpingParameters.Key.entryIntervalSeconds.rawValue) must be one of the candle intervals "
                    + CandleStage.intervals.map(String.init).joined(separator: ", "))
        }
        return read
    }
}

/// Why an engine could not start.
public enum EngineError: Error, CustomStringConvertible {
    case settings(path: String, reason: String)
    case journal(String)
    case kis(KISError)
    case thread(String)

    public var description: String {
        switch self {
        case .settings(let path, let reason): "\(path): \(reason)"
        case .journal(let reason): reason
        case .kis(let error): "\(error)"
        case .thread(let reason): "cannot start a stage thread: \(reason)"
        }
    }
}

/// The trading engine: feed, candle, strategy, dispatcher, journal and housekeeper threads joined by rings.
///
/// ```
///  socket ─▶ feed ──trades+gaps──▶ candle ──market events──▶ strategy ──orders──▶ dispatcher ─▶ KIS REST
///              │  ──books (latest)─▶   │                      ▲   │  ▲               │
///              └──────────notices────────────────────────────┘   │  └─order events──┘
///                                                                 └──journal events──▶ journal (SQLite)
///  housekeeper (REST: today's orders, buying power) ──house events──▶ strategy
/// ```
public final class Engine: @unchecked Sendable {
    // Safe because: the fields are set in `init` and `start` on the control thread before any stage starts, and
    // read by the stage threads only after `StageThread` creation (a happens-before edge); `stop` runs after every
    // stage was asked to end and joined.
    public let settings: EngineSettings
    private let client: KISClient
    private let symbols: SymbolTable
    private let parameters: ScalpingParameters
    private let limits: RiskLimits
    private let feed: FeedRings
    private let rings: StrategyRings
    private let session: WebSocketSession
    private let killSwitch = KillSwitch()
    private let fillTap = FillTap()
    private let flags = StageFlags()
    private let housekeeping = Atomic<Bool>(true)
    private var feedThread: StageThread?
    private var marketThreads: [StageThread] = []
    /// The dispatcher and the journal, stopped after the stages that feed them.
    private var afterThreads: [StageThread] = []
    private let dispatching = Atomic<Bool>(true)
    private let journaling = Atomic<Bool>(true)
    private var housekeeper: StageThread?
    /// Every latency collected so far. Readers (`status`, from any thread) take the lock for the collection and the
    /// summary; no stage thread ever does, so the engine never waits for a reader.
    private let latency = Mutex(PipelineLatency())
    private var discrepancies: [String] = []
    private let startedWall = WallClock().now()
    private var startedText = ""

    public init(client: KISClient, settings: EngineSettings) throws(EngineError) {
        self.settings = settings
        self.client = client
        // Each code takes a trade and a book registration, and the notices one more, of the 41 KIS allows.
        let subscribed = settings.subscribed ?? settings.codes
        guard subscribed.count <= 20 else {
            throw .settings(path: "--codes", reason: "at most 20 codes: KIS allows 41 registrations per session")
        }
        guard subscribed.allSatisfy(settings.codes.contains) else {
            throw .settings(path: "--codes", reason: "a subscribed code is not among the codes traded")
        }
        do {
            self.symbols = try SymbolTable(settings.codes)
        } catch {
            throw .settings(path: "--codes", reason: "\(error)")
        }
        (self.parameters, self.limits) = try settings.strategyAndRisk()
        self.feed = FeedRings(symbols: settings.codes.count, capacity: settings.ringCapacity)
        self.rings = StrategyRings(capacity: settings.ringCapacity)
        self.session = WebSocketSession(configuration: .init(url: client.settings.webSocketURL))
    }

    /// Rebuilds the day from the journal, reconciles it with KIS, then starts every stage and subscribes.
    ///
    /// Nothing is sent before reconciliation: an order the journal holds as pending is looked up, never resent.
    public func start() throws(EngineError) {
        self.startedText = KST.text(time: KST.time(epochSeconds: self.startedWall / 1_000_000_000))
        let journal: Journal
        let reconciled: Reconciliation
        let buyingPower: Int64
        do {
            journal = try Journal.open(self.settings.journalPath)
            let recovered = try journal.recover()
            let today = KST.date(epochSeconds: self.startedWall / 1_000_000_000)
            let balance = try self.client.balance()
            let orders = try self.client.dailyOrders(from: today, to: today)
            reconciled = Reconciler().reconcile(recovered, balance: balance, orders: orders, localTs: WallClock().now())
            journal.append(reconciled, at: WallClock().now())
            try journal.flush()
            buyingPower = try self.client.buyable(self.symbols[0].description, price: 0).cash
        } catch let error as JournalError {
            throw .journal("\(error)")
        } catch let error as KISError {
            throw .kis(error)
        } catch {
            throw .journal("\(error)")
        }
        self.discrepancies = reconciled.discrepancies.map { "\($0)" }
        let rebuilt: (book: OrderBook, positions: Positions)
        do {
            rebuilt = try reconciled.state.rebuild(
                orderCapacity: 4_096, positionCapacity: 64, account: Self.account(self.client.settings.account))
        } catch {
            throw .journal("the journal holds more than the engine's tables: \(error)")
        }
        var board = MarketBoard(codes: self.settings.codes)
        // Live, the session phase starts from the wall clock. An accelerated simulator's time of day is not the
        // wall's (a board set to 15:40 never goes back to a market at 09:10), so there the first trade sets it.
        if self.settings.speed == 1 {
            board.advance(secondOfDay: (self.startedWall / 1_000_000_000 + KST.offsetSeconds) % 86_400)
        }
        var broker = LiveBroker(
            symbols: self.symbols, gate: RiskGate(limits: self.limits, killSwitch: self.killSwitch), board: board,
            book: rebuilt.book, positions: rebuilt.positions, dispatch: self.rings.dispatch,
            journal: self.rings.journal, nextID: reconciled.state.nextOrderID)
        broker.account.buyingPower = BuyingPower(reported: buyingPower)
        // The journal thread owns the Journal; the dispatcher has its own connection for the pending rows. They
        // reach the OS before the order is sent (a killed process loses none) but are not fsynced: an fsync costs
        // 0.4 ms p50 and up to 2.5 ms here on every order, and an order whose row a power cut lost is still never
        // resent, since the restart adopts every order KIS lists that the journal lacks.
        let pending: PendingRecorder
        do {
            pending = try journal.pendingRecorder(durability: .processCrash)
        } catch {
            throw .journal("\(error)")
        }
        do {
            try self.startStages(broker: broker, journal: journal, pending: pending)
        } catch {
            throw .thread("\(error)")
        }
        for code in self.settings.subscribed ?? self.settings.codes {
            try? self.session.subscribe(.trades(code.description))
            try? self.session.subscribe(.book(code.description))
        }
        try? self.session.subscribe(.notices(htsID: self.client.settings.htsID, environment: self.client.settings.environment))
    }

    private func startStages(broker: LiveBroker, journal: Journal, pending: PendingRecorder) throws(StageThreadError) {
        let (feed, rings, session, symbols) = (self.feed, self.rings, self.session, self.symbols)
        let (parameters, speed, killSwitch) = (self.parameters, self.settings.speed, self.killSwitch)
        let oauth = OAuth(settings: self.client.settings)
        let client = self.client
        let capture = self.settings.capture
        let handoffs = (broker: Handoff(broker), journal: Handoff(journal))
        let pendingBox = Handoff(pending)
        self.feedThread = try StageThread(name: "ks-feed") {
            var keys = CapturingApprovalKeys(oauth, writer: capture)
            var router = FeedRouter(symbols: symbols, rings: feed)
            var watcher = CapturingObserver(FeedWatcher(symbols: symbols, rings: feed), writer: capture)
            try? session.run(approvalKeys: &keys, sink: &router, observer: &watcher)
        }
        self.marketThreads = try startMarketStages(
            MarketStages(
                symbols: symbols, parameters: parameters, speed: speed, feed: feed, rings: rings,
                killSwitch: killSwitch, broker: handoffs.broker, fused: self.settings.fuseMarketStages),
            wait: SpinYieldSleep(), flags: self.flags)
        self.afterThreads.append(
            try StageThread(name: "ks-orders", timerSlackNanoseconds: 1_000) {
                runDispatcher(client: client, pending: pendingBox.value, rings: rings, running: self.dispatching)
            })
        self.afterThreads.append(
            try StageThread(name: "ks-journal") {
                let journal = handoffs.journal.value
                runJournal(journal, rings: rings, fills: self.fillTap, running: self.journaling)
            })
        let (reconcileEvery, buyingPowerEvery) = (self.settings.reconcileSeconds, self.settings.buyingPowerSeconds)
        self.housekeeper = try StageThread(name: "ks-house") {
            var house = Housekeeper(client: client, feed: feed, rings: rings, probe: symbols[0])
            house.run(running: self.housekeeping, reconcileEvery: reconcileEvery, buyingPowerEvery: buyingPowerEvery)
        }
    }

    /// Releases the trade and book registrations of `unsubscribe`, then registers `subscribe` (a scheduler's
    /// rotation): releases go first so the session never holds more than KIS's 41. Codes outside the symbol table
    /// are refused by `init`'s table, so only table codes may be named here.
    public func resubscribe(unsubscribe: [SymbolCode], subscribe: [SymbolCode]) {
        precondition(
            (unsubscribe + subscribe).allSatisfy { self.symbols.index(of: $0) != nil },
            "resubscribe names a code outside the engine's symbol table")
        for code in unsubscribe {
            self.session.unsubscribe(.trades(code.description))
            self.session.unsubscribe(.book(code.description))
        }
        for code in subscribe {
            try? self.session.subscribe(.trades(code.description))
            try? self.session.subscribe(.book(code.description))
        }
    }

    /// Cancel every open order, flatten every position, refuse every entry: from the CLI, a signal or Telegram.
    public func armKillSwitch() {
        _ = self.killSwitch.arm()
    }

    /// Stops new entries until `resumeEntries`; exits, cancels and the kill switch go on (Telegram's /pause).
    public func pauseEntries() {
        self.killSwitch.pauseEntries()
    }

    /// Lets entries go again after `pauseEntries`.
    public func resumeEntries() {
        self.killSwitch.resumeEntries()
    }

    /// Whether entries are paused.
    public var entriesPaused: Bool { self.killSwitch.entriesPaused }

    /// Hands the fills journaled since the last call to `body`, oldest first (the control loop, for Telegram). Fills
    /// it was too slow to take are counted in `droppedFillReports`; the journal thread never waits for it.
    @discardableResult
    public func takeFills(_ body: (FillReport) -> Void) -> Int {
        self.fillTap.drain(body)
    }

    /// Fills `takeFills` never saw because its caller fell `FillTap.capacity` behind.
    public var droppedFillReports: Int { self.fillTap.dropped }

    /// A snapshot for the live status, safe to call from any thread once `start` has returned; collects the
    /// stages' latencies since the last call.
    public func status() -> EngineStatus {
        self.latency.withLock { latency in
            self.rings.latency.collect(into: &latency)
            return self.assemble(latency)
        }
    }

    /// Ends the run: no new entries, every working order cancelled (positions stay), one last reconciliation with
    /// KIS's daily orders applied, then the feed stopped and every stage drained and joined.
    /// - Parameter grace: how long to wait for the cancels and the reconciliation, seconds.
    public func stop(grace: Double = 5) -> EngineReport {
        self.rings.closing.store(true, ordering: .relaxed)
        self.waitUntil(grace) { (self.rings.snapshot.get(at: 0)?.open ?? 0) == 0 }
        let passes = self.rings.reconciliations.load(ordering: .acquiring)
        self.rings.wantsReconciliation.store(true, ordering: .relaxed)
        self.waitUntil(grace) {
            self.rings.reconciliations.load(ordering: .acquiring) > passes
                && self.rings.house.ring.approximateCount == 0
        }
        // The strategy stage publishes its snapshot every 100 ms: wait for one that includes the reconciliation.
        usleep(200_000)
        // Upstream first, so each stage has seen everything before the one it feeds stops.
        self.session.stop()
        self.feedThread?.join()
        self.flags.running.store(false, ordering: .releasing)
        for thread in self.marketThreads { thread.join() }
        self.dispatching.store(false, ordering: .releasing)
        self.afterThreads.first?.join()
        self.journaling.store(false, ordering: .releasing)
        self.afterThreads.last?.join()
        self.housekeeping.store(false, ordering: .releasing)
        self.housekeeper?.join()
        let status = self.latency.withLock { latency in
            self.rings.latency.collectFinal(into: &latency)
            return self.assemble(latency)
        }
        let seconds = Double(WallClock().now() - self.startedWall) / 1e9
        return EngineReport(
            status: status, startedAt: self.startedText,
            endedAt: KST.text(time: KST.time(epochSeconds: WallClock().now() / 1_000_000_000)),
            codes: self.settings.codes.map(\.description),
            recordsPerSecond: Double(status.records) / max(seconds, 1e-3), discrepancies: self.discrepancies)
    }

    private func waitUntil(_ seconds: Double, _ condition: () -> Bool) {
        let deadline = WallClock().now() + Int64(seconds * 1e9)
        while !condition(), WallClock().now() < deadline { usleep(20_000) }
    }

    private func assemble(_ latency: borrowing PipelineLatency) -> EngineStatus {
        var status = EngineStatus()
        let counters = self.session.counters
        status.wallSeconds = Double(WallClock().now() - self.startedWall) / 1e9
        status.records = counters.records
        status.frames = counters.frames
        status.malformedFrames = counters.malformed
        status.reconnects = counters.reconnects
        status.subscribedCodes = self.feed.subscribedCodes.load(ordering: .relaxed)
        status.drops.booksConflated = self.feed.books.conflated
        status.drops.spilled = self.feed.records.spilled + self.feed.notices.spilled + self.rings.market.spilled
            + self.rings.orderEvents.spilled + self.rings.journal.spilled
        status.drops.lost = self.feed.records.lost + self.feed.notices.lost + self.rings.market.lost
            + self.rings.orderEvents.lost + self.rings.journal.lost
        status.drops.lateTrades = self.flags.lateTrades.load(ordering: .relaxed)
        status.notes = self.feed.notes.withLock { $0 }
        let foreign = self.feed.foreign.load(ordering: .relaxed)
        if foreign > 0 { status.notes.append("\(foreign) records of codes this engine does not trade, skipped") }
        if let snapshot = self.rings.snapshot.get(at: 0) {
            status.marketTime = snapshot.marketTime
            status.realisedPnL = snapshot.totals.realised
            status.unrealisedPnL = snapshot.totals.unrealised
            status.fees = snapshot.totals.fees
            status.taxes = snapshot.totals.taxes
            status.orders = EngineStatus.OrderCounts(
                sent: snapshot.sent, accepted: snapshot.accepted, filled: snapshot.filled,
                partiallyFilled: snapshot.partiallyFilled, cancelled: snapshot.cancelled, rejected: snapshot.rejected,
                open: snapshot.open, fills: snapshot.fills)
            status.riskRejections = snapshot.riskRejections
            status.killSwitch = snapshot.killArmed
            if snapshot.lastRefusal.rawValue != 0 { status.notes.append("last order refused: \(snapshot.lastRefusal)") }
            for i in 0..<snapshot.positionCount {
                let row = snapshot.positions[i]
                status.positions.append(
                    EngineStatus.PositionLine(
                        code: row.code.description, quantity: row.quantity,
                        averagePrice: Double(row.averagePrice) / Double(Position.priceScale),
                        lastPrice: row.lastPrice, unrealisedPnL: row.unrealised))
            }
        }
        for interval in PipelineInterval.allCases where latency[interval].count > 0 {
            let summary = latency[interval].summary()
            status.latency.append(
                EngineStatus.LatencyLine(
                    stage: interval.label, count: Int(summary.count), p50: summary.p50, p90: summary.p90,
                    p99: summary.p99, p999: summary.p999, max: summary.max))
        }
        return status
    }

    /// The account as notices carry it (ACNT_NO: 8 + 2 digits).
    static func account(_ account: Account) -> UInt64 {
        UInt64(account.cano + account.productCode) ?? 0
    }
}

/// What the candle and strategy stages are built from, on the threads that will own them.
struct MarketStages: Sendable {
    let symbols: SymbolTable
    let parameters: ScalpingParameters
    let speed: Double
    let feed: FeedRings
    let rings: StrategyRings
    let killSwitch: KillSwitch
    let broker: Handoff<LiveBroker>
    let fused: Bool
}

/// The flags the stage threads share with their owner.
final class StageFlags: Sendable {
    /// Cleared to stop the stages; each drains what it holds, then returns.
    let running = Atomic<Bool>(true)
    /// Trades the candle stage found older than their bar.
    let lateTrades = Atomic<Int>(0)
}

/// Starts the candle and strategy stages, each on its own thread or both on one (`fused`).
func startMarketStages<Wait: WaitStrategy & Sendable>(_ stages: MarketStages, wait: Wait, flags: StageFlags)
    throws(StageThreadError) -> [StageThread]
{
    @Sendable func candles() -> CandleStage {
        CandleStage(symbols: stages.symbols.count, speed: stages.speed, rings: stages.feed, market: stages.rings.market)
    }
    @Sendable func strategy() -> StrategyStage<ScalpingStrategy<LiveBroker, ClockReading>> {
        StrategyStage(
            strategy: ScalpingStrategy(parameters: stages.parameters, symbols: stages.symbols),
            broker: stages.broker.value, speed: stages.speed, feed: stages.feed, rings: stages.rings,
            killSwitch: stages.killSwitch)
    }
    if stages.fused {
        return [
            try StageThread(name: "ks-market", timerSlackNanoseconds: 1_000) {
                var candles = candles()
                var strategy = strategy()
                runFused(&candles, &strategy, running: flags.running, wait: wait, late: flags.lateTrades)
            }
        ]
    }
    return [
        try StageThread(name: "ks-candle", timerSlackNanoseconds: 1_000) {
            var candles = candles()
            candles.run(running: flags.running, wait: wait, late: flags.lateTrades)
        },
        try StageThread(name: "ks-strategy", timerSlackNanoseconds: 1_000) {
            var strategy = strategy()
            strategy.run(running: flags.running, wait: wait)
        },
    ]
}

/// The dispatcher thread: each order journaled as pending (before its request is written), sent, and its events
/// passed back.
private func runDispatcher(client: KISClient, pending: PendingRecorder, rings: StrategyRings, running: borrowing Atomic<Bool>) {
    var dispatcher: Dispatcher
    do {
        dispatcher = try Dispatcher(client: client)
    } catch {
        // No lane: every order is refused, so none waits forever.
        while running.load(ordering: .relaxed) {
            if rings.dispatch.drain(max: 64, { slot in
                rings.orderEvents.push(OrderEventSlot(event: .refused(slot.dispatch.intent.id, messageCode: PackedASCII(ascii: "NOLANE")), at: WallClock().now()))
            }) == 0 { usleep(1_000) }
        }
        return
    }
    var wait = SpinYieldSleep()
    var lastWarm: Int64 = 0
    while running.load(ordering: .relaxed) || rings.dispatch.approximateCount > 0 {
        let sent = rings.dispatch.drain(max: 1) { slot in
            do {
                try pending.recordPending(slot.dispatch.intent, at: WallClock().now())
            } catch {
                rings.orderEvents.push(OrderEventSlot(event: .refused(slot.dispatch.intent.id, messageCode: PackedASCII(ascii: "JOURNAL")), at: WallClock().now()))
                return
            }
            dispatcher.send(slot.dispatch) { rings.orderEvents.push($0) }
        }
        if sent > 0 {
            wait.reset()
            continue
        }
        rings.orderEvents.flush()
        let now = WallClock().now()
        if now - lastWarm > 1_000_000 {
            lastWarm = now
            dispatcher.idle()
        }
        wait.idle()
    }
}

/// The journal thread: batches of events written in one transaction each.
private func runJournal(_ journal: Journal, rings: StrategyRings, fills: FillTap, running: borrowing Atomic<Bool>) {
    var wait = SpinYieldSleep(maxSleepNanoseconds: 5_000_000)
    while true {
        let stopping = !running.load(ordering: .acquiring)
        let taken = rings.journal.ring.drain(max: 4_096) { event in
            journal.append(event)
            if case .fill(let fill) = event { fills.offer(fill) }
        }
        if journal.bufferedCount > 0 { try? journal.flush() }
        if taken == 0 {
            if stopping { break }
            wait.idle()
        } else {
            wait.reset()
        }
    }
}
