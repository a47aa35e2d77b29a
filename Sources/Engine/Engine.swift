public import Candles
public import Capture
public import EventLog
import Feed
import Journal
public import KIS
import Metrics
import Orders
public import Pipeline
import Recovery
import Ring
import Risk
import Synchronization
public import TickCore

#if canImport(Glibc)
import Glibc
#endif

/// How an engine run is set up.
public struct EngineSettings: Sendable {
    /// The codes the engine can trade: its symbol table (at most `SymbolTable.capacity`).
    public var codes: [SymbolCode]
    /// The codes registered at start, all in `codes`; nil: all of `codes`. At most 20 per app key (two registrations
    /// each, and the notices, of KIS's 41 per session; `SessionPlan`). A subscription scheduler sets it and moves it
    /// with `resubscribe`.
    public var subscribed: [SymbolCode]?
    /// Strategy and risk parameters (`PipelineSettings.knownKeys`), as read from `settingsPath`.
    public var parameters: [String: String] = [:]
    /// Where `parameters` came from, for error messages.
    public var settingsPath = "the settings"
    /// Market seconds per wall second: 1 live, more against an accelerated simulator.
    public var speed: Double = 1
    /// The SQLite journal; reopened after a crash to rebuild the day.
    public var journalPath: String
    /// Trade ring slots, a power of two.
    public var ringCapacity = 1 << 14
    /// How often today's orders are fetched to reconcile the order book (sooner when a notice looks wrong).
    public var reconcileSeconds: Double = 15
    /// How often the buying power is refreshed from KIS.
    public var buyingPowerSeconds: Double = 30
    /// How the market and dispatcher threads wait, and whether the feed thread polls its socket without sleeping.
    public var waiting = EngineWaiting.default
    /// Records every message the feed receives, with connects and disconnects; the caller finishes it after `stop`.
    /// One session only: a capture has one writer, so not with feed keys.
    public var capture: CaptureWriter?
    /// How `start` waits out KIS answers that say "not now" (a restart's usual welcome).
    public var startupRetry = StartupRetry()
    /// The log every thread of the run records into (`EngineLog`): each order's life, the feed's connects and gaps,
    /// risk refusals, the kill switch, reconciliations; nil keeps none. The caller stops it after `stop`.
    public var log: EventLog?

    public init(codes: [SymbolCode], journalPath: String) {
        self.codes = codes
        self.journalPath = journalPath
    }

    /// The pipeline's part of the settings.
    var pipeline: PipelineSettings {
        var settings = PipelineSettings(codes: self.codes)
        settings.parameters = self.parameters
        settings.settingsPath = self.settingsPath
        settings.speed = self.speed
        settings.ringCapacity = self.ringCapacity
        return settings
    }
}

/// How the engine's threads wait for work.
///
/// The default suits any machine, this 2-core one included: the market and order threads spin briefly after each
/// event, then sleep until the thread that feeds them rings (a futex wake-up, a few microseconds), and the feed
/// thread sleeps in poll(2) until the socket has bytes. `busyPoll` trades cores for the wake-ups: the feed thread
/// polls its socket without sleeping and the market thread spins, each pinned to a core of its own; with fewer
/// cores than busy threads (plus the dispatcher's and the journal's), they take each other's time instead.
public struct EngineWaiting: Sendable, Equatable {
    public var market: MarketWait
    /// The order thread's spin before it sleeps, nanoseconds.
    public var dispatcherSpinNanoseconds: Int64
    /// The feed thread reads its socket without blocking, in a loop.
    public var feedBusyPoll: Bool
    /// The CPU to pin the feed thread to, if any.
    public var feedCPU: Int?

    public static let `default` = EngineWaiting(
        market: .default,
        dispatcherSpinNanoseconds: 50_000,
        feedBusyPoll: false,
        feedCPU: nil
    )

    /// Every busy thread spinning, the feed on CPU `feedCPU` and the market stage on `marketCPU`.
    public static func busyPoll(feedCPU: Int?, marketCPU: Int?) -> EngineWaiting {
        EngineWaiting(
            market: .busyPoll(cpu: marketCPU),
            dispatcherSpinNanoseconds: 50_000,
            feedBusyPoll: true,
            feedCPU: feedCPU
        )
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

    init(_ error: PipelineError) {
        switch error {
        case .settings(let path, let reason): self = .settings(path: path, reason: reason)
        case .thread(let error): self = .thread("\(error)")
        }
    }
}

/// The trading engine live: the pipeline (`Pipeline`), driven by a WebSocket feed thread per app key, a
/// dispatcher that sends its orders over a warm connection, a journal thread and a housekeeper.
///
/// ```
///  socket ─▶ feed thread ──FeedRouter──▶ market stage ──orders──▶ dispatcher ─▶ KIS REST
///  socket ─▶ feed thread ─┘ (feed keys)     ▲   │   ▲                  │
///                                           │   │   └── reports ───────┘
///  housekeeper (REST: today's orders, ──────┘   └──journal rows──▶ journal thread (SQLite)
///  buying power, books after a gap)
/// ```
///
/// With feed keys (`init`'s `feedClients`), each key has a session of its own with its own approval key,
/// reconnects and backoff, and its own lane into the pipeline; `SessionPlan` spreads the codes over them. The
/// account's key keeps the notices and every REST call: orders, balances, reconciliation.
public final class Engine: @unchecked Sendable {
    // Safe because: the fields are set in `init` and `start` on the control thread before any thread starts, and
    // read by the threads only after `StageThread` creation (a happens-before edge); `stop` runs after every
    // thread was asked to end and joined. `status()` reads only immutable fields, atomics and locked state.
    public let settings: EngineSettings
    private let client: KISClient
    private let pipeline: Pipeline<WallClock>
    /// One per app key, the account's first; the clients they take approval keys from, in the same order.
    private let sessions: [WebSocketSession]
    private let feedClients: [KISClient]
    private let plan: Mutex<SessionPlan>
    private let news = FeedNews()
    private let fillTap = Tap<FillReport>()
    private let barTap = Tap<Candle>()
    private let log: EngineLog?
    private let housekeeping = Atomic<Bool>(true)
    private let dispatching = Atomic<Bool>(true)
    private let journaling = Atomic<Bool>(true)
    /// Pending journal rows the dispatcher could not write (the orders went out; reconciliation adopts them).
    private let pendingFailures = Atomic<Int>(0)
    private var feedThreads: [StageThread] = []
    private var marketThread: MarketThread?
    private var dispatcherThread: StageThread?
    private var journalThread: StageThread?
    private var housekeeper: StageThread?
    private var discrepancies: [String] = []
    private let startedWall = WallClock().now()
    private var startedText = ""
    /// Registrations KIS allows one WebSocket session (docs/kis-protocol.md §5.7).
    static let registrationLimit = 41

    /// - Parameters:
    ///   - client: the account's client: orders, balances, notices, and the first session's approval key.
    ///   - feedClients: clients of further app keys of the same environment, each streaming up to 20 more codes
    ///     over a session of its own (`FeedKeys`).
    public init(client: KISClient, settings: EngineSettings, feedClients: [KISClient] = []) throws(EngineError) {
        self.settings = settings
        self.client = client
        self.feedClients = [client] + feedClients
        let venues: VenueSettings
        do {
            venues = try settings.pipeline.venues()
        } catch {
            throw EngineError(error)
        }
        var plan = SessionPlan(
            sessions: self.feedClients.count,
            registrationLimit: Self.registrationLimit,
            perCode: Self.marketData(SymbolCode(ascii: "000000"), venues).count
        )
        let sessions = feedClients.count + 1
        let log = settings.log.map { EngineLog($0, feedSessions: sessions) }
        self.log = log
        let subscribed = settings.subscribed ?? settings.codes
        guard subscribed.count <= plan.capacity else {
            let keys = feedClients.isEmpty ? "" : " with \(self.feedClients.count) app keys"
            throw .settings(
                path: "--codes",
                reason: "at most \(plan.capacity) codes\(keys): KIS allows 41 registrations per session"
            )
        }
        guard subscribed.allSatisfy(settings.codes.contains) else {
            throw .settings(path: "--codes", reason: "a subscribed code is not among the codes traded")
        }
        guard feedClients.isEmpty || settings.capture == nil else {
            throw .settings(path: "--capture", reason: "a capture records one session: not with several app keys")
        }
        guard feedClients.allSatisfy({ $0.settings.environment == client.settings.environment }) else {
            throw .settings(path: "the feed keys", reason: "every app key must be of the account's environment")
        }
        for code in subscribed { _ = plan.place(code) }
        self.plan = Mutex(plan)
        var pipelineSettings = settings.pipeline
        pipelineSettings.feedLanes = self.feedClients.count
        pipelineSettings.log = log?.market
        do {
            self.pipeline = try Pipeline(settings: pipelineSettings, clock: WallClock())
        } catch {
            if case .settings("the codes", let reason) = error { throw .settings(path: "--codes", reason: reason) }
            throw EngineError(error)
        }
        self.sessions = self.feedClients.map { client in
            var configuration = WebSocketSession.Configuration(url: client.settings.webSocketURL)
            configuration.busyPoll = settings.waiting.feedBusyPoll
            configuration.registrationLimit = Self.registrationLimit
            return WebSocketSession(configuration: configuration)
        }
    }

    /// Rebuilds the day from the journal, reconciles it with KIS, then starts every thread and subscribes.
    ///
    /// Nothing is sent before reconciliation: an order the journal holds as pending is looked up, never resent.
    /// A query KIS answers with "not now" (over budget, a failing backend, a token refused for the minute) is asked
    /// again after a growing wait (`EngineSettings.startupRetry`), each wait told to `announce` in words.
    public func start(announce: (String) -> Void = { _ in }) throws(EngineError) {
        let words = self.log?.words
        // Keys named, values not: a settings file is the operator's, and the log may travel with a bug report.
        words?.notice(
            "engine starting",
            metadata: [
                "codes": "\(self.settings.codes.count)",
                "subscribed": "\((self.settings.subscribed ?? self.settings.codes).count)",
                "settings": "\(self.settings.parameters.isEmpty ? "defaults" : self.settings.settingsPath)",
                "keys": "\(self.settings.parameters.keys.sorted().joined(separator: ","))",
                // Not the journal's path: the default one names the account.
                "environment": "\(self.client.settings.environment)",
            ]
        )
        do {
            try self.open(announce: announce)
        } catch {
            words?.error("engine could not start: \(error)")
            throw error
        }
        for discrepancy in self.discrepancies {
            words?.warning("reconciliation at start: \(discrepancy)")
        }
        words?.notice("engine started")
    }

    private func open(announce: (String) -> Void) throws(EngineError) {
        self.startedText = KST.text(time: KST.time(epochSeconds: self.startedWall / 1_000_000_000))
        let journal: Journal
        let reconciled: Reconciliation
        let buyingPower: Int64
        do {
            // Orders and fills are the account's: the journal and its WAL are 0600 from their first byte.
            try PrivateFile.prepareDatabase(self.settings.journalPath)
            // The day whose orders KIS lists, and the only one recovered: KIS numbers orders anew each day.
            let today = KST.date(epochSeconds: self.startedWall / 1_000_000_000)
            journal = try Journal.open(self.settings.journalPath, day: today)
            let recovered = try journal.recover()
            let (client, retry) = (self.client, self.settings.startupRetry)
            let balance = try retry.run("the balance query", announce: announce) { () throws(KISError) in
                try client.balance()
            }
            let orders = try retry.run("the daily orders query", announce: announce) { () throws(KISError) in
                try client.dailyOrders(from: today, to: today)
            }
            reconciled = Reconciler().reconcile(recovered, balance: balance, orders: orders, localTs: WallClock().now())
            journal.append(reconciled, at: WallClock().now())
            try journal.flush()
            let probe = self.pipeline.symbols[0].description
            buyingPower = try retry.run("the buying power query", announce: announce) { () throws(KISError) in
                try client.buyable(probe, price: 0).cash
            }
        } catch let error as JournalError {
            throw .journal("\(error)")
        } catch let error as KISError {
            throw .kis(error)
        } catch {
            throw .journal("\(error)")
        }
        self.discrepancies = reconciled.discrepancies.map { "\($0)" }
        let account = Self.account(self.client.settings.account)
        let rebuilt: (book: OrderBook, positions: Positions)
        do {
            rebuilt = try reconciled.state.rebuild(orderCapacity: 4_096, positionCapacity: 64, account: account)
        } catch {
            throw .journal("the journal holds more than the engine's tables: \(error)")
        }
        // Live, the session phase starts from the wall clock. An accelerated simulator's time of day is not the
        // wall's (a board set to 15:40 never goes back to a market at 09:10), so there the first trade sets it.
        let secondOfDay =
            self.settings.speed == 1
            ? (self.startedWall / 1_000_000_000 + KST.offsetSeconds) % 86_400 : nil
        let opening = PipelineOpening(
            book: rebuilt.book,
            positions: rebuilt.positions,
            nextOrderID: reconciled.state.nextOrderID,
            buyingPower: buyingPower,
            secondOfDay: secondOfDay,
            account: account
        )
        // The journal thread owns the Journal; the dispatcher has its own connection for the pending rows, which it
        // writes while each order's answer is on its way. They reach the OS (a killed process loses none that
        // committed) but are not fsynced: an fsync costs 0.4 ms p50 and up to 2.5 ms here on every order, and an
        // order whose row a crash or a power cut lost is still never resent, since the restart adopts every order
        // KIS lists that the journal lacks.
        let pending: PendingRecorder
        do {
            pending = try journal.pendingRecorder(durability: .processCrash)
        } catch {
            throw .journal("\(error)")
        }
        let pastMinutes = try self.pastMinutes(announce: announce)
        do {
            self.marketThread = try self.pipeline.start(
                self.pipeline.stage(opening: opening, pastMinutes: pastMinutes),
                waiting: self.settings.waiting.market
            )
        } catch {
            throw EngineError(error)
        }
        do {
            try self.startThreads(journal: journal, pending: pending)
        } catch {
            throw .thread("\(error)")
        }
        let settings = self.client.settings
        try? self.sessions[0].subscribe(.notices(htsID: settings.htsID, environment: settings.environment))
        let plan = self.plan.withLock { $0 }
        for code in self.settings.subscribed ?? self.settings.codes {
            guard let index = plan.session(of: code) else { continue }
            for subscription in Self.marketData(code, self.pipeline.venues) {
                try? self.sessions[index].subscribe(subscription)
            }
        }
    }

    /// A code's registrations: trades and book on each venue the `venue` setting watches, and the market status
    /// if `market_status` asks (docs/venues.md).
    private static func marketData(_ code: SymbolCode, _ venues: VenueSettings) -> [Subscription] {
        Subscription.marketData(code.description, venues: venues.mode.feeds, status: venues.marketStatus)
    }

    /// The previous trading day's minute bars of every code, when the strategy's parameters ask for them
    /// (`min_relative_volume`): four calls a code, through the client's quotation host (KIS serves them on the
    /// real host only, so a paper account needs its real app key in kis_devlp.yaml).
    private func pastMinutes(announce: (String) -> Void) throws(EngineError) -> [Candle] {
        guard self.pipeline.parameters.wantsPastMinuteBars else { return [] }
        let day = KRX.previousTradingDay(before: KST.date(epochSeconds: self.startedWall / 1_000_000_000))
        var candles: [Candle] = []
        for code in self.pipeline.symbols.codes {
            let client = self.client
            let bars: [Bar]
            do {
                bars = try self.settings.startupRetry.run("the minute bars of \(code)", announce: announce) {
                    () throws(KISError) in try client.pastMinuteBars(code.description, date: day)
                }
            } catch .rejected(let failure) {
                throw .settings(
                    path: "min_relative_volume",
                    reason: "needs the previous trading day's minute bars (FHKST03010230), which KIS refused for "
                        + "\(code): \(failure); KIS serves them on the real host only, so a paper account needs "
                        + "its real app key (my_app, my_sec) in kis_devlp.yaml"
                )
            } catch {
                throw .kis(error)
            }
            candles += bars.compactMap { Self.candle(minute: $0, code: code) }
        }
        return candles
    }

    /// A one-minute `Candle` of a KIS minute bar, or nil for a row whose date, time or figures do not fit.
    static func candle(minute bar: Bar, code: SymbolCode) -> Candle? {
        guard let date = UInt32(bar.date), let time = UInt32(bar.time),
            let start = KST.epochSeconds(date: date, time: time),
            let open = Int32(exactly: bar.open), let high = Int32(exactly: bar.high),
            let low = Int32(exactly: bar.low), let close = Int32(exactly: bar.close),
            let volume = Int32(exactly: bar.volume)
        else { return nil }
        var candle = Candle()
        candle.code = code
        candle.start = UInt32(start)
        candle.seconds = 60
        // The bar's traded value is the day's running total, not the minute's: the candle's value stays 0.
        (candle.open, candle.high, candle.low, candle.close, candle.volume) = (open, high, low, close, volume)
        return candle
    }

    private func startThreads(journal: Journal, pending: PendingRecorder) throws(StageThreadError) {
        let (news, client, orders) = (self.news, self.client, self.pipeline.orders)
        let log = self.log
        let capture = self.settings.capture
        let handoffs = (journal: Handoff(journal), pending: Handoff(pending))
        let dispatcherSpin = self.settings.waiting.dispatcherSpinNanoseconds
        for (index, session) in self.sessions.enumerated() {
            let (keyClient, router) = (self.feedClients[index], self.pipeline.router(lane: index))
            // Only the first is pinned: `busyPoll` gives the feed one core.
            let cpu = index == 0 ? self.settings.waiting.feedCPU : nil
            self.feedThreads.append(
                try StageThread(name: index == 0 ? "ks-feed" : "ks-feed\(index + 1)", cpu: cpu) {
                    var keys = CapturingApprovalKeys(keyClient, writer: capture)
                    var sink = router
                    let watching = FeedWatcher(router: router, news: news, log: log?.feeds[index])
                    var watcher = CapturingObserver(watching, writer: capture)
                    try? session.run(approvalKeys: &keys, sink: &sink, observer: &watcher)
                }
            )
        }
        self.dispatcherThread = try StageThread(name: "ks-orders", timerSlackNanoseconds: 1_000) {
            runDispatcher(
                client: client,
                pending: handoffs.pending.value,
                orders: orders,
                spinNanoseconds: dispatcherSpin,
                running: self.dispatching,
                failures: self.pendingFailures,
                log: log?.orders
            )
        }
        self.journalThread = try StageThread(name: "ks-journal") {
            runJournal(
                handoffs.journal.value,
                orders: orders,
                taps: (self.fillTap, self.barTap),
                monitor: self.pipeline.monitor,
                running: self.journaling,
                log: log?.journal
            )
        }
        let (reconcileEvery, buyingPowerEvery) = (self.settings.reconcileSeconds, self.settings.buyingPowerSeconds)
        let (feed, symbols) = (self.pipeline.feed, self.pipeline.symbols)
        self.housekeeper = try StageThread(name: "ks-house") {
            var house = Housekeeper(
                client: client,
                news: news,
                orders: orders,
                feed: feed,
                symbols: symbols,
                streamingClient: { code in self.streamingClient(of: code) }
            )
            house.log = log?.house
            house.run(running: self.housekeeping, reconcileEvery: reconcileEvery, buyingPowerEvery: buyingPowerEvery)
        }
    }

    /// The client of the app key whose session streams `code` (the account's when none does).
    private func streamingClient(of code: SymbolCode) -> KISClient {
        self.feedClients[self.plan.withLock { $0.session(of: code) } ?? 0]
    }

    /// Releases the trade and book registrations of `unsubscribe`, then registers `subscribe` (a scheduler's
    /// rotation): releases go first so no session ever holds more than KIS's 41, and each new code goes to the
    /// session `SessionPlan` places it on; one that finds every session full is not registered. Codes outside the
    /// symbol table are refused by `init`'s table, so only table codes may be named here.
    public func resubscribe(unsubscribe: [SymbolCode], subscribe: [SymbolCode]) {
        precondition(
            (unsubscribe + subscribe).allSatisfy { self.pipeline.symbols.index(of: $0) != nil },
            "resubscribe names a code outside the engine's symbol table"
        )
        self.plan.withLock { plan in
            for code in unsubscribe {
                guard let index = plan.release(code) else { continue }
                for subscription in Self.marketData(code, self.pipeline.venues) {
                    self.sessions[index].unsubscribe(subscription)
                }
            }
            for code in subscribe {
                guard let index = plan.place(code) else { continue }
                for subscription in Self.marketData(code, self.pipeline.venues) {
                    try? self.sessions[index].subscribe(subscription)
                }
            }
        }
    }

    /// Cancel every open order, flatten every position, refuse every entry: from the CLI, a signal or Telegram.
    public func armKillSwitch() {
        _ = self.pipeline.killSwitch.arm()
        self.log?.control(.killSwitch)
    }

    /// Stops new entries until `resumeEntries`; exits, cancels and the kill switch go on (Telegram's /pause).
    public func pauseEntries() {
        self.pipeline.killSwitch.pauseEntries()
        self.log?.control(.entriesPaused, value: 1)
    }

    /// Lets entries go again after `pauseEntries`.
    public func resumeEntries() {
        self.pipeline.killSwitch.resumeEntries()
        self.log?.control(.entriesPaused, value: 0)
    }

    /// Whether entries are paused.
    public var entriesPaused: Bool { self.pipeline.killSwitch.entriesPaused }

    /// Hands the fills journaled since the last call to `body`, oldest first (the control loop, for Telegram). Fills
    /// it was too slow to take are counted in `droppedFillReports`; the journal thread never waits for it.
    @discardableResult
    public func takeFills(_ body: (FillReport) -> Void) -> Int {
        self.fillTap.drain(body)
    }

    /// Hands `body` the 1-minute bars the market stage completed since the last call, oldest first (the control
    /// loop, for the live page's charts), as `takeFills` does fills.
    @discardableResult
    public func takeBars(_ body: (Candle) -> Void) -> Int {
        self.barTap.drain(body)
    }

    /// Bars `takeBars` never saw because its caller, or the journal thread that passes them on, fell behind.
    public var droppedBars: Int { self.barTap.dropped + self.pipeline.monitor.droppedBars }

    /// Fills `takeFills` never saw because its caller fell `Tap.capacity` behind.
    public var droppedFillReports: Int { self.fillTap.dropped }

    /// A snapshot for the live status, safe to call from any thread once `start` has returned: what the market
    /// stage published last (lock-free), the feed's counters (atomics), and every latency recorded so far (under a
    /// lock that only readers take, so the engine never waits for one).
    public func status() -> EngineStatus {
        self.assemble()
    }

    /// Ends the run: no new entries, every working order cancelled (positions stay), one last reconciliation with
    /// KIS's daily orders applied, then the feed stopped and every thread drained and joined.
    /// - Parameter grace: how long to wait for the cancels and the reconciliation, seconds.
    public func stop(grace: Double = 5) -> EngineReport {
        let orders = self.pipeline.orders
        orders.closing.store(true, ordering: .relaxed)
        self.pipeline.doorbell.ring()
        self.waitUntil(grace) { (self.pipeline.monitor.snapshot()?.open ?? 0) == 0 }
        let passes = orders.reconciliations.load(ordering: .acquiring)
        orders.wantsReconciliation.store(true, ordering: .relaxed)
        self.waitUntil(grace) {
            orders.reconciliations.load(ordering: .acquiring) > passes && orders.newsWaiting == 0
        }
        // The market stage publishes its snapshot every 100 ms: wait for one that includes the reconciliation.
        usleep(200_000)
        // Upstream first, so each thread has seen everything before the one it feeds stops.
        for session in self.sessions { session.stop() }
        for thread in self.feedThreads { thread.join() }
        self.marketThread?.stop()
        self.dispatching.store(false, ordering: .releasing)
        orders.dispatchBell.ring()
        self.dispatcherThread?.join()
        self.journaling.store(false, ordering: .releasing)
        self.journalThread?.join()
        self.housekeeping.store(false, ordering: .releasing)
        self.housekeeper?.join()
        let status = self.assemble()
        self.log?.words.notice(
            "engine stopped",
            metadata: [
                "orders": "\(status.orders.sent)", "fills": "\(status.orders.fills)",
                "realised_pnl": "\(status.realisedPnL)", "log_dropped": "\(status.drops.logRecords)",
            ]
        )
        let seconds = Double(WallClock().now() - self.startedWall) / 1e9
        return EngineReport(
            status: status,
            startedAt: self.startedText,
            endedAt: KST.text(time: KST.time(epochSeconds: WallClock().now() / 1_000_000_000)),
            codes: self.settings.codes.map(\.description),
            recordsPerSecond: Double(status.records) / max(seconds, 1e-3),
            discrepancies: self.discrepancies
        )
    }

    private func waitUntil(_ seconds: Double, _ condition: () -> Bool) {
        let deadline = WallClock().now() + Int64(seconds * 1e9)
        while !condition(), WallClock().now() < deadline { usleep(20_000) }
    }

    private func assemble() -> EngineStatus {
        var status = EngineStatus()
        let counters = self.sessions.reduce(into: WebSocketCounters()) { total, session in
            let counters = session.counters
            total.frames += counters.frames
            total.records += counters.records
            total.malformed += counters.malformed
            total.reconnects += counters.reconnects
        }
        let feed = self.pipeline.feed
        let orders = self.pipeline.orders
        status.wallSeconds = Double(WallClock().now() - self.startedWall) / 1e9
        status.records = counters.records
        status.frames = counters.frames
        status.malformedFrames = counters.malformed
        status.reconnects = counters.reconnects
        status.subscribedCodes = self.news.subscribedCodes.load(ordering: .relaxed)
        status.sessions = self.sessions.count
        status.connectedSessions = self.news.connectedSessions.load(ordering: .relaxed)
        status.entriesPaused = self.pipeline.killSwitch.entriesPaused
        status.drops.booksConflated = feed.booksConflated
        status.drops.spilled = feed.spilled + orders.spilled
        status.drops.lost = feed.lost + orders.lost
        status.drops.logRecords = self.log?.log.counters.dropped ?? 0
        status.notes = self.news.notes.withLock { $0 }
        let unjournaled = self.pendingFailures.load(ordering: .relaxed)
        if unjournaled > 0 {
            status.notes.append(
                "\(unjournaled) orders sent without their pending journal row (reconciliation adopts them)"
            )
        }
        if feed.foreign > 0 {
            status.notes.append("\(feed.foreign) records of codes this engine does not trade, skipped")
        }
        if let failure = self.settings.capture?.failure {
            status.notes.append("capture stopped, trading goes on: \(failure)")
        }
        if let snapshot = self.pipeline.monitor.snapshot() {
            status.drops.lateTrades = snapshot.lateTrades
            status.codesTraded = snapshot.codesTraded
            status.marketTime = snapshot.marketTime
            status.realisedPnL = snapshot.totals.realised
            status.unrealisedPnL = snapshot.totals.unrealised
            status.fees = snapshot.totals.fees
            status.taxes = snapshot.totals.taxes
            let counts = snapshot.orders
            status.orders = EngineStatus.OrderCounts(
                sent: counts.sent,
                accepted: counts.accepted,
                filled: counts.filled,
                partiallyFilled: counts.partiallyFilled,
                cancelled: counts.cancelled,
                rejected: counts.rejected,
                open: snapshot.open,
                fills: counts.fills
            )
            status.riskRejections = counts.riskRejections
            status.refusals = RiskRejection.allCases.filter { counts.rejections[$0] > 0 }.map { reason in
                // Live, the session's phase is the wall clock's until a trade moves it: say which decided.
                let text = reason == .sessionClosed && self.settings.speed == 1 ? "\(reason) (wall clock)" : "\(reason)"
                return EngineStatus.RefusalLine(reason: text, count: counts.rejections[reason])
            }.sorted { $0.count > $1.count }
            status.killSwitch = snapshot.killArmed
            if counts.lastRefusal.rawValue != 0 { status.notes.append("last order refused: \(counts.lastRefusal)") }
            for i in 0..<snapshot.workingCount {
                let order = snapshot.working[i]
                status.workingOrders.append(
                    EngineStatus.WorkingOrderLine(
                        id: Int(order.id.rawValue),
                        code: order.code.description,
                        side: order.side == .buy ? "buy" : "sell",
                        quantity: Int(order.quantity),
                        filled: Int(order.filled),
                        price: Int(order.price),
                        state: "\(order.state)"
                    )
                )
            }
            status.workingOrders.sort { $0.id < $1.id }
            for i in 0..<snapshot.positionCount {
                let row = snapshot.positions[i]
                status.positions.append(
                    EngineStatus.PositionLine(
                        code: row.code.description,
                        quantity: row.quantity,
                        averagePrice: Double(row.averagePrice) / Double(Position.priceScale),
                        lastPrice: row.lastPrice,
                        unrealisedPnL: row.unrealised
                    )
                )
            }
        }
        status.latency = self.pipeline.monitor.withLatency { latency in
            PipelineInterval.allCases.filter { latency[$0].count > 0 }.map { interval in
                let histogram = latency[interval]
                return EngineStatus.LatencyLine(
                    stage: interval.label,
                    summary: histogram.summary(),
                    sum: histogram.sum,
                    buckets: EngineStatus.LatencyLine.bucketBounds.map { Int64(histogram.count(atOrBelow: $0)) }
                )
            }
        }
        return status
    }

    /// The account as notices carry it (ACNT_NO: 8 + 2 digits).
    static func account(_ account: Account) -> UInt64 {
        UInt64(account.cano + account.productCode) ?? 0
    }
}

/// Hands a value built on one thread to the one thread that will own it.
final class Handoff<Value>: @unchecked Sendable {
    // Safe because: written once before the thread starts, then used by that thread alone.
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The dispatcher thread: each order sent (and journaled as pending while its answer is on its way), its fate
/// reported to the broker. Between orders it keeps the connection warm; it sleeps until the broker rings.
private func runDispatcher(
    client: KISClient,
    pending: PendingRecorder,
    orders: OrderPorts,
    spinNanoseconds: Int64,
    running: borrowing Atomic<Bool>,
    failures: borrowing Atomic<Int>,
    log: LogProducer?
) {
    var dispatcher: Dispatcher
    do {
        dispatcher = try Dispatcher(client: client, pending: pending)
    } catch {
        // No lane: every order is refused, so none waits forever.
        var wait = SpinThenPark(doorbell: orders.dispatchBell, spinNanoseconds: 0)
        while running.load(ordering: .relaxed) {
            let refused = orders.takeOrders(max: 64) { slot in
                let report = OrderEventSlot(
                    .refused(slot.dispatch.intent.id, messageCode: PackedASCII(ascii: "NOLANE")),
                    at: WallClock().now()
                )
                var lost = false
                log?.recordSent(slot)
                log?.recordAnswer(report, code: slot.dispatch.intent.code, afterLoss: &lost)
                orders.report(report)
            }
            orders.publishReports()
            if refused == 0 { wait.idle { orders.ordersWaiting > 0 } } else { wait.reset() }
        }
        return
    }
    // A warm lane's idle call reopens a closed connection and runs the order path short of the socket; every half
    // millisecond keeps its code and buffers in cache (the sleep below ends at least that often).
    var wait = SpinThenPark(doorbell: orders.dispatchBell, spinNanoseconds: spinNanoseconds, parkNanoseconds: 500_000)
    var lastWarm: Int64 = 0
    while running.load(ordering: .relaxed) || orders.ordersWaiting > 0 {
        let sent = orders.takeOrders(max: 1) { slot in
            log?.recordSent(slot)
            var lost = false
            dispatcher.send(slot) { report in
                log?.recordAnswer(report, code: slot.dispatch.intent.code, afterLoss: &lost)
                orders.report(report)
            }
            orders.publishReports()
            failures.store(dispatcher.pendingFailures, ordering: .relaxed)
        }
        if sent > 0 {
            wait.reset()
            continue
        }
        let now = WallClock().now()
        if now - lastWarm > 500_000 {
            lastWarm = now
            dispatcher.idle()
        }
        wait.idle { orders.ordersWaiting > 0 }
    }
}

/// The journal thread: batches of rows written in one transaction each; fills and completed bars passed on to the
/// control loop (the market stage never waits for it).
private func runJournal(
    _ journal: Journal,
    orders: OrderPorts,
    taps: (fills: Tap<FillReport>, bars: Tap<Candle>),
    monitor: PipelineMonitor,
    running: borrowing Atomic<Bool>,
    log: LogProducer?
) {
    var wait = SpinYieldSleep(maxSleepNanoseconds: 5_000_000)
    while true {
        let stopping = !running.load(ordering: .acquiring)
        let taken = orders.takeJournal(max: 4_096) { event in
            journal.append(event)
            log?.recordJournaled(event)
            if case .fill(let fill) = event { taps.fills.offer(FillReport(fill)) }
        }
        monitor.takeBars { taps.bars.offer($0) }
        if journal.bufferedCount > 0 { try? journal.flush() }
        if taken == 0 {
            if stopping { break }
            wait.idle()
        } else {
            wait.reset()
        }
    }
}
