import Feed
import Testing
import TickCore

@testable import KIS

/// The session's decisions, event by event, with no socket. Control messages are the JSON KIS sends
/// (docs/kis-protocol.md §5.3–5.4), parsed by the same `FeedDecoder` the session uses.
@Suite struct WebSocketStateMachineTests {
    typealias Machine = WebSocketStateMachine
    typealias Action = WebSocketStateMachine.Action

    static let ms: UInt64 = 1_000_000
    static let second: UInt64 = 1_000_000_000
    static let key = Secret("approval-0f3c9e2a")
    static let trades = Subscription.trades("005930")
    static let book = Subscription.book("005930")
    static let hynix = Subscription.trades("000660")
    static let notices = Subscription.notices(htsID: "simuser", environment: .real)

    static func machine(gap: UInt64 = 0, limit: Int = 41, seed: UInt64 = 1) -> Machine {
        Machine(
            settings: .init(
                silenceTimeout: 10 * Self.second,
                subscribeGap: gap,
                healthyAfter: 60 * Self.second,
                registrationLimit: limit
            ),
            backoff: ReconnectBackoff(base: 250 * Self.ms, cap: 30 * Self.second, seed: seed)
        )
    }

    static func subscribe(_ subscription: Subscription, key: Secret = Self.key) -> Action {
        .send(SubscriptionRequest(kind: .subscribe, subscription: subscription, approvalKey: key))
    }

    static func unsubscribe(_ subscription: Subscription) -> Action {
        .send(SubscriptionRequest(kind: .unsubscribe, subscription: subscription, approvalKey: Self.key))
    }

    /// A control message as KIS writes it, through the session's decoder.
    static func reply(_ text: String) throws -> ControlReply {
        var bytes = Array(text.utf8)
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        return try bytes.withUnsafeMutableBytes { buffer in
            let decoded = try decoder.decode(buffer, localTs: 0, into: &sink)
            guard case .control(let control) = decoded else { throw TestError("not a control message: \(decoded)") }
            return ControlReply(control, in: UnsafeRawBufferPointer(buffer).bytes)
        }
    }

    /// An ack or error for `subscription`, in the real key order.
    static func ack(_ subscription: Subscription, rt: String = "0", code: String, text: String) throws -> ControlReply {
        let encrypt = subscription.isNotice ? "Y" : "N"
        return try Self.reply(
            #"{"header":{"tr_id":"\#(subscription.tr)","tr_key":"\#(subscription.key)","encrypt":"\#(encrypt)"},"body":{"rt_cd":"\#(rt)","msg_cd":"\#(code)","msg1":"\#(text)","output":{"iv":"96de248bda413d58","key":"npudbpdylbqfsndkjgvknsjgsveanbca"}}}"#
        )
    }

    static func subscribed(_ subscription: Subscription) throws -> ControlReply {
        try Self.ack(subscription, code: "OPSP0000", text: "SUBSCRIBE SUCCESS")
    }

    /// A machine connected at 1 s with `subscriptions` sent and acknowledged.
    static func streaming(_ subscriptions: [Subscription], gap: UInt64 = 0) throws -> Machine {
        var machine = Self.machine(gap: gap)
        for subscription in subscriptions { try machine.subscribe(subscription) }
        #expect(machine.start(now: 0) == [.fetchApprovalKey])
        #expect(machine.approvalKeyReceived(Self.key, now: 0) == [.connect])
        _ = machine.connected(now: Self.second)
        for subscription in subscriptions { _ = machine.control(try Self.subscribed(subscription), now: Self.second) }
        return machine
    }

    /// The `reconnectScheduled` delay among `actions`, in nanoseconds.
    static func delay(_ actions: [Action]) -> UInt64? {
        for case .report(.reconnectScheduled(let after)) in actions {
            return UInt64(after.components.seconds) * Self.second + UInt64(after.components.attoseconds / 1_000_000_000)
        }
        return nil
    }

    // MARK: Subscriptions and acks

    @Test func subscriptionsGoOutOnConnectNoticesFirstAndAcksConfirmThem() throws {
        var machine = Self.machine()
        try machine.subscribe(Self.trades)
        try machine.subscribe(Self.notices)
        try machine.subscribe(Self.trades)  // already wanted: nothing changes
        #expect(machine.start(now: 0) == [.fetchApprovalKey])
        #expect(machine.approvalKeyReceived(Self.key, now: 0) == [.connect])
        #expect(
            machine.connected(now: 5) == [
                .report(.connected), Self.subscribe(Self.notices), Self.subscribe(Self.trades),
            ]
        )
        #expect(machine.control(try Self.subscribed(Self.trades), now: 6) == [.report(.subscribed(Self.trades))])
        // OPSP0002 ALREADY IN SUBSCRIBE: the server holds it, which is what was asked.
        let already = try Self.ack(Self.notices, code: "OPSP0002", text: "ALREADY IN SUBSCRIBE")
        #expect(machine.control(already, now: 7) == [.report(.subscribed(Self.notices))])
        // A duplicate success for something not in flight changes nothing.
        #expect(machine.control(already, now: 8) == [])
        #expect(machine.tick(now: 9, lastReceived: 8) == [])
    }

    @Test func releasesOnUnsubscribeSuccessAndOnNotSubscribed() throws {
        var machine = try Self.streaming([Self.trades, Self.book])
        machine.unsubscribe(Self.trades)
        #expect(machine.tick(now: 2 * Self.second, lastReceived: 0) == [Self.unsubscribe(Self.trades)])
        let released = try Self.ack(Self.trades, code: "OPSP0001", text: "UNSUBSCRIBE SUCCESS")
        #expect(machine.control(released, now: 2 * Self.second) == [.report(.unsubscribed(Self.trades))])

        machine.unsubscribe(Self.book)
        #expect(machine.tick(now: 3 * Self.second, lastReceived: 0) == [Self.unsubscribe(Self.book)])
        // OPSP0003 comes with rt_cd "1": the server did not hold it, which is what was asked.
        let notHeld = try Self.ack(Self.book, rt: "1", code: "OPSP0003", text: "UNSUBSCRIBE ERROR(not found!)")
        #expect(machine.control(notHeld, now: 3 * Self.second) == [.report(.unsubscribed(Self.book))])

        // Unsubscribing what was never sent just forgets it.
        var idle = Self.machine()
        try idle.subscribe(Self.hynix)
        idle.unsubscribe(Self.hynix)
        _ = idle.start(now: 0)
        #expect(idle.approvalKeyReceived(Self.key, now: 0) == [.connect])
        #expect(idle.connected(now: 1) == [.report(.connected)])
    }

    @Test func theFortySecondRegistrationIsRefusedBeforeAnythingIsSent() throws {
        let codes = (0..<42).map { Subscription.trades(String(100_001 + $0)) }
        var machine = Self.machine()
        for subscription in codes.prefix(41) { try machine.subscribe(subscription) }
        // Pending registrations count: none of the 41 has been sent yet.
        #expect(throws: SubscriptionError.budgetExceeded(limit: 41)) { try machine.subscribe(codes[41]) }
        _ = machine.start(now: 0)
        _ = machine.approvalKeyReceived(Self.key, now: 0)
        let sent = machine.connected(now: 1).filter { if case .send = $0 { true } else { false } }
        #expect(sent == codes.prefix(41).map { Self.subscribe($0) })
        for subscription in codes.prefix(41) { _ = machine.control(try Self.subscribed(subscription), now: 2) }
        #expect(throws: SubscriptionError.budgetExceeded(limit: 41)) { try machine.subscribe(codes[41]) }

        // A release frees the slot for the owner at once, but the server sees the new registration only after it
        // confirmed the release, so it never holds 42.
        machine.unsubscribe(codes[0])
        try machine.subscribe(codes[41])
        #expect(machine.tick(now: 3, lastReceived: 2) == [Self.unsubscribe(codes[0])])
        #expect(machine.tick(now: 4, lastReceived: 2) == [])
        let released = try Self.ack(codes[0], code: "OPSP0001", text: "UNSUBSCRIBE SUCCESS")
        #expect(machine.control(released, now: 5) == [.report(.unsubscribed(codes[0])), Self.subscribe(codes[41])])
    }

    @Test func invalidKeysAreRefusedLocally() {
        var machine = Self.machine()
        for key in ["", "005930\"", "0059 30", String(repeating: "1", count: 17)] {
            #expect(throws: SubscriptionError.invalidKey(key)) { try machine.subscribe(.trades(key)) }
        }
    }

    @Test func serverRefusalsFailTheSubscriptionForGood() throws {
        var machine = Self.machine()
        try machine.subscribe(Self.trades)
        try machine.subscribe(Self.hynix)
        _ = machine.start(now: 0)
        _ = machine.approvalKeyReceived(Self.key, now: 0)
        _ = machine.connected(now: 1)
        let over = try Self.ack(Self.trades, rt: "1", code: "OPSP0008", text: "MAX SUBSCRIBE OVER")
        #expect(machine.control(over, now: 2) == [.report(.subscribeFailed(Self.trades, .budgetExceeded(limit: 41)))])
        let unknown = try Self.ack(Self.hynix, rt: "1", code: "OPSP0007", text: "SUBSCRIBE ERROR : invalid tr_id")
        #expect(
            machine.control(unknown, now: 2)
                == [
                    .report(
                        .subscribeFailed(
                            Self.hynix,
                            .rejected(code: "OPSP0007", message: "SUBSCRIBE ERROR : invalid tr_id")
                        )
                    )
                ]
        )
        // Neither is sent again on the next connection.
        _ = machine.disconnected(.closed, now: 3)
        _ = machine.tick(now: 40 * Self.second, lastReceived: 0)
        #expect(machine.connected(now: 40 * Self.second) == [.report(.connected)])
    }

    @Test func errorsThatNameNoRegistrationAreReported() throws {
        var machine = try Self.streaming([Self.trades])
        let parse = try Self.reply(
            #"{"header":{"tr_id":"","tr_key":"","encrypt":"N"},"body":{"rt_cd":"9","msg_cd":"OPSP9999","msg1":"JSON PARSING ERROR : invalid json format"}}"#
        )
        #expect(
            machine.control(parse, now: 2) == [
                .report(.serverError(code: "OPSP9999", message: "JSON PARSING ERROR : invalid json format"))
            ]
        )
        #expect(machine.state == .connected(since: Self.second))
    }

    /// `scripts/chaos` found this: the simulator's `silence` fault dropped two acks while the connection stayed up,
    /// and the engine counted 18 of its 20 codes for the rest of the session. A request unanswered for
    /// `answerTimeout` is sent again, and the server's OPSP0002 for the repeat confirms it.
    @Test func anUnansweredSubscribeIsSentAgainAndTheRepeatsAnswerConfirmsIt() throws {
        var machine = Self.machine()
        try machine.subscribe(Self.trades)
        _ = machine.start(now: 0)
        _ = machine.approvalKeyReceived(Self.key, now: 0)
        #expect(machine.connected(now: Self.second) == [.report(.connected), Self.subscribe(Self.trades)])
        #expect(machine.deadline == 6 * Self.second)
        #expect(machine.tick(now: 6 * Self.second - 1, lastReceived: Self.second) == [])
        #expect(machine.tick(now: 6 * Self.second, lastReceived: Self.second) == [Self.subscribe(Self.trades)])
        let already = try Self.ack(Self.trades, code: "OPSP0002", text: "ALREADY IN SUBSCRIBE")
        #expect(machine.control(already, now: 6 * Self.second) == [.report(.subscribed(Self.trades))])
        // The first answer arriving late changes nothing, and nothing is in flight to time out.
        #expect(machine.control(try Self.subscribed(Self.trades), now: 7 * Self.second) == [])
        #expect(machine.deadline == 17 * Self.second)
    }

    @Test func anUnansweredReleaseIsSentAgainAndItsAnswerReleases() throws {
        var machine = try Self.streaming([Self.trades])
        machine.unsubscribe(Self.trades)
        #expect(machine.tick(now: 2 * Self.second, lastReceived: Self.second) == [Self.unsubscribe(Self.trades)])
        #expect(machine.tick(now: 7 * Self.second, lastReceived: Self.second) == [Self.unsubscribe(Self.trades)])
        // OPSP0003: the first release had been done.
        let notHeld = try Self.ack(Self.trades, rt: "1", code: "OPSP0003", text: "UNSUBSCRIBE ERROR(not found!)")
        #expect(machine.control(notHeld, now: 7 * Self.second) == [.report(.unsubscribed(Self.trades))])
        #expect(machine.tick(now: 12 * Self.second, lastReceived: 7 * Self.second) == [])
    }

    // MARK: Session-level answers

    @Test func invalidApprovalDropsTheKeyAndReconnectsWithAFreshOne() throws {
        var machine = Self.machine()
        try machine.subscribe(Self.trades)
        _ = machine.start(now: 0)
        _ = machine.approvalKeyReceived(Self.key, now: 0)
        _ = machine.connected(now: 1)
        let invalid = try Self.reply(
            #"{"header":{"tr_id":"","tr_key":"","encrypt":"N"},"body":{"rt_cd":"1","msg_cd":"OPSP0011","msg1":"invalid approval : NOT FOUND"}}"#
        )
        let actions = machine.control(invalid, now: 2)
        let delay = try #require(Self.delay(actions))
        #expect(
            actions == [
                .close, .report(.disconnected(.approvalKeyRejected)),
                .report(.reconnectScheduled(after: .nanoseconds(Int64(delay)))),
            ]
        )
        #expect(delay <= 250 * Self.ms)
        #expect(machine.deadline == 2 + delay)
        #expect(machine.tick(now: 1 + delay, lastReceived: 0) == [])
        #expect(machine.tick(now: 2 + delay, lastReceived: 0) == [.fetchApprovalKey])
        let fresh = Secret("approval-fresh")
        #expect(machine.approvalKeyReceived(fresh, now: 3 + delay) == [.connect])
        #expect(machine.connected(now: 4 + delay) == [.report(.connected), Self.subscribe(Self.trades, key: fresh)])
    }

    @Test func appKeyInUseDisconnectsAndRetriesWithTheSameKey() throws {
        var machine = try Self.streaming([Self.trades])
        let inUse = try Self.ack(Self.trades, rt: "1", code: "OPSP8996", text: "ALREADY IN USE appkey")
        let actions = machine.control(inUse, now: 2 * Self.second)
        let delay = try #require(Self.delay(actions))
        #expect(Array(actions.prefix(2)) == [.close, .report(.disconnected(.appKeyInUse))])
        #expect(machine.tick(now: 2 * Self.second + delay, lastReceived: 0) == [.connect])
    }

    @Test func pingPongIsEchoedAndCountsAsTraffic() throws {
        var machine = try Self.streaming([])
        let ping = try Self.reply(#"{"header":{"tr_id":"PINGPONG","datetime":"20231004160455"}}"#)
        #expect(machine.control(ping, now: 9 * Self.second) == [.echoPingPong])
        // The watchdog counts from the PINGPONG, not from the connection.
        #expect(machine.tick(now: 18 * Self.second, lastReceived: 0) == [])
        #expect(machine.deadline == 19 * Self.second)
    }

    @Test func silenceWatchdogDropsTheConnectionAtTheTimeoutAndNotBefore() throws {
        var machine = try Self.streaming([Self.trades])
        #expect(machine.deadline == 11 * Self.second)
        #expect(machine.tick(now: 11 * Self.second - 1, lastReceived: 0) == [])
        // Data kept arriving: the deadline moves.
        #expect(machine.tick(now: 11 * Self.second, lastReceived: 5 * Self.second) == [])
        #expect(machine.deadline == 15 * Self.second)
        let actions = machine.tick(now: 15 * Self.second, lastReceived: 5 * Self.second)
        #expect(Array(actions.prefix(2)) == [.close, .report(.disconnected(.silence))])
        #expect(Self.delay(actions) != nil)
    }

    // MARK: Reconnects

    @Test func reconnectResendsEverythingAndOwesGapsAndNotices() throws {
        var machine = try Self.streaming([Self.trades, Self.book, Self.hynix, Self.notices])
        let dropped = machine.disconnected(.closed, now: 2 * Self.second)
        let delay = try #require(Self.delay(dropped))
        #expect(
            dropped == [
                .close, .report(.disconnected(.closed)),
                .report(.reconnectScheduled(after: .nanoseconds(Int64(delay)))),
            ]
        )
        // The key is reused: no approval request.
        #expect(machine.tick(now: 2 * Self.second + delay, lastReceived: 0) == [.connect])
        let now = 3 * Self.second
        #expect(
            machine.connected(now: now) == [
                .report(.connected), Self.subscribe(Self.notices), Self.subscribe(Self.trades),
                Self.subscribe(Self.book),
                Self.subscribe(Self.hynix),
            ]
        )
        #expect(
            machine.control(try Self.subscribed(Self.notices), now: now) == [
                .report(.subscribed(Self.notices)), .report(.noticesMayHaveBeenMissed),
            ]
        )
        #expect(
            machine.control(try Self.subscribed(Self.book), now: now) == [
                .report(.subscribed(Self.book)), .report(.gap(SymbolCode("005930")!)),
            ]
        )
        // One gap per code, with its first stream back.
        #expect(machine.control(try Self.subscribed(Self.trades), now: now) == [.report(.subscribed(Self.trades))])
        #expect(
            machine.control(try Self.subscribed(Self.hynix), now: now) == [
                .report(.subscribed(Self.hynix)), .report(.gap(SymbolCode("000660")!)),
            ]
        )

        // A connection that drops before its acks came owes the same on the next one.
        _ = machine.disconnected(.closed, now: 4 * Self.second)
        _ = machine.tick(now: 40 * Self.second, lastReceived: 0)
        _ = machine.connected(now: 40 * Self.second)
        _ = machine.disconnected(.silence, now: 41 * Self.second)
        _ = machine.tick(now: 80 * Self.second, lastReceived: 0)
        _ = machine.connected(now: 80 * Self.second)
        #expect(
            machine.control(try Self.subscribed(Self.trades), now: 80 * Self.second) == [
                .report(.subscribed(Self.trades)), .report(.gap(SymbolCode("005930")!)),
            ]
        )
    }

    @Test func onlyNoticeTRsOweTheNoticeEvent() throws {
        // A market-data key too long for a SymbolCode has no code to owe a gap for, and is not a notice either.
        let long = Subscription.trades("ABCDEFGHIJ")
        var machine = try Self.streaming([long])
        _ = machine.disconnected(.closed, now: 2 * Self.second)
        _ = machine.tick(now: 40 * Self.second, lastReceived: 0)
        _ = machine.connected(now: 40 * Self.second)
        #expect(machine.control(try Self.subscribed(long), now: 40 * Self.second) == [.report(.subscribed(long))])
    }

    @Test func pendingReleasesEndWithTheConnection() throws {
        var machine = try Self.streaming([Self.trades, Self.hynix])
        machine.unsubscribe(Self.trades)
        #expect(machine.tick(now: 2 * Self.second, lastReceived: 0) == [Self.unsubscribe(Self.trades)])
        let dropped = machine.disconnected(.closed, now: 2 * Self.second)
        #expect(
            Array(dropped.prefix(3)) == [.close, .report(.unsubscribed(Self.trades)), .report(.disconnected(.closed))]
        )
        _ = machine.tick(now: 40 * Self.second, lastReceived: 0)
        #expect(machine.connected(now: 40 * Self.second) == [.report(.connected), Self.subscribe(Self.hynix)])
        // The released code is owed no gap.
        #expect(
            machine.control(try Self.subscribed(Self.hynix), now: 40 * Self.second) == [
                .report(.subscribed(Self.hynix)), .report(.gap(SymbolCode("000660")!)),
            ]
        )
    }

    @Test func backoffGrowsAcrossFailuresAndResetsAfterAHealthyConnection() throws {
        // Over many seeds: after five failed attempts and a short connection the ceiling is 250 ms · 2⁵, so some
        // delays pass the base; after a connection that lasted `healthyAfter`, none does.
        var longAfterShort = 0
        for seed: UInt64 in 0..<32 {
            for healthy in [false, true] {
                var machine = Self.machine(seed: seed)
                try machine.subscribe(Self.trades)
                _ = machine.start(now: 0)
                _ = machine.approvalKeyReceived(Self.key, now: 0)
                var now: UInt64 = 0
                for _ in 0..<5 {
                    now += Self.delay(machine.disconnected(.connectFailed(.timedOut), now: now))! + 1
                    #expect(machine.tick(now: now, lastReceived: 0) == [.connect])
                }
                _ = machine.connected(now: now)
                now += healthy ? 60 * Self.second : Self.second
                let delay = try #require(Self.delay(machine.disconnected(.closed, now: now)))
                if healthy {
                    #expect(delay <= 250 * Self.ms)
                } else if delay > 250 * Self.ms {
                    longAfterShort += 1
                }
            }
        }
        #expect(longAfterShort > 16)
    }

    @Test func subscribeRequestsArePaced() throws {
        var machine = Self.machine(gap: 100 * Self.ms)
        try machine.subscribe(Self.trades)
        try machine.subscribe(Self.hynix)
        _ = machine.start(now: 0)
        _ = machine.approvalKeyReceived(Self.key, now: 0)
        #expect(machine.connected(now: Self.second) == [.report(.connected), Self.subscribe(Self.trades)])
        #expect(machine.deadline == Self.second + 100 * Self.ms)
        #expect(machine.tick(now: Self.second + 100 * Self.ms - 1, lastReceived: 0) == [])
        #expect(machine.tick(now: Self.second + 100 * Self.ms, lastReceived: 0) == [Self.subscribe(Self.hynix)])
        // Nothing left to send: the next deadline is the first request's answer timeout, before the watchdog's.
        #expect(machine.deadline == 6 * Self.second)
    }

    @Test func aFullSessionIsBackNoticesFirstWithinFortyDefaultGapsOfAReconnect() throws {
        // The session's default gap, as the engine runs it: 41 registrations (notices last in the order asked)
        // come back one per gap, notices first, the last 40 gaps after the connection: 2 s at 50 ms.
        let gap = WebSocketSession.Configuration(url: "ws://127.0.0.1:1").subscribeGap
        #expect(gap == .milliseconds(50))
        let step = UInt64(gap.components.attoseconds / 1_000_000_000)
        let codes = (0..<40).map { Subscription.trades(String(100_000 + $0)) }
        var machine = Self.machine(gap: step)
        for subscription in codes + [Self.notices] { try machine.subscribe(subscription) }
        _ = machine.start(now: 0)
        _ = machine.approvalKeyReceived(Self.key, now: 0)
        _ = machine.connected(now: Self.second)
        var now = Self.second
        for subscription in [Self.notices] + codes {
            _ = machine.tick(now: now, lastReceived: now)
            _ = machine.control(try Self.subscribed(subscription), now: now)
            now += step
        }
        _ = machine.disconnected(.closed, now: 10 * Self.second)
        let connectedAt = 11 * Self.second
        #expect(machine.tick(now: connectedAt, lastReceived: 0) == [.connect])
        var sent: [Subscription] = []
        var sentAt: [UInt64] = []
        let first = machine.connected(now: connectedAt)
        for case .send(let request) in first {
            sent.append(request.subscription)
            sentAt.append(connectedAt)
        }
        // Event by event: nothing goes out before its turn, one request at each deadline.
        while sent.count < 41, let deadline = machine.deadline, deadline < connectedAt + 5 * Self.second {
            #expect(machine.tick(now: deadline - 1, lastReceived: deadline - 1) == [])
            let actions = machine.tick(now: deadline, lastReceived: deadline)
            #expect(actions.count == 1)
            for case .send(let request) in actions {
                sent.append(request.subscription)
                sentAt.append(deadline)
            }
        }
        #expect(sent == [Self.notices] + codes)
        #expect(sentAt.first == connectedAt)
        #expect(sentAt.last == connectedAt + 40 * step)
        #expect(zip(sentAt, sentAt.dropFirst()).allSatisfy { $1 - $0 == step })
    }

    @Test func stopClosesAnOpenConnectionAndStaysStopped() throws {
        var machine = try Self.streaming([Self.trades])
        #expect(machine.stop() == [.close, .report(.disconnected(.stopped))])
        #expect(machine.state == .stopped)
        #expect(machine.tick(now: 100 * Self.second, lastReceived: 0) == [])
        #expect(machine.deadline == nil)
    }

    // MARK: Requests

    @Test func requestsAreTheDocumentedJSON() {
        let subscribe = SubscriptionRequest(kind: .subscribe, subscription: Self.trades, approvalKey: Self.key)
        #expect(
            String(decoding: subscribe.json, as: UTF8.self)
                == #"{"header":{"approval_key":"approval-0f3c9e2a","custtype":"P","tr_type":"1","content-type":"utf-8"},"body":{"input":{"tr_id":"H0STCNT0","tr_key":"005930"}}}"#
        )
        let release = SubscriptionRequest(kind: .unsubscribe, subscription: Self.notices, approvalKey: Self.key)
        #expect(
            String(decoding: release.json, as: UTF8.self)
                == #"{"header":{"approval_key":"approval-0f3c9e2a","custtype":"P","tr_type":"2","content-type":"utf-8"},"body":{"input":{"tr_id":"H0STCNI0","tr_key":"simuser"}}}"#
        )
    }

    @Test func theApprovalKeyNeverShowsInActionsOrEvents() throws {
        var machine = Self.machine()
        try machine.subscribe(Self.trades)
        _ = machine.start(now: 0)
        _ = machine.approvalKeyReceived(Self.key, now: 0)
        let actions = machine.connected(now: 1)
        for text in ["\(actions)", String(reflecting: actions)] {
            #expect(!text.contains("0f3c9e2a"))
            #expect(text.contains("<redacted>"))
        }
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
