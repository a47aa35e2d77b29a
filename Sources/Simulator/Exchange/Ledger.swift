import JSON
import TickCore

/// What the exchange did to its WebSocket sessions, kept after they close: when each opened and closed, its
/// registrations and when the last one was acknowledged, and when the cut-mid-frame fault cut a connection. A
/// tool checking a client against the simulator (scripts/chaos: "resubscribed within 2 s of a cut") reads it
/// through `GET /sim/ledger`; nothing in the market depends on it.
struct SessionLog {
    struct Entry {
        var id: Int
        var environment: Environment
        /// Wall microseconds.
        var openedAt: Int64
        var closedAt: Int64?
        /// Registrations held, and when the last was acknowledged (OPSP0000).
        var registrations = 0
        var registeredAt: Int64 = 0
        /// The session's first registration and when it was acknowledged: whether a reconnecting client asks for
        /// its notices before its market data.
        var firstTR: String?
        var firstAt: Int64 = 0
        /// Registrations released (OPSP0001): a client rotating its codes.
        var releases = 0
        /// The most registrations held at once, and the requests refused past the limit (OPSP0008): a client that
        /// spreads its codes over several app keys keeps the first at or under 41 and the second at 0.
        var peakRegistrations = 0
        var refusals = 0
        /// Messages sent, counted when the session closes (an open session's count is live).
        var messagesSent = 0
    }

    private(set) var entries: [Int: Entry] = [:]
    /// Wall microseconds of each cut the `drop_mid_frame` fault made.
    private(set) var cuts: [Int64] = []

    mutating func opened(_ session: Session, at wall: Int64) {
        self.entries[session.id] = Entry(id: session.id, environment: session.environment, openedAt: wall)
    }

    mutating func registered(_ session: Session, tr: String, holding count: Int, at wall: Int64) {
        self.entries[session.id]?.registrations = count
        self.entries[session.id]?.registeredAt = wall
        if count > self.entries[session.id]?.peakRegistrations ?? count {
            self.entries[session.id]?.peakRegistrations = count
        }
        if self.entries[session.id]?.firstTR == nil {
            self.entries[session.id]?.firstTR = tr
            self.entries[session.id]?.firstAt = wall
        }
    }

    mutating func refused(_ session: Session) {
        self.entries[session.id]?.refusals += 1
    }

    mutating func released(_ session: Session, holding count: Int) {
        self.entries[session.id]?.registrations = count
        self.entries[session.id]?.releases += 1
    }

    mutating func closed(_ session: Session, at wall: Int64) {
        self.entries[session.id]?.closedAt = wall
        self.entries[session.id]?.messagesSent = session.messagesSent.load(ordering: .relaxed)
    }

    mutating func cut(at wall: Int64) {
        self.cuts.append(wall)
    }
}

extension ExchangeState {
    /// `GET /sim/ledger`: the exchange's own books, for checking a client against them.
    ///
    /// - `orders`: every order the exchange numbered (new orders, modifies and cancels, rejected ones too), in
    ///   number order, with what became of it, its route (EXCG_ID_DVSN_CD) and the venue whose book it worked in
    ///   (for SOR, the one SOR chose), where each of its fills executed;
    /// - `holdings`: every account's shares;
    /// - `sessions` and `cuts_us`: the `SessionLog`, with the live message count of open sessions;
    /// - `faults`: what is armed now.
    func ledger(sessions live: [Int: Session]) -> JSON {
        let orders: [JSON] = self.orders.sorted { $0.number < $1.number }.map { order in
            let kind: String =
                switch order.kind {
                case .new: "new"
                case .modify: "modify"
                case .cancel: "cancel"
                }
            return JSON.obj([
                "number": Self.int(order.number), "original": Self.int(order.originalNumber), "kind": .string(kind),
                "env": .string(order.environment.rawValue), "account": .string(order.account),
                "code": .string(order.code), "side": .string(order.side == .buy ? "buy" : "sell"),
                "type": .string(order.orderType), "price": Self.int(order.price), "quantity": Self.int(order.quantity),
                "filled": Self.int(order.filled), "filled_value": Self.int(order.filledValue),
                "cancelled": Self.int(order.cancelled), "rejected": Self.int(order.rejected),
                "open": .bool(order.isOpen), "date": Self.int(Int64(order.date)), "time": Self.int(Int64(order.time)),
                "route": .string(order.route.description), "venue": .string(order.venue == .nxt ? "NXT" : "KRX"),
            ])
        }
        var holdings: [JSON] = []
        for key in self.accounts.keys.sorted() {
            let account = self.accounts[key]!
            for code in account.holdings.keys.sorted() {
                let holding = account.holdings[code]!
                holdings.append(
                    JSON.obj([
                        "env": .string(account.environment.rawValue), "account": .string(account.number),
                        "code": .string(code), "quantity": Self.int(holding.quantity), "cost": Self.int(holding.cost),
                    ])
                )
            }
        }
        let sessions: [JSON] = self.sessionLog.entries.keys.sorted().map { id in
            let entry = self.sessionLog.entries[id]!
            let sent = live[id].map { $0.messagesSent.load(ordering: .relaxed) } ?? entry.messagesSent
            return JSON.obj([
                "id": Self.int(Int64(id)), "env": .string(entry.environment.rawValue),
                "opened_us": Self.int(entry.openedAt), "closed_us": entry.closedAt.map(Self.int) ?? .null,
                "registrations": Self.int(Int64(entry.registrations)), "registered_us": Self.int(entry.registeredAt),
                "first_tr": entry.firstTR.map { .string($0) } ?? .null, "first_us": Self.int(entry.firstAt),
                "releases": Self.int(Int64(entry.releases)),
                "peak_registrations": Self.int(Int64(entry.peakRegistrations)),
                "refusals": Self.int(Int64(entry.refusals)),
                "messages": Self.int(Int64(sent)),
            ])
        }
        return JSON.obj([
            "market_time": Self.int(Int64(self.marketTime)), "wall_us": Self.int(self.wallMicros),
            "orders": .array(orders), "holdings": .array(holdings), "sessions": .array(sessions),
            "cuts_us": .array(self.sessionLog.cuts.map(Self.int)),
            "faults": JSON.obj([
                "silent": .bool(self.faults.silent), "duplicate_notices": .bool(self.faults.duplicateNotices),
                "order_delay": .number(String(self.faults.orderDelay)),
                "order_timeouts_left": Self.int(Int64(self.pendingOrderTimeouts)),
                "rate_limits_left": Self.int(Int64(self.auth.forcedRateLimits)),
                "server_errors_left": Self.int(Int64(self.pendingServerErrors)),
            ]),
        ])
    }

    private static func int(_ value: Int64) -> JSON { .number(String(value)) }
}
