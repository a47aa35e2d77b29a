import Crypto
import JSON
import TickCore

/// An HTTP request as the REST layer needs it: query and header names lower-cased (KIS clients send both
/// spellings, docs/kis-protocol.md §3.1).
struct RESTRequest {
    var method: String
    var path: String
    var query: [String: String]
    var headers: [String: String]
    var body: [UInt8]

    func param(_ name: String) -> String { self.query[name.lowercased()] ?? "" }
}

struct RESTReply {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8]
    /// Hold the answer this long (the order-delay fault), in wall seconds.
    var delay: Double = 0

    /// A KIS body with the given members followed by rt_cd, msg_cd, msg1 (quotes and account inquiries).
    static func ok(
        _ members: [(String, JSON)],
        code: String,
        message: String,
        rt: String = "0",
        headers: [(String, String)] = []
    ) -> RESTReply {
        let body = JSON.object(
            members + [("rt_cd", .string(rt)), ("msg_cd", .string(code)), ("msg1", .string(message))]
        )
        return RESTReply(status: 200, headers: headers, body: body.bytes)
    }

    /// A gateway error: `{"rt_cd":"1","msg_cd":…,"msg1":…}` with HTTP 500.
    static func gateway(_ error: GatewayError) -> RESTReply {
        if error.status == 403 { return .oauth(error) }
        return RESTReply(
            status: error.status,
            body: JSON.obj(["rt_cd": "1", "msg_cd": .string(error.code), "msg1": .string(error.message)]).bytes
        )
    }

    /// The OAuth endpoints' error shape: `{"error_description":…,"error_code":…}` with HTTP 403.
    static func oauth(_ error: GatewayError) -> RESTReply {
        RESTReply(
            status: 403,
            body: JSON.obj(["error_description": .string(error.message), "error_code": .string(error.code)]).bytes
        )
    }

    /// A business rejection: HTTP 200, rt_cd other than "0", no output.
    static func rejection(_ rejection: Rejection) -> RESTReply {
        RESTReply(
            status: 200,
            body: JSON.obj([
                "rt_cd": .string(rejection.returnCode), "msg_cd": .string(rejection.messageCode),
                "msg1": .string(rejection.message),
            ]).bytes
        )
    }
}

/// A `/uapi` endpoint: its TR ids on each server (nil: not offered on paper) and its handler.
struct Endpoint: Sendable {
    var method: String
    var real: Set<String>
    var paper: Set<String>?
    var handler: @Sendable (inout ExchangeState, RESTRequest, Call) -> RESTReply
}

/// What a handler knows about the call beyond the request.
struct Call {
    var environment: Environment
    var appKey: String
    var trID: String
    /// `tr_cont: N` was sent: this is a continuation page.
    var continuation: Bool
}

extension ExchangeState {
    static let endpoints: [String: Endpoint] = [
        "/uapi/domestic-stock/v1/trading/order-cash": Endpoint(
            method: "POST",
            real: ["TTTC0011U", "TTTC0012U", "TTTC0801U", "TTTC0802U"],
            paper: ["VTTC0011U", "VTTC0012U", "VTTC0801U", "VTTC0802U"],
            handler: { $0.orderCash($1, $2) }
        ),
        "/uapi/domestic-stock/v1/trading/order-rvsecncl": Endpoint(
            method: "POST",
            real: ["TTTC0013U", "TTTC0803U"],
            paper: ["VTTC0013U", "VTTC0803U"],
            handler: { $0.orderRevise($1, $2) }
        ),
        "/uapi/domestic-stock/v1/trading/inquire-psbl-rvsecncl": Endpoint(
            method: "GET",
            real: ["TTTC0084R", "TTTC8036R"],
            paper: nil,
            handler: { $0.revisable($1, $2) }
        ),
        "/uapi/domestic-stock/v1/trading/inquire-balance": Endpoint(
            method: "GET",
            real: ["TTTC8434R"],
            paper: ["VTTC8434R"],
            handler: { $0.balance($1, $2) }
        ),
        "/uapi/domestic-stock/v1/trading/inquire-daily-ccld": Endpoint(
            method: "GET",
            real: ["TTTC0081R", "CTSC9215R", "TTTC8001R", "CTSC9115R"],
            paper: ["VTTC0081R", "VTSC9215R", "VTTC8001R", "VTSC9115R"],
            handler: { $0.dailyOrders($1, $2) }
        ),
        "/uapi/domestic-stock/v1/trading/inquire-psbl-order": Endpoint(
            method: "GET",
            real: ["TTTC8908R"],
            paper: ["VTTC8908R"],
            handler: { $0.buyable($1, $2) }
        ),
        "/uapi/domestic-stock/v1/quotations/inquire-price": Endpoint(
            method: "GET",
            real: ["FHKST01010100"],
            paper: ["FHKST01010100"],
            handler: { $0.price($1, $2) }
        ),
        "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice": Endpoint(
            method: "GET",
            real: ["FHKST03010100"],
            paper: ["FHKST03010100"],
            handler: { $0.dailyChart($1, $2) }
        ),
        "/uapi/domestic-stock/v1/quotations/inquire-time-itemchartprice": Endpoint(
            method: "GET",
            real: ["FHKST03010200"],
            paper: ["FHKST03010200"],
            handler: { $0.minuteChart($1, $2) }
        ),
        "/uapi/domestic-stock/v1/quotations/volume-rank": Endpoint(
            method: "GET",
            real: ["FHPST01710000"],
            paper: ["FHPST01710000"],
            handler: { $0.volumeRank($1, $2) }
        ),
        "/uapi/domestic-stock/v1/ranking/market-cap": Endpoint(
            method: "GET",
            real: ["FHPST01740000"],
            paper: nil,
            handler: { $0.marketCapRank($1, $2) }
        ),
        "/uapi/domestic-stock/v1/quotations/search-info": Endpoint(
            method: "GET",
            real: ["CTPF1604R"],
            paper: nil,
            handler: { $0.searchInfo($1, $2) }
        ),
        // The paper server offers the four quotations below and none of the three real-only inquiries after them
        // (the official functions of the latter take no env_dv, and the paper Postman collection lists none of them).
        "/uapi/domestic-stock/v1/quotations/inquire-asking-price-exp-ccn": Endpoint(
            method: "GET",
            real: ["FHKST01010200"],
            paper: ["FHKST01010200"],
            handler: { $0.askingPrice($1, $2) }
        ),
        "/uapi/domestic-stock/v1/quotations/inquire-ccnl": Endpoint(
            method: "GET",
            real: ["FHKST01010300"],
            paper: ["FHKST01010300"],
            handler: { $0.recentPrints($1, $2) }
        ),
        "/uapi/domestic-stock/v1/quotations/inquire-daily-price": Endpoint(
            method: "GET",
            real: ["FHKST01010400"],
            paper: ["FHKST01010400"],
            handler: { $0.dailyPrices($1, $2) }
        ),
        "/uapi/domestic-stock/v1/quotations/inquire-member": Endpoint(
            method: "GET",
            real: ["FHKST01010600"],
            paper: ["FHKST01010600"],
            handler: { $0.memberFlow($1, $2) }
        ),
        "/uapi/domestic-stock/v1/trading/inquire-psbl-sell": Endpoint(
            method: "GET",
            real: ["TTTC8408R"],
            paper: nil,
            handler: { $0.sellableQuantity($1, $2) }
        ),
        "/uapi/domestic-stock/v1/quotations/inquire-time-dailychartprice": Endpoint(
            method: "GET",
            real: ["FHKST03010230"],
            paper: nil,
            handler: { $0.pastMinuteChart($1, $2) }
        ),
        "/uapi/domestic-stock/v1/quotations/search-stock-info": Endpoint(
            method: "GET",
            real: ["CTPF1002R"],
            paper: nil,
            handler: { $0.stockInfo($1, $2) }
        ),
    ]

    /// Routes one REST request on `environment`'s server.
    mutating func handle(_ request: RESTRequest, on environment: Environment) -> RESTReply {
        switch request.path {
        case "/oauth2/tokenP": return self.tokenP(request, environment)
        case "/oauth2/revokeP": return self.revokeP(request)
        case "/oauth2/Approval": return self.approval(request, environment)
        case "/uapi/hashkey": return self.hashkey(request, environment)
        default: break
        }
        guard let endpoint = Self.endpoints[request.path], endpoint.method == request.method else {
            return RESTReply(status: 404, body: [])
        }
        if let failure = self.takeServerError(request) { return failure }
        let appKey: String
        switch self.auth.authorize(
            appKey: request.headers["appkey"],
            secret: request.headers["appsecret"],
            authorization: request.headers["authorization"],
            on: environment,
            wall: self.wallMicros
        ) {
        case .success(let key): appKey = key
        case .failure(let error): return .gateway(error)
        }
        let tr = request.headers["tr_id"] ?? ""
        switch environment {
        case .real:
            if !endpoint.real.contains(tr) {
                return .gateway(endpoint.paper?.contains(tr) == true ? .notRealTR : .unknownTR)
            }
        case .paper:
            guard let paper = endpoint.paper else { return .gateway(.notOnPaper) }
            if !paper.contains(tr) { return .gateway(endpoint.real.contains(tr) ? .notPaperTR : .unknownTR) }
        }
        let call = Call(
            environment: environment,
            appKey: appKey,
            trID: tr,
            continuation: request.headers["tr_cont"] == "N"
        )
        self.answered[tr, default: 0] += 1
        var reply = endpoint.handler(&self, request, call)
        reply.headers = [
            ("tr_id", tr), ("tr_cont", reply.headers.first { $0.0 == "tr_cont" }?.1 ?? ""),
            ("gt_uid", self.auth.random.hex(32)),
        ]
        return reply
    }

    // MARK: OAuth

    private mutating func tokenP(_ request: RESTRequest, _ environment: Environment) -> RESTReply {
        guard let body = JSON(parsing: request.body) else { return .oauth(.appKeyInvalid) }
        let appKey: String
        switch self.auth.identify(appKey: body["appkey"]?.text, secret: body["appsecret"]?.text) {
        case .success(let key): appKey = key
        case .failure(let error): return .oauth(error)
        }
        let wall = self.wallMicros
        switch self.auth.issueToken(appKey: appKey, on: environment, wall: wall) {
        case .failure(let error): return .oauth(error)
        case .success(let key):
            let expires = key.tokenExpires / 1_000_000
            let stamp =
                KSTText.dashed(KST.date(epochSeconds: expires)) + " " + Self.colonTime(KST.time(epochSeconds: expires))
            return RESTReply(
                status: 200,
                body: JSON.obj([
                    "access_token": .string(key.token!),
                    "access_token_token_expired": .string(stamp),
                    "token_type": "Bearer",
                    "expires_in": .number(String((key.tokenExpires - wall) / 1_000_000)),
                ]).bytes
            )
        }
    }

    static func colonTime(_ time: UInt32) -> String {
        let t = KST.text(time: time)
        return "\(t.prefix(2)):\(t.dropFirst(2).prefix(2)):\(t.suffix(2))"
    }

    private mutating func revokeP(_ request: RESTRequest) -> RESTReply {
        guard let body = JSON(parsing: request.body) else { return .oauth(.tokenInvalid) }
        guard
            case .success(let appKey) = self.auth.identify(
                appKey: body["appkey"]?.text,
                secret: body["appsecret"]?.text
            ),
            let token = body["token"]?.text, self.auth.revoke(appKey: appKey, token: token)
        else { return .oauth(.tokenInvalid) }
        return RESTReply(status: 200, body: JSON.obj(["code": .number("200"), "message": "접근토큰 폐기에 성공하였습니다"]).bytes)
    }

    private mutating func approval(_ request: RESTRequest, _ environment: Environment) -> RESTReply {
        guard let body = JSON(parsing: request.body) else { return .oauth(.appKeyInvalid) }
        switch self.auth.identify(appKey: body["appkey"]?.text, secret: body["secretkey"]?.text) {
        case .failure(let error): return .oauth(error)
        case .success(let appKey):
            if let error = self.auth.spend(appKey: appKey, on: environment, wall: self.wallMicros) {
                return .gateway(error)
            }
            return RESTReply(
                status: 200,
                body: JSON.obj(["approval_key": .string(self.auth.approve(appKey: appKey))]).bytes
            )
        }
    }

    private mutating func hashkey(_ request: RESTRequest, _ environment: Environment) -> RESTReply {
        switch self.auth.identify(appKey: request.headers["appkey"], secret: request.headers["appsecret"]) {
        case .failure(let error): return .gateway(error)
        case .success(let appKey):
            if let error = self.auth.spend(appKey: appKey, on: environment, wall: self.wallMicros) {
                return .gateway(error)
            }
        }
        guard let body = JSON(parsing: request.body) else { return .gateway(.malformedBody) }
        return RESTReply(status: 200, body: JSON.obj(["BODY": body, "HASH": .string(SHA256.hex(request.body))]).bytes)
    }

    // MARK: Paging

    /// One page of `rows` from the cursor in `ctx_area_nk100`: tr_cont F/D on a first call, M/E on a continuation
    /// (F and M: more follows; D and E: last page). Cursors are padded to 100 characters like the real ones.
    func page<T>(
        _ rows: [T],
        size: Int,
        request: RESTRequest,
        call: Call,
        search: String
    ) -> (rows: ArraySlice<T>, trCont: String, fk: String, nk: String) {
        var start = 0
        if call.continuation {
            let nk = request.param("CTX_AREA_NK100").trimmingCharacters(in: " ")
            if let offset = nk.split(separator: "^").last.flatMap({ Int($0) }), offset >= 0 {
                start = min(offset, rows.count)
            }
        }
        let end = min(rows.count, start + size)
        let more = end < rows.count
        let trCont = call.continuation ? (more ? "M" : "E") : (more ? "F" : "D")
        let fk = Self.pad100(search)
        let nk = more ? Self.pad100("\(search)^\(end)") : Self.pad100("")
        return (rows[start..<end], trCont, fk, nk)
    }

    static func pad100(_ text: String) -> String {
        text + String(repeating: " ", count: max(0, 100 - text.utf8.count))
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        return String(self.drop { chars.contains($0) }.reversed().drop { chars.contains($0) }.reversed())
    }
}
