import JSON
import Net
import TickCore

/// The OAuth calls (`/oauth2/tokenP`, `/oauth2/Approval`): rare (a token a day, a key per WebSocket connect), so
/// each takes a short-lived connection of its own instead of a lane. A session takes its approval keys through
/// `KISClient.approvalKey()`, which spends a slot of the app key's budget on each.
public struct OAuth: TokenIssuing {
    public let restURL: String
    public let credentials: Credentials
    public let userAgent: String
    public let caFile: String?
    public let timeoutMilliseconds: Int

    public init(restURL: String, credentials: Credentials, userAgent: String, caFile: String?, timeoutMilliseconds: Int)
    {
        self.restURL = restURL
        self.credentials = credentials
        self.userAgent = userAgent
        self.caFile = caFile
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    public init(settings: ClientSettings) {
        self.init(
            restURL: settings.restURL,
            credentials: settings.credentials,
            userAgent: settings.userAgent,
            caFile: settings.caFile,
            timeoutMilliseconds: settings.timeoutMilliseconds
        )
    }

    /// `POST /oauth2/tokenP`. Call through `TokenManager`, which allows one a minute (EGW00133).
    public func issueAccessToken() throws(KISError) -> AccessToken {
        let json = try self.post(
            "/oauth2/tokenP",
            trID: "tokenP",
            body: [
                ("grant_type", "client_credentials"), ("appkey", self.credentials.appKey.reveal),
                ("appsecret", self.credentials.appSecret.reveal),
            ]
        )
        guard let token = json["access_token"]?.text, !token.isEmpty,
            let expiry = json["access_token_token_expired"]?.text,
            let accessToken = AccessToken(token: Secret(token), kstExpiry: expiry, issuedAt: WallClock().epochSeconds())
        else { throw .malformedResponse(trID: "tokenP", reason: "no access_token or access_token_token_expired") }
        return accessToken
    }

    /// `POST /oauth2/Approval`: the WebSocket approval key (the secret travels as `secretkey` here).
    public func approvalKey() throws(KISError) -> Secret {
        let json = try self.post(
            "/oauth2/Approval",
            trID: "Approval",
            body: [
                ("grant_type", "client_credentials"), ("appkey", self.credentials.appKey.reveal),
                ("secretkey", self.credentials.appSecret.reveal),
            ]
        )
        guard let key = json["approval_key"]?.text, !key.isEmpty else {
            throw .malformedResponse(trID: "Approval", reason: "no approval_key")
        }
        return Secret(key)
    }

    private func post(_ path: String, trID: String, body: [(String, String)]) throws(KISError) -> JSON {
        var call = RESTCall(.post, path, trID: "", body: JSON.object(body.map { ($0, .string($1)) }).bytes)
        call.authenticated = false
        let headers = HeaderBlock(
            host: Stream.endpoint(ofURL: self.restURL),
            credentials: nil,
            userAgent: self.userAgent,
            token: nil
        )
        var writer = ByteWriter(capacity: 1_024)
        call.format(into: &writer, headers: headers)
        var connection = HTTPConnection(baseURL: self.restURL, maxResponseSize: 64 * 1_024, caFile: self.caFile)
        let response: HTTPResponse
        do {
            response = try connection.exchange(writer.bytes, timeoutMilliseconds: self.timeoutMilliseconds)
        } catch {
            switch error {
            case .notSent(let cause): throw .unreachable(cause)
            case .lost(let cause): throw .responseLost(trID: trID, cause: cause)
            }
        }
        return try connection.withBytes(response.body) { bytes throws(KISError) in
            try Envelope.open(status: response.head.status, body: bytes, trID: trID)
        }
    }
}

/// The WebSocket session fetches its approval keys here.
extension OAuth: ApprovalKeyProvider {}
