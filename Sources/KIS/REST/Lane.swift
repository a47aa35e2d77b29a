public import Net
import TickCore

/// One pre-warmed keep-alive connection to the REST host with its reusable request buffer and header block.
///
/// The client keeps two: orders never queue behind a slow balance inquiry. Both draw on the one `RateLimiter`.
/// Thread-confined; the client guards its query lane with a mutex, and the order lane belongs to one thread.
public struct Lane: ~Copyable {
    var connection: HTTPConnection
    var writer = ByteWriter(capacity: 8 * 1_024)
    var headers: HeaderBlock?
    let host: String
    /// The lane's copy of the access token and the manager's generation it was taken at.
    private var token: AccessToken?
    private var tokenGeneration = -1

    init(baseURL: String, maxResponseSize: Int, caFile: String?) {
        self.connection = HTTPConnection(baseURL: baseURL, maxResponseSize: maxResponseSize, caFile: caFile)
        self.host = Stream.endpoint(ofURL: baseURL)
    }

    /// Connections opened so far: a warm lane keeps this flat.
    public var connectCount: Int { self.connection.connectCount }

    /// Opens the connection now, ahead of the first request.
    public mutating func warm() throws(NetError) {
        try self.connection.keepWarm()
    }

    /// The access token, from the lane's copy while the manager's generation is unchanged and the copy is not
    /// within the manager's refresh margin of expiry: no lock and no existential call on the way to an order.
    mutating func token(from manager: TokenManager) throws(KISError) -> AccessToken {
        let generation = manager.tokenGeneration
        if let token = self.token, generation == self.tokenGeneration,
            WallClock().now() / 1_000_000_000 + manager.refreshMargin.components.seconds < token.expiresAt
        {
            return token
        }
        let token = try manager.current()
        self.token = token
        self.tokenGeneration = generation
        return token
    }

    /// The header block for `token`, rebuilt only when the token changed.
    mutating func headers(for token: Secret?, credentials: Credentials, userAgent: String) -> HeaderBlock {
        if let headers = self.headers, headers.token == token { return headers }
        let headers = HeaderBlock(host: self.host, credentials: credentials, userAgent: userAgent, token: token)
        self.headers = headers
        return headers
    }

    /// Sends the request now in `writer` and opens KIS's envelope.
    mutating func exchange(trID: String, timeoutMilliseconds: Int) throws(KISError) -> RESTResponse {
        let response = try self.send(trID: trID, timeoutMilliseconds: timeoutMilliseconds, whileWaiting: {})
        let json = try self.connection.withBytes(response.body) { body throws(KISError) in
            try Envelope.open(status: response.head.status, body: body, trID: trID)
        }
        return RESTResponse(
            status: response.head.status,
            trCont: response.head.trCont,
            json: json,
            sendStartedAt: response.sendStartedAt,
            sentAt: response.sentAt
        )
    }

    /// Sends the order request now in `writer` and reads its answer without building JSON (`OrderAck.read`).
    mutating func exchangeOrder(
        trID: String,
        timeoutMilliseconds: Int,
        whileWaiting: () -> Void
    ) throws(KISError) -> OrderAck {
        let response = try self.send(trID: trID, timeoutMilliseconds: timeoutMilliseconds, whileWaiting: whileWaiting)
        var ack = try self.connection.withBytes(response.body) { body throws(KISError) in
            try OrderAck.read(status: response.head.status, body: body, trID: trID)
        }
        ack.sendStartedAt = response.sendStartedAt
        ack.sentAt = response.sentAt
        return ack
    }

    private mutating func send(
        trID: String,
        timeoutMilliseconds: Int,
        whileWaiting: () -> Void
    ) throws(KISError) -> HTTPResponse {
        do {
            return try self.connection.exchange(
                self.writer.bytes,
                timeoutMilliseconds: timeoutMilliseconds,
                whileWaiting: whileWaiting
            )
        } catch {
            switch error {
            case .notSent(let cause): throw .unreachable(cause)
            case .lost(let cause): throw .responseLost(trID: trID, cause: cause)
            }
        }
    }
}

@available(*, unavailable)
extension Lane: Sendable {}
