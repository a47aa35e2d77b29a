import Feed
import Orders
import Pipeline
import TickCore

/// Latencies of the simulated order path, in replay-time nanoseconds (the capture's receive-time axis).
public struct ReplayLatency: Sendable, Equatable {
    /// From the strategy's decision to the order reaching the exchange, where it matches the book of that moment.
    public var entry: Int64
    /// From the exchange back to the engine: the REST answer and every notice.
    public var ack: Int64

    public init(entry: Int64 = 1_000_000, ack: Int64 = 1_000_000) {
        self.entry = entry
        self.ack = ack
    }
}

/// What the simulated exchange hands the engine, and when.
enum ExchangeOutput: BitwiseCopyable {
    /// An order event, as the dispatcher would report it.
    case event(OrderEvent)
    /// An order or fill notice, as the feed would decode it.
    case notice(Notice)
    /// An order reaching the exchange (internal: the exchange acts on it then).
    case arrive(OrderDispatch)
}

/// The simulated broker and exchange of a replay: orders match the recorded market, never move it.
///
/// A buy at or above the recorded best ask takes the recorded asks level by level up to its limit (a sell the bids),
/// and what is left rests. A resting buy fills when a recorded trade prints below its limit, or a recorded book
/// offers at or below it (a sell: above, at or above); at equal prices the queue ahead is unknown, so it waits.
/// A trade fills at most its own volume. Cancels take what still rests; a cancel of an order with nothing left, or
/// of one the exchange never numbered, is refused, as KIS refuses it. Modifies are refused (the scalper never
/// modifies; a replay that needs them must add the KIS renumbering here).
///
/// Everything it does is scheduled on replay time with `ReplayLatency`, in a queue ordered by time and then by
/// arrival, so one file and one setting always give the same sequence.
struct ReplayExchange {
    private let symbols: SymbolTable
    private let latency: ReplayLatency
    /// The last recorded book of each code.
    private var books: [Book]
    private var resting: [Resting] = []
    private var queue: [Scheduled] = []
    private var sequence: UInt64 = 0
    private var nextNumber: UInt64 = 1
    /// Replay time of the record being matched, and its exchange second (stamped on notices).
    private var now: Int64 = 0
    private var exchangeTime: UInt32 = 0

    struct Resting {
        var id: OrderID
        var number: UInt64
        var code: SymbolCode
        var symbol: SymbolIndex
        var side: OrderSide
        var price: Int32
        var quantity: Int32
        var remaining: Int32
    }

    struct Scheduled {
        var at: Int64
        var sequence: UInt64
        var output: ExchangeOutput
    }

    init(symbols: SymbolTable, latency: ReplayLatency) {
        self.symbols = symbols
        self.latency = latency
        self.books = Array(repeating: Book(), count: symbols.count)
        self.resting.reserveCapacity(256)
        self.queue.reserveCapacity(1_024)
    }

    /// When the next scheduled output is due, if any.
    var nextDue: Int64? { self.queue.first?.at }

    /// Orders still resting on the exchange.
    var restingCount: Int { self.resting.count }

    /// Takes the next output due at or before `time`.
    /// - Complexity: O(queue) for the removal; a scalper keeps a few in flight.
    mutating func next(dueBy time: Int64) -> (at: Int64, output: ExchangeOutput)? {
        guard let first = self.queue.first, first.at <= time else { return nil }
        self.queue.removeFirst()
        return (first.at, first.output)
    }

    /// The engine sent `dispatch` at `time`: it is written at once and reaches the exchange after the entry latency.
    mutating func send(_ dispatch: OrderDispatch, at time: Int64) {
        self.schedule(.event(.written(dispatch.intent.id, at: time)), at: time)
        self.schedule(.arrive(dispatch), at: time &+ self.latency.entry)
    }

    /// An order reaches the exchange at `time`: it is answered, matched against the recorded book, and rests.
    mutating func arrive(_ dispatch: OrderDispatch, at time: Int64) {
        self.now = time
        let intent = dispatch.intent
        let answer = time &+ self.latency.ack
        switch intent.action {
        case .new:
            guard let symbol = self.symbols.index(of: intent.code), intent.quantity > 0 else {
                self.schedule(.event(.refused(intent.id, messageCode: PackedASCII(ascii: "APBK0001"))), at: answer)
                return
            }
            let number = self.number()
            self.schedule(
                .event(.acknowledged(intent.id, orderNumber: number, organization: 1)),
                at: answer
            )
            self.resting.append(
                Resting(
                    id: intent.id,
                    number: number,
                    code: intent.code,
                    symbol: symbol,
                    side: intent.side,
                    price: intent.price,
                    quantity: intent.quantity,
                    remaining: intent.quantity
                )
            )
            self.matchBook(self.resting.count - 1)
            self.removeFilled()
        case .cancel:
            guard let r = self.resting.firstIndex(where: { $0.number == dispatch.targetOrderNumber }) else {
                self.schedule(.event(.refused(intent.id, messageCode: PackedASCII(ascii: "APBK0918"))), at: answer)
                return
            }
            let order = self.resting.remove(at: r)
            let number = self.number()
            self.schedule(
                .event(.acknowledged(intent.id, orderNumber: number, organization: 1)),
                at: answer
            )
            var notice = self.notice(of: order, quantity: order.remaining, price: order.price, fill: false)
            notice.orderNumber = number
            notice.originalOrderNumber = order.number
            notice.amendCode = 2
            self.schedule(.notice(notice), at: answer)
        case .modify:
            self.schedule(.event(.refused(intent.id, messageCode: PackedASCII(ascii: "NOMODIFY"))), at: answer)
        }
    }

    /// A recorded trade: resting orders it crossed fill at their limits, up to its volume.
    /// - Complexity: O(resting); no allocation.
    mutating func trade(_ trade: Trade, at time: Int64) {
        self.now = time
        self.exchangeTime = max(self.exchangeTime, trade.exchangeTime)
        var volume = Int32(clamping: trade.volume)
        let price = Int32(clamping: trade.price)
        for r in self.resting.indices where volume > 0 && self.resting[r].code == trade.code {
            let order = self.resting[r]
            let crossed = order.side == .buy ? price < order.price : price > order.price
            guard crossed, order.price > 0 else { continue }
            let quantity = min(order.remaining, volume)
            volume -= quantity
            self.fill(r, quantity: quantity, price: order.price)
        }
        self.removeFilled()
    }

    /// A recorded book: it replaces the code's book, and resting orders it now crosses take it.
    mutating func book(_ book: Book, at time: Int64) {
        guard let symbol = self.symbols.index(of: book.code) else { return }
        self.now = time
        self.exchangeTime = max(self.exchangeTime, book.exchangeTime)
        self.books[symbol.offset] = book
        for r in self.resting.indices where self.resting[r].symbol == symbol { self.matchBook(r) }
        self.removeFilled()
    }

    /// Fills order `r` against its code's recorded book, best level first, up to its limit (0: any price).
    private mutating func matchBook(_ r: Int) {
        let order = self.resting[r]
        let book = self.books[order.symbol.offset]
        for level in 0..<10 where self.resting[r].remaining > 0 {
            let price = order.side == .buy ? book.askPrices[level] : book.bidPrices[level]
            let available = order.side == .buy ? book.askQuantities[level] : book.bidQuantities[level]
            guard price > 0, available > 0 else { break }
            let marketable = order.price == 0 || (order.side == .buy ? price <= order.price : price >= order.price)
            guard marketable else { break }
            self.fill(r, quantity: min(self.resting[r].remaining, available), price: price)
        }
    }

    private mutating func fill(_ r: Int, quantity: Int32, price: Int32) {
        self.resting[r].remaining -= quantity
        self.schedule(
            .notice(self.notice(of: self.resting[r], quantity: quantity, price: price, fill: true)),
            at: self.now &+ self.latency.ack
        )
    }

    private mutating func removeFilled() {
        self.resting.removeAll { $0.remaining == 0 }
    }

    private func notice(of order: Resting, quantity: Int32, price: Int32, fill: Bool) -> Notice {
        var notice = Notice()
        notice.localTs = self.now &+ self.latency.ack
        notice.code = order.code
        notice.orderNumber = order.number
        notice.quantity = quantity
        notice.price = price
        notice.orderQuantity = order.quantity
        notice.orderPrice = order.price
        notice.exchangeTime = self.exchangeTime
        notice.branch = 1
        notice.sideCode = order.side.rawValue
        notice.isFill = fill
        notice.acceptCode = 2
        notice.exchangeCode = 1
        return notice
    }

    private mutating func number() -> UInt64 {
        defer { self.nextNumber += 1 }
        return self.nextNumber
    }

    /// Inserts in (time, arrival) order.
    private mutating func schedule(_ output: ExchangeOutput, at time: Int64) {
        self.sequence += 1
        let item = Scheduled(at: time, sequence: self.sequence, output: output)
        let index = self.queue.lastIndex { $0.at <= time }.map { $0 + 1 } ?? 0
        self.queue.insert(item, at: index)
    }
}
