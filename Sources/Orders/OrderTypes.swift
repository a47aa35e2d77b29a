public import TickCore

/// Where an order stands, as the engine knows it.
///
/// ```
///  new ──written──▶ sent ──REST ack──▶ accepted ──fill──▶ partiallyFilled ──fill──▶ filled
///   │                │                   │  │                 │  │
///   │                └─lost─▶ unknown ───┘  └──── cancel ─────┴──┴──▶ cancelled
///   │                          │  (reconciliation finds it)     modify ──▶ replaced (remainder lives on
///   └──refused / reject notice─┴─▶ rejected        └─ not found ─▶ notPlaced      under the modify's ODNO)
/// ```
public enum OrderState: UInt8, BitwiseCopyable, Sendable, CaseIterable {
    /// Submitted by the strategy; journaled as pending before the dispatcher sends it.
    case new
    /// The request went to the socket.
    case sent
    /// The answer was lost: KIS may or may not have the order. Only reconciliation settles it, never a resend.
    case unknown
    /// KIS gave it an order number (ODNO).
    case accepted
    case partiallyFilled
    case filled
    /// What remained was ended by a cancel (ours, or KIS's for IOC/FOK), possibly after partial fills.
    case cancelled
    /// What remained moved to a modify, which carries on under its own ODNO.
    case replaced
    case rejected
    /// The answer was lost and KIS has no such order: it never reached KIS.
    case notPlaced

    /// Nothing more will happen to it, except a late fill that raced a cancel or modify.
    public var isTerminal: Bool {
        switch self {
        case .filled, .cancelled, .replaced, .rejected, .notPlaced: true
        case .new, .sent, .unknown, .accepted, .partiallyFilled: false
        }
    }

    /// Working at KIS, with an ODNO: it can be filled, modified or cancelled.
    public var isWorking: Bool { self == .accepted || self == .partiallyFilled }

    /// Not yet known to KIS by number: notices for an unknown ODNO may belong to it.
    public var awaitsNumber: Bool { self == .new || self == .sent || self == .unknown }
}

/// A change in one order, for the strategy and the journal. Fixed layout, no references.
public struct OrderChange: BitwiseCopyable, Sendable, Equatable {
    public var id: OrderID
    /// The order a modify or cancel acts on; `id` for a new order.
    public var target: OrderID
    public var code: SymbolCode
    /// KIS's order number; 0 until known.
    public var orderNumber: UInt64
    /// Sum of fill quantity × price, KRW.
    public var fillValue: Int64
    /// The order's quantity; for a modify or cancel, what it moved or ended once accepted.
    public var quantity: Int32
    public var filled: Int32
    /// Still working at KIS (0 once terminal).
    public var remaining: Int32
    /// The fill that caused this change, or 0.
    public var lastFillQuantity: Int32
    public var lastFillPrice: Int32
    /// `KRX_FWDG_ORD_ORGNO`, needed to modify or cancel; 0 until known.
    public var organization: UInt32
    public var side: OrderSide
    public var action: OrderIntent.Action
    public var state: OrderState
    /// A notice was doubtful (duplicate, overfill) or the answer was lost: ask KIS's daily orders.
    public var needsReconciliation: Bool
}

/// One execution, as positions and the journal need it.
public struct Fill: BitwiseCopyable, Sendable, Equatable {
    /// Local receive time of the notice (or of the reconciliation that found the fill), Unix nanoseconds.
    public var localTs: Int64
    public var code: SymbolCode
    public var orderNumber: UInt64
    public var id: OrderID
    public var quantity: Int32
    /// KRW per share.
    public var price: Int32
    /// Exchange time, Unix seconds; 0 for a fill found by reconciliation.
    public var exchangeTime: UInt32
    public var side: OrderSide
    /// The venue that executed it: the notice's ORD_EXG_GB, or the order's route when no notice told (a fill a
    /// reconciliation found); `.combined` for a SOR order's fill whose venue no notice told.
    public var venue: Venue

    public init(
        id: OrderID,
        code: SymbolCode,
        side: OrderSide,
        quantity: Int32,
        price: Int32,
        orderNumber: UInt64 = 0,
        exchangeTime: UInt32 = 0,
        localTs: Int64 = 0,
        venue: Venue = .krx
    ) {
        self.venue = venue
        self.id = id
        self.code = code
        self.side = side
        self.quantity = quantity
        self.price = price
        self.orderNumber = orderNumber
        self.exchangeTime = exchangeTime
        self.localTs = localTs
    }
}

/// One order as KIS lists it in its daily orders (`inquire-daily-ccld`) or cancellable orders: the authority on
/// what was filled.
public struct BrokerOrder: BitwiseCopyable, Sendable, Equatable {
    public var orderNumber: UInt64
    /// The order a modify or cancel acts on; 0 for a new order.
    public var originalOrderNumber: UInt64
    public var code: SymbolCode
    /// Total filled value, KRW: the average fill price × the filled quantity, rounded.
    public var filledValue: Int64
    public var quantity: Int32
    /// 0 for a market order.
    public var price: Int32
    public var filled: Int32
    public var remaining: Int32
    /// HHMMSS, KST.
    public var time: UInt32
    /// `KRX_FWDG_ORD_ORGNO` / `ord_gno_brno`, needed to modify or cancel.
    public var organization: UInt32
    public var side: OrderSide
    /// 0 new, 1 modify, 2 cancel.
    public var amendCode: UInt8
    public var cancelled: Bool
    public var rejected: Bool

    public init(
        orderNumber: UInt64,
        originalOrderNumber: UInt64 = 0,
        code: SymbolCode,
        side: OrderSide,
        quantity: Int32,
        price: Int32,
        filled: Int32,
        filledValue: Int64,
        remaining: Int32,
        cancelled: Bool = false,
        rejected: Bool = false,
        amendCode: UInt8 = 0,
        time: UInt32 = 0,
        organization: UInt32 = 0
    ) {
        self.orderNumber = orderNumber
        self.originalOrderNumber = originalOrderNumber
        self.code = code
        self.side = side
        self.quantity = quantity
        self.price = price
        self.filled = filled
        self.filledValue = filledValue
        self.remaining = remaining
        self.cancelled = cancelled
        self.rejected = rejected
        self.amendCode = amendCode
        self.time = time
        self.organization = organization
    }
}

/// What happens to orders after `OrderBook.submit`: the dispatcher's answers, notices, and reconciliation.
public enum OrderEvent: BitwiseCopyable, Sendable {
    /// The request went to the socket at `at` (engine clock, nanoseconds).
    case written(OrderID, at: Int64)
    /// KIS accepted it: ODNO and `KRX_FWDG_ORD_ORGNO`.
    case acknowledged(OrderID, orderNumber: UInt64, organization: UInt32)
    /// KIS said no (`msg_cd`, e.g. APBK0952), or the request never reached KIS.
    case refused(OrderID, messageCode: PackedASCII)
    /// The request went out and no answer came back (`KISError.responseLost`).
    case lost(OrderID)
    /// Reconciliation (`OrderRecovery.Outcome.notPlaced`) found no trace of a lost order at KIS.
    case notPlaced(OrderID)
    /// An H0STCNI0/H0STCNI9 notice, decrypted.
    case notice(Notice)
    /// A row of KIS's daily orders.
    case reconciled(BrokerOrder, localTs: Int64)
}

/// What the book did with an event.
public enum EventOutcome: Equatable, Sendable, BitwiseCopyable {
    /// The order changed; changes (and fills) went to the sink.
    case applied
    /// Nothing to change: a repeat of something already known.
    case unchanged
    /// A notice for an ODNO no order has yet; it is held until a REST ack names that ODNO.
    case held
    /// A fill notice identical to a recent one of the same order (same quantity, price and second): a second fill,
    /// as an order sweeping several resting orders at one price gets, or the same notice twice. KIS's notices carry
    /// no fill id and no running total, so it is held, not applied, until KIS's count of the order's fills (its
    /// daily orders, asked for this order at once) says which (`OrderBook.doubtfulCount`).
    case doubtful
    /// A notice or record for an order that is not ours (another program on the account, or another account).
    case foreign
    case refused(OrderRefusal)
}

/// Why the book refuses an intent or an event. Never a crash: capacity and odd input come from outside.
public enum OrderRefusal: Error, Equatable, Sendable, BitwiseCopyable {
    /// Every slot holds an order that is not yet terminal.
    case full
    /// An intent reused the id of an order the book still holds.
    case duplicateID
    /// An event or amendment names an id the book does not hold.
    case unknownOrder
    /// A modify or cancel of an order that is not working (no ODNO yet, or already terminal).
    case targetNotWorking
    /// A modify or cancel of an order that already has one in flight: KIS would apply them in turn, against a
    /// remainder the engine cannot foresee.
    case targetBusy
    /// Quantity or price out of range.
    case invalidIntent
    /// A notice or record with a quantity or price out of range.
    case invalidEvent
    /// A fill that would take the order past its quantity: never applied; the order is flagged for reconciliation.
    case overfill
    /// A REST ack or record gave a different ODNO than the order already has.
    case conflictingNumber
    /// The held-notice buffer is full; the notice is dropped and every order awaiting a number needs
    /// reconciliation.
    case heldNoticesFull
}

/// Where the book sends what it decides. Generic (never `any`), so it specialises.
public protocol OrderSink {
    mutating func orderChanged(_ change: OrderChange)
    mutating func filled(_ fill: Fill)
}

/// What the dispatcher needs to send an intent: for a modify or cancel, the target's ODNO and branch.
public struct OrderDispatch: BitwiseCopyable, Sendable, Equatable {
    public var intent: OrderIntent
    /// 0 for a new order.
    public var targetOrderNumber: UInt64
    public var targetOrganization: UInt32
}
