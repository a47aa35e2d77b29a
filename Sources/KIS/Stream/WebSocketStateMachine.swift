import Feed
import JSON
import TickCore

/// The KIS WebSocket session's decisions, without sockets or clocks: events in, `Action`s out. The
/// driver (`WebSocketSession`) performs the actions and reports what came of them as further events.
///
/// Connection states, and the events that move between them:
///
///     idle ──start──▶ waiting ──deadline──▶ fetchingKey ──key──▶ connecting ──connected──▶ connected
///                       ▲  ▲                    │ (only without a key)  │                      │
///                       │  └──── keyFailed ─────┘                       │                      │
///                       └────────────── disconnected / silence / OPSP0011 / OPSP8996 ◀─────────┘
///
/// Each registration is a (TR, key) pair with what the owner wants (`wanted`) and what the server holds on the
/// current connection (`server`). While connected, `pump` sends whatever closes the difference, one request per
/// `subscribeGap`: releases first, since they free budget, then notice TRs, then the rest in the order asked.
/// A new connection starts with `server = .absent` for all, so everything wanted is sent again. A request left
/// unanswered for `answerTimeout` goes back to where it was asked from and is sent again: KIS answers a repeated
/// subscribe OPSP0002 and a repeated release OPSP0003 when it had done what was asked.
///
/// Times are monotonic nanoseconds supplied by the caller.
struct WebSocketStateMachine {
    struct Settings: Equatable {
        var silenceTimeout: UInt64
        var subscribeGap: UInt64
        /// A connection that lasted this long resets the backoff when it ends.
        var healthyAfter: UInt64
        var registrationLimit: Int
        /// How long a subscribe or release waits for its answer before it is sent again.
        var answerTimeout: UInt64 = 5_000_000_000
    }

    enum State: Equatable {
        case idle
        /// Waiting out the backoff before the next attempt.
        case waiting(until: UInt64)
        case fetchingKey
        case connecting
        case connected(since: UInt64)
        /// Terminal.
        case stopped
    }

    enum Action: Equatable {
        /// Ask the approval-key provider, then report `approvalKeyReceived` or `approvalKeyFailed`.
        case fetchApprovalKey
        /// Open and upgrade a connection, then report `connected` or `disconnected`.
        case connect
        case send(SubscriptionRequest)
        /// Send the PINGPONG just received back as a text frame, as most clients do (docs/kis-protocol.md §5.4).
        case echoPingPong
        /// Close the connection; no event follows.
        case close
        case report(WebSocketEvent)
    }

    private struct Entry {
        var subscription: Subscription
        var wanted: Bool
        var server: ServerState
        /// When the request in flight (`subscribing`, `unsubscribing`) went out.
        var sentAt: UInt64 = 0
    }

    private enum ServerState {
        case absent, subscribing, subscribed, unsubscribing
    }

    /// The `msg_cd`s that change the session rather than one registration (docs/kis-protocol.md §5.3).
    private enum Code {
        static let unsubscribed = PackedASCII(ascii: "OPSP0001")
        static let notSubscribed = PackedASCII(ascii: "OPSP0003")
        static let budgetExceeded = PackedASCII(ascii: "OPSP0008")
        static let invalidApproval = PackedASCII(ascii: "OPSP0011")
        static let appKeyInUse = PackedASCII(ascii: "OPSP8996")
    }

    let settings: Settings
    private(set) var state = State.idle
    private var entries: [Entry] = []
    private var approvalKey: Secret?
    private var backoff: ReconnectBackoff
    private var lastReceived: UInt64 = 0
    private var nextSendAt: UInt64 = 0
    /// Codes streaming when a connection dropped, owed a `.gap` when their stream is back.
    private var gapOwed: Set<SymbolCode> = []
    /// A notice TR was registered when a connection dropped.
    private var noticesOwed = false

    init(settings: Settings, backoff: ReconnectBackoff) {
        precondition(settings.registrationLimit > 0, "registrationLimit must be positive")
        self.settings = settings
        self.backoff = backoff
    }

    // MARK: The owner's requests (any thread, under the session's lock)

    /// Wants `subscription`; the request goes out with the next `tick` while connected, and after every reconnect.
    ///
    /// - Throws: `.budgetExceeded` when the registrations wanted (pending or acknowledged) already reach the limit;
    ///   `.invalidKey` for a key KIS could not answer about.
    mutating func subscribe(_ subscription: Subscription) throws(SubscriptionError) {
        guard subscription.hasValidKey else { throw .invalidKey(subscription.key) }
        let existing = self.index(of: subscription)
        if let existing, self.entries[existing].wanted { return }
        guard self.entries.count(where: \.wanted) < self.settings.registrationLimit else {
            throw .budgetExceeded(limit: self.settings.registrationLimit)
        }
        if let existing {
            self.entries[existing].wanted = true
        } else {
            self.entries.append(Entry(subscription: subscription, wanted: true, server: .absent))
        }
    }

    /// No longer wants `subscription`. A registration the server holds is released with the next `tick` and
    /// reported as `.unsubscribed`; one it does not hold (not yet sent, or no connection) is simply forgotten.
    mutating func unsubscribe(_ subscription: Subscription) {
        guard let index = self.index(of: subscription), self.entries[index].wanted else { return }
        self.entries[index].wanted = false
        if self.entries[index].server == .absent {
            self.entries.remove(at: index)
        }
        if let code = subscription.code, !self.entries.contains(where: { $0.wanted && $0.subscription.code == code }) {
            self.gapOwed.remove(code)
        }
        if subscription.isNotice, !self.entries.contains(where: { $0.wanted && $0.subscription.isNotice }) {
            self.noticesOwed = false
        }
    }

    // MARK: Events from the driver

    mutating func start(now: UInt64) -> [Action] {
        guard self.state == .idle else { return [] }
        self.state = .waiting(until: now)
        return self.tick(now: now, lastReceived: 0)
    }

    mutating func stop() -> [Action] {
        defer { self.state = .stopped }
        guard case .connected = self.state else { return [] }
        return [.close, .report(.disconnected(.stopped))]
    }

    /// Time has passed (a deadline, or the owner asked for something); `lastReceived` is when bytes last arrived.
    mutating func tick(now: UInt64, lastReceived: UInt64) -> [Action] {
        self.lastReceived = max(self.lastReceived, lastReceived)
        switch self.state {
        case .waiting(let until) where now >= until:
            if self.approvalKey == nil {
                self.state = .fetchingKey
                return [.fetchApprovalKey]
            }
            self.state = .connecting
            return [.connect]
        case .connected(let since):
            if now >= Self.after(max(since, self.lastReceived), self.settings.silenceTimeout) {
                return self.drop(.silence, now: now)
            }
            self.askAgainUnanswered(now: now)
            return self.pump(now: now)
        default:
            return []
        }
    }

    /// When `tick` next has something to do; nil while an action is outstanding or after `stop`.
    var deadline: UInt64? {
        switch self.state {
        case .waiting(let until):
            return until
        case .connected(let since):
            let silent = Self.after(max(since, self.lastReceived), self.settings.silenceTimeout)
            var next = self.nextRequest() == nil ? silent : min(silent, self.nextSendAt)
            for entry in self.entries where entry.server == .subscribing || entry.server == .unsubscribing {
                next = min(next, Self.after(entry.sentAt, self.settings.answerTimeout))
            }
            return next
        case .idle, .fetchingKey, .connecting, .stopped:
            return nil
        }
    }

    mutating func approvalKeyReceived(_ key: Secret, now: UInt64) -> [Action] {
        guard self.state == .fetchingKey else { return [] }
        self.approvalKey = key
        self.state = .connecting
        return [.connect]
    }

    mutating func approvalKeyFailed(_ error: KISError, now: UInt64) -> [Action] {
        guard self.state == .fetchingKey else { return [] }
        return [.report(.approvalKeyUnavailable(error))] + self.scheduleAttempt(now: now)
    }

    mutating func connected(now: UInt64) -> [Action] {
        guard self.state == .connecting else { return [] }
        self.state = .connected(since: now)
        self.lastReceived = now
        self.nextSendAt = now
        return [.report(.connected)] + self.pump(now: now)
    }

    /// The connection failed to open, or an open one failed (EOF, socket error, RFC 6455 violation).
    mutating func disconnected(_ reason: DisconnectReason, now: UInt64) -> [Action] {
        switch self.state {
        case .connecting, .connected: self.drop(reason, now: now)
        case .idle, .waiting, .fetchingKey, .stopped: []
        }
    }

    /// A JSON control message from the server: an ack, an error, or the PINGPONG keep-alive.
    mutating func control(_ reply: ControlReply, now: UInt64) -> [Action] {
        guard case .connected = self.state else { return [] }
        self.lastReceived = max(self.lastReceived, now)
        if reply.tr == .pingpong { return [.echoPingPong] }
        switch reply.code {
        case Code.invalidApproval:
            self.approvalKey = nil
            return self.drop(.approvalKeyRejected, now: now)
        case Code.appKeyInUse:
            return self.drop(.appKeyInUse, now: now)
        default:
            break
        }
        let unmatched: [Action] =
            reply.isSuccess ? [] : [.report(.serverError(code: reply.codeText, message: reply.message))]
        guard let index = self.index(of: Subscription(tr: reply.tr, key: reply.key)) else { return unmatched }
        let entry = self.entries[index]
        var actions: [Action]
        switch entry.server {
        case .subscribing where reply.isSuccess:
            // OPSP0000, or OPSP0002: the server already holds it, which is what was asked.
            self.entries[index].server = .subscribed
            actions = [.report(.subscribed(entry.subscription))]
            if entry.wanted { actions += self.resumed(entry.subscription) }
        case .subscribing:
            self.entries.remove(at: index)
            let error: SubscriptionError =
                reply.code == Code.budgetExceeded
                ? .budgetExceeded(limit: self.settings.registrationLimit)
                : .rejected(code: reply.codeText, message: reply.message)
            actions = [.report(.subscribeFailed(entry.subscription, error))]
        case .unsubscribing:
            // Any answer ends the release: OPSP0001 released it, OPSP0003 says it was not held, and on another
            // error re-sending could only loop; the connection's end releases it in any case.
            let released = reply.code == Code.unsubscribed || reply.code == Code.notSubscribed
            actions = released ? [] : unmatched
            self.entries[index].server = .absent
            if !entry.wanted {
                self.entries.remove(at: index)
                actions.append(.report(.unsubscribed(entry.subscription)))
            }
        case .subscribed, .absent:
            // Nothing is in flight for it: a duplicate or late answer.
            return unmatched
        }
        return actions + self.pump(now: now)
    }

    // MARK: Internals

    private func index(of subscription: Subscription) -> Int? {
        self.entries.firstIndex { $0.subscription == subscription }
    }

    /// Sends what the server should hold and does not, one request per `subscribeGap`.
    private mutating func pump(now: UInt64) -> [Action] {
        guard case .connected = self.state, let key = self.approvalKey else { return [] }
        var actions: [Action] = []
        while now >= self.nextSendAt, let next = self.nextRequest() {
            self.entries[next.index].server = next.kind == .subscribe ? .subscribing : .unsubscribing
            self.entries[next.index].sentAt = now
            actions.append(
                .send(
                    SubscriptionRequest(
                        kind: next.kind,
                        subscription: self.entries[next.index].subscription,
                        approvalKey: key
                    )
                )
            )
            self.nextSendAt = Self.after(now, self.settings.subscribeGap)
        }
        return actions
    }

    /// Puts each request unanswered for `answerTimeout` back where it was asked from, so `pump` sends it again: a
    /// subscribe becomes absent, a release becomes held.
    private mutating func askAgainUnanswered(now: UInt64) {
        for index in self.entries.indices {
            guard now >= Self.after(self.entries[index].sentAt, self.settings.answerTimeout) else { continue }
            switch self.entries[index].server {
            case .subscribing: self.entries[index].server = .absent
            case .unsubscribing: self.entries[index].server = .subscribed
            case .absent, .subscribed: break
            }
        }
    }

    /// The next request to send. A subscribe waits while the server holds (or is being asked for) the limit, so
    /// the server never sees a registration past it, even while releases are in flight.
    private func nextRequest() -> (index: Int, kind: SubscriptionRequest.Kind)? {
        if let release = self.entries.firstIndex(where: { !$0.wanted && $0.server == .subscribed }) {
            return (release, .unsubscribe)
        }
        guard self.entries.count(where: { $0.server != .absent }) < self.settings.registrationLimit else { return nil }
        let missing = { (entry: Entry) in entry.wanted && entry.server == .absent }
        // Notices first: while they are down, fills go unseen.
        guard
            let index = self.entries.firstIndex(where: { missing($0) && $0.subscription.isNotice })
                ?? self.entries.firstIndex(where: missing)
        else {
            return nil
        }
        return (index, .subscribe)
    }

    /// What a resubscribed stream owes its owner after a reconnect.
    private mutating func resumed(_ subscription: Subscription) -> [Action] {
        if subscription.isNotice {
            guard self.noticesOwed else { return [] }
            self.noticesOwed = false
            return [.report(.noticesMayHaveBeenMissed)]
        }
        guard let code = subscription.code, self.gapOwed.remove(code) != nil else { return [] }
        return [.report(.gap(code))]
    }

    /// Ends the current attempt or connection and schedules the next.
    private mutating func drop(_ reason: DisconnectReason, now: UInt64) -> [Action] {
        var actions: [Action] = []
        if case .connected(let since) = self.state {
            actions.append(.close)
            if now >= Self.after(since, self.settings.healthyAfter) { self.backoff.reset() }
            for index in self.entries.indices {
                let entry = self.entries[index]
                if entry.wanted && entry.server == .subscribed {
                    if entry.subscription.isNotice {
                        self.noticesOwed = true
                    } else if let code = entry.subscription.code {
                        self.gapOwed.insert(code)
                    }
                }
                if !entry.wanted {
                    // Pending release: the connection's end released it.
                    actions.append(.report(.unsubscribed(entry.subscription)))
                }
                self.entries[index].server = .absent
            }
            self.entries.removeAll { !$0.wanted }
        }
        actions.append(.report(.disconnected(reason)))
        return actions + self.scheduleAttempt(now: now)
    }

    private mutating func scheduleAttempt(now: UInt64) -> [Action] {
        let delay = self.backoff.next()
        self.state = .waiting(until: Self.after(now, delay))
        return [.report(.reconnectScheduled(after: .nanoseconds(Int64(clamping: delay))))]
    }

    /// `time + interval`, saturating: a huge configured timeout means never, not a wrapped instant.
    private static func after(_ time: UInt64, _ interval: UInt64) -> UInt64 {
        let (sum, overflow) = time.addingReportingOverflow(interval)
        return overflow ? .max : sum
    }
}

/// A subscribe or unsubscribe request (docs/kis-protocol.md §5.2).
struct SubscriptionRequest: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        /// `tr_type` "1".
        case subscribe
        /// `tr_type` "2".
        case unsubscribe
    }

    var kind: Kind
    var subscription: Subscription
    var approvalKey: Secret

    /// The message text. It carries the approval key: it goes to the socket and nowhere else.
    var json: [UInt8] {
        JSON.obj([
            "header": .obj([
                "approval_key": .string(self.approvalKey.reveal),
                "custtype": "P",
                "tr_type": self.kind == .subscribe ? "1" : "2",
                "content-type": "utf-8",
            ]),
            "body": .obj([
                "input": .obj([
                    "tr_id": .string(self.subscription.tr.description), "tr_key": .string(self.subscription.key),
                ])
            ]),
        ]).bytes
    }
}

/// A control message with its text fields copied out of the receive buffer (acks and PINGPONG: the cold path).
struct ControlReply: Equatable, Sendable {
    var tr: TRID
    /// header.tr_key; empty when absent.
    var key: String
    /// rt_cd "0".
    var isSuccess: Bool
    /// msg_cd.
    var code: PackedASCII?
    /// msg1, unescaped.
    var message: String

    var codeText: String { self.code?.description ?? "" }
}

extension ControlReply {
    /// Copies the fields the machine matches on out of `bytes`, the message `control` was parsed from.
    init(_ control: ControlMessage, in bytes: RawSpan) {
        self.init(
            tr: control.trID,
            key: Self.text(control.trKey, in: bytes),
            isSuccess: control.isSuccess,
            code: control.messageCode,
            message: Self.text(control.messageText, in: bytes)
        )
    }

    private static func text(_ range: Range<Int>?, in bytes: RawSpan) -> String {
        guard let range else { return "" }
        return unsafe bytes.withUnsafeBytes { unsafe JSONText.decode(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}
