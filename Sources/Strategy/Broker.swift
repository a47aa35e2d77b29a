public import TickCore

/// The engine's time source. Strategies read time only from it: live it is the wall clock, in replay and
/// simulation it is the time of the event being replayed, in tests a value the test sets.
///
/// Named so as not to shadow Swift's `Clock`.
public protocol EngineClock {
    /// Nanoseconds since the Unix epoch.
    var now: Int64 { get }
}

/// The answer to a submit or cancel: whether it went on its way. Risk checks sit inside the broker; a strategy
/// only learns that it was refused.
public enum SubmitResult: UInt8, BitwiseCopyable, Sendable, Equatable {
    case accepted
    case refused
}

/// The working (submitted, not yet filled, cancelled or rejected) orders of one code.
public struct OpenOrders: BitwiseCopyable, Sendable, Equatable {
    public var buyOrders: Int32
    public var sellOrders: Int32
    /// Shares still to fill on each side.
    public var buyQuantity: Int32
    public var sellQuantity: Int32

    @inlinable
    public init(buyOrders: Int32 = 0, sellOrders: Int32 = 0, buyQuantity: Int32 = 0, sellQuantity: Int32 = 0) {
        self.buyOrders = buyOrders
        self.sellOrders = sellOrders
        self.buyQuantity = buyQuantity
        self.sellQuantity = sellQuantity
    }

    @inlinable
    public var isEmpty: Bool { self.buyOrders == 0 && self.sellOrders == 0 }
}

/// Where a strategy's orders go (hftbacktest's `Bot`): live, the risk gate in front of the dispatcher ring; in
/// simulation and replay, a matching model. Strategies are generic over it, never `any Broker`.
public protocol Broker {
    /// A fresh id for the next order.
    mutating func nextOrderID() -> OrderID
    /// Sends `intent` (a new order, modify or cancel).
    mutating func submit(_ intent: OrderIntent) -> SubmitResult
    /// Cancels what remains of order `id`, decided at `decidedAt` (engine-clock nanoseconds).
    mutating func cancel(_ id: OrderID, decidedAt: Int64) -> SubmitResult
    /// The position in `code`, as the broker knows it (fills applied); an empty one for a code never traded.
    func position(of code: SymbolCode) -> Position
    /// Working orders of `code`.
    func openOrders(of code: SymbolCode) -> OpenOrders
}

/// What happened to an order, as the engine's order state machine reports it to the strategy that sent it.
public struct OrderUpdate: BitwiseCopyable, Sendable, Equatable {
    public enum Kind: UInt8, BitwiseCopyable, Sendable {
        /// The exchange took the order; it is working.
        case accepted
        /// Part filled (`fillQuantity` at `fillPrice`); `remainingQuantity` still works.
        case partiallyFilled
        /// The last shares filled; nothing remains.
        case filled
        /// What remained was cancelled (by request, or IOC/FOK expiry); nothing remains.
        case cancelled
        /// Refused by KIS or the exchange after it left the engine; nothing remains.
        case rejected
        /// Refused at KIS's gateway for the app key's per-second budget (EGW00201): never placed, so nothing of it
        /// works or filled. The strategy decides again, on the prices of the events to come.
        case throttled
    }

    public var id: OrderID
    public var code: SymbolCode
    public var kind: Kind
    public var side: OrderSide
    /// Shares and price of this fill (fills only, else 0).
    public var fillQuantity: Int32
    public var fillPrice: Int32
    /// Shares still working after this update.
    public var remainingQuantity: Int32

    @inlinable
    public init(
        id: OrderID,
        code: SymbolCode,
        kind: Kind,
        side: OrderSide,
        fillQuantity: Int32 = 0,
        fillPrice: Int32 = 0,
        remainingQuantity: Int32 = 0
    ) {
        self.id = id
        self.code = code
        self.kind = kind
        self.side = side
        self.fillQuantity = fillQuantity
        self.fillPrice = fillPrice
        self.remainingQuantity = remainingQuantity
    }
}
