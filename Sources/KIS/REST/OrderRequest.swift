public import Net
public import TickCore

/// An order as the strategy decides it: fixed layout, no strings, formatted straight into the order lane's buffer.
public struct OrderTicket: Sendable, Equatable, BitwiseCopyable {
    public var side: OrderSide
    public var code: SymbolCode
    public var quantity: Int64
    /// KRW per share; 0 sends a market order (`ORD_DVSN` 01).
    public var price: Int64
    /// The venue (`EXCG_ID_DVSN_CD`).
    public var route: OrderRoute

    public init(side: OrderSide, code: SymbolCode, quantity: Int64, price: Int64, route: OrderRoute = .krx) {
        self.side = side
        self.code = code
        self.quantity = quantity
        self.price = price
        self.route = route
    }

    public var isMarket: Bool { self.price == 0 }
}

/// The order-cash request, preformatted per token: the request line and every header are fixed bytes; only the
/// tr_id (buy or sell), the content length and the body's few numbers are written per order.
public struct OrderRequestWriter {
    /// `POST … HTTP/1.1`, the header block, and `tr_id: ` — up to the side's tr_id.
    private var prefix: [UInt8] = []
    /// The token `prefix` was built with.
    private var prefixToken: Secret?
    private let buyTR: [UInt8]
    private let sellTR: [UInt8]
    /// `{"CANO":"12345678","ACNT_PRDT_CD":"01","PDNO":"`
    private let bodyPrefix: [UInt8]
    private var body = ByteWriter(capacity: 256)
    private let host: String
    private let credentials: Credentials
    private let userAgent: String

    public init(settings: ClientSettings) {
        self.init(
            environment: settings.environment,
            account: settings.account,
            host: Stream.endpoint(ofURL: settings.restURL),
            credentials: settings.credentials,
            userAgent: settings.userAgent
        )
    }

    init(environment: Environment, account: Account, host: String, credentials: Credentials, userAgent: String) {
        self.host = host
        self.credentials = credentials
        self.userAgent = userAgent
        self.buyTR = Array(OrderTR.cash(.buy, environment).utf8)
        self.sellTR = Array(OrderTR.cash(.sell, environment).utf8)
        self.bodyPrefix = Array(#"{"CANO":"\#(account.cano)","ACNT_PRDT_CD":"\#(account.productCode)","PDNO":""#.utf8)
    }

    private mutating func update(headers: HeaderBlock) {
        var writer = ByteWriter(capacity: 1_024)
        writer.append("POST /uapi/domestic-stock/v1/trading/order-cash HTTP/1.1\r\n")
        writer.append(bytes: headers.bytes)
        writer.append("tr_id: ")
        self.prefix = writer.bytes
        self.prefixToken = headers.token
    }

    /// Writes the whole request for `ticket`, authorised by `token`, into `writer`. Allocates nothing once the
    /// buffers have grown and while the token stays the same.
    public mutating func format(_ ticket: OrderTicket, token: Secret, into writer: inout ByteWriter) {
        let headers =
            self.prefixToken == token
            ? nil : HeaderBlock(host: self.host, credentials: self.credentials, userAgent: self.userAgent, token: token)
        self.format(ticket, headers: headers, into: &writer)
    }

    /// Writes the whole request for `ticket` into `writer`; `headers` nil keeps the current prefix.
    mutating func format(_ ticket: OrderTicket, headers: HeaderBlock?, into writer: inout ByteWriter) {
        if let headers, self.prefix.isEmpty || self.prefixToken != headers.token { self.update(headers: headers) }
        self.body.reset()
        self.body.append(bytes: self.bodyPrefix)
        // The code's ASCII bytes, low byte first (`PackedASCII`), without building a String.
        var packed = ticket.code.rawValue
        while packed != 0 {
            self.body.append(UInt8(truncatingIfNeeded: packed))
            packed >>= 8
        }
        self.body.append(ticket.isMarket ? #"","ORD_DVSN":"01","ORD_QTY":""# : #"","ORD_DVSN":"00","ORD_QTY":""#)
        self.body.append(decimal: ticket.quantity)
        self.body.append(#"","ORD_UNPR":""#)
        self.body.append(decimal: ticket.price)
        switch ticket.route {
        case .krx: self.body.append(#"","EXCG_ID_DVSN_CD":"KRX"}"#)
        case .nxt: self.body.append(#"","EXCG_ID_DVSN_CD":"NXT"}"#)
        case .sor: self.body.append(#"","EXCG_ID_DVSN_CD":"SOR"}"#)
        }

        writer.reset()
        writer.append(bytes: self.prefix)
        writer.append(bytes: ticket.side == .buy ? self.buyTR : self.sellTR)
        writer.append("\r\ncontent-length: ")
        writer.append(decimal: Int64(self.body.count))
        writer.append("\r\n\r\n")
        writer.append(bytes: self.body.bytes)
    }
}

/// The TR ids that differ between real and paper (docs/kis-protocol.md §8): the current generation, not the old
/// TTTC0801U/0802U that KIS says may be blocked.
enum OrderTR {
    static func cash(_ side: OrderSide, _ environment: Environment) -> String {
        (environment == .real ? "T" : "V") + (side == .buy ? "TTC0012U" : "TTC0011U")
    }
    static func revise(_ environment: Environment) -> String { environment == .real ? "TTTC0013U" : "VTTC0013U" }
    static func balance(_ environment: Environment) -> String { environment == .real ? "TTTC8434R" : "VTTC8434R" }
    static func buyable(_ environment: Environment) -> String { environment == .real ? "TTTC8908R" : "VTTC8908R" }
    static func dailyOrders(_ environment: Environment) -> String { environment == .real ? "TTTC0081R" : "VTTC0081R" }
    /// Real only: paper answers MCA00124.
    static let cancellable = "TTTC0084R"
}
