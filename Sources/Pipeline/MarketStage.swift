import Candles
import Feed
import Metrics
import Orders
public import Ring
import Risk
public import Strategy
public import Synchronization
public import TickCore

/// The engine clock as one event sees it: read once per event, so every rule of one decision sees the same time.
public struct ClockReading: EngineClock {
    public let now: Int64
}

/// The pipeline's one market stage: bars and book features, the strategy, and the broker with risk and the order
/// book, on one thread. It takes ticks and gap marks from each feed lane's ring, books from its table (each read
/// once, however many came), notices, the dispatcher's reports and the housekeeper's news, and runs the timers.
///
/// Bars and the strategy were once two stages joined by a ring. A candle update costs tens of nanoseconds, a
/// hand-over between cores more than that, and every tick then travelled twice and every book (~340 bytes with its
/// features) once more: one thread with a function call between them is faster on any machine, and spare cores go to
/// pinning the feed and market threads instead (`Pipeline.Threading`).
///
/// Generic over the clock it reads "now" from (`Clock`): the wall clock live and in the benchmark, the replay's
/// time in a replay, so a replay never sees the machine's clock. The stage routes events and stamps their latency;
/// what an event does to orders is the broker's.
public struct MarketStage<Clock: NanoClock>: ~Copyable {
    public typealias Strategy = ScalpingStrategy<PipelineBroker, ClockReading>

    public internal(set) var strategy: Strategy
    public internal(set) var broker: PipelineBroker
    private var builder: CandleBuilder
    /// The venue whose prints build bars; nil for every print.
    private let candleVenue: Venue?
    private var completed = CompletedBars()
    private var clock: MarketClock<Clock>
    private let feed: FeedPorts
    private let orders: OrderPorts
    private let monitor: PipelineMonitor
    private let killSwitch: KillSwitch
    private let planner = KillSwitchPlanner()
    private var stamps = OrderStamps()
    /// Receive times of the events handled since the last decision stamp.
    private var undecided = DecisionStamps()
    /// Per symbol: the receive time of the book the strategy holds, so a REST snapshot older than a feed book is
    /// not applied over it.
    private var bookTimes: [Int64]
    /// Market second of the last bar advance: quiet codes' bars close on time, once per market second.
    private var advancedTo: UInt32 = 0
    /// How long after its end a quiet bar is closed, in market seconds: the feed delivers a trade up to a
    /// publication interval late (KIS batches about 0.1 s; a simulator at speed n makes that 0.1 × n market seconds),
    /// and a bar closed before its last trade arrives would count that trade late.
    private let closeDelay: UInt32
    private var lastTimer: Int64 = 0
    private var lastPublished: Int64 = 0
    private var lastFlatten: Int64 = 0

    /// Book levels the top-of-book imbalance reads (the scalper's `min_imbalance` is over these).
    static var topLevels: Int { 5 }

    init(
        strategy: Strategy,
        broker: consuming PipelineBroker,
        speed: Double,
        clock: Clock,
        candleVenue: Venue? = nil,
        feed: FeedPorts,
        orders: OrderPorts,
        monitor: PipelineMonitor,
        killSwitch: KillSwitch
    ) {
        self.candleVenue = candleVenue
        do {
            self.builder = try CandleBuilder(
                symbols: broker.symbols.count,
                intervals: PipelineSettings.candleIntervals
            )
        } catch {
            // Only a symbol count outside 1...64 or bad intervals can fail, and both are fixed before this point.
            preconditionFailure("market stage for \(broker.symbols.count) codes: \(error)")
        }
        self.bookTimes = Array(repeating: 0, count: broker.symbols.count)
        self.strategy = strategy
        self.broker = broker
        self.clock = MarketClock(speed: speed, source: clock)
        self.feed = feed
        self.orders = orders
        self.monitor = monitor
        self.killSwitch = killSwitch
        self.closeDelay = UInt32(max(1, (0.1 * speed).rounded(.up)))
    }

    /// Runs until `running` is false, waiting with `wait` when there is nothing to do, then drains what is left and
    /// publishes a last snapshot.
    public mutating func run<Wait: WaitStrategy>(running: borrowing Atomic<Bool>, wait: Wait) {
        var wait = wait
        while running.load(ordering: .relaxed) {
            if self.poll() == 0 {
                self.monitor.recorder.poll()
                wait.idle { self.hasWork() }
            } else {
                wait.reset()
            }
        }
        while self.poll() > 0 {}
        self.finish()
    }

    /// The last snapshot, once nothing is left to do.
    public mutating func finish() {
        self.monitor.recorder.poll()
        self.publish(self.clock.source.now())
    }

    /// Whether anything waits for the stage, or a timer is due: what a parked stage re-checks before it sleeps.
    func hasWork() -> Bool {
        self.feed.lanes.contains { $0.hasWork }
            || self.orders.events.ring.approximateCount > 0 || self.orders.house.ring.approximateCount > 0
    }

    /// One pass: ticks and gap marks, dirty books, notices, order reports, the housekeeper's news, then the bars'
    /// clock and the timers.
    /// - Returns: events handled.
    /// - Complexity: O(batch + codes); no allocation.
    @discardableResult
    public mutating func poll() -> Int {
        var handled = 0
        for lane in self.feed.lanes {
            handled += lane.records.ring.drain(max: 256) { record in
                switch record {
                case .tick(let tick): self.handle(tick)
                case .gap(let symbol): self.markGap(symbol)
                case .status(let status, let symbol): self.broker.board.apply(status, at: symbol)
                }
            }
            handled += lane.books.readDirty { slot, book in
                self.handle(book, at: SymbolIndex(slot / FeedLane.venues))
            }
        }
        // One clock read a pass: it stamps every decision of the pass and runs the timers. A read costs 130-250 ns
        // on this virtual machine (clock_gettime, the TSC behind it trapped), a pass's events a few hundred each,
        // so a stamp per event would cost more than the events; each is stamped by the end of its pass instead,
        // an upper bound on its decision time.
        let wall = self.clock.source.now()
        self.undecided.record(into: self.monitor.recorder, decidedAt: wall)
        for lane in self.feed.lanes {
            handled += lane.notices.ring.drain(max: 64) { notice in self.handle(notice) }
        }
        handled += self.orders.events.ring.drain(max: 64) { slot in self.handle(slot, wall: wall) }
        handled += self.orders.house.ring.drain(max: 64) { event in self.handle(event, wall: wall) }
        if self.clock.isAnchored {
            let now = self.clock.read(wall: wall)
            let second = UInt32(truncatingIfNeeded: now / 1_000_000_000) &- self.closeDelay
            if second > self.advancedTo {
                self.advancedTo = second
                self.builder.advance(to: second, into: &self.completed)
                self.deliverBars(ClockReading(now: now))
            }
        }
        if wall - self.lastTimer >= 1_000_000 {
            self.lastTimer = wall
            self.timer(wall)
        }
        if wall - self.lastPublished >= 100_000_000 { self.publish(wall) }
        return handled
    }

    // MARK: Market events

    private mutating func handle(_ tick: Tick) {
        self.clock.observe(exchangeTime: tick.exchangeTime, receivedAt: tick.localTs)
        let reading = self.reading(at: tick.localTs)
        if self.candleVenue == nil || self.candleVenue == tick.venue {
            self.builder.update(tick, into: &self.completed)
            self.deliverBars(reading)
        }
        self.broker.mark(tick)
        self.strategy.onTrade(tick, broker: &self.broker, clock: reading)
        self.deliver(reading)
        self.undecided.append(tick.localTs)
    }

    private mutating func handle(_ book: Book, at symbol: SymbolIndex) {
        self.bookTimes[symbol.offset] = book.localTs
        let features = BookFeatures(book: book, topLevels: Self.topLevels)
        self.broker.board.apply(book, at: symbol)
        let reading = self.reading(at: book.localTs)
        self.strategy.onBook(features, symbol: symbol, broker: &self.broker, clock: reading)
        self.deliver(reading)
        self.undecided.append(book.localTs)
    }

    /// Hands the strategy the bars the builder just completed, in order.
    private mutating func deliverBars(_ reading: ClockReading) {
        guard !self.completed.bars.isEmpty else { return }
        self.broker.now = reading.now
        for (candle, symbol) in self.completed.bars {
            self.strategy.onCandle(candle, symbol: symbol, broker: &self.broker, clock: reading)
            self.deliver(reading)
            if candle.seconds == 60, !self.monitor.bars.tryPush(candle) {
                self.monitor.barsDropped.add(1, ordering: .relaxed)
            }
        }
        self.completed.clear()
    }

    private mutating func markGap(_ symbol: SymbolIndex) {
        let now = self.clock.now()
        self.builder.markGap(symbol: symbol, at: UInt32(truncatingIfNeeded: now / 1_000_000_000), into: &self.completed)
        let reading = ClockReading(now: now)
        self.deliverBars(reading)
        self.bookTimes[symbol.offset] = 0
        self.broker.now = now
        self.strategy.onGap(symbol: symbol, broker: &self.broker, clock: reading)
        self.deliver(reading)
    }

    /// The strategy's time for an event received at `wall`, set on the broker too (intents and journal rows).
    private mutating func reading(at wall: Int64) -> ClockReading {
        let now = self.clock.read(wall: wall)
        self.broker.now = now
        return ClockReading(now: now)
    }

    /// Hands the strategy every update of its orders waiting at the broker, including those its own reactions
    /// produce.
    private mutating func deliver(_ reading: ClockReading) {
        while let update = self.broker.nextUpdate() {
            self.strategy.onOrderUpdate(update, broker: &self.broker, clock: reading)
        }
    }

    // MARK: Orders

    private mutating func handle(_ notice: Notice) {
        let reading = self.reading(at: notice.localTs)
        let applied = self.broker.apply(.notice(notice))
        if let id = applied.order, let written = self.stamps.firstNotice(of: id) {
            self.monitor.recorder.record { $0.record(.requestWrittenToNotice, from: written, to: notice.localTs) }
        }
        self.deliver(reading)
    }

    private mutating func handle(_ slot: OrderEventSlot, wall: Int64) {
        switch slot.event {
        case .written(let id, _):
            self.stamps.written(id, at: slot.written)
            self.monitor.recorder.record { $0.record(.decisionToRequestWritten, from: slot.decided, to: slot.written) }
        case .acknowledged:
            self.monitor.recorder.record { $0.record(.requestWrittenToRESTAck, from: slot.written, to: slot.at) }
        default:
            break
        }
        let reading = ClockReading(now: self.clock.read(wall: wall))
        self.broker.now = reading.now
        self.broker.apply(slot.event)
        self.deliver(reading)
    }

    private mutating func handle(_ event: HouseEvent, wall: Int64) {
        let reading = ClockReading(now: self.clock.read(wall: wall))
        self.broker.now = reading.now
        switch event {
        case .reconciled(let row):
            self.broker.apply(.reconciled(row, localTs: wall))
        case .buyingPower(let reported):
            self.broker.buyingPowerReported(reported)
        case .book(let book):
            // A feed book received after the snapshot was asked for is newer: the snapshot is dropped.
            guard let symbol = self.broker.symbols.index(of: book.code), book.localTs > self.bookTimes[symbol.offset]
            else { break }
            self.handle(book, at: symbol)
            return
        }
        self.deliver(reading)
    }

    // MARK: Timers

    private mutating func timer(_ wall: Int64) {
        let reading = ClockReading(now: self.clock.read(wall: wall))
        self.broker.now = reading.now
        if self.clock.isAnchored {
            self.broker.board.advance(secondOfDay: (reading.now / 1_000_000_000 + KST.offsetSeconds) % 86_400)
        }
        self.strategy.onTimer(broker: &self.broker, clock: reading)
        self.deliver(reading)
        // Armed: cancel everything and sell what is held; again each second until flat, since shares in a working
        // sell can only be sold once its cancel is confirmed.
        if self.killSwitch.isArmed, wall - self.lastFlatten >= 1_000_000_000 {
            self.lastFlatten = wall
            self.broker.flatten(self.planner, decidedAt: reading.now)
            self.deliver(reading)
        }
        if !self.broker.closing, self.orders.closing.load(ordering: .relaxed) { self.broker.closing = true }
        // Ending: nothing left working at KIS that nobody would manage; positions stay, as KIS holds them.
        if self.broker.closing, wall - self.lastFlatten >= 3_000_000_000 {
            self.lastFlatten = wall
            self.broker.cancelAmendable(decidedAt: reading.now)
            self.deliver(reading)
        }
    }

    // MARK: Status

    private mutating func publish(_ wall: Int64) {
        self.lastPublished = wall
        var snapshot = PipelineSnapshot()
        snapshot.marketTime = self.broker.now
        snapshot.totals = self.broker.positions.totals
        snapshot.orders = self.broker.counters
        snapshot.open = self.broker.workingCount
        snapshot.killArmed = self.killSwitch.isArmed
        snapshot.lateTrades = self.builder.lateTrades
        for offset in 0..<self.broker.board.count where self.broker.board[SymbolIndex(offset)].lastPrice > 0 {
            snapshot.codesTraded += 1
        }
        var rows = 0
        for position in self.broker.positions.all where position.quantity != 0 && rows < snapshot.positions.count {
            snapshot.positions[rows] = position
            rows += 1
        }
        snapshot.positionCount = rows
        var working = 0
        self.broker.book.forEachOpen { order in
            guard working < snapshot.working.count else { return }
            snapshot.working[working] = order
            working += 1
        }
        snapshot.workingCount = working
        self.monitor.published.write(snapshot, at: 0)
    }
}

/// The bars the builder completed during one call, held until it returns and they can go to the strategy (which
/// the builder, a part of the same stage, cannot call itself). At most every code's every interval at once.
struct CompletedBars: CandleSink {
    private(set) var bars: [(Candle, SymbolIndex)] = []

    init() {
        self.bars.reserveCapacity(SymbolTable.capacity * CandleBuilder.maxIntervals)
    }

    mutating func candle(_ candle: Candle, symbol: SymbolIndex) {
        self.bars.append((candle, symbol))
    }

    mutating func clear() {
        self.bars.removeAll(keepingCapacity: true)
    }
}

/// When each recent order's request was written, so its first notice can be timed (`requestWrittenToNotice`).
/// A direct-mapped table by order id: an order more than `count` ids older than the newest is forgotten, which costs
/// one latency sample, never a wrong one (an entry is trusted only under its own id).
struct OrderStamps {
    private struct Entry {
        var id = OrderID(rawValue: 0)
        var written: Int64 = 0
        var noticed = false
    }

    private var entries = [Entry](repeating: Entry(), count: 256)

    mutating func written(_ id: OrderID, at written: Int64) {
        self.entries[Int(id.rawValue & 255)] = Entry(id: id, written: written, noticed: false)
    }

    /// The write stamp of `id` when this is its first notice; nil for a later one, or an order not in the table.
    mutating func firstNotice(of id: OrderID) -> Int64? {
        let i = Int(id.rawValue & 255)
        guard self.entries[i].id == id, self.entries[i].written != 0, !self.entries[i].noticed else { return nil }
        self.entries[i].noticed = true
        return self.entries[i].written
    }
}

/// The receive times of the events a pass handled, stamped decided together at the pass's one clock read.
struct DecisionStamps {
    private var reads: [Int64] = []

    init() {
        // A pass handles at most 256 ticks and one book per code.
        self.reads.reserveCapacity(256 + SymbolTable.capacity)
    }

    mutating func append(_ read: Int64) {
        self.reads.append(read)
    }

    /// Records read → decision for each, decided at `decidedAt`, and forgets them.
    mutating func record(into recorder: LatencyRecorder<PipelineLatency>, decidedAt: Int64) {
        guard !self.reads.isEmpty else { return }
        recorder.record { latency in
            for read in self.reads { latency.record(.readToDecision, from: read, to: decidedAt) }
        }
        self.reads.removeAll(keepingCapacity: true)
    }
}
