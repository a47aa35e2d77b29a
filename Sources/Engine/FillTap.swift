import Orders
import Ring
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

/// The fills the journal thread writes, passed on to one reader off the engine (the CLI's control loop, for
/// Telegram). The journal thread is the only producer and never waits: when the reader falls behind, a fill is
/// dropped from the tap (never from the journal) and counted.
final class FillTap: Sendable {
    private let ring = SPSCRing<FillReport>(capacity: 1_024)
    private let droppedCount = Atomic<Int>(0)

    /// Offers `fill` to the reader; the journal thread's only cost is one ring push.
    ///
    /// - Complexity: O(1), no allocation, no lock.
    func offer(_ fill: Fill) {
        let report = FillReport(
            code: fill.code, side: fill.side, quantity: fill.quantity, price: fill.price, localTs: fill.localTs)
        if !self.ring.tryPush(report) { self.droppedCount.add(1, ordering: .relaxed) }
    }

    /// Hands every waiting fill to `body`, oldest first; one reader thread at a time.
    func drain(_ body: (FillReport) -> Void) -> Int {
        self.ring.drain(max: 1_024, body)
    }

    /// Fills the reader never saw because the tap was full.
    var dropped: Int { self.droppedCount.load(ordering: .relaxed) }
}
