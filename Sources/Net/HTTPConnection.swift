import TickCore

/// A parsed response; its body lives in the connection's buffer until the next exchange.
public struct HTTPResponse: Sendable, Equatable {
    public var head: HTTPResponseHead
    public var body: Range<Int>
    /// Monotonic nanoseconds just before the request's first byte went to the socket (libcurl, then the kernel):
    /// what precedes it is our own code.
    public var sendStartedAt: Int64
    /// Monotonic nanoseconds when the send returned: the kernel has every byte (on loopback, this includes the
    /// kernel delivering them into the peer's socket).
    public var sentAt: Int64
    /// Whether this exchange had to open a connection first (a cold request).
    public var connected: Bool
}

/// Why an exchange failed, sorted by the only question that matters for an order: could the server have seen it?
public enum ExchangeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No byte of the request reached the connection: it can be retried as if never tried.
    case notSent(NetError)
    /// The request went out and no complete answer came back: the server may have acted on it.
    case lost(NetError)

    public var description: String {
        switch self {
        case .notSent(let cause): "not sent: \(cause)"
        case .lost(let cause): "sent, answer lost: \(cause)"
        }
    }
}

/// One keep-alive HTTP/1.1 connection to one host, opened ahead of need and reopened when the server drops it.
///
/// ```
///   closed ──connect()──▶ idle ──exchange()──▶ inRequest ──complete, keep-alive──▶ idle
///     ▲                    │ stale (peer closed / reset)        │ error, timeout, `Connection: close`
///     └────────────────────┴────────────────────────────────────┘
/// ```
/// Requests are complete HTTP/1.1 messages the caller formats (see `ByteWriter`); the response is parsed in a
/// buffer allocated once, so an exchange on a warm connection allocates nothing here.
///
/// Thread-confined: a connection belongs to the one thread (lane) that uses it.
public struct HTTPConnection: ~Copyable {
    /// `scheme://host:port` the connection goes to.
    public let baseURL: String
    public let connectTimeoutMilliseconds: Int
    /// Certificate authorities to trust instead of the system's; nil for the system's.
    public let caFile: String?
    private var stream: Stream?
    private var buffer: [UInt8]
    private var filled = 0
    private var parser = HTTPResponseParser()
    /// Connections opened so far (the first included): a warm path keeps this flat.
    public private(set) var connectCount = 0

    /// - Parameters:
    ///   - baseURL: `http(s)://host:port`.
    ///   - maxResponseSize: the largest response accepted; the buffer is allocated once at this size.
    public init(
        baseURL: String,
        maxResponseSize: Int = 1 << 20,
        connectTimeoutMilliseconds: Int = 3_000,
        caFile: String? = nil
    ) {
        self.baseURL = baseURL
        self.caFile = caFile
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.buffer = [UInt8](repeating: 0, count: maxResponseSize)
    }

    public var isConnected: Bool { self.stream != nil }

    /// Opens a fresh connection now (TCP and TLS), replacing any other: the pre-warm.
    public mutating func connect() throws(NetError) {
        self.stream = nil
        self.stream = try Stream(
            url: self.baseURL,
            connectTimeoutMilliseconds: self.connectTimeoutMilliseconds,
            caFile: self.caFile
        )
        self.connectCount += 1
    }

    /// Reopens the connection if the server has closed it while idle, so the next request finds it warm.
    /// - Returns: whether a new connection was opened.
    @discardableResult
    public mutating func keepWarm() throws(NetError) -> Bool {
        let stale = self.stream?.isStale() ?? true
        guard stale else { return false }
        try self.connect()
        return true
    }

    public mutating func close() {
        self.stream = nil
    }

    /// Sends one complete request and reads its response.
    /// - Parameters:
    ///   - request: the request bytes, head and body.
    ///   - timeoutMilliseconds: how long to wait for the whole answer once the request is out.
    ///   - whileWaiting: runs once every byte is out, before the answer is read: work that must follow the send
    ///     but need not delay it (an order's journal row), done while the answer crosses the network.
    public mutating func exchange(
        _ request: [UInt8],
        timeoutMilliseconds: Int,
        whileWaiting: () -> Void = {}
    ) throws(ExchangeError) -> HTTPResponse {
        var connected = false
        do {
            connected = try self.keepWarm()
        } catch {
            throw .notSent(error)
        }
        var progress = 0
        let sendStartedAt = MonotonicClock().now()
        let sendResult: NetError? = unsafe request.withUnsafeBytes { bytes -> NetError? in
            do throws(NetError) {
                try unsafe self.stream!.send(bytes, timeoutMilliseconds: timeoutMilliseconds, progress: &progress)
                return nil
            } catch {
                return error
            }
        }
        let sentAt = MonotonicClock().now()
        if let sendResult {
            self.stream = nil
            throw progress == 0 ? .notSent(sendResult) : .lost(sendResult)
        }
        whileWaiting()
        do {
            let (head, body) = try self.readResponse(deadline: sentAt + Int64(timeoutMilliseconds) * 1_000_000)
            if !head.keepAlive { self.stream = nil }
            return HTTPResponse(
                head: head,
                body: body,
                sendStartedAt: sendStartedAt,
                sentAt: sentAt,
                connected: connected
            )
        } catch {
            self.stream = nil
            throw .lost(error)
        }
    }

    /// The bytes of `range` in the response buffer (a response's `body`).
    public func withBytes<R, E: Error>(_ range: Range<Int>, _ body: (ArraySlice<UInt8>) throws(E) -> R) throws(E) -> R {
        try body(self.buffer[range])
    }

    private mutating func readResponse(deadline: Int64) throws(NetError) -> (HTTPResponseHead, Range<Int>) {
        self.parser.reset()
        self.filled = 0
        while true {
            switch try self.parser.parse(&self.buffer, count: self.filled) {
            case .complete(let head, let body, let consumed):
                // A keep-alive server sends nothing unasked; extra bytes mean the stream is out of step.
                guard consumed == self.filled else { throw .malformedResponse(reason: "bytes after the response") }
                return (head, body)
            case .needMoreData:
                break
            }
            guard self.filled < self.buffer.count else { throw .tooLarge(limit: self.buffer.count) }
            let now = MonotonicClock().now()
            guard now < deadline else { throw .timedOut }
            let (start, wait) = (self.filled, Int((deadline - now) / 1_000_000) + 1)
            let result: Result<Int, NetError> = unsafe self.buffer.withUnsafeMutableBytes { raw in
                do throws(NetError) {
                    return .success(
                        try unsafe self.stream!.receive(
                            into: UnsafeMutableRawBufferPointer(rebasing: raw[start...]),
                            timeoutMilliseconds: wait
                        )
                    )
                } catch {
                    return .failure(error)
                }
            }
            let received: Int
            switch result {
            case .success(let count):
                received = count
            case .failure(.closed):
                if case .complete(let head, let body, _) = self.parser.finishAtClose(count: self.filled) {
                    return (head, body)
                }
                throw .closed
            case .failure(let error):
                throw error
            }
            self.filled += received
        }
    }
}

@available(*, unavailable)
extension HTTPConnection: Sendable {}
