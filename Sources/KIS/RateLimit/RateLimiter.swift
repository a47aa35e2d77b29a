import Synchronization
public import TickCore

/// What a REST call is, for the rate limiter: orders go ahead of queries.
public enum RequestKind: Sendable, Hashable {
    case order
    case query
}

/// The rate limiter's answer to one request for a slot.
public enum Admission: Sendable, Hashable {
    case granted
    /// No slot yet; ask again after this many nanoseconds (0: a grant is being recorded, ask again at once).
    case wait(nanoseconds: Int64)
}

/// The REST request budget of one app key, shared by every thread that calls KIS with it: no window of
/// `windowNanoseconds` ever holds more than `limit` grants, orders may use every slot and queries leave
/// `reservedForOrders` free. Lock-free, so the order path never waits on the query thread.
///
/// Grants are numbered by a ticket counter. Grant `n` may happen only once grant `n - limit` is a full window old,
/// so each residue class of tickets modulo `limit` is a chain of grants spaced at least a window apart; a window
/// holds at most one grant of each chain, hence at most `limit` grants, whatever order threads record them in.
/// The times of the last `limit` grants live in a ring; what slot `n % limit` holds depends on its sequence:
///
///     sequence == n           time = grant n - limit's time (Int64.min on the first lap): ticket n may read it
///     sequence == n - limit   grant n - limit is taken but its time not yet written: ask again at once
///     sequence == n + limit   ticket n is taken already: start over from the counter
///
/// A thread takes ticket `n` by compare-exchanging the counter from `n` to `n + 1`, then writes its time and
/// releases the slot with sequence `n + limit` (Vyukov's bounded queue), so nobody reads a time before it is written.
/// Generic over its clock, so the order path's clock read is a direct call, not an existential's.
public final class RateLimiter<Clock: NanoClock>: Sendable {
    public let limit: Int
    public let windowNanoseconds: Int64
    public let reservedForOrders: Int
    private let clock: Clock
    private let slots: [Slot]
    private let ticket = Atomic<Int>(0)
    private let waitingOrders = Atomic<Int>(0)
    private let blockedUntil = Atomic<Int64>(.min)

    /// - Parameters:
    ///   - limit: grants per window, at least 1.
    ///   - windowNanoseconds: the window's length, positive.
    ///   - reservedForOrders: slots a query must leave free, less than `limit`.
    ///   - clock: what `acquire` reads and sleeps on; a monotonic clock, so wall-clock steps cannot open the window.
    public init(
        limit: Int,
        windowNanoseconds: Int64 = RateBudget.defaultWindowNanoseconds,
        reservedForOrders: Int = 1,
        clock: Clock
    ) {
        precondition(limit >= 1, "RateLimiter: limit must be at least 1")
        precondition(windowNanoseconds > 0, "RateLimiter: the window must be positive")
        precondition(
            reservedForOrders >= 0 && reservedForOrders < limit,
            "RateLimiter: reservedForOrders must leave queries at least one slot"
        )
        self.limit = limit
        self.windowNanoseconds = windowNanoseconds
        self.reservedForOrders = reservedForOrders
        self.clock = clock
        self.slots = (0..<limit).map(Slot.init)
    }

    /// The limiter for an app key of `environment`, at KIS's published rate.
    public convenience init(environment: Environment, clock: Clock) {
        self.init(limit: RateBudget.requestsPerSecond(environment), clock: clock)
    }

    /// How many slots have been granted since the start.
    public var grantCount: Int { self.ticket.load(ordering: .relaxed) }

    /// Takes a slot at `now` (this limiter's clock), or says how long until one may be free. Never blocks.
    ///
    /// Orders take the next ticket as soon as it is a window old. A query gets nothing while an order waits in
    /// `acquire`, and only when the next `reservedForOrders` tickets would be free too.
    /// - Complexity: O(1 + `reservedForOrders`) atomic loads and one compare-exchange, retried only when another
    ///   thread took the ticket first.
    public func tryAcquire(_ kind: RequestKind, now: Int64) -> Admission {
        let blocked = self.blockedUntil.load(ordering: .relaxed)
        guard now >= blocked else { return .wait(nanoseconds: blocked - now) }
        let ordersAhead = kind == .query ? self.waitingOrders.load(ordering: .relaxed) : 0
        let needed = kind == .query ? 1 + self.reservedForOrders : 1
        while true {
            let ticket = self.ticket.load(ordering: .relaxed)
            let wanted = ticket + ordersAhead..<ticket + ordersAhead + needed
            switch self.readiness(of: wanted, current: ticket, now: now) {
            case .stale:
                continue
            case .wait(let nanoseconds) where ordersAhead > 0:
                return .wait(nanoseconds: max(nanoseconds, RateBudget.yieldToOrdersNanoseconds))
            case .wait(let nanoseconds):
                return .wait(nanoseconds: nanoseconds)
            case .free where ordersAhead > 0:
                return .wait(nanoseconds: RateBudget.yieldToOrdersNanoseconds)
            case .free:
                guard self.ticket.compareExchange(expected: ticket, desired: ticket + 1, ordering: .relaxed).exchanged
                else { continue }
                let slot = self.slots[ticket % self.limit]
                slot.time.store(now, ordering: .relaxed)
                slot.sequence.store(ticket + self.limit, ordering: .releasing)
                return .granted
            }
        }
    }

    private enum Readiness {
        case free
        case wait(Int64)
        /// The counter moved past the ticket read: start over.
        case stale
    }

    /// Whether every ticket in `tickets` may be granted at `now`, given the counter stood at `current`.
    private func readiness(of tickets: Range<Int>, current: Int, now: Int64) -> Readiness {
        var freeAt = Int64.min
        for next in tickets {
            // Beyond the ring the ticket depends on grants not made yet, so it is at least a window away.
            guard next - current < self.limit else { return .wait(self.windowNanoseconds) }
            let slot = self.slots[next % self.limit]
            let sequence = slot.sequence.load(ordering: .acquiring)
            if sequence > next { return .stale }
            // Grant `next - limit` is taken but its time not yet written: nanoseconds away, ask again at once.
            if sequence < next { return .wait(0) }
            freeAt = max(freeAt, slot.time.load(ordering: .relaxed) + self.windowNanoseconds)
        }
        return freeAt <= now ? .free : .wait(freeAt - now)
    }

    /// Blocks on the clock until a slot is granted. An order announces itself while it waits, so no query can
    /// take the slot it is waiting for.
    /// - Returns: the clock time recorded for the grant.
    @discardableResult
    public func acquire(_ kind: RequestKind) -> Int64 {
        var announced = false
        defer {
            if announced { self.waitingOrders.subtract(1, ordering: .relaxed) }
        }
        while true {
            let now = self.clock.now()
            switch self.tryAcquire(kind, now: now) {
            case .granted:
                return now
            case .wait(let nanoseconds):
                if kind == .order, !announced {
                    self.waitingOrders.add(1, ordering: .relaxed)
                    announced = true
                }
                self.clock.sleep(nanoseconds: nanoseconds)
            }
        }
    }

    /// Grants nothing before `deadline` (this limiter's clock): KIS answered EGW00201, so its count of our requests
    /// is ahead of ours (another client on the same key, or clock skew). A later deadline extends the penalty; an
    /// earlier one never shortens it.
    public func penalize(until deadline: Int64) {
        self.blockedUntil.max(deadline, ordering: .relaxed)
    }

    /// `penalize(until:)` a second from now: KIS counts per second, so a second without requests empties its count.
    public func penalize() {
        self.penalize(until: self.clock.now() + 1_000_000_000)
    }
}

extension RateLimiter where Clock == MonotonicClock {
    /// A limiter on the monotonic clock, the one the client uses.
    public convenience init(
        limit: Int, windowNanoseconds: Int64 = RateBudget.defaultWindowNanoseconds, reservedForOrders: Int = 1
    ) {
        self.init(
            limit: limit, windowNanoseconds: windowNanoseconds, reservedForOrders: reservedForOrders,
            clock: MonotonicClock())
    }

    /// The limiter for an app key of `environment`, at KIS's published rate.
    public convenience init(environment: Environment) {
        self.init(environment: environment, clock: MonotonicClock())
    }
}

/// KIS's per-second request budgets (docs/kis-protocol.md §9).
public enum RateBudget {
    /// How long a query is told to wait when slots are free but an order is about to take one.
    static let yieldToOrdersNanoseconds: Int64 = 100_000

    /// KIS's published budgets: 20 requests a second per real app key, 2 per paper app key.
    public static func requestsPerSecond(_ environment: Environment) -> Int {
        switch environment {
        case .real: 20
        case .paper: 2
        }
    }

    /// KIS counts per second; 5 ms more absorbs the jitter between our clock and the moment KIS counts a request.
    public static let defaultWindowNanoseconds: Int64 = 1_005_000_000

}

/// One ring entry, a class because `Atomic` cannot live in an array; the limiter is called at most tens of times a
/// second, so the indirection costs nothing measurable.
private final class Slot: Sendable {
    let sequence: Atomic<Int>
    let time = Atomic<Int64>(.min)

    init(_ index: Int) {
        self.sequence = Atomic(index)
    }
}
