import Feed
import Orders
public import Pipeline
public import TickCore

/// How a replay runs: the codes and strategy settings of `paper`, the market speed the capture was recorded at,
/// and the simulated order path's latencies.
public struct ReplaySettings: Sendable {
    public var codes: [SymbolCode]
    /// Strategy and risk keys, as `paper --settings` reads them from the flat settings file.
    public var parameters: [String: String] = [:]
    public var settingsPath = "the replay's settings"
    /// Market seconds per recorded second: the `--speed` of the simulator the capture was recorded from, 1 for KIS.
    public var marketSpeed: Double = 1
    public var latency = ReplayLatency()
    /// The longest replay-time step between two polls of the stages when no message comes: the live stages' timer
    /// period, so timeouts and quiet bars close when they would live.
    public var step: Int64 = 1_000_000
    public var buyingPower: Int64 = 100_000_000

    public init(codes: [SymbolCode]) { self.codes = codes }
}

/// Replays recorded WebSocket messages through the live market path (the pipeline's feed router and market stage:
/// bars, `ScalpingStrategy`, `RiskGate`, the order book and positions), inline on the caller's thread, on replay
/// time, with a `ReplayExchange` in place of KIS. Deterministic: the same messages and settings give the same
/// `ReplaySummary`.
///
/// Not thread-safe: one thread feeds it, start to `finish`.
public final class ReplayEngine {
    private let pipeline: Pipeline<ReplayTime>
    private var stage: MarketStage<ReplayTime>
    private var feeder: MessageFeeder
    private let time: ReplayTime
    private let settings: ReplaySettings
    private var tap: ExchangeTap
    private var collector = ReplayCollector()
    /// Replay time of the last poll of the stages.
    private var polled: Int64 = 0
    /// Recorded order notices skipped: they belong to the recording session's orders, not the replay's.
    private var skippedNotices = 0
    private var messages = 0
    private var disconnects = 0

    /// - Throws: `PipelineError.settings` for a bad strategy setting, a market speed or step that is not positive,
    ///   or a negative latency.
    public init(settings: ReplaySettings) throws(PipelineError) {
        guard settings.step > 0, settings.marketSpeed > 0 else {
            throw .settings(path: "the replay", reason: "the market speed and the step must be positive")
        }
        guard settings.latency.entry >= 0, settings.latency.ack >= 0 else {
            throw .settings(path: "the replay", reason: "latencies cannot be negative")
        }
        self.settings = settings
        let time = ReplayTime()
        var pipelineSettings = PipelineSettings(codes: settings.codes)
        pipelineSettings.parameters = settings.parameters
        pipelineSettings.settingsPath = settings.settingsPath
        pipelineSettings.speed = settings.marketSpeed
        let pipeline = try Pipeline(settings: pipelineSettings, clock: time)
        self.time = time
        self.pipeline = pipeline
        self.stage = pipeline.stage(opening: .empty(buyingPower: settings.buyingPower))
        do {
            self.feeder = try MessageFeeder(router: pipeline.router())
        } catch {
            throw .settings(path: "the replay", reason: "no notice cipher: \(error)")
        }
        self.tap = ExchangeTap(exchange: ReplayExchange(symbols: pipeline.symbols, latency: settings.latency))
    }

    /// Replay time reached: the receive time of the last message fed.
    public var now: Int64 { self.time.now() }

    /// Replays one complete WebSocket message (its payload) received at `localNs`. The payload may be changed in
    /// place (notices are decrypted there).
    /// - Complexity: O(payload + work the stages and exchange do until `localNs`); no allocation per message.
    public func message(_ payload: UnsafeMutableRawBufferPointer, localNs: Int64) {
        self.advance(to: localNs)
        self.messages += 1
        if Self.isNotice(payload) {
            self.skippedNotices += 1
            return
        }
        self.time.advance(to: localNs)
        self.tap.now = self.time.now()
        self.feeder.feed(payload, localTs: localNs, tap: &self.tap)
        self.poll()
    }

    /// The recorded feed lost its connection at `localNs`: every code's bars get a gap mark, as live after a
    /// reconnect.
    public func disconnected(localNs: Int64) {
        self.advance(to: localNs)
        self.disconnects += 1
        self.feeder.router.markGapEverywhere()
        self.poll()
    }

    /// Lets every answer in flight arrive, stops the stages and sums up.
    public func finish() -> ReplaySummary {
        while let due = self.tap.exchange.nextDue { self.advance(to: due) }
        self.stage.finish()
        self.collect()
        return self.collector.summary(
            settings: self.settings,
            positions: self.stage.broker.positions.all,
            counts: ReplaySummary.Counts(
                messages: self.messages,
                records: self.feeder.records,
                malformed: self.feeder.malformed,
                skippedNotices: self.skippedNotices,
                disconnects: self.disconnects,
                restingAtEnd: self.tap.exchange.restingCount
            )
        )
    }

    /// Runs the exchange's scheduled answers and the stages' timers up to `target`, in time order.
    private func advance(to target: Int64) {
        if self.polled == 0 { self.polled = target }
        // A long silence (a lunch break, a reconnect) is crossed in at most 1 000 steps: timers need not fire
        // every millisecond of it, only often enough that nothing waits a whole silence.
        let step = max(self.settings.step, (target &- self.polled) / 1_000)
        while true {
            let next = min(self.tap.exchange.nextDue ?? .max, self.polled &+ step)
            guard next <= target else { break }
            self.time.advance(to: next)
            self.polled = max(self.polled, next)
            while let (at, output) = self.tap.exchange.next(dueBy: next) {
                switch output {
                case .event(let event): self.pipeline.orders.report(OrderEventSlot(event, at: at))
                case .notice(let notice): self.feeder.router.notice(notice)
                case .arrive(let dispatch):
                    self.tap.now = at
                    self.tap.exchange.arrive(dispatch, at: at)
                }
            }
            self.poll()
        }
    }

    /// Runs the stage until idle, sends what the strategy ordered to the exchange, and collects the journal rows.
    private func poll() {
        self.polled = max(self.polled, self.time.now())
        self.pipeline.orders.publishReports()
        self.feeder.router.endOfBatch()
        while true {
            while self.stage.poll() > 0 {}
            let now = self.time.now()
            let sent = self.pipeline.orders.takeOrders(max: 256) { slot in
                self.tap.exchange.send(slot.dispatch, at: now)
            }
            self.collect()
            if sent == 0 { break }
        }
    }

    private func collect() {
        while self.pipeline.orders.takeJournal(max: 256, { event in self.collector.record(event) }) > 0 {}
    }

    /// `1|H0STCNI0|…` or `1|H0STCNI9|…`: an encrypted order notice.
    static func isNotice(_ payload: UnsafeMutableRawBufferPointer) -> Bool {
        payload.starts(with: "1|H0STCNI".utf8)
    }
}

/// The exchange, watching the decoded market: every trade and book reaches it as it reaches the engine.
struct ExchangeTap: FeedSink {
    var exchange: ReplayExchange
    var now: Int64 = 0

    mutating func trade(_ trade: Trade) { self.exchange.trade(trade, at: self.now) }
    mutating func book(_ book: Book) { self.exchange.book(book, at: self.now) }
    mutating func notice(_ notice: Notice) {}
}
