import Feed
import Foundation
import JSON
import KIS
import Net
import Simulator
import Synchronization
import Testing
import TickCore

/// `WebSocketSession` against the in-process simulator on loopback, with the simulator's manual clock: data
/// flows only when a test advances it, so every step is one the test chose.
@Suite struct WebSocketSessionTests {
    static let trades = Subscription.trades("005930")
    static let book = Subscription.book("005930")
    static let notices = Subscription.notices(htsID: "simuser", environment: .real)

    @Test func subscribesAndStreamsTradesAndBooks() async throws {
        let live = try await LiveSession(subscriptions: [Self.trades, Self.book])
        defer { live.finish() }
        try await live.recorder.wait("both acks") { $0.subscribed(Self.trades) && $0.subscribed(Self.book) }
        live.simulator.advance(seconds: 2)
        try await live.recorder.wait("trades and books") { !$0.trades.isEmpty && $0.books > 0 }
        // Counters are published once per socket read, after its records reached the sink.
        try await live.recorder.wait("the counters") { live.session.counters.records == $0.trades.count + $0.books }
        let counters = live.session.counters
        let seen = live.recorder.snapshot
        #expect(counters.malformed == 0 && counters.reconnects == 0 && counters.requestsSent == 2)
        #expect(seen.trades.allSatisfy { $0.code == SymbolCode("005930")! && $0.price > 0 })
        #expect(seen.events.first == .connected)
    }

    @Test func theFortySecondRegistrationIsNeverSent() async throws {
        let codes = (0..<42).map { Subscription.trades(String(100_001 + $0)) }
        let live = try await LiveSession(subscriptions: Array(codes.prefix(41)))
        defer { live.finish() }
        #expect(throws: SubscriptionError.budgetExceeded(limit: 41)) { try live.session.subscribe(codes[41]) }
        try await live.recorder.wait("41 acks") {
            $0.events.count { if case .subscribed = $0 { true } else { false } } == 41
        }
        #expect(throws: SubscriptionError.budgetExceeded(limit: 41)) { try live.session.subscribe(codes[41]) }
        #expect(live.session.counters.requestsSent == 41)
        // The server never answered OPSP0008: it never saw a 42nd.
        #expect(!live.recorder.snapshot.events.contains { if case .subscribeFailed = $0 { true } else { false } })

        // A release makes room, and the server accepts the 42nd code once it confirmed the release.
        live.session.unsubscribe(codes[0])
        try live.session.subscribe(codes[41])
        try await live.recorder.wait("the swap") {
            $0.events.contains(.unsubscribed(codes[0])) && $0.subscribed(codes[41])
        }
        #expect(live.session.counters.requestsSent == 43)
    }

    @Test func pingPongIsAnsweredPastTheServersPongTimeout() async throws {
        let live = try await LiveSession(subscriptions: []) { sim in
            sim.pingInterval = 1
            sim.pongTimeout = 3
        }
        defer { live.finish() }
        // The simulator registers a session on its event loop after writing the 101: wait until it counts ours.
        try await live.recorder.wait("the simulator's session") { _ in (try? live.simulatorSessions()) == 1 }
        // Seven idle seconds: a PINGPONG every second; one left unanswered for 3 s would end the session.
        for second in 1...7 {
            live.simulator.advance(seconds: 1)
            try await live.recorder.wait("PINGPONG \(second) answered") { _ in
                live.session.counters.pingsAnswered == second
            }
        }
        #expect(live.session.counters.reconnects == 0)
        #expect(live.recorder.snapshot.events == [.connected])
        #expect(try live.simulatorSessions() == 1)
    }

    @Test func aConnectionCutMidFrameIsRestoredWithGapsAndNoHalfFrame() async throws {
        let live = try await LiveSession(subscriptions: [Self.trades, Self.notices])
        defer { live.finish() }
        try await live.recorder.wait("acks") { $0.subscribed(Self.trades) && $0.subscribed(Self.notices) }
        live.simulator.advance(seconds: 1)
        try await live.recorder.wait("trades") { !$0.trades.isEmpty }

        try live.fault(#"{"fault":"drop_mid_frame"}"#)
        live.simulator.advance(seconds: 1)
        try await live.recorder.wait("the resubscription") {
            $0.events.contains(.gap(SymbolCode("005930")!)) && $0.events.contains(.noticesMayHaveBeenMissed)
        }
        let events = live.recorder.snapshot.events
        let drop = try #require(events.firstIndex(of: .disconnected(.closed)))
        let back = try #require(events.lastIndex(of: .connected))
        #expect(drop < back)
        // Notices are resubscribed first, and each owed event follows its stream's ack.
        #expect(
            Array(events[(back + 1)...]).filter { if case .reconnectScheduled = $0 { false } else { true } } == [
                .subscribed(Self.notices), .noticesMayHaveBeenMissed, .subscribed(Self.trades),
                .gap(SymbolCode("005930")!),
            ]
        )

        let before = live.recorder.snapshot.trades.count
        live.simulator.advance(seconds: 1)
        try await live.recorder.wait("trades after the reconnect") { $0.trades.count > before }
        // The half frame never reached the decoder: nothing malformed, and every record counted reached the sink.
        try await live.recorder.wait("the counters") { live.session.counters.records == $0.trades.count }
        #expect(live.session.counters.malformed == 0)
        #expect(live.session.counters.reconnects == 1)
    }

    @Test func silenceTripsTheWatchdogAndTheSessionComesBack() async throws {
        let live = try await LiveSession(subscriptions: [Self.trades]) { _ in
        } session: { configuration in
            configuration.silenceTimeout = .milliseconds(300)
        }
        defer { live.finish() }
        try await live.recorder.wait("ack") { $0.subscribed(Self.trades) }
        try live.fault(#"{"fault":"silence","enabled":true}"#)
        try await live.recorder.wait("the watchdog") { $0.events.contains(.disconnected(.silence)) }
        try live.fault(#"{"fault":"silence","enabled":false}"#)
        try await live.recorder.wait("the stream back") { $0.events.contains(.gap(SymbolCode("005930")!)) }
        // A quiet second of the seeded market may hold no trade, and a session that hears nothing for 300 ms
        // reconnects again: advance until trades reach the restored session.
        var traded = false
        for _ in 0..<50 where !traded {
            live.simulator.advance(seconds: 1)
            try await Task.sleep(for: .milliseconds(20))
            traded = !live.recorder.snapshot.trades.isEmpty
        }
        #expect(traded)
        #expect(live.session.counters.reconnects >= 1)
    }

    @Test func aRejectedApprovalKeyIsReplacedByAFreshOne() async throws {
        let live = try await LiveSession(
            subscriptions: [Self.trades],
            firstKey: Secret("ffffffff-0000-dead-beef-000000000000")
        )
        defer { live.finish() }
        try await live.recorder.wait("ack with the fresh key") { $0.subscribed(Self.trades) }
        let events = live.recorder.snapshot.events
        #expect(
            events.firstIndex(of: .disconnected(.approvalKeyRejected))! < events.firstIndex(
                of: .subscribed(Self.trades)
            )!
        )
        #expect(live.keyRequests.count == 2)
        #expect(!"\(events)".contains("dead-beef"))
    }

    @Test func aMalformedFrameIsCountedAndSkipped() async throws {
        let live = try await LiveSession(subscriptions: [Self.trades])
        defer { live.finish() }
        try await live.recorder.wait("ack") { $0.subscribed(Self.trades) }
        try live.fault(#"{"fault":"malformed_frame"}"#)
        live.simulator.advance(seconds: 2)
        try await live.recorder.wait("the bad frame, then good ones") { _ in live.session.counters.malformed == 1 }
        try await live.recorder.wait("trades") { !$0.trades.isEmpty }
        let before = live.recorder.snapshot.trades.count
        live.simulator.advance(seconds: 1)
        try await live.recorder.wait("more trades") { $0.trades.count > before }
        #expect(live.session.counters.malformed == 1)
        #expect(live.session.counters.reconnects == 0)
    }

    @Test func noticesAreDecryptedWithTheKeyFromTheAck() async throws {
        let live = try await LiveSession(subscriptions: [Self.notices])
        defer { live.finish() }
        try await live.recorder.wait("ack") { $0.subscribed(Self.notices) }
        let orderNumber = try live.placeOrder(quantity: 10, price: 60_000)
        try await live.recorder.wait("the accept notice") { !$0.notices.isEmpty }
        let notice = live.recorder.snapshot.notices[0]
        #expect(notice.orderNumber == orderNumber)
        #expect(notice.orderQuantity == 10 && notice.orderPrice == 60_000 && notice.side == .buy)
        #expect(notice.account == 5_000_000_001)
        #expect(live.session.counters.malformed == 0)
    }
}

// MARK: - Harness

/// A simulator with a manual clock, and a session running on its own thread against it.
final class LiveSession: Sendable {
    let simulator: Simulator
    let rest: Int
    let session: WebSocketSession
    let recorder = Recorder()
    let keyRequests = Tally()
    /// Counts the session thread's exit.
    private let finished = Tally()

    static let appKey = String(repeating: "K", count: 36)
    static let secret = String(repeating: "S", count: 180)

    /// - Parameters:
    ///   - firstKey: handed out before any real key, to be rejected.
    init(
        subscriptions: [Subscription],
        firstKey: Secret? = nil,
        _ configureSimulator: (inout SimConfig) -> Void = { _ in },
        session configureSession: (inout WebSocketSession.Configuration) -> Void = { _ in }
    ) async throws {
        var config = SimConfig()
        config.clock = .manual
        config.date = 20_260_608
        config.symbols = ["005930", "000660"]
        configureSimulator(&config)
        self.simulator = Simulator(config: config)
        let endpoints = try await self.simulator.start()
        let rest = try #require(endpoints[.real]?.restPort)
        let ws = try #require(endpoints[.real]?.webSocketPort)
        self.rest = rest

        var configuration = WebSocketSession.Configuration(url: "ws://127.0.0.1:\(ws)")
        configuration.subscribeGap = .zero
        configuration.backoffBase = .milliseconds(5)
        configuration.backoffCap = .milliseconds(50)
        configuration.pollInterval = .milliseconds(5)
        configuration.connectTimeout = .seconds(2)
        configuration.jitterSeed = 1
        configureSession(&configuration)
        let session = WebSocketSession(configuration: configuration)
        for subscription in subscriptions { try session.subscribe(subscription) }
        self.session = session

        let keys = SimulatorApprovalKeys(port: rest, first: firstKey, requests: self.keyRequests)
        let recorder = self.recorder
        let finished = self.finished
        Thread {
            var keys = keys
            var sink = RecordingSink(recorder: recorder)
            var observer = RecordingObserver(recorder: recorder)
            try? session.run(approvalKeys: &keys, sink: &sink, observer: &observer)
            finished.add()
        }.start()
    }

    /// Stops the session and waits for its thread, then stops the simulator.
    func finish() {
        self.session.stop()
        let finished = self.finished
        let simulator = self.simulator
        Task {
            while finished.count == 0 { try? await Task.sleep(for: .milliseconds(2)) }
            try? await simulator.stop()
        }
    }

    func fault(_ json: String) throws {
        let answer = try LoopbackHTTP.request("POST", port: self.rest, path: "/sim/fault", body: json)
        guard answer.status == 200 else { throw TestError("fault \(json): HTTP \(answer.status)") }
    }

    func simulatorSessions() throws -> Int? {
        let answer = try LoopbackHTTP.request("GET", port: self.rest, path: "/sim/state", body: "")
        return JSON(parsing: answer.body)?["sessions"]?.scalarText.flatMap { Int($0) }
    }

    /// A limit buy through the simulator's REST order endpoint; returns the order number.
    func placeOrder(quantity: Int, price: Int) throws -> UInt64 {
        let issued = try LoopbackHTTP.request(
            "POST",
            port: self.rest,
            path: "/oauth2/tokenP",
            body: #"{"grant_type":"client_credentials","appkey":"\#(Self.appKey)","appsecret":"\#(Self.secret)"}"#
        )
        let token = try #require(JSON(parsing: issued.body)?["access_token"]?.text)
        let headers = [
            ("authorization", "Bearer \(token)"), ("appkey", Self.appKey), ("appsecret", Self.secret),
            ("tr_id", "TTTC0012U"),
            ("custtype", "P"),
        ]
        let answer = try LoopbackHTTP.request(
            "POST",
            port: self.rest,
            path: "/uapi/domestic-stock/v1/trading/order-cash",
            headers: headers,
            body:
                #"{"CANO":"50000000","ACNT_PRDT_CD":"01","PDNO":"005930","ORD_DVSN":"00","ORD_QTY":"\#(quantity)","ORD_UNPR":"\#(price)"}"#
        )
        let number = try #require(JSON(parsing: answer.body)?["output"]?["ODNO"]?.text)
        return try #require(UInt64(number))
    }
}

/// Approval keys from the simulator's `POST /oauth2/Approval`, as the REST client will fetch them.
struct SimulatorApprovalKeys: ApprovalKeyProvider {
    let port: Int
    var first: Secret?
    let requests: Tally

    mutating func approvalKey() throws(KISError) -> Secret {
        self.requests.add()
        if let first = self.first {
            self.first = nil
            return first
        }
        let oauth = OAuth(
            restURL: "http://127.0.0.1:\(self.port)",
            credentials: KIS.Credentials(appKey: Secret(LiveSession.appKey), appSecret: Secret(LiveSession.secret)),
            userAgent: "kistick-tests",
            caFile: nil,
            timeoutMilliseconds: 5_000
        )
        return try oauth.approvalKey()
    }
}

final class Tally: Sendable {
    private let value = Atomic<Int>(0)
    func add() { self.value.add(1, ordering: .releasing) }
    var count: Int { self.value.load(ordering: .acquiring) }
}

/// What the session delivered, for the test thread to wait on.
final class Recorder: Sendable {
    struct Snapshot {
        var events: [WebSocketEvent] = []
        var trades: [Trade] = []
        var books = 0
        var notices: [Notice] = []

        func subscribed(_ subscription: Subscription) -> Bool { self.events.contains(.subscribed(subscription)) }
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { self.state.withLock { $0 } }

    func record(_ body: (inout Snapshot) -> Void) { self.state.withLock { body(&$0) } }

    /// Polls until `condition` holds; fails after `timeout` seconds so a broken session cannot hang the suite.
    func wait(_ what: String, timeout: Double = 5, _ condition: (Snapshot) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while !condition(self.snapshot) {
            guard ContinuousClock.now < deadline else {
                throw TestError("no \(what) within \(timeout) s; events: \(self.snapshot.events)")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

struct RecordingSink: FeedSink {
    let recorder: Recorder
    mutating func trade(_ trade: Trade) { self.recorder.record { $0.trades.append(trade) } }
    mutating func book(_ book: Book) { self.recorder.record { $0.books += 1 } }
    mutating func notice(_ notice: Notice) { self.recorder.record { $0.notices.append(notice) } }
}

struct RecordingObserver: WebSocketObserver {
    let recorder: Recorder
    mutating func event(_ event: WebSocketEvent) { self.recorder.record { $0.events.append(event) } }
}

/// One HTTP/1.1 request to the simulator on a fresh loopback connection, through `Net.HTTPConnection`.
enum LoopbackHTTP {
    struct Answer {
        var status: Int
        var body: [UInt8]
    }

    static func request(
        _ method: String,
        port: Int,
        path: String,
        headers: [(String, String)] = [],
        body: String
    ) throws -> Answer {
        var writer = ByteWriter(capacity: 1_024)
        writer.append("\(method) \(path) HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n")
        for (name, value) in headers { writer.append("\(name): \(value)\r\n") }
        writer.append("content-length: \(body.utf8.count)\r\n\r\n\(body)")
        var connection = HTTPConnection(baseURL: "http://127.0.0.1:\(port)")
        let response = try connection.exchange(writer.bytes, timeoutMilliseconds: 5_000)
        return Answer(status: response.head.status, body: connection.withBytes(response.body) { Array($0) })
    }
}
