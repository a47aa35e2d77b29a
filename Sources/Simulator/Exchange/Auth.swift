import TickCore

/// A gateway error: HTTP 500 (403 for the OAuth endpoints) and KIS's error body.
struct GatewayError: Error, Equatable {
    var status: Int
    var code: String
    var message: String

    static let appKeyMissing = GatewayError(status: 500, code: "EGW00102", message: "AppKey는 필수입니다.")
    static let appKeyInvalid = GatewayError(status: 500, code: "EGW00103", message: "유효하지 않은 AppKey입니다.")
    static let appSecretMissing = GatewayError(status: 500, code: "EGW00104", message: "AppSecret은 필수입니다.")
    static let appSecretInvalid = GatewayError(status: 500, code: "EGW00105", message: "유효하지 않은 AppSecret입니다.")
    static let tokenInvalid = GatewayError(status: 500, code: "EGW00121", message: "유효하지 않은 token 입니다.")
    static let tokenExpired = GatewayError(status: 500, code: "EGW00123", message: "기간이 만료된 token 입니다.")
    static let rateLimited = GatewayError(status: 500, code: "EGW00201", message: "초당 거래건수를 초과하였습니다.")
    static let paperKeyOnReal = GatewayError(
        status: 500,
        code: "EGW02004",
        message: "실전투자 도메인은 모의투자 앱키로 호출하실 수 없습니다."
    )
    /// The mirror of EGW02004 (inferred: only the paper-key-on-real text has been seen).
    static let realKeyOnPaper = GatewayError(
        status: 500,
        code: "EGW02004",
        message: "모의투자 도메인은 실전투자 앱키로 호출하실 수 없습니다."
    )
    static let notPaperTR = GatewayError(status: 500, code: "EGW00213", message: "모의투자 TR 이 아닙니다.")
    /// The mirror of EGW00213 for a paper TR id on the real server (inferred).
    static let notRealTR = GatewayError(status: 500, code: "EGW00213", message: "실전투자 TR 이 아닙니다.")
    static let unknownTR = GatewayError(status: 500, code: "EGW00202", message: "GW라우팅 중 오류가 발생했습니다.")
    static let notOnPaper = GatewayError(status: 500, code: "MCA00124", message: "해당 서비스를 찾을수 없습니다.")
    static let malformedBody = GatewayError(status: 500, code: "IGW00007", message: "MCA 전문바디 구성 중 오류가 발생하였습니다.")
    /// The order went out but its answer did not come back in time: the order may well exist (EGW00302).
    static let orderTimeout = GatewayError(
        status: 500,
        code: "EGW00302",
        message: "거래시간이 초과되었습니다.직전 거래를 반드시 확인하세요."
    )
    static let tokenThrottled = GatewayError(status: 403, code: "EGW00133", message: "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)")
}

/// App keys, tokens, approval keys and per-second request budgets.
///
/// Any app key of 36 characters with a secret of 180 (the lengths KIS issues) is accepted and remembered with the
/// first secret it came with, so any `kis_devlp.yaml` works against the simulator. A key belongs to the
/// environment of the server it first took a token from.
struct AuthState {
    struct Key {
        var secret: String
        var environment: Environment?
        var token: String?
        var tokenIssued: Int64 = 0
        var tokenExpires: Int64 = 0
        var lastIssue: Int64?
        /// The wall-clock second of the current rate window, and requests counted in it.
        var window: Int64 = -1
        var windowCount = 0
    }

    var keys: [String: Key] = [:]
    /// token → app key, approval key → app key.
    var tokens: [String: String] = [:]
    var approvals: [String: String] = [:]
    var random: SimRandom
    /// Requests still to be refused with EGW00201 (the rate-limit burst fault).
    var forcedRateLimits = 0
    /// Requests refused with EGW00201 because their key was over its per-second budget (not by the fault): what
    /// clients sharing a key must keep at 0.
    var overBudget = 0

    static let appKeyLength = 36
    static let secretLength = 180
    static let tokenLifetime: Int64 = 86_400 * 1_000_000
    static let tokenReuse: Int64 = 6 * 3_600 * 1_000_000
    static let issueInterval: Int64 = 60 * 1_000_000

    init(seed: UInt64) {
        self.random = SimRandom(seed: seed, stream: 0xA07)
    }

    /// Checks an app key and secret, remembering new ones.
    mutating func identify(appKey: String?, secret: String?) -> Result<String, GatewayError> {
        guard let appKey, !appKey.isEmpty else { return .failure(.appKeyMissing) }
        guard appKey.utf8.count == Self.appKeyLength else { return .failure(.appKeyInvalid) }
        guard let secret, !secret.isEmpty else { return .failure(.appSecretMissing) }
        guard secret.utf8.count == Self.secretLength else { return .failure(.appSecretInvalid) }
        if let known = self.keys[appKey] {
            guard known.secret == secret else { return .failure(.appSecretInvalid) }
        } else {
            self.keys[appKey] = Key(secret: secret)
        }
        return .success(appKey)
    }

    /// `/oauth2/tokenP`: one issue a minute; a request within six hours of an issue gets the same token back.
    mutating func issueToken(appKey: String, on environment: Environment, wall: Int64) -> Result<Key, GatewayError> {
        var key = self.keys[appKey]!
        if let bound = key.environment, bound != environment {
            return .failure(bound == .paper ? .paperKeyOnReal : .realKeyOnPaper)
        }
        key.environment = environment
        if let last = key.lastIssue, wall - last < Self.issueInterval { return .failure(.tokenThrottled) }
        if key.token == nil || wall >= key.tokenExpires || wall - key.tokenIssued >= Self.tokenReuse {
            let token = self.makeToken(appKey: appKey, issued: wall)
            key.token = token
            key.tokenIssued = wall
            key.tokenExpires = wall + Self.tokenLifetime
            self.tokens[token] = appKey
        }
        key.lastIssue = wall
        self.keys[appKey] = key
        return .success(key)
    }

    /// A JWT of KIS's shape (HS512 header; sub, aud, prdt_cd, iss "unogw", exp, iat, jti = app key) with a random
    /// signature: clients only carry it.
    private mutating func makeToken(appKey: String, issued: Int64) -> String {
        let iat = issued / 1_000_000
        let header = #"{"typ":"JWT","alg":"HS512"}"#
        let claims =
            #"{"sub":"token","aud":"\#(self.random.uuid())","prdt_cd":"","iss":"unogw","exp":\#(iat + 86_400),"iat":\#(iat),"jti":"\#(appKey)"}"#
        let signature = (0..<64).map { _ in UInt8(truncatingIfNeeded: self.random.next()) }
        return [Array(header.utf8), Array(claims.utf8), signature].map(Self.base64URL).joined(separator: ".")
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let chunk = bytes[i..<min(i + 3, bytes.count)]
            var group: UInt32 = 0
            for (n, b) in chunk.enumerated() { group |= UInt32(b) << UInt32(16 - 8 * n) }
            for n in 0...chunk.count { out.append(alphabet[Int(group >> UInt32(18 - 6 * n) & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `/oauth2/revokeP`.
    mutating func revoke(appKey: String, token: String) -> Bool {
        guard self.tokens[token] == appKey, self.keys[appKey]?.token == token else { return false }
        self.tokens[token] = nil
        self.keys[appKey]?.token = nil
        return true
    }

    /// `/oauth2/Approval`: a fresh key on every call; all of an app key's approval keys stay valid, on either
    /// WebSocket server (python-kis fetches them all from one host, docs/kis-protocol.md §2.2).
    mutating func approve(appKey: String) -> String {
        let approval = self.random.uuid()
        self.approvals[approval] = appKey
        return approval
    }

    /// The checks every `/uapi` request passes: app key and secret, the per-second budget (20 real, 2 paper),
    /// the bearer token, and the key's environment against the server's.
    mutating func authorize(
        appKey: String?,
        secret: String?,
        authorization: String?,
        on environment: Environment,
        wall: Int64
    ) -> Result<String, GatewayError> {
        let identified: String
        switch self.identify(appKey: appKey, secret: secret) {
        case .success(let key): identified = key
        case .failure(let error): return .failure(error)
        }
        if let error = self.spend(appKey: identified, on: environment, wall: wall) { return .failure(error) }
        guard let authorization, authorization.hasPrefix("Bearer ") else { return .failure(.tokenInvalid) }
        let token = String(authorization.dropFirst("Bearer ".count))
        guard self.tokens[token] == identified, let key = self.keys[identified], key.token == token else {
            return .failure(.tokenInvalid)
        }
        guard wall < key.tokenExpires else { return .failure(.tokenExpired) }
        if let bound = key.environment, bound != environment {
            return .failure(bound == .paper ? .paperKeyOnReal : .realKeyOnPaper)
        }
        return .success(identified)
    }

    /// Counts one request against the app key's budget for the current wall-clock second.
    mutating func spend(appKey: String, on environment: Environment, wall: Int64) -> GatewayError? {
        if self.forcedRateLimits > 0 {
            self.forcedRateLimits -= 1
            return .rateLimited
        }
        let second = wall / 1_000_000
        var key = self.keys[appKey]!
        if key.window != second {
            key.window = second
            key.windowCount = 0
        }
        key.windowCount += 1
        self.keys[appKey] = key
        guard key.windowCount > (environment == .real ? 20 : 2) else { return nil }
        self.overBudget += 1
        return .rateLimited
    }

    /// The `expire the token now` fault.
    mutating func expireAll(wall: Int64) {
        for appKey in self.keys.keys where self.keys[appKey]!.token != nil {
            self.keys[appKey]!.tokenExpires = wall
        }
    }
}
