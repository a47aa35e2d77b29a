public import TickCore

/// Everything the book knows about one order: what recovery restores and what reconciliation lists.
public struct OrderSnapshot: BitwiseCopyable, Sendable, Equatable {
    public var id: OrderID
    /// The order a modify or cancel acts on; `id` for a new order.
    public var target: OrderID
    public var code: SymbolCode
    /// 0 until KIS names it.
    public var orderNumber: UInt64
    public var fillValue: Int64
    /// For a modify or cancel: what it asked for (0: all) until accepted, then what it moved or cancelled.
    public var quantity: Int32
    public var price: Int32
    public var filled: Int32
    public var remaining: Int32
    public var organization: UInt32
    public var side: OrderSide
    public var action: OrderIntent.Action
    public var purpose: OrderIntent.Purpose
    public var state: OrderState
    public var needsReconciliation: Bool
    /// The venue it was sent to (EXCG_ID_DVSN_CD); the journal keeps it, so a restored order is amended there.
    public var route: OrderRoute = .krx

    public init(
        id: OrderID,
        target: OrderID,
        code: SymbolCode,
        side: OrderSide,
        action: OrderIntent.Action,
        purpose: OrderIntent.Purpose,
        quantity: Int32,
        price: Int32,
        state: OrderState,
        orderNumber: UInt64 = 0,
        organization: UInt32 = 0,
        filled: Int32 = 0,
        fillValue: Int64 = 0,
        remaining: Int32,
        needsReconciliation: Bool = false,
        route: OrderRoute = .krx
    ) {
        self.id = id
        self.target = target
        self.code = code
        self.side = side
        self.action = action
        self.purpose = purpose
        self.quantity = quantity
        self.price = price
        self.state = state
        self.orderNumber = orderNumber
        self.organization = organization
        self.filled = filled
        self.fillValue = fillValue
        self.remaining = remaining
        self.needsReconciliation = needsReconciliation
        self.route = route
    }

    /// The snapshot of a freshly submitted intent.
    public init(intent: OrderIntent, state: OrderState = .new) {
        self.init(
            id: intent.id,
            target: intent.target,
            code: intent.code,
            side: intent.side,
            action: intent.action,
            purpose: intent.purpose,
            quantity: intent.quantity,
            price: intent.price,
            state: state,
            remaining: intent.action == .new ? intent.quantity : 0,
            route: intent.route
        )
    }
}
