public import Net

/// A KIS answer that is not success: `rt_cd` other than "0", whatever the HTTP status, or a gateway/OAuth error body.
public struct APIFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var httpStatus: Int
    public var trID: String
    /// `rt_cd` ("1", "7", "9", …); empty for OAuth bodies, which carry only a code and a text.
    public var rtCd: String
    /// `msg_cd` or OAuth `error_code` (EGW00133, APBK0952, OPSP0008, …).
    public var msgCd: String
    /// `msg1` or OAuth `error_description`, trimmed.
    public var message: String

    public init(httpStatus: Int, trID: String, rtCd: String, msgCd: String, message: String) {
        self.httpStatus = httpStatus
        self.trID = trID
        self.rtCd = rtCd
        self.msgCd = msgCd
        self.message = message
    }

    public var description: String { "\(self.trID) \(self.msgCd) (HTTP \(self.httpStatus)): \(self.message)" }
}

/// Every way a KIS call can fail. Secrets never appear in any payload.
public enum KISError: Error, Sendable, Equatable, CustomStringConvertible {
    /// KIS answered and said no.
    case rejected(APIFailure)
    /// The request never reached KIS (connect failed, connection refused before any byte went out): safe to retry.
    case unreachable(NetError)
    /// The request went out and no complete answer came back: KIS may or may not have acted on it.
    /// Orders in this state are resolved by `OrderRecovery`, never by resending.
    case responseLost(trID: String, cause: NetError)
    /// KIS answered with something we cannot read.
    case malformedResponse(trID: String, reason: String)
    /// A token was issued less than 60 s ago (ours, or another process's on this machine); KIS would answer
    /// EGW00133. `retryAfterSeconds` is how long until one may be requested.
    case tokenThrottled(retryAfterSeconds: Double)
    /// The on-disk token cache, which spaces token requests across processes, could not be used; no token was
    /// requested, since KIS allows one a minute.
    case tokenCache(TokenCacheError)

    public var description: String {
        switch self {
        case .rejected(let failure): "KIS rejected \(failure)"
        case .unreachable(let cause): "KIS unreachable: \(cause)"
        case .responseLost(let trID, let cause): "\(trID): no answer (\(cause)); the request may have been executed"
        case .malformedResponse(let trID, let reason): "\(trID): unreadable answer: \(reason)"
        case .tokenThrottled(let wait):
            "access token issued less than 60 s ago; next allowed in \(Int(wait.rounded(.up))) s"
        case .tokenCache(let error): "token cache unusable: \(error)"
        }
    }
}
