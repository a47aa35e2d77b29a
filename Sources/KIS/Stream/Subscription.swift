public import TickCore

/// One registration on the KIS WebSocket: a TR and its key (docs/kis-protocol.md §5.2). KIS identifies registrations by
/// this pair, and so does everything here: acks are matched on it and a session holds each pair at most once.
public struct Subscription: Hashable, Sendable, CustomStringConvertible {
    /// The real-time TR, e.g. `H0STCNT0`.
    public var tr: TRID
    /// The stock code for market data, the HTS id for the notice TRs.
    public var key: String

    public init(tr: TRID, key: String) {
        self.tr = tr
        self.key = key
    }

    /// Real-time trades of a code on `venue`: H0STCNT0 (KRX), H0NXCNT0 (NXT), H0UNCNT0 (combined).
    public static func trades(_ code: String, venue: Venue = .krx) -> Subscription {
        Subscription(tr: venue == .krx ? .h0stcnt0 : venue == .nxt ? .h0nxcnt0 : .h0uncnt0, key: code)
    }

    /// The 10-level order book of a code on `venue`: H0STASP0, H0NXASP0, H0UNASP0.
    public static func book(_ code: String, venue: Venue = .krx) -> Subscription {
        Subscription(tr: venue == .krx ? .h0stasp0 : venue == .nxt ? .h0nxasp0 : .h0unasp0, key: code)
    }

    /// The market status (halts, VI) of a code on `venue`: H0STMKO0, H0NXMKO0, H0UNMKO0.
    public static func marketStatus(_ code: String, venue: Venue = .krx) -> Subscription {
        Subscription(tr: venue == .krx ? .h0stmko0 : venue == .nxt ? .h0nxmko0 : .h0unmko0, key: code)
    }

    /// What a code's market data takes on the given venues: trades and book on each, and the market status when
    /// `status` (each one a registration of the session's 41).
    public static func marketData(_ code: String, venues: [Venue], status: Bool = false) -> [Subscription] {
        venues.flatMap { venue in
            [Self.trades(code, venue: venue), Self.book(code, venue: venue)]
                + (status ? [Self.marketStatus(code, venue: venue)] : [])
        }
    }

    /// A trade TR of any venue: the registrations that count a code as streaming.
    public var isTrades: Bool { self.tr == .h0stcnt0 || self.tr == .h0nxcnt0 || self.tr == .h0uncnt0 }

    /// Order and fill notices of an HTS id: H0STCNI0 on the real server, H0STCNI9 on paper.
    public static func notices(htsID: String, environment: Environment) -> Subscription {
        Subscription(tr: environment == .real ? .h0stcni0 : .h0stcni9, key: htsID)
    }

    /// The encrypted order/fill notice TRs, which KIS does not replay after a reconnect (docs/kis-protocol.md §5.8).
    public var isNotice: Bool { self.tr == .h0stcni0 || self.tr == .h0stcni9 }

    /// The code whose stream this is, for market-data subscriptions; nil for notices (and for keys longer than the
    /// eight bytes a `SymbolCode` holds, which no KRX code is).
    public var code: SymbolCode? { self.isNotice ? nil : SymbolCode(self.key) }

    public var description: String { "\(self.tr)/\(self.key)" }

    /// Keys are codes (`005930`, `Q500001`) or HTS ids: short and alphanumeric. Anything else would be refused by
    /// KIS with an error that names no TR (OPSP8992), which could not be matched back to the request.
    var hasValidKey: Bool {
        !self.key.isEmpty && self.key.utf8.count <= 16
            && self.key.utf8.allSatisfy {
                (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
            }
    }
}

/// Why a subscription was refused, locally or by KIS.
public enum SubscriptionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The session already holds `limit` registrations (KIS allows 41 per session, docs/kis-protocol.md §5.7).
    /// Refused before anything is sent when the count of pending and acknowledged registrations would pass the
    /// limit; also what KIS's OPSP0008 (MAX SUBSCRIBE OVER) maps to.
    case budgetExceeded(limit: Int)
    /// The key is empty, longer than 16 characters, or not alphanumeric.
    case invalidKey(String)
    /// KIS refused the registration with another code (OPSP0007 unknown TR, …).
    case rejected(code: String, message: String)

    public var description: String {
        switch self {
        case .budgetExceeded(let limit): "the session already holds \(limit) registrations, the KIS maximum per session"
        case .invalidKey(let key): "'\(key)' is not a stock code or HTS id"
        case .rejected(let code, let message): "KIS refused the subscription: \(code) \(message)"
        }
    }
}
