/// Why a connection could not carry a request. None of these say whether the peer acted on bytes already sent:
/// that is the caller's question (`RESTConnection` answers it with `requestSent`).
public enum NetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// DNS, TCP or TLS setup failed; `detail` is libcurl's text (no request data is ever part of it).
    case connectFailed(host: String, detail: String)
    /// The peer closed the connection, or reset it.
    case closed
    /// Nothing arrived (or nothing could be written) before the deadline.
    case timedOut
    /// A socket-level failure after the connection was up.
    case io(detail: String)
    /// The peer's bytes are not HTTP/1.1 we can read.
    case malformedResponse(reason: String)
    /// The response or request does not fit the connection's fixed buffers.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .connectFailed(let host, let detail): "cannot connect to \(host): \(detail)"
        case .closed: "connection closed by the peer"
        case .timedOut: "timed out"
        case .io(let detail): "socket error: \(detail)"
        case .malformedResponse(let reason): "malformed HTTP response: \(reason)"
        case .tooLarge(let limit): "message larger than the \(limit)-byte buffer"
        }
    }
}
