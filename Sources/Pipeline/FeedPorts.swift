public import Feed
public import Ring
public import Synchronization
public import TickCore

/// What the feed thread hands the market stage through the trade ring, in arrival order. A gap mark travels with
/// the ticks, so it sits exactly between the last print before a reconnect and the first one after it.
@usableFromInline
enum FeedRecord: BitwiseCopyable {
    case tick(Tick)
    /// The code's stream came back after a reconnect; what was missed is gone.
    case gap(SymbolIndex)
    /// A market-status message (halt, VI) of the code.
    case status(MarketStatus, SymbolIndex)
}

/// The rings and tables the feed threads write and the market stage reads: one lane per feed thread, since each
/// ring and table takes one producer. A live engine with several app keys has one WebSocket session, and so one
/// feed thread and one lane, per key; everything else has one lane.
///
/// Across lanes, the market stage takes each lane's batch in turn (`MarketStage.poll`). Each code is registered on
/// one session only, so a code's ticks, gaps and books stay in arrival order; ticks of codes on different lanes are
/// interleaved a batch at a time, which the market clock absorbs (it never runs backwards, and a trade stamped
/// ahead of it pulls it forward).
public final class FeedPorts: Sendable {
    @usableFromInline let lanes: [FeedLane]
    /// The market stage's wake-up, rung once per batch by every lane.
    @usableFromInline let doorbell: Doorbell
    /// One bit per symbol index: the code's stream came back after a reconnect and no book has come since. Set
    /// by the feed thread's gap mark, cleared by its next book of the code; the housekeeper asks KIS's REST
    /// snapshot for the codes still set a moment later (`takeBooksWanted`). Shared by the lanes: each code's bit
    /// is set and cleared by the one feed thread whose session holds the code, with atomic read-modify-writes.
    @usableFromInline let booksWanted = Atomic<UInt64>(0)

    init(symbols: Int, capacity: Int, lanes: Int, doorbell: Doorbell) {
        precondition(lanes >= 1, "a pipeline needs at least one feed lane")
        self.lanes = (0..<lanes).map { _ in FeedLane(symbols: symbols, capacity: capacity) }
        self.doorbell = doorbell
    }

    /// Books replaced before the market stage read them.
    public var booksConflated: Int { self.lanes.reduce(0) { $0 + $1.books.conflated } }
    /// Ticks and notices that waited in an overflow queue (delayed, not lost), and those lost past it.
    public var spilled: Int { self.lanes.reduce(0) { $0 + $1.records.spilled + $1.notices.spilled } }
    public var lost: Int { self.lanes.reduce(0) { $0 + $1.records.lost + $1.notices.lost } }
    public var foreign: Int { self.lanes.reduce(0) { $0 + $1.foreignCount.load(ordering: .relaxed) } }

    /// Codes whose book has not come back since their stream's gap, taken: the caller owes each a snapshot.
    public func takeBooksWanted() -> [SymbolIndex] {
        var wanted = self.booksWanted.exchange(0, ordering: .acquiring)
        var symbols: [SymbolIndex] = []
        while wanted != 0 {
            symbols.append(SymbolIndex(wanted.trailingZeroBitCount))
            wanted &= wanted - 1
        }
        return symbols
    }

    /// Whether a code is waiting for its book after a gap, from any thread.
    public var booksAreWanted: Bool { self.booksWanted.load(ordering: .relaxed) != 0 }
    /// Whether the market stage has taken everything published so far (books included).
    public var isDrained: Bool { self.lanes.allSatisfy(\.isDrained) }
}

/// What one feed thread hands the market stage.
public final class FeedLane: Sendable {
    /// Ticks and gap marks. Never blocks, never drops (overflow queue; `lost` only past it).
    @usableFromInline let records: SpillingProducer<FeedRecord>
    /// Books, latest per code and venue (slot `bookSlot`): a book not yet read when the next one of its code and
    /// venue comes is replaced (counted), never queued, so a book costs the market stage one copy out of the table
    /// however many came, and a KRX book never hides an NXT one.
    @usableFromInline let books: ConflatingTable<Book>
    /// Decoded order and fill notices, for the broker. Never blocks, never drops.
    @usableFromInline let notices: SpillingProducer<Notice>
    /// Records of codes outside the symbol table (another program's registration on a shared session), skipped.
    @usableFromInline let foreignCount = Atomic<Int>(0)

    init(symbols: Int, capacity: Int) {
        self.records = SpillingProducer(ring: SPSCRing(capacity: capacity))
        self.books = ConflatingTable(capacity: symbols * Self.venues)
        self.notices = SpillingProducer(ring: SPSCRing(capacity: 1_024), overflowCapacity: 1 << 12)
    }

    /// Book slots per code: KRX, NXT, combined.
    @usableFromInline static let venues = 3

    @inlinable
    static func bookSlot(_ symbol: SymbolIndex, _ venue: Venue) -> Int {
        Self.venues * symbol.offset + Int(venue.rawValue) - 1
    }

    /// Whether anything published waits for the market stage.
    var hasWork: Bool {
        self.records.ring.approximateCount > 0 || self.books.written != self.books.delivered + self.books.conflated
            || self.notices.ring.approximateCount > 0
    }

    var isDrained: Bool {
        self.records.backlog == 0 && !self.hasWork && self.notices.backlog == 0
    }
}

/// A feed thread's sink: looks each record's code up once, stages it in the thread's lane for the market stage, and
/// at the end of each socket read (or capture message) publishes the batch with one store per ring and rings the
/// market stage's doorbell once.
///
/// - Complexity: per record, O(codes) for the lookup (a few integer compares) and O(1) for the ring; no allocation.
public struct FeedRouter: FeedSink, Sendable {
    public let symbols: SymbolTable
    @usableFromInline let ports: FeedPorts
    @usableFromInline let lane: FeedLane

    init(symbols: SymbolTable, ports: FeedPorts, lane: Int) {
        self.symbols = symbols
        self.ports = ports
        self.lane = ports.lanes[lane]
    }

    @inlinable
    public mutating func trade(_ trade: Trade) {
        guard let symbol = self.symbols.index(of: trade.code) else {
            self.lane.foreignCount.add(1, ordering: .relaxed)
            return
        }
        self.lane.records.stage(.tick(Tick(trade, symbol: symbol)))
    }

    @inlinable
    public mutating func book(_ book: Book) {
        guard let symbol = self.symbols.index(of: book.code) else {
            self.lane.foreignCount.add(1, ordering: .relaxed)
            return
        }
        self.lane.books.write(book, at: FeedLane.bookSlot(symbol, book.venue))
        // A load of a line nobody writes between reconnects; the read-modify-write only after a gap.
        let bit: UInt64 = 1 << UInt64(symbol.offset)
        if self.ports.booksWanted.load(ordering: .relaxed) & bit != 0 {
            self.ports.booksWanted.bitwiseAnd(~bit, ordering: .relaxed)
        }
    }

    @inlinable
    public mutating func marketStatus(_ status: MarketStatus) {
        guard let symbol = self.symbols.index(of: status.code) else {
            self.lane.foreignCount.add(1, ordering: .relaxed)
            return
        }
        self.lane.records.stage(.status(status, symbol))
    }

    @inlinable
    public mutating func notice(_ notice: Notice) {
        self.lane.notices.stage(notice)
    }

    /// Publishes what was staged (and whatever waited in an overflow queue, once the consumer made room) and wakes
    /// the market stage if it sleeps.
    @inlinable
    public mutating func endOfBatch() {
        self.lane.records.publish()
        self.lane.notices.publish()
        self.ports.doorbell.ring()
    }

    /// The stream of `code` came back after a reconnect: its bars in progress close flagged `gap`, and its book
    /// is not trusted until a new one comes (the feed's or a REST snapshot). Staged like a record; the next
    /// `endOfBatch` publishes it. Codes outside the table are ignored.
    public mutating func markGap(_ code: SymbolCode) {
        guard let symbol = self.symbols.index(of: code) else { return }
        self.lane.records.stage(.gap(symbol))
        self.ports.booksWanted.bitwiseOr(1 << UInt64(symbol.offset), ordering: .relaxed)
    }

    /// Every code's stream was cut (a recorded disconnect, replayed).
    public mutating func markGapEverywhere() {
        for code in self.symbols.codes { self.markGap(code) }
    }
}
