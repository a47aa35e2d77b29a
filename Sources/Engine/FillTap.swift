import Orders
import Synchronization
public import TickCore

/// A fill as an operator sees it (Telegram's notification): the code, the side, the shares and the price.
public struct FillReport: BitwiseCopyable, Sendable, Equatable {
    public var code: SymbolCode
    public var side: OrderSide
    public var quantity: Int32
    /// KRW per share.
    public var price: Int32
    /// When the engine learnt of it, Unix nanoseconds.
    public var localTs: Int64

    public init(code: SymbolCode, side: OrderSide, quantity: Int32, price: Int32, localTs: Int64) {
        self.code = code
        self.side = side
        self.quantity = quantity
        self.price = price
        self.localTs = localTs
    }
}

/// The fills the journal thread writes, passed on to a reader off the engine (the CLI's control loop, for
/// Telegram). The journal thread never waits for the reader: when it falls `capacity` behind, a fill is dropped from
/// the tap (never from the journal) and counted. A lock rather than an SPSC ring because the reader is an async
/// loop that may resume on any thread; the journal thread takes it once per fill, never per tick, and appends
/// within the reserved capacity, so it does not allocate.
final class FillTap: Sendable {
    static let capacity = 1_024
    private let pending = Mutex<[FillReport]>([])
    private let droppedCount = Atomic<Int>(0)

    init() {
        self.pending.withLock { $0.reserveCapacity(Self.capacity) }
    }

    /// Offers `fill` to the reader.
    ///
    /// - Complexity: O(1), an uncontended lock, no allocation.
    func offer(_ fill: Fill) {
        let report = FillReport(
            code: fill.code,
            side: fill.side,
            quantity: fill.quantity,
            price: fill.price,
            localTs: fill.localTs
        )
        let kept = self.pending.withLock { pending in
            guard pending.count < Self.capacity else { return false }
            pending.append(report)
            return true
        }
        if !kept { self.droppedCount.add(1, ordering: .relaxed) }
    }

    /// Hands every waiting fill to `body`, oldest first.
    /// - Returns: how many.
    func drain(_ body: (FillReport) -> Void) -> Int {
        var taken: [FillReport] = []
        taken.reserveCapacity(Self.capacity)
        // Swapped out, so the journal thread keeps appending to reserved room and `body` runs outside the lock.
        self.pending.withLock { swap(&$0, &taken) }
        for fill in taken { body(fill) }
        return taken.count
    }

    /// Fills the reader never saw because the tap was full.
    var dropped: Int { self.droppedCount.load(ordering: .relaxed) }
}
