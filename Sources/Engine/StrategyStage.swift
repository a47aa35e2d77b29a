import Candles
import Journal
import Metrics
import Orders
import Ring
import Risk
import Strategy
import Synchronization
import TickCore

/// The engine clock as one event sees it: read once per event, so every rule of one decision sees the same time.
struct ClockReading: EngineClock {
    let now: Int64
}

/// What the housekeeper (REST, off the hot path) tells the strategy stage.
enum HouseEvent: BitwiseCopyable {
    /// A row of today's orders at KIS: the authority on fills and remainders.
    case reconciled(BrokerOrder)
    /// KIS's buying power (`inquire-psbl-order`), before the engine's own orders in flight.
    case buyingPower(Int64)
}

/// The figures the strategy stage publishes for the status display, ten times a second.
struct StrategySnapshot: BitwiseCopyable {
    var marketTime: Int64 = 0
    var totals = DayTotals()
    var sent = 0
    var accepted = 0
    var filled = 0
    var partiallyFilled = 0
    var cancelled = 0
    var rejected = 0
    var open = 0
    var fills = 0
    var riskRejections = 0
    var killArmed = false
    /// `msg_cd` of the last order KIS (or the dispatcher) refused.
    var lastRefusal = PackedASCII(rawValue: 0)
    var positionCount = 0
    var positions: InlineArray<20, PositionRow> = .init(repeating: PositionRow())

    struct PositionRow: BitwiseCopyable {
        var code = SymbolCode(rawValue: 0)
        var quantity: Int64 = 0
        /// 1/10 000 KRW.
        var averagePrice: Int64 = 0
        var lastPrice: Int64 = 0
        var unrealised: Int64 = 0
    }
}

/// The rings the strategy stage reads and writes, shared with the other threads.
final class StrategyRings: Sendable {
    /// Candle stage → strategy: trades, books with features, completed bars.
    let market: SpillingProducer<MarketEvent>
    /// Strategy → dispatcher.
    let dispatch: SPSCRing<DispatchSlot>
    /// Dispatcher → strategy: written, acknowledged, refused, lost, found.
    let orderEvents: SpillingProducer<OrderEventSlot>
    /// Housekeeper → strategy.
    let house: SpillingProducer<HouseEvent>
    /// Strategy → journal thread.
    let journal: SpillingProducer<JournalEvent>
    let snapshot = ConflatingTable<StrategySnapshot>(capacity: 1)
    let latency = LatencyRecorder<PipelineLatency>()
    /// Set by the strategy stage when its order book wants KIS's daily orders (a lost answer, a suspect notice).
    let wantsReconciliation = Atomic<Bool>(false)
    /// Reconciliation passes the housekeeper has sent, so a caller can wait for the next one.
    let reconciliations = Atomic<Int>(0)
    /// Set when the run is ending: no new entries, every working order cancelled.
    let closing = Atomic<Bool>(false)

    init(capacity: Int) {
        self.market = SpillingProducer(ring: SPSCRing(capacity: capacity))
        self.dispatch = SPSCRing(capacity: 256)
        self.orderEvents = SpillingProducer(ring: SPSCRing(capacity: 256), overflowCapacity: 1 << 10)
        self.house = SpillingProducer(ring: SPSCRing(capacity: 1_024), overflowCapacity: 1 << 12)
        self.journal = SpillingProducer(ring: SPSCRing(capacity: 4_096))
    }
}

/// The strategy stage: market events into the strategy, order events and notices into the order state machine,
/// the kill switch, and the status snapshot. One thread; no lock, allocation or existential per event.
struct StrategyStage<S: TradingStrategy>: ~Copyable where S.OrderBroker == LiveBroker, S.TimeSource == ClockReading {
    var strategy: S
    var broker: LiveBroker
    private var clock: MarketClock
    private let time: StageClock
    private let feed: FeedRings
    private let rings: StrategyRings
    private let killSwitch: KillSwitch
    private let planner = KillSwitchPlanner()
    private var snapshot = StrategySnapshot()
    private var lastPublished: Int64 = 0
    private var lastTimer: Int64 = 0
    private var lastFlatten: Int64 = 0

    init(
        strategy: S, broker: LiveBroker, speed: Double, feed: FeedRings, rings: StrategyRings, killSwitch: KillSwitch,
        time: StageClock = StageClock()
    ) {
        self.strategy = strategy
        self.broker = broker
        self.clock = MarketClock(speed: speed, source: time)
        self.time = time
        self.feed = feed
        self.rings = rings
        self.killSwitch = killSwitch
    }

    /// Runs until `running` is false, then drains what is left and publishes a last snapshot.
    mutating func run<Wait: WaitStrategy>(running: borrowing Atomic<Bool>, wait: Wait) {
        var wait = wait
        while running.load(ordering: .relaxed) {
            if self.poll() == 0 {
                self.rings.latency.poll()
                wait.idle()
            } else {
                wait.reset()
            }
        }
        while self.poll() > 0 {}
        self.finish()
    }

    /// The last snapshot, once nothing is left to handle.
    mutating func finish() {
        self.rings.latency.poll()
        self.publish(self.time.now())
    }

    /// One pass: market events, notices, order events, the housekeeper's news, then timers.
    /// - Returns: events handled.
    mutating func poll() -> Int {
        var handled = self.rings.market.ring.drain(max: 256) { event in self.handle(event) }
        handled += self.feed.notices.ring.drain(max: 64) { notice in
            self.apply(.notice(notice), at: notice.localTs, notice: true)
        }
        handled += self.rings.orderEvents.ring.drain(max: 64) { slot in self.apply(slot.event, at: slot.at, notice: false) }
        handled += self.rings.house.ring.drain(max: 64) { event in
            switch event {
            case .reconciled(let row):
                let now = self.time.now()
                self.apply(.reconciled(row, localTs: now), at: now, notice: false)
            case .buyingPower(let reported):
                self.broker.refreshAccount()
                self.broker.account.buyingPower.refresh(reported: reported, inFlight: self.broker.account.workingBuyValue)
            }
        }
        let wall = self.time.now()
        if wall - self.lastTimer >= 1_000_000 {
            self.lastTimer = wall
            self.timer(wall)
        }
        if wall - self.lastPublished >= 100_000_000 { self.publish(wall) }
        return handled
    }

    // MARK: Market events

    private mutating func handle(_ event: MarketEvent) {
        switch event {
        case .trade(let trade, let arrival):
            self.clock.observe(exchangeTime: trade.exchangeTime, receivedAt: trade.localTs)
            self.broker.board.apply(trade)
            self.broker.positions.mark(trade.code, price: Int64(trade.price))
            let reading = self.reading()
            self.strategy.onTrade(trade, broker: &self.broker, clock: reading)
            self.decided(arrival)
        case .book(let book, let features, let symbol, let arrival):
            self.broker.board.apply(book, at: symbol)
            let reading = self.reading()
            self.strategy.onBook(features, symbol: symbol, broker: &self.broker, clock: reading)
            self.decided(arrival)
        case .candle(let candle, let symbol):
            let reading = self.reading()
            self.strategy.onCandle(candle, symbol: symbol, broker: &self.broker, clock: reading)
            self.deliver(reading)
        }
    }

    private mutating func reading() -> ClockReading {
        let now = self.clock.now()
        self.broker.now = now
        return ClockReading(now: now)
    }

    /// The strategy has seen the event: the pipeline's decision point, whether or not it ordered anything.
    private mutating func decided(_ arrival: Arrival) {
        self.deliver(ClockReading(now: self.broker.now))
        var stamps = StageTimestamps()
        stamps.socketRead = arrival.read
        stamps.decoded = arrival.decoded == arrival.read ? 0 : arrival.decoded
        stamps.candleUpdated = arrival.candled
        stamps.decision = WallClock().now()
        self.rings.latency.record { $0.record(stamps) }
    }

    // MARK: Orders

    private mutating func apply(_ event: OrderEvent, at: Int64, notice: Bool) {
        if case .refused(_, let code) = event { self.snapshot.lastRefusal = code }
        if case .written(let id, let written) = event, let working = self.broker.stamps(of: id) {
            self.broker.written(id, at: written)
            var stamps = StageTimestamps()
            stamps.decision = working.decided
            stamps.requestWritten = written
            self.rings.latency.record { $0.record(stamps) }
        }
        if case .acknowledged(let id, _, _) = event, let working = self.broker.stamps(of: id), working.written != 0 {
            var stamps = StageTimestamps()
            stamps.requestWritten = working.written
            stamps.restAck = at
            self.rings.latency.record { $0.record(stamps) }
        }
        let before = self.broker.pending.count
        let outcome = self.broker.book.apply(event, into: &self.broker.pending)
        if notice, self.broker.pending.count > before {
            let id = self.broker.pending.changes[before].id
            if let working = self.broker.stamps(of: id), working.written != 0, self.broker.firstNotice(id) {
                var stamps = StageTimestamps()
                stamps.requestWritten = working.written
                stamps.notice = at
                self.rings.latency.record { $0.record(stamps) }
            }
        }
        if outcome == .duplicate || self.broker.book.needsReconciliationCount > 0 {
            self.rings.wantsReconciliation.store(true, ordering: .relaxed)
        }
        self.deliver(self.reading())
    }

    /// Hands the book's changes and fills to positions, the journal and the strategy, including any the strategy's
    /// own reactions produce.
    private mutating func deliver(_ reading: ClockReading) {
        var fill = 0
        var update = 0
        while fill < self.broker.pending.fillCount || update < self.broker.pending.count {
            while fill < self.broker.pending.fillCount {
                let next = self.broker.pending.fills[fill]
                fill += 1
                try? self.broker.positions.apply(next)
                self.snapshot.fills += 1
                self.rings.journal.push(.fill(next))
                if let position = self.broker.positions.position(next.code) {
                    self.rings.journal.push(.position(position, at: reading.now))
                }
            }
            while update < self.broker.pending.count {
                let next = self.broker.pending.changes[update]
                update += 1
                if self.broker.isTransition(next) { self.count(next) }
                self.broker.track(next)
                self.rings.journal.push(.change(next, at: reading.now))
                if let kind = Self.kind(next.state), next.action == .new || next.action == .modify {
                    let forStrategy = OrderUpdate(
                        id: next.id, code: next.code, kind: kind, side: next.side, fillQuantity: next.lastFillQuantity,
                        fillPrice: next.lastFillPrice, remainingQuantity: next.remaining)
                    self.strategy.onOrderUpdate(forStrategy, broker: &self.broker, clock: reading)
                }
            }
        }
        self.broker.pending.clear()
    }

    private static func kind(_ state: OrderState) -> OrderUpdate.Kind? {
        switch state {
        case .accepted: .accepted
        case .partiallyFilled: .partiallyFilled
        case .filled: .filled
        case .cancelled, .replaced: .cancelled
        case .rejected, .notPlaced: .rejected
        case .new, .sent, .unknown: nil
        }
    }

    private mutating func count(_ update: OrderChange) {
        switch update.state {
        case .accepted: self.snapshot.accepted += 1
        case .partiallyFilled: if update.lastFillQuantity > 0 { self.snapshot.partiallyFilled += 1 }
        case .filled: self.snapshot.filled += 1
        case .cancelled: self.snapshot.cancelled += 1
        case .rejected, .notPlaced: self.snapshot.rejected += 1
        case .new, .sent, .unknown, .replaced: break
        }
    }

    // MARK: Timers

    private mutating func timer(_ wall: Int64) {
        let reading = self.reading()
        if self.clock.isAnchored {
            self.broker.board.advance(secondOfDay: (reading.now / 1_000_000_000 + KST.offsetSeconds) % 86_400)
        }
        self.strategy.onTimer(broker: &self.broker, clock: reading)
        self.deliver(reading)
        // Armed: cancel everything and sell what is held; again each second until flat, since shares in a working
        // sell can only be sold once its cancel is confirmed.
        if self.killSwitch.isArmed, wall - self.lastFlatten >= 1_000_000_000 {
            self.lastFlatten = wall
            self.flatten(reading)
        }
        if !self.broker.closing, self.rings.closing.load(ordering: .relaxed) { self.broker.closing = true }
        // Ending: nothing left working at KIS that nobody would manage; positions stay, as KIS holds them.
        if self.broker.closing, wall - self.lastFlatten >= 3_000_000_000 {
            self.lastFlatten = wall
            for order in self.broker.workingOrders() { _ = self.broker.cancel(order.id, decidedAt: reading.now) }
            self.deliver(reading)
        }
    }

    /// The kill switch's plan, built off the hot path (it runs once a second at most, while armed).
    private mutating func flatten(_ reading: ClockReading) {
        var held: [HeldPosition] = []
        for position in self.broker.positions.all where position.quantity > 0 {
            if let symbol = self.broker.symbols.index(of: position.code) {
                held.append(HeldPosition(code: position.code, index: symbol, quantity: Int32(clamping: position.quantity)))
            }
        }
        var intents: [OrderIntent] = []
        var next = self.broker.nextOrderID()
        self.planner.plan(
            openOrders: self.broker.workingOrders(), positions: held, market: self.broker.board, nextID: &next,
            decidedAt: reading.now
        ) { intents.append($0) }
        self.broker.skip(to: next)
        for intent in intents { _ = self.broker.submit(intent) }
        self.deliver(reading)
    }

    // MARK: Status

    private mutating func publish(_ wall: Int64) {
        self.lastPublished = wall
        self.snapshot.marketTime = self.broker.now
        self.snapshot.totals = self.broker.positions.totals
        self.snapshot.sent = self.broker.counters.sent
        self.snapshot.riskRejections = self.broker.counters.riskRejections
        self.snapshot.open = self.broker.workingCount
        self.snapshot.killArmed = self.killSwitch.isArmed
        var rows = 0
        for position in self.broker.positions.all where position.quantity != 0 && rows < 20 {
            self.snapshot.positions[rows] = StrategySnapshot.PositionRow(
                code: position.code, quantity: position.quantity, averagePrice: position.averagePrice,
                lastPrice: position.lastPrice, unrealised: position.unrealised)
            rows += 1
        }
        self.snapshot.positionCount = rows
        self.rings.snapshot.write(self.snapshot, at: 0)
    }
}

/// The candle and strategy stages on one thread, for machines with fewer cores than stage threads: each pass polls
/// the candle stage, then the strategy stage, still joined by their ring. With two cores and three busy threads
/// (feed, candle, strategy) the scheduler's time slices, not the code, set the latency.
func runFused<S: TradingStrategy, Wait: WaitStrategy>(
    _ candles: inout CandleStage, _ strategy: inout StrategyStage<S>, running: borrowing Atomic<Bool>, wait: Wait,
    late: borrowing Atomic<Int>
) where S.OrderBroker == LiveBroker, S.TimeSource == ClockReading {
    var wait = wait
    while running.load(ordering: .relaxed) {
        let handled = candles.poll() + strategy.poll()
        if handled == 0 { wait.idle() } else { wait.reset() }
        late.store(candles.lateTrades, ordering: .relaxed)
    }
    while candles.poll() + strategy.poll() > 0 {}
    late.store(candles.lateTrades, ordering: .relaxed)
    strategy.finish()
}
