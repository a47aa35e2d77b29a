public import Orders
public import Ring
public import Synchronization
public import TickCore

/// An order on its way from the broker to whoever sends it (the live dispatcher, a replay's exchange), with the
/// wall-clock time the strategy decided it and the market time it was decided at.
public struct DispatchSlot: BitwiseCopyable, Sendable {
    public var dispatch: OrderDispatch
    public var decided: Int64
    /// Market nanoseconds since the Unix epoch (the engine's market clock), 0 when unknown: the clock KIS stamps
    /// the order by. Live it is the wall clock; against an accelerated simulator it runs hours apart from it, and a
    /// lost answer's lookup among today's orders must look from the order's time, not this machine's.
    public var marketTime: Int64 = 0
}

/// What became of an order, on its way back to the broker, with when it happened (wall clock). `.written` and
/// `.acknowledged` also carry the order's decision and write stamps, for the order path's latencies (0: unknown).
public struct OrderEventSlot: BitwiseCopyable, Sendable {
    public var event: OrderEvent
    public var at: Int64
    public var decided: Int64
    public var written: Int64

    public init(_ event: OrderEvent, at: Int64, decided: Int64 = 0, written: Int64 = 0) {
        self.event = event
        self.at = at
        self.decided = decided
        self.written = written
    }
}

/// What the REST side of a run (the housekeeper) tells the broker.
public enum HouseEvent: BitwiseCopyable, Sendable {
    /// A row of today's orders at KIS: the authority on fills and remainders.
    case reconciled(BrokerOrder)
    /// KIS's buying power (`inquire-psbl-order`), before the engine's own orders in flight.
    case buyingPower(Int64)
    /// A code's book from KIS's REST snapshot, asked when its stream came back from a gap with no book since;
    /// `localTs` is when it was asked, so a feed book received after that wins.
    case book(Book)
}

/// The rings between the broker and the order side of a run: orders out, their fate and the housekeeper's news in,
/// the journal's rows out; and the flags a run's owner sets.
public final class OrderPorts: Sendable {
    /// Broker → dispatcher. A full ring refuses the order (the broker tells the strategy).
    @usableFromInline let dispatch: SPSCRing<DispatchSlot>
    /// The dispatcher's wake-up, rung by the broker after each order.
    public let dispatchBell = Doorbell()
    /// Dispatcher → broker: written, acknowledged, refused, lost, found.
    let events: SpillingProducer<OrderEventSlot>
    /// Housekeeper → broker.
    let house: SpillingProducer<HouseEvent>
    /// Broker → journal thread.
    let journal: SpillingProducer<JournalEvent>
    /// The market stage's wake-up.
    let doorbell: Doorbell
    /// Set by the broker when its order book wants KIS's daily orders (a lost answer, a refused cancel).
    public let wantsReconciliation = Atomic<Bool>(false)
    /// Broker → housekeeper: the numbers of orders holding a doubtful fill, each settled by a query for that order.
    let checks = SPSCRing<UInt64>(capacity: 64)
    /// Reconciliation passes the housekeeper has handed over, so a caller can wait for the next one.
    public let reconciliations = Atomic<Int>(0)
    /// Set when the run is ending: no new entries, every working order cancelled.
    public let closing = Atomic<Bool>(false)

    init(doorbell: Doorbell) {
        self.dispatch = SPSCRing(capacity: 256)
        self.events = SpillingProducer(ring: SPSCRing(capacity: 256), overflowCapacity: 1 << 10)
        self.house = SpillingProducer(ring: SPSCRing(capacity: 1_024), overflowCapacity: 1 << 12)
        self.journal = SpillingProducer(ring: SPSCRing(capacity: 4_096))
        self.doorbell = doorbell
    }

    // MARK: The dispatcher's side

    /// Passes up to `max` orders to `body`, oldest first. The dispatcher's thread only.
    /// - Returns: how many.
    @inlinable
    public func takeOrders(max: Int, _ body: (DispatchSlot) -> Void) -> Int {
        self.dispatch.drain(max: max, body)
    }

    /// Orders waiting for the dispatcher, from any thread.
    public var ordersWaiting: Int { self.dispatch.approximateCount }

    /// Hands the broker what became of an order; `publish()` makes a batch visible. The dispatcher's thread only.
    public func report(_ slot: OrderEventSlot) {
        self.events.stage(slot)
    }

    /// Publishes the reports staged so far and wakes the market stage.
    public func publishReports() {
        self.events.publish()
        self.doorbell.ring()
    }

    // MARK: The housekeeper's side

    /// Hands the broker the housekeeper's news; `publishNews()` makes a batch visible. The housekeeper's thread only.
    public func tell(_ event: HouseEvent) {
        self.house.stage(event)
    }

    public func publishNews() {
        self.house.publish()
        self.doorbell.ring()
    }

    /// The next order to ask KIS for by itself (one holding a doubtful fill). The housekeeper's thread only.
    public func takeCheck() -> UInt64? {
        self.checks.tryPop()
    }

    /// News the broker has not taken yet, from any thread.
    public var newsWaiting: Int { self.house.ring.approximateCount + self.house.backlog }

    // MARK: The journal's side

    /// Passes up to `max` journal rows to `body`, oldest first. The journal thread only.
    /// - Returns: how many.
    public func takeJournal(max: Int, _ body: (JournalEvent) -> Void) -> Int {
        self.journal.ring.drain(max: max, body)
    }

    /// Elements that waited in an overflow queue, and those lost past it.
    public var spilled: Int { self.events.spilled + self.journal.spilled + self.house.spilled }
    public var lost: Int { self.events.lost + self.journal.lost + self.house.lost }
}
