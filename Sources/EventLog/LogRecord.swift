public import TickCore

/// One thing that happened on a stage thread, as a fixed-size value the stage hands to the log writer through a
/// ring: no `String`, no reference, so recording one never allocates and the writer formats it later, on its own
/// thread. Which fields mean something depends on `kind` (`LogRecord.Kind.fields`).
public struct LogRecord: BitwiseCopyable, Sendable, Equatable {
    /// What happened; each kind has its level, its name in the JSON log and the fields it fills.
    public enum Kind: UInt8, BitwiseCopyable, Sendable, CaseIterable {
        /// A new order left the strategy stage for the dispatcher.
        case orderSent
        /// A modify or a cancel (`order`) of order `value` left the strategy stage.
        case amendSent
        /// KIS took the order: `number` is its ODNO.
        case orderAccepted
        /// KIS (or the dispatcher) refused the order before it reached the exchange: `message` is the msg_cd.
        case orderRefused
        /// The order's answer never came: it may stand, and is looked up.
        case orderLost
        /// A lost order was found among today's orders as `number`.
        case orderFound
        /// A lost order is not among today's orders: it was never placed.
        case orderNotPlaced
        /// Shares of the order filled (`quantity` at `price`).
        case fill
        /// What remained of the order was cancelled.
        case orderCancelled
        /// The exchange refused the order after KIS took it.
        case orderRejected
        /// Risk stopped an order before it was sent: `value` is the reason, named by the producer's `reasons`.
        case riskRefused
        /// The kill switch was armed: every order cancelled, every position sold, no more entries.
        case killSwitch
        /// New entries stopped (`value` 1) or allowed again (`value` 0).
        case entriesPaused
        /// The market-data session is open and its subscriptions restored (`value`: reconnects so far).
        case connected
        /// The market-data session was lost; it reconnects on its own.
        case disconnected
        /// A reconnect may have lost trades of `code`: its bars in progress are marked.
        case gap
        /// Order notices may have been missed during a reconnect: today's orders are fetched at once.
        case noticesMayBeMissed
        /// Today's orders were fetched and applied to the order book (`value`: rows).
        case reconciled
        /// The reconciliation could not ask KIS; it tries again (`message`: msg_cd when KIS answered).
        case reconciliationFailed
        /// KIS refused a registration (of `code`, if a code's) or reported an error on the market-data session, or
        /// no approval key came (`message`: msg_cd when KIS answered).
        case feedError
        /// An order notice of KIS's (H0STCNI0/9) reached the broker: `message` says what it tells (accepted, fill,
        /// modified, cancelled, rejected), `number` is KIS's order number, `order` ours when the notice changed it
        /// (0 when it changed nothing: a repeat, one held until its order's number is known, or not ours).
        case notice

        /// The field set this kind fills, for the formatter.
        public var fields: Fields {
            switch self {
            case .orderSent: [.order, .code, .side, .quantity, .price, .message]
            case .riskRefused: [.code, .side, .quantity, .price, .reason]
            case .amendSent: [.order, .code, .side, .quantity, .price, .value]
            case .orderAccepted, .orderFound: [.order, .code, .number]
            case .orderRefused: [.order, .code, .message]
            case .orderLost, .orderNotPlaced, .orderRejected: [.order, .code]
            case .orderCancelled: [.order, .code, .quantity]
            case .fill: [.order, .code, .side, .quantity, .price]
            case .killSwitch, .noticesMayBeMissed: []
            case .entriesPaused, .connected, .reconciled: [.value]
            case .disconnected, .reconciliationFailed: [.message]
            case .gap: [.code]
            case .feedError: [.code, .message]
            case .notice: [.order, .code, .side, .quantity, .price, .number, .message]
            }
        }
    }

    /// The fields of a record a kind fills.
    public struct Fields: OptionSet, Sendable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let order = Fields(rawValue: 1)
        public static let code = Fields(rawValue: 2)
        public static let side = Fields(rawValue: 4)
        public static let quantity = Fields(rawValue: 8)
        public static let price = Fields(rawValue: 16)
        public static let number = Fields(rawValue: 32)
        public static let message = Fields(rawValue: 64)
        public static let value = Fields(rawValue: 128)
        /// `value` indexes the producer's `reasons`, which name it in the line.
        public static let reason = Fields(rawValue: 256)
    }

    /// Wall-clock time, nanoseconds since the Unix epoch.
    public var time: Int64
    public var kind: Kind
    public var side: OrderSide
    public var order: OrderID
    public var code: SymbolCode
    public var quantity: Int32
    /// KRW; 0 is a market order.
    public var price: Int32
    /// KIS's order number (ODNO).
    public var number: UInt64
    /// A message code or a reason, up to eight ASCII bytes.
    public var message: PackedASCII
    public var value: Int64

    @inlinable
    public init(
        _ kind: Kind,
        time: Int64,
        order: OrderID = OrderID(rawValue: 0),
        code: SymbolCode = SymbolCode(rawValue: 0),
        side: OrderSide = .buy,
        quantity: Int32 = 0,
        price: Int32 = 0,
        number: UInt64 = 0,
        message: PackedASCII = PackedASCII(rawValue: 0),
        value: Int64 = 0
    ) {
        self.time = time
        self.kind = kind
        self.side = side
        self.order = order
        self.code = code
        self.quantity = quantity
        self.price = price
        self.number = number
        self.message = message
        self.value = value
    }
}
