import Candles
import Feed
import KIS
import Metrics
import Ring
import Synchronization
import TickCore

/// What the feed thread hands the candle stage, in arrival order. A gap mark travels in the same ring as the trades,
/// so it sits exactly between the last trade before a reconnect and the first one after it.
enum FeedRecord: BitwiseCopyable {
    /// A trade print, and when the feed thread finished decoding it (wall-clock ns).
    case trade(Tick, decoded: Int64)
    /// The code's stream came back after a reconnect; what was missed is gone.
    case gap(symbol: SymbolIndex)
}

/// The rings and tables the feed thread writes, shared with their consumers.
final class FeedRings: Sendable {
    /// Trades and gap marks → candle stage. Never blocks, never drops (overflow queue; `lost` only past it).
    let records: SpillingProducer<FeedRecord>
    /// Books → candle stage, latest per code: a book not yet read when the next one comes is replaced (counted).
    let books: ConflatingTable<Book>
    /// Decoded order and fill notices → strategy stage (the order state machine). Never blocks, never drops.
    let notices: SpillingProducer<Notice>
    /// Records of codes the engine did not subscribe to (another program's registration on a shared session).
    let foreign = Atomic<Int>(0)
    /// Set by the feed thread after a reconnect re-registered the notices: some may have been missed.
    let noticesMayHaveBeenMissed = Atomic<Bool>(false)
    /// Codes whose trade registration KIS acknowledged.
    let subscribedCodes = Atomic<Int>(0)
    /// The session's rare events, for the status notes; written by the feed thread, read by the control thread.
    let notes = Mutex<[String]>([])

    init(symbols: Int, capacity: Int) {
        self.records = SpillingProducer(ring: SPSCRing(capacity: capacity))
        self.books = ConflatingTable(capacity: symbols)
        self.notices = SpillingProducer(ring: SPSCRing(capacity: 1_024), overflowCapacity: 1 << 12)
    }

    func note(_ text: String) {
        self.notes.withLock { notes in
            notes.append(text)
            if notes.count > 5 { notes.removeFirst(notes.count - 5) }
        }
    }
}

/// The feed thread's sink: looks each record's code up once and routes it to its ring.
///
/// Each record is published as soon as it is decoded rather than once per socket read: a read can hold dozens of
/// records, and the first should not wait for the last to decode. The consumer still drains in batches, and
/// publishing is one releasing store.
///
/// - Complexity: per record, O(codes) for the lookup (a few integer compares) and O(1) for the ring; no allocation.
struct FeedRouter: FeedSink {
    let symbols: SymbolTable
    let rings: FeedRings

    mutating func trade(_ trade: Trade) {
        guard let symbol = self.symbols.index(of: trade.code) else {
            self.rings.foreign.add(1, ordering: .relaxed)
            return
        }
        self.rings.records.push(.trade(Tick(trade, symbol: symbol), decoded: WallClock().now()))
    }

    mutating func book(_ book: Book) {
        guard let symbol = self.symbols.index(of: book.code) else {
            self.rings.foreign.add(1, ordering: .relaxed)
            return
        }
        self.rings.books.write(book, at: symbol.offset)
    }

    mutating func notice(_ notice: Notice) {
        self.rings.notices.push(notice)
    }

    mutating func endOfBatch() {
        // Whatever waited in an overflow queue moves on as soon as the consumer has made room.
        self.rings.records.flush()
        self.rings.notices.flush()
    }
}

/// The feed thread's observer: gap marks into the trade ring, reconnects and refusals into the notes.
struct FeedWatcher: WebSocketObserver {
    let symbols: SymbolTable
    let rings: FeedRings

    mutating func event(_ event: WebSocketEvent) {
        switch event {
        case .gap(let code):
            if let symbol = self.symbols.index(of: code) {
                self.rings.records.push(.gap(symbol: symbol))
            }
        case .noticesMayHaveBeenMissed:
            self.rings.noticesMayHaveBeenMissed.store(true, ordering: .releasing)
        case .subscribed(let subscription) where subscription.tr == .h0stcnt0:
            self.rings.subscribedCodes.add(1, ordering: .relaxed)
        case .unsubscribed(let subscription) where subscription.tr == .h0stcnt0:
            self.rings.subscribedCodes.subtract(1, ordering: .relaxed)
        case .disconnected(.stopped):
            break
        case .disconnected(let reason):
            self.rings.subscribedCodes.store(0, ordering: .relaxed)
            self.rings.note("feed disconnected: \(reason)")
        case .subscribeFailed(let subscription, let error):
            self.rings.note("\(subscription): \(error)")
        case .serverError(let code, let message):
            self.rings.note("KIS \(code): \(message)")
        case .approvalKeyUnavailable(let error):
            self.rings.note("approval key: \(error)")
        default:
            break
        }
    }
}
