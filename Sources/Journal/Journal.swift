import GRDB
public import Orders
public import TickCore

/// The SQLite journal of orders (intent, every state change with its ODNO), fills, and position snapshots. WAL
/// mode. One file holds every day of an account (the default path is per environment and account), and each row
/// carries the KIS trading day it belongs to: an engine recovers its own day only, since KIS numbers orders anew
/// each day and yesterday's order 1 is not today's. Positions carried overnight keep their shares and cost; the
/// broker's balance puts them right through `Reconciler`.
///
/// Two writers share the file, each on its own connection and thread:
/// - the journal thread owns `Journal`: it `append`s what the engine hands it through a ring and `flush`es once
///   per drain, one transaction per batch, `synchronous = NORMAL` (a commit survives the process being killed;
///   the OS's crash can lose the last batches, which reconciliation with KIS restores);
/// - the dispatcher owns a `PendingRecorder` (`pendingRecorder()`), whose `recordPending` commits each intent
///   (by default with `synchronous = FULL`, an fsync) before the order is sent. That is the write-ahead rule: an
///   order KIS may have was journaled first, so after any crash it is looked up at KIS, never sent again.
///
/// Thread-confined; not for the hot path (it allocates and does I/O).
public final class Journal {
    public let path: String
    /// The KIS trading day (KST `YYYYMMDD`) this journal writes and recovers: the day whose orders KIS lists.
    public let day: UInt32
    private let queue: DatabaseQueue
    private var buffer: [JournalEvent] = []

    private init(path: String, day: UInt32, queue: DatabaseQueue) {
        self.path = path
        self.day = day
        self.queue = queue
        self.buffer.reserveCapacity(1_024)
    }

    /// Opens (creating if needed, and bringing a journal of an earlier version to this one's schema) the journal at
    /// `path`, to write and recover `day`.
    public static func open(_ path: String, day: UInt32) throws(JournalError) -> Journal {
        do {
            var configuration = Configuration()
            configuration.journalMode = .wal
            configuration.busyMode = .timeout(5)
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.write { db in try Schema.migrate(db) }
            return Journal(path: path, day: day, queue: queue)
        } catch {
            throw JournalError("open \(path)", error)
        }
    }

    /// Takes one event; nothing is written until `flush`.
    /// - Complexity: O(1) amortised; allocates only past the batch it has grown to.
    public func append(_ event: JournalEvent) {
        self.buffer.append(event)
    }

    /// Takes what reconciliation found and corrected: every order as it now stands, the fills KIS reported that
    /// the journal lacked, then every position (after the fills, so recovery does not replay them twice).
    public func append(_ reconciliation: Reconciliation, at: Int64) {
        for order in reconciliation.state.orders { self.append(.order(order, at: at)) }
        for fill in reconciliation.fills { self.append(.fill(fill)) }
        for position in reconciliation.state.positions { self.append(.position(position, at: at)) }
    }

    /// Events taken and not yet written.
    public var bufferedCount: Int { self.buffer.count }

    /// Writes every appended event in one transaction. On failure they stay buffered for the next flush.
    public func flush() throws(JournalError) {
        guard !self.buffer.isEmpty else { return }
        do {
            try self.queue.inTransaction(.immediate) { db in
                for event in self.buffer { try Schema.write(event, day: self.day, db) }
                return .commit
            }
        } catch {
            throw JournalError("flush", error)
        }
        self.buffer.removeAll(keepingCapacity: true)
    }

    /// A second connection for the dispatcher thread, which journals each intent durably before sending it.
    public func pendingRecorder(
        durability: PendingRecorder.Durability = .powerLoss
    ) throws(JournalError)
        -> PendingRecorder
    {
        try PendingRecorder(path: self.path, day: self.day, durability: durability)
    }

    /// `day` as the journal last saw it: every order of that day and no other (those journaled as pending but
    /// without an ODNO come back `unknown` and flagged: KIS may have them, so they are looked up, never resent;
    /// those never journaled as pending come back `notPlaced`), and positions from their last snapshot plus the
    /// fills of the day after it. A position last snapshotted on an earlier day keeps its shares and cost, and
    /// starts the day's totals (realised, fees, taxes, turnover) from zero. `nextOrderID` is past every id of
    /// every day, so no id is used twice in the file.
    public func recover(costs: Costs = Costs()) throws(JournalError) -> RecoveredState {
        do {
            return try self.queue.read { db in try Schema.recover(db, day: self.day, costs: costs) }
        } catch {
            throw JournalError("recover", error)
        }
    }
}

@available(*, unavailable)
extension Journal: Sendable {}

/// The dispatcher's connection to the journal: one durable commit per intent, before it is sent.
///
/// It never checkpoints (the journal thread does), so the dispatcher does not pay for copying the WAL back. It
/// shares SQLite's one write lock with the journal thread, so a commit can wait for a journal batch in progress
/// (a few hundred microseconds).
public final class PendingRecorder {
    /// What an intent recorded by `recordPending` survives.
    public enum Durability: Sendable {
        /// A power cut or an OS crash: each commit fsyncs the WAL (`synchronous = FULL`). Measured on this VM's
        /// disk (`journal-speed`): 340–435 µs p50, 1–2.5 ms p99 per call, nearly all of it the fsync.
        case powerLoss
        /// The process being killed, not the machine going down: the commit reaches the OS's page cache only
        /// (`synchronous = NORMAL`): 15 µs p50, 42 µs p99 on the same disk. After an OS crash an order may be at
        /// KIS that the journal does not list; reconciliation then adopts it as an unknown open order (and the
        /// balance shows its fills), so it is still never sent twice.
        case processCrash
    }

    private let queue: DatabaseQueue
    private let day: UInt32

    fileprivate init(path: String, day: UInt32, durability: Durability) throws(JournalError) {
        self.day = day
        do {
            var configuration = Configuration()
            configuration.journalMode = .wal
            configuration.busyMode = .timeout(5)
            self.queue = try DatabaseQueue(path: path, configuration: configuration)
            let synchronous = durability == .powerLoss ? "FULL" : "NORMAL"
            try self.queue.inDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = \(synchronous); PRAGMA wal_autocheckpoint = 0;")
            }
        } catch {
            throw JournalError("open the pending recorder", error)
        }
    }

    /// Journals `intent` as pending and returns once it is on disk. Call on the dispatcher thread just before the
    /// request is written; if it throws, do not send (and report the intent refused).
    /// - Parameter at: the engine clock, nanoseconds.
    public func recordPending(_ intent: OrderIntent, at: Int64) throws(JournalError) {
        do {
            try self.queue.inTransaction(.immediate) { db in
                try db.cachedStatement(sql: Schema.pending).execute(
                    arguments: Schema.pendingArguments(intent, day: self.day, at: at)
                )
                return .commit
            }
        } catch {
            throw JournalError("record pending \(intent.id)", error)
        }
    }
}

@available(*, unavailable)
extension PendingRecorder: Sendable {}

/// What `Journal.recover` found.
public struct RecoveredState: Sendable, Equatable {
    /// Every order of the day, by id.
    public var orders: [OrderSnapshot]
    /// Every symbol traded or held, as of the last fill journaled.
    public var positions: [Position]
    public var totals: DayTotals
    /// The first id not used by any journaled order: the engine continues from it.
    public var nextOrderID: OrderID

    public init(orders: [OrderSnapshot], positions: [Position], totals: DayTotals, nextOrderID: OrderID) {
        self.orders = orders
        self.positions = positions
        self.totals = totals
        self.nextOrderID = nextOrderID
    }

    /// The book and positions the engine starts from: every order (terminal ones too, so late notices still find
    /// theirs) and every position.
    /// - Throws: `OrderRefusal.full` or `PositionsRefusal.full` when a capacity is below what the day holds.
    public func rebuild(
        orderCapacity: Int,
        positionCapacity: Int,
        account: UInt64 = 0,
        costs: Costs = Costs()
    ) throws -> (book: OrderBook, positions: Positions) {
        var book = OrderBook(capacity: orderCapacity, account: account)
        for order in self.orders { try book.restore(order) }
        var positions = Positions(capacity: positionCapacity, costs: costs)
        for position in self.positions { try positions.restore(position) }
        return (book, positions)
    }
}
