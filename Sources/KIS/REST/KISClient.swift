import JSON
import Net
import Synchronization
public import TickCore

/// Everything the client needs to reach one KIS environment.
public struct ClientSettings: Sendable {
    public var environment: Environment
    public var restURL: String
    public var webSocketURL: String
    public var credentials: Credentials
    public var account: Account
    public var htsID: String
    public var userAgent: String
    /// How long to wait for an answer once a request is out.
    public var timeoutMilliseconds = 5_000
    /// Attempts for a query refused with EGW00201 before the error reaches the caller.
    public var rateLimitRetries = 4
    /// Certificate authorities to trust for the REST host instead of the system's.
    public var caFile: String?
    /// A paper account's way to the real host for quotations (`KISConfig.realQuotations`); nil sends every call to
    /// `restURL`.
    public var quotations: QuotationHost?

    /// The settings `config` gives for its environment; `caFile` comes from the environment variable
    /// `KISTICK_CA_FILE` when set.
    public init(config: KISConfig, environmentVariables: [String: String]) {
        self.init(
            environment: config.environment,
            restURL: config.restURL,
            webSocketURL: config.webSocketURL,
            credentials: Credentials(appKey: config.appKey, appSecret: config.appSecret),
            account: config.account,
            htsID: config.htsID,
            userAgent: config.userAgent
        )
        self.caFile = environmentVariables["KISTICK_CA_FILE"]
        self.quotations = config.realQuotations
    }

    /// The settings of the real-host client a paper account's quotations go through.
    var quotationSettings: ClientSettings? {
        guard let host = self.quotations, self.environment == .paper else { return nil }
        var settings = ClientSettings(
            environment: .real,
            restURL: host.restURL,
            webSocketURL: self.webSocketURL,
            credentials: host.credentials,
            account: self.account,
            htsID: self.htsID,
            userAgent: self.userAgent
        )
        settings.timeoutMilliseconds = self.timeoutMilliseconds
        settings.rateLimitRetries = self.rateLimitRetries
        settings.caFile = self.caFile
        return settings
    }

    public init(
        environment: Environment,
        restURL: String,
        webSocketURL: String,
        credentials: Credentials,
        account: Account,
        htsID: String,
        userAgent: String
    ) {
        self.environment = environment
        self.restURL = restURL
        self.webSocketURL = webSocketURL
        self.credentials = credentials
        self.account = account
        self.htsID = htsID
        self.userAgent = userAgent
    }
}

/// The KIS REST client: one rate limiter and one token for every caller, a query lane shared behind a mutex, and
/// order lanes that a single thread owns each (`makeOrderLane`), so an order never waits for an inquiry.
public final class KISClient: Sendable {
    public let settings: ClientSettings
    public let limiter: RateLimiter<MonotonicClock>
    public let tokens: TokenManager
    /// Where quotations go: a paper account's real-host client when its configuration has a real app key, else
    /// this client.
    public let quotations: KISClient?
    private let queryLane: Mutex<Lane>

    public init(
        settings: ClientSettings,
        limiter: RateLimiter<MonotonicClock>,
        tokens: TokenManager,
        quotations: KISClient? = nil
    ) {
        self.settings = settings
        self.limiter = limiter
        self.tokens = tokens
        self.quotations = quotations
        self.queryLane = Mutex(Lane(baseURL: settings.restURL, maxResponseSize: 4 << 20, caFile: settings.caFile))
    }

    /// The client quotations go through: the real host for a paper account with real keys, else this one.
    var quoting: KISClient { self.quotations ?? self }

    /// Whether this client can ask for the rankings, which KIS serves on the real host only.
    public var servesRankings: Bool { self.quoting.settings.environment == .real }

    /// A client with the environment's rate limit (20/s real, 2/s paper), shared with every kistick process on the
    /// machine using the same app key, and a token shared through `cache`, beside which the limiter's block lives.
    /// - Parameter refreshEvery: how often a background task renews the token ahead of expiry; nil for short-lived
    ///   commands, which renew on demand.
    public static func make(
        settings: ClientSettings,
        cache: TokenCache,
        refreshEvery: Duration? = nil
    )
        throws(KISError) -> KISClient
    {
        let limiter: RateLimiter<MonotonicClock>
        do {
            limiter = try RateLimiter(
                sharedAt: cache.rateLimiterPath(appKey: settings.credentials.appKey, environment: settings.environment),
                limit: RateBudget.requestsPerSecond(settings.environment)
            )
        } catch {
            throw .tokenCache(error)
        }
        let tokens = TokenManager(
            appKey: settings.credentials.appKey,
            environment: settings.environment,
            cache: cache,
            issuer: OAuth(settings: settings)
        )
        if let refreshEvery { tokens.startBackgroundRefresh(every: refreshEvery) }
        let quotations = try settings.quotationSettings.map { real throws(KISError) in
            try KISClient.make(settings: real, cache: cache, refreshEvery: refreshEvery)
        }
        return KISClient(settings: settings, limiter: limiter, tokens: tokens, quotations: quotations)
    }

    /// A lane for one order-sending thread, its connection opened now.
    public func makeOrderLane() throws(KISError) -> OrderLane {
        try OrderLane(client: self)
    }

    /// Opens the query connection now, so the first inquiry does not pay for TCP and TLS.
    public func warm() throws(KISError) {
        try self.queryLane.withLock { lane throws(KISError) in
            do throws(NetError) { try lane.warm() } catch { throw .unreachable(error) }
        }
    }

    /// Sends a query (an inquiry, a quote, an OAuth call) on the shared query lane, with KIS's retry rules.
    /// - Parameter kind: `.reconciliation` for the inquiries that keep the order book true, which the rate limiter
    ///   never lets orders starve; `.query` for the rest.
    public func query(_ call: RESTCall, as kind: RequestKind = .query) throws(KISError) -> RESTResponse {
        precondition(kind != .order, "orders go through an OrderLane")
        return try self.queryLane.withLock { lane throws(KISError) in
            try self.send(
                trID: call.trID,
                authenticated: call.authenticated,
                kind: kind,
                lane: &lane,
                format: { call.format(into: &$1, headers: $0) },
                answer: { (lane) throws(KISError) in
                    try lane.exchange(trID: call.trID, timeoutMilliseconds: self.settings.timeoutMilliseconds)
                }
            )
        }
    }

    /// `POST /oauth2/Approval`, the key a WebSocket session (re)connects with, within the app key's request budget:
    /// `kistick sim` counts it among the key's requests (KIS's documents do not say whether KIS does; counting it
    /// costs a connect at most a second), and one taken beside the limiter made the order after it the window's
    /// third, refused with EGW00201. It waits behind orders as a reconciliation does, never starved by them, and an
    /// EGW00201 is waited out and retried as a query's is.
    public func approvalKey() throws(KISError) -> Secret {
        var rateRetries = 0
        while true {
            self.limiter.acquire(.reconciliation)
            do {
                return try OAuth(settings: self.settings).approvalKey()
            } catch .rejected(let failure) where failure.msgCd == "EGW00201" {
                guard self.waitOutRateLimit(retries: &rateRetries) else { throw .rejected(failure) }
            }
        }
    }

    /// After an EGW00201: the limiter takes KIS's second of penalty, and, while `retries` is below the settings'
    /// `rateLimitRetries`, a pause that doubles each time; false when no retry is left.
    private func waitOutRateLimit(retries: inout Int) -> Bool {
        self.limiter.penalize()
        guard retries < self.settings.rateLimitRetries else { return false }
        retries += 1
        MonotonicClock().sleep(nanoseconds: 100_000_000 << retries)
        return true
    }

    /// The retry rules of docs/kis-protocol.md §7, for one lane:
    /// - EGW00201 (over the per-second budget): the limiter backs off; queries retry, orders report it (KIS refused
    ///   the order at its gateway, so it was not placed: the caller decides whether to send it again).
    /// - EGW00121/EGW00123 (token invalid/expired): a new token once, then the call once more.
    /// - not sent at all (connect failed): once more on a fresh connection.
    /// - EGW00302 on an order ("check the previous transaction"), or an order's answer that cannot be read: the
    ///   order may stand, so it is `responseLost`.
    /// Nothing that may have reached KIS is ever sent twice here.
    func send<Answer>(
        trID: String,
        authenticated: Bool,
        kind: RequestKind,
        lane: inout Lane,
        format: (HeaderBlock, inout ByteWriter) -> Void,
        answer: (inout Lane) throws(KISError) -> Answer
    ) throws(KISError) -> Answer {
        var reissued = false
        var rateRetries = 0
        var reconnected = false
        while true {
            let token = authenticated ? try lane.token(from: self.tokens) : nil
            let headers = lane.headers(
                for: token?.token,
                credentials: self.settings.credentials,
                userAgent: self.settings.userAgent
            )
            format(headers, &lane.writer)
            self.limiter.acquire(kind)
            do {
                return try answer(&lane)
            } catch {
                switch error {
                case .rejected(let failure) where failure.msgCd == "EGW00302" && kind == .order:
                    throw .responseLost(trID: trID, cause: .timedOut)
                case .malformedResponse(_, let reason) where kind == .order:
                    // The order went out and its answer cannot be read: it may stand, as with no answer at all.
                    throw .responseLost(trID: trID, cause: .malformedResponse(reason: reason))
                case .rejected(let failure) where failure.msgCd == "EGW00201":
                    guard kind != .order else {
                        self.limiter.penalize()
                        throw error
                    }
                    guard self.waitOutRateLimit(retries: &rateRetries) else { throw error }
                case .rejected(let failure)
                where (failure.msgCd == "EGW00121" || failure.msgCd == "EGW00123") && authenticated && !reissued:
                    if let token { self.tokens.invalidate(token) }
                    reissued = true
                case .unreachable where !reconnected:
                    reconnected = true
                default:
                    throw error
                }
            }
        }
    }
}

/// A lane for orders, owned by one thread: its own warm connection, the order template, no lock.
public struct OrderLane: ~Copyable {
    private let client: KISClient
    private var lane: Lane
    private var template: OrderRequestWriter
    /// Where `keepWarm` formats its rehearsal, so the real request buffer is never touched by it.
    private var scratch = ByteWriter(capacity: 2_048)

    init(client: KISClient) throws(KISError) {
        self.client = client
        self.lane = Lane(baseURL: client.settings.restURL, maxResponseSize: 64 * 1_024, caFile: client.settings.caFile)
        self.template = OrderRequestWriter(settings: client.settings)
        do { try self.lane.warm() } catch { throw .unreachable(error) }
    }

    /// Connections opened so far: stays 1 while the lane is warm.
    public var connectCount: Int { self.lane.connectCount }

    /// Closes the connection, so the next order pays for a new one: what a client without a warm lane does.
    public mutating func dropConnection() {
        self.lane.connection.close()
    }

    /// Keeps the next order fast; call from the sending thread's idle loop, between orders (every millisecond or
    /// so is plenty). It reopens the connection if KIS closed it while idle, and runs the order path short of the
    /// socket with an order that is never sent (the token check and the formatting into a scratch buffer), so
    /// the path's code and buffers are in cache when a real order comes: after a few idle milliseconds the first
    /// call otherwise costs tens of microseconds of cache misses instead of one.
    public mutating func keepWarm() throws(KISError) {
        do { try self.lane.warm() } catch { throw .unreachable(error) }
        let token = try self.lane.token(from: self.client.tokens)
        let headers = self.lane.headers(
            for: token.token,
            credentials: self.client.settings.credentials,
            userAgent: self.client.settings.userAgent
        )
        self.template.format(Self.rehearsal, headers: headers, into: &self.scratch)
    }

    /// What `keepWarm` formats: an order nobody sends.
    private static let rehearsal = OrderTicket(side: .buy, code: SymbolCode(ascii: "000000"), quantity: 1, price: 1)

    /// Places a cash order. A `.responseLost` error means the order may stand: resolve it with `OrderRecovery`
    /// before deciding anything else, never by sending it again.
    /// - Parameter whileWaiting: runs once the request is out, while its answer is on its way (at most once).
    public mutating func place(_ ticket: OrderTicket, whileWaiting: () -> Void = {}) throws(KISError) -> OrderAck {
        let trID = OrderTR.cash(ticket.side, self.client.settings.environment)
        let timeout = self.client.settings.timeoutMilliseconds
        var waited = false
        return try self.client.send(
            trID: trID,
            authenticated: true,
            kind: .order,
            lane: &self.lane,
            format: { self.template.format(ticket, headers: $0, into: &$1) },
            answer: { (lane) throws(KISError) in
                try lane.exchangeOrder(trID: trID, timeoutMilliseconds: timeout) {
                    if !waited {
                        waited = true
                        whileWaiting()
                    }
                }
            }
        )
    }
}

@available(*, unavailable)
extension OrderLane: Sendable {}

/// A WebSocket session fetches its approval keys through the client, within the app key's budget.
extension KISClient: ApprovalKeyProvider {}

extension OrderLane {
    public enum Revision: Sendable, Equatable {
        case cancel
        /// A new limit price (KIS lets a modify change price or type, not raise quantity).
        case modify(price: Int64)
    }

    /// Modifies or cancels `quantity` shares (nil: all that remain) of an order (`order-rvsecncl`) on `route`, the
    /// venue the order went to.
    /// - Parameter whileWaiting: runs once the request is out, while its answer is on its way (at most once).
    public mutating func revise(
        organization: UInt32,
        orderNumber: UInt64,
        _ revision: Revision,
        quantity: Int64? = nil,
        route: OrderRoute = .krx,
        whileWaiting: () -> Void = {}
    ) throws(KISError) -> OrderAck {
        let settings = self.client.settings
        let price: Int64 = if case .modify(let price) = revision { price } else { 0 }
        let body = JSON.obj([
            "CANO": .string(settings.account.cano), "ACNT_PRDT_CD": .string(settings.account.productCode),
            // KIS prints order and branch numbers zero-padded, and takes them so.
            "KRX_FWDG_ORD_ORGNO": .string(Self.padded(UInt64(organization), digits: 5)),
            "ORGN_ODNO": .string(Self.padded(orderNumber, digits: 10)),
            "ORD_DVSN": "00", "RVSE_CNCL_DVSN_CD": revision == .cancel ? "02" : "01",
            "ORD_QTY": .string(String(quantity ?? 0)), "ORD_UNPR": .string(String(price)),
            "QTY_ALL_ORD_YN": quantity == nil ? "Y" : "N", "EXCG_ID_DVSN_CD": .string(route.description),
        ])
        let call = RESTCall(
            .post,
            "/uapi/domestic-stock/v1/trading/order-rvsecncl",
            trID: OrderTR.revise(settings.environment),
            body: body.bytes
        )
        let timeout = settings.timeoutMilliseconds
        var waited = false
        return try self.client.send(
            trID: call.trID,
            authenticated: true,
            kind: .order,
            lane: &self.lane,
            format: { call.format(into: &$1, headers: $0) },
            answer: { (lane) throws(KISError) in
                try lane.exchangeOrder(trID: call.trID, timeoutMilliseconds: timeout) {
                    if !waited {
                        waited = true
                        whileWaiting()
                    }
                }
            }
        )
    }

    /// `number` in at least `digits` digits, zero-padded.
    static func padded(_ number: UInt64, digits: Int) -> String {
        let text = String(number)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

extension ClientSettings {
    /// Settings for a KIS-compatible server that accepts any key of KIS's lengths (`kistick sim`): a fresh random
    /// app key and secret, account 50000000-01, HTS id `simuser`. Nothing here is a real credential.
    public static func madeUp(
        environment: Environment,
        restURL: String,
        webSocketURL: String,
        userAgent: String = "kistick"
    ) -> ClientSettings {
        func text(_ count: Int) -> String {
            String((0..<count).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement()! })
        }
        return ClientSettings(
            environment: environment,
            restURL: restURL,
            webSocketURL: webSocketURL,
            credentials: Credentials(
                appKey: Secret(text(KISConfig.appKeyLength)),
                appSecret: Secret(text(KISConfig.appSecretLength))
            ),
            account: Account(cano: "50000000", productCode: "01")!,
            htsID: "simuser",
            userAgent: userAgent
        )
    }
}
