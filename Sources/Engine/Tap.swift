import Orders
import Synchronization
public import TickCore

/// A fill as an operator sees it (Telegram's notification, the live page): the code, the side, the shares and the
/// price.
public struct FillReport: BitwiseCopyable, Sendable, Equatable, Encodable {
    public var code: SymbolCode
    public var side: OrderSide
    public var quantity: Int32
    /// KRW per share.
    public var price: Int32
    /// When the engine learnt of it, Unix nanoseconds.
    public var localTs: Int64
    /// When the exchange filled it (market time, which an accelerated simulator runs ahead of the wall), Unix
    /// seconds; 0 when unknown (a fill found by reconciliation).
    public var exchangeTime: UInt32
    /// KIS's number of the order it filled (ODNO), and the venue that executed it (`Fill.venue`).
    public var orderNumber: UInt64
    public var venue: Venue

    public init(
        code: SymbolCode,
        side: OrderSide,
        quantity: Int32,
        price: Int32,
        localTs: Int64,
        exchangeTime: UInt32 = 0,
        orderNumber: UInt64 = 0,
        venue: Venue = .krx
    ) {
        self.code = code
        self.side = side
        self.quantity = quantity
        self.price = price
        self.localTs = localTs
        self.exchangeTime = exchangeTime
        self.orderNumber = orderNumber
        self.venue = venue
    }

    private enum CodingKeys: String, CodingKey {
        case code, side, quantity, price, localTs, exchangeTime
    }

    /// As the page reads it: the code as text, the side as `buy` or `sell`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.code.description, forKey: .code)
        try container.encode(self.side == .buy ? "buy" : "sell", forKey: .side)
        try container.encode(self.quantity, forKey: .quantity)
        try container.encode(self.price, forKey: .price)
        try container.encode(self.localTs, forKey: .localTs)
        try container.encode(self.exchangeTime, forKey: .exchangeTime)
    }
}

extension FillReport {
    init(_ fill: Fill) {
        self.init(
            code: fill.code,
            side: fill.side,
            quantity: fill.quantity,
            price: fill.price,
            localTs: fill.localTs,
            exchangeTime: fill.exchangeTime,
            orderNumber: fill.orderNumber,
            venue: fill.venue
        )
    }
}

/// What the journal thread passes on to a reader off the engine (the CLI's control loop, for Telegram and the live
/// page): the fills it writes, the bars the market stage completed. The journal thread never waits for the reader:
/// when it falls `capacity` behind, a report is dropped from the tap (never from the journal) and counted. A lock
/// rather than an SPSC ring because the reader is an async loop that may resume on any thread; the journal thread
/// takes it once per report, never per tick, and appends within the reserved capacity, so it does not allocate.
final class Tap<Report: BitwiseCopyable & Sendable>: Sendable {
    static var capacity: Int { 1_024 }
    private let pending = Mutex<[Report]>([])
    private let droppedCount = Atomic<Int>(0)

    init() {
        self.pending.withLock { $0.reserveCapacity(Self.capacity) }
    }

    /// Offers `report` to the reader.
    ///
    /// - Complexity: O(1), an uncontended lock, no allocation.
    func offer(_ report: Report) {
        let kept = self.pending.withLock { pending in
            guard pending.count < Self.capacity else { return false }
            pending.append(report)
            return true
        }
        if !kept { self.droppedCount.add(1, ordering: .relaxed) }
    }

    /// Hands every waiting report to `body`, oldest first.
    /// - Returns: how many.
    func drain(_ body: (Report) -> Void) -> Int {
        var taken: [Report] = []
        taken.reserveCapacity(Self.capacity)
        // Swapped out, so the journal thread keeps appending to reserved room and `body` runs outside the lock.
        self.pending.withLock { swap(&$0, &taken) }
        for report in taken { body(report) }
        return taken.count
    }

    /// Reports the reader never saw because the tap was full.
    var dropped: Int { self.droppedCount.load(ordering: .relaxed) }
}
