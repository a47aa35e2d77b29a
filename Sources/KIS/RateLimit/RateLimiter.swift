import Glibc
import Synchronization
public import TickCore

/// What a REST call is, for the rate limiter: orders first, then the reconciliation that keeps the order book true,
/// then every other query.
public enum RequestKind: Sendable, Hashable {
    case order
    /// Today's orders, asked to reconcile the order book or to find an order whose answer was lost, and the approval
    /// key a WebSocket session needs to (re)connect. Behind orders, but never starved by them: after waiting
    /// `RateLimiter.reconciliationPatienceNanoseconds` it takes the next slot whatever the strategy sends.
    case reconciliation
    case query
}

/// The rate limiter's answer to one request for a slot.
public enum Admission: Sendable, Hashable {
    case granted
    /// No slot yet; ask again after this many nanoseconds (0: another caller's grant is in flight, ask again at once).
    case wait(nanoseconds: Int64)
}

/// The REST request budget of one app key, shared by every thread and, through a file mapped into each, by every
/// kistick process on the machine that calls KIS with that key: no window of `windowNanoseconds` ever holds more
/// than `limit` grants. Lock-free, so the order path never waits on another caller, and a process killed at any
/// instruction leaves nothing the others have to wait for.
///
/// Grants are numbered. Grant `n` may happen only once grant `n - limit` is a full window old, so each residue
/// class of grant numbers modulo `limit` is a chain of grants spaced at least a window apart; a window holds at most
/// one grant of each chain, hence at most `limit` grants. Slot `n % limit` holds the newest grant of its chain as one
/// 64-bit word, so taking grant `n` is a single compare-exchange of that word from "grant n − limit at t₀" to "grant
/// n at now", and is all-or-nothing:
///
///     bit 63        56 55                                                   0
///     │ lap (8 bits)  │ grant time − epoch + 1, nanoseconds (0: never)       │
///     lap of grant g = (g / limit + 1) mod 256, so zeroed memory is "grant n − limit, never"
///
/// `next` is the number of the next grant, advanced by whoever took it or, if that caller died first, by the next
/// caller to see the slot already taken. Every grant below `next` has been taken, so the slot of a grant `m ≥ next`
/// holds grant `m − limit` or, when `next` is stale, grant `m` itself; the lap tells which (laps 256 apart never
/// meet: a slot's time only grows, so the word never repeats).
///
/// Priority between kinds is announced through deadlines in the block, never counts, so a caller that dies while
/// waiting costs the others at most the announcement's lifetime:
/// - an order that has to wait sets `ordersWaitUntil`, and until then queries and reconciliations leave it the next
///   grant (`reservedForOrders` more are left by queries in any case);
/// - a reconciliation that has waited `reconciliationPatienceNanoseconds` sets `claimUntil`, and until then orders and
///   queries leave it the next grant: the floor of the budget reconciliation always gets.
///
/// Generic over its clock, so the order path's clock read is a direct call, not an existential's.
public final class RateLimiter<Clock: NanoClock>: Sendable {
    public let limit: Int
    public let windowNanoseconds: Int64
    public let reservedForOrders: Int
    /// How long a reconciliation waits behind orders before it claims the next grant.
    public let reconciliationPatienceNanoseconds: Int64
    private let clock: Clock
    private let block: RateBlock

    /// A limiter of this process alone.
    /// - Parameters:
    ///   - limit: grants per window, 1 to `RateBlock.maximumLimit`.
    ///   - windowNanoseconds: the window's length, positive.
    ///   - reservedForOrders: slots a query must leave free, less than `limit`.
    ///   - clock: what `acquire` reads and sleeps on; a monotonic clock, so wall-clock steps cannot open the window.
    public convenience init(
        limit: Int,
        windowNanoseconds: Int64 = RateBudget.defaultWindowNanoseconds,
        reservedForOrders: Int = 1,
        clock: Clock
    ) {
        Self.check(limit: limit, windowNanoseconds: windowNanoseconds, reservedForOrders: reservedForOrders)
        self.init(
            block: RateBlock(limit: limit, windowNanoseconds: windowNanoseconds, epoch: clock.now()),
            reservedForOrders: reservedForOrders,
            clock: clock
        )
    }

    /// The limiter for an app key of `environment` in this process alone, at KIS's published rate.
    public convenience init(environment: Environment, clock: Clock) {
        self.init(limit: RateBudget.requestsPerSecond(environment), clock: clock)
    }

    init(block: RateBlock, reservedForOrders: Int, clock: Clock) {
        self.limit = block.limit
        self.windowNanoseconds = block.windowNanoseconds
        self.reservedForOrders = reservedForOrders
        self.reconciliationPatienceNanoseconds = block.windowNanoseconds
        self.clock = clock
        self.block = block
    }

    static func check(limit: Int, windowNanoseconds: Int64, reservedForOrders: Int) {
        precondition(
            limit >= 1 && limit <= RateBlock.maximumLimit,
            "RateLimiter: limit must be 1 to \(RateBlock.maximumLimit)"
        )
        precondition(windowNanoseconds > 0, "RateLimiter: the window must be positive")
        precondition(
            reservedForOrders >= 0 && reservedForOrders < limit,
            "RateLimiter: reservedForOrders must leave queries at least one slot"
        )
    }

    /// How many slots have been granted since the block was made (by every process sharing it).
    public var grantCount: Int { self.block.next() }

    /// Takes a slot at `now` (this limiter's clock), or says how long until one may be free. Never blocks, never
    /// allocates.
    ///
    /// - Complexity: O(1 + `reservedForOrders`) atomic loads and one compare-exchange, retried only when another
    ///   caller took the grant first.
    public func tryAcquire(_ kind: RequestKind, now: Int64) -> Admission {
        self.tryAcquire(kind, now: now, claiming: false)
    }

    /// - Parameter claiming: the caller is a reconciliation that has claimed the next grant.
    private func tryAcquire(_ kind: RequestKind, now: Int64, claiming: Bool) -> Admission {
        let block = self.block
        let blocked = block.deadline(.blocked)
        guard now >= blocked else { return .wait(nanoseconds: blocked - now) }
        let claimed = block.deadline(.claim) > now
        let ordersWaiting = block.deadline(.ordersWait) > now
        // Grants to leave to callers ahead of this one, and grants that must be free for it.
        let ahead: Int
        let needed: Int
        switch kind {
        case .order:
            (ahead, needed) = (claimed ? 1 : 0, 1)
        case .reconciliation:
            (ahead, needed) = (ordersWaiting && !claimed && !claiming ? 1 : 0, 1)
        case .query:
            (ahead, needed) = ((claimed ? 1 : 0) + (ordersWaiting ? 1 : 0), 1 + self.reservedForOrders)
        }
        while true {
            let next = block.next()
            switch self.readiness(of: next + ahead..<next + ahead + needed, next: next, now: now) {
            case .reread:
                continue
            case .stale:
                // The taker of `next` has not advanced it yet, or died before it could: advance it for them.
                block.advance(past: next)
                continue
            case .wait(let nanoseconds) where ahead > 0:
                return .wait(nanoseconds: max(nanoseconds, RateBudget.yieldNanoseconds))
            case .wait(let nanoseconds):
                return .wait(nanoseconds: nanoseconds)
            case .free where ahead > 0:
                return .wait(nanoseconds: RateBudget.yieldNanoseconds)
            case .free(let word):
                let taken = block.word(lap: RateBlock.lap(of: next, limit: self.limit), time: now)
                guard block.take(next % self.limit, expected: word, desired: taken) else { continue }
                block.advance(past: next)
                return .granted
            }
        }
    }

    private enum Readiness {
        /// Every grant asked for may be taken; the first one's slot holds `word`.
        case free(word: UInt64)
        case wait(Int64)
        /// Grant `next` is taken already though `next` has not moved past it.
        case stale
        /// `next` moved on while the slots were read.
        case reread
    }

    /// Whether every grant in `grants` may be taken at `now`, given `next` was read as the next grant.
    private func readiness(of grants: Range<Int>, next: Int, now: Int64) -> Readiness {
        var freeAt = Int64.min
        var first: UInt64 = 0
        for grant in grants {
            // Beyond the ring the grant depends on grants not made yet, so it is at least a window away.
            guard grant - next < self.limit else { return .wait(self.windowNanoseconds) }
            let word = self.block.slot(grant % self.limit)
            if grant == grants.lowerBound { first = word }
            let lap = RateBlock.lap(word)
            if lap == RateBlock.lap(of: grant, limit: self.limit) {
                // Grants are taken in order, so a grant past `next` taken means `next` has moved.
                return grant == next ? .stale : .reread
            }
            // Any other lap than the previous grant's of this chain: the ring moved on past the `next` read.
            guard lap == RateBlock.lap(of: grant - self.limit, limit: self.limit) else { return .reread }
            if let time = self.block.time(word) {
                freeAt = max(freeAt, time + self.windowNanoseconds)
            }
        }
        return freeAt <= now ? .free(word: first) : .wait(freeAt - now)
    }

    /// Blocks on the clock until a slot is granted. An order announces itself while it waits, so no query or
    /// reconciliation takes the slot it waits for; a reconciliation that has waited its patience claims the next
    /// slot, so no order takes it.
    /// - Returns: the clock time recorded for the grant.
    @discardableResult
    public func acquire(_ kind: RequestKind) -> Int64 {
        let block = self.block
        let started = self.clock.now()
        // The announcement this caller made, cleared once it is granted unless another waiter has extended it since
        // (that one clears its own).
        var announced: (deadline: RateBlock.Deadline, until: Int64)?
        while true {
            let now = self.clock.now()
            switch self.tryAcquire(kind, now: now, claiming: announced?.deadline == .claim) {
            case .granted:
                if let announced { block.clear(announced.deadline, ifStill: announced.until) }
                return now
            case .wait(let nanoseconds):
                // Each announcement outlives the wait by a margin for the waiter's wake-up, no more, so a waiter
                // that dies holds the others back at most that long.
                let until = now + nanoseconds + RateBudget.wakeMarginNanoseconds
                switch kind {
                case .order:
                    block.extend(.ordersWait, to: until)
                    announced = (.ordersWait, block.deadline(.ordersWait))
                case .reconciliation where now - started >= self.reconciliationPatienceNanoseconds:
                    block.extend(.claim, to: max(until, now + self.windowNanoseconds))
                    announced = (.claim, block.deadline(.claim))
                case .reconciliation, .query:
                    break
                }
                self.clock.sleep(nanoseconds: nanoseconds)
            }
        }
    }

    /// Grants nothing before `deadline` (this limiter's clock): KIS answered EGW00201, so its count of our requests
    /// is ahead of ours (another client on the same key, or clock skew). A later deadline extends the penalty; an
    /// earlier one never shortens it.
    public func penalize(until deadline: Int64) {
        self.block.extend(.blocked, to: deadline)
    }

    /// `penalize(until:)` a second from now: KIS counts per second, so a second without requests empties its count.
    public func penalize() {
        self.penalize(until: self.clock.now() + 1_000_000_000)
    }
}

extension RateLimiter where Clock == MonotonicClock {
    /// A limiter of this process alone, on the monotonic clock.
    public convenience init(
        limit: Int,
        windowNanoseconds: Int64 = RateBudget.defaultWindowNanoseconds,
        reservedForOrders: Int = 1
    ) {
        self.init(
            limit: limit,
            windowNanoseconds: windowNanoseconds,
            reservedForOrders: reservedForOrders,
            clock: MonotonicClock()
        )
    }

    /// The limiter for an app key of `environment` in this process alone, at KIS's published rate.
    public convenience init(environment: Environment) {
        self.init(environment: environment, clock: MonotonicClock())
    }

    /// The limiter every kistick process on this machine shares for one app key: its block lives in the file at
    /// `path`, mapped into each (`RateBlock.map`). `CLOCK_MONOTONIC` is one clock for every process of a boot, so
    /// their grant times compare.
    public convenience init(
        sharedAt path: String,
        limit: Int,
        windowNanoseconds: Int64 = RateBudget.defaultWindowNanoseconds,
        reservedForOrders: Int = 1
    ) throws(TokenCacheError) {
        Self.check(limit: limit, windowNanoseconds: windowNanoseconds, reservedForOrders: reservedForOrders)
        let clock = MonotonicClock()
        let block = try RateBlock.map(path: path, limit: limit, windowNanoseconds: windowNanoseconds, now: clock.now())
        self.init(block: block, reservedForOrders: reservedForOrders, clock: clock)
    }
}

/// KIS's per-second request budgets (docs/kis-protocol.md §9).
public enum RateBudget {
    /// How long a caller is told to wait when the grant it could take is left to a caller ahead of it.
    static let yieldNanoseconds: Int64 = 100_000

    /// How long a waiter's announcement outlives its wait: its wake-up on a loaded machine.
    static let wakeMarginNanoseconds: Int64 = 5_000_000

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
