/// The engine's own name for an order, assigned when a strategy decides, before KIS has given it an ODNO.
public struct OrderID: Hashable, Comparable, BitwiseCopyable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static func < (lhs: OrderID, rhs: OrderID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "#\(self.rawValue)" }
}

/// What a strategy asks for. Risk checks it, the order state machine tracks it, the dispatcher sends it.
///
/// One cache line, no references, so it crosses the strategy → dispatcher ring as plain bytes.
public struct OrderIntent: BitwiseCopyable, Sendable, Equatable {
    public enum Action: UInt8, BitwiseCopyable, Sendable {
        case new
        /// Change `target`'s price (and quantity, if `quantity` > 0 and below what remains).
        case modify
        /// Cancel what remains of `target`.
        case cancel
    }

    /// Why the order exists, which decides what risk lets through when limits are hit: a daily-loss stop or the
    /// kill switch blocks entries but never an exit that reduces a position.
    public enum Purpose: UInt8, BitwiseCopyable, Sendable {
        case entry
        case exit
        /// Sent by the kill switch to close a position at any price.
        case flatten
    }

    /// Decision time on the engine clock, nanoseconds; the start of the decision → order latency.
    public var decidedAt: Int64 = 0
    public var id: OrderID
    /// The order a modify or cancel refers to; equal to `id` for a new order.
    public var target: OrderID
    public var code: SymbolCode
    /// Shares.
    public var quantity: Int32
    /// Whole KRW; 0 is a market order.
    public var price: Int32
    public var side: OrderSide
    public var action: Action
    public var purpose: Purpose
    /// The strategy asked for an order during a call auction (pre-open 08:30–09:00, closing 15:20–15:30), which
    /// risk otherwise refuses.
    public var auction: Bool = false
    /// Where the order goes (EXCG_ID_DVSN_CD). A new order's is set by the broker from the venue setting; a modify
    /// or cancel goes where its target went.
    public var route: OrderRoute = .krx

    @inlinable
    public init(
        id: OrderID,
        code: SymbolCode,
        side: OrderSide,
        quantity: Int32,
        price: Int32,
        purpose: Purpose,
        action: Action = .new,
        target: OrderID? = nil,
        decidedAt: Int64 = 0
    ) {
        self.id = id
        self.target = target ?? id
        self.code = code
        self.side = side
        self.quantity = quantity
        self.price = price
        self.action = action
        self.purpose = purpose
        self.decidedAt = decidedAt
    }

    @inlinable
    public var isMarket: Bool { self.price == 0 }
}
