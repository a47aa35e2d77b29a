public import Net
public import TickCore
public import Wire

/// What a `WebSocketSession` tells its owner, on the feed thread, in the order it happened relative to the
/// records handed to the sink.
public enum WebSocketEvent: Equatable, Sendable {
    /// A connection is open and upgraded; subscriptions are being (re)sent.
    case connected
    /// A connection ended, or an attempt to open one failed.
    case disconnected(DisconnectReason)
    /// The next attempt starts after `after` (exponential backoff with full jitter).
    case reconnectScheduled(after: Duration)
    /// KIS acknowledged the registration (OPSP0000, or OPSP0002 ALREADY IN SUBSCRIBE).
    case subscribed(Subscription)
    /// KIS released the registration (OPSP0001, or OPSP0003 for one it did not hold), or the connection that held
    /// it ended while its release was pending.
    case unsubscribed(Subscription)
    /// KIS refused the registration; it is no longer wanted and will not be re-sent.
    case subscribeFailed(Subscription, SubscriptionError)
    /// The stream of `code` is back after a reconnect and records between the drop and now are missing: take a
    /// REST snapshot and mark what was built from the stream. Sent once per code and reconnect, with the first
    /// acknowledgement of the code's resubscription, so every record that follows is newer than the gap.
    case gap(SymbolCode)
    /// A notice TR is registered again after a reconnect. KIS does not replay notices sent while the connection
    /// was down (docs/kis-protocol.md §5.8): reconcile orders over REST now, since every later notice arrives.
    case noticesMayHaveBeenMissed
    /// The approval-key provider failed; a new attempt follows the backoff.
    case approvalKeyUnavailable(KISError)
    /// KIS sent an error that names no registration of ours (the `rt_cd` 9 parse errors, OPSP0007 …).
    case serverError(code: String, message: String)
}

/// Why a connection ended or could not be opened.
public enum DisconnectReason: Equatable, Sendable {
    /// DNS, TCP, or the upgrade's answer did not come in time.
    case connectFailed(NetError)
    /// The server's answer to the upgrade request was not `101 Switching Protocols` as RFC 6455 requires.
    case handshakeFailed(WebSocketHandshakeError)
    /// The server ended the connection (EOF or a close frame; KIS sends no close frame).
    case closed
    /// A send or receive failed on an open connection.
    case network(NetError)
    /// The server's bytes broke RFC 6455.
    case protocolViolation(WebSocketError)
    /// Nothing (data, ack or PINGPONG) arrived for the silence timeout: the connection is presumed dead.
    case silence
    /// OPSP0011 (invalid approval): a fresh approval key is fetched before the next attempt.
    case approvalKeyRejected
    /// OPSP8996 (ALREADY IN USE appkey): another session holds the app key. Retried with backoff, since the other
    /// session may be our own previous one that the server has not yet let go; if it persists, another process is
    /// using the app key and the operator must stop one of them.
    case appKeyInUse
    /// `stop()` was called.
    case stopped
}

/// Receives a session's events. Generic at the call site, so a concrete observer is called directly.
public protocol WebSocketObserver: ~Copyable {
    mutating func event(_ event: WebSocketEvent)

    /// Sees every text and binary message exactly as received, before it is decoded (a notice still encrypted),
    /// with the local receive time in nanoseconds since the epoch: the tap a capture records from. On the feed
    /// thread, per message: it must not allocate, lock or block. Does nothing unless implemented.
    mutating func received(_ message: RawSpan, localTs: Int64)
}

extension WebSocketObserver where Self: ~Copyable {
    public mutating func received(_ message: RawSpan, localTs: Int64) {}
}

/// Issues WebSocket approval keys (`POST /oauth2/Approval`, docs/kis-protocol.md §2.2).
///
/// Called on the feed thread before the first connection and after KIS rejects a key (OPSP0011); the key is
/// otherwise reused across reconnects, as the official client does: it is valid for 24 hours, and each issue
/// spends REST budget (docs/kis-protocol.md §9) at the moment the network is least likely to be healthy.
public protocol ApprovalKeyProvider: ~Copyable {
    mutating func approvalKey() throws(KISError) -> Secret
}
