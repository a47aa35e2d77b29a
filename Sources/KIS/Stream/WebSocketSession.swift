public import Crypto
public import Feed
import Net
import Synchronization
import TickCore
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The KIS real-time WebSocket (docs/kis-protocol.md §5): one connection at a time, subscriptions kept across
/// reconnects, records decoded into a sink.
///
/// `run` is the feed thread's loop and returns only after `stop()`. The other methods may be called from any
/// thread, before or during `run`. The session never gives up: every failure leads to a new attempt after an
/// exponential backoff with full jitter, every wanted registration is sent again on the new connection, and the
/// owner hears of what may have been lost (`.gap`, `.noticesMayHaveBeenMissed`).
///
/// Hot path: socket read → `WebSocketReader` → `FeedDecoder` → `Sink`, in place in one receive buffer, with no
/// allocation, lock, existential or `String`. Other threads reach the loop through one atomic flag it reads per
/// socket read; the subscription registry behind it sits under a lock that only the cold path takes.
public final class WebSocketSession: Sendable {
    public struct Configuration: Sendable {
        /// The WebSocket server: `ws://ops.koreainvestment.com:21000` (real) or `:31000` (paper).
        public var url: String
        /// The upgrade path; the official client's, which KIS serves for every TR (docs/kis-protocol.md §1).
        public var path = "/tryitout"
        /// Bounds TCP connect, the upgrade's answer, and each send.
        public var connectTimeout: Duration = .seconds(5)
        /// With nothing received (data, ack or PINGPONG) for this long, the connection is presumed dead. KIS sends a
        /// PINGPONG after about 110 s without traffic (docs/kis-protocol.md §5.4), so a live connection is never
        /// quieter; 150 s leaves 40 s for a late one. Dead TCP peers are found sooner by the kernel's keepalive, which
        /// `Net.Stream` enables (15 s idle, 5 s probes); this catches a server that stalls with the socket open,
        /// where a false alarm (a needless reconnect that also flags notices as possibly missed) costs more than
        /// a slower verdict. A session that runs only in trading hours on liquid codes may set it far lower (30 s).
        public var silenceTimeout: Duration = .seconds(150)
        /// Reconnect delays are uniform in 0 … min(backoffCap, backoffBase·2ⁿ) for the n-th attempt in a row.
        public var backoffBase: Duration = .milliseconds(250)
        public var backoffCap: Duration = .seconds(30)
        /// A connection that stayed up this long resets the backoff when it ends; a shorter one (a server that
        /// accepts and then drops, or OPSP8996, both within a second or two) keeps it growing. Ten seconds tells
        /// those apart from a session KIS served and then lost; a longer bar would make a second cut within it
        /// wait out a grown backoff (up to 2 s by the fourth), while the market and the notices go unseen.
        public var healthyAfter: Duration = .seconds(10)
        /// The pause between subscription requests, which after a reconnect bounds how long the last of 41
        /// registrations waits: 40 gaps (2 s at 50 ms). KIS publishes no limit for them. The figure is the smallest
        /// any KIS client meant and kept: koreainvestment/open-trading-api sleeps `smart_sleep()` after each
        /// subscribe, 0.1 s as it runs, and `changeTREnv` sets 0.05 s for real accounts (0.5 s for paper) but into a
        /// local, so the 0.05 s never takes effect (kis_auth.py). Soju06/python-kis restores subscriptions on
        /// reconnect back to back with no pause at all (`_restore_subscriptions`), which shows a client doing it,
        /// not that KIS accepts it; nothing found supports a gap under 50 ms. Notices go first either way
        /// (`WebSocketStateMachine`), so fills are watched again after the first request, not the last.
        public var subscribeGap: Duration = .milliseconds(50)
        /// How long a subscribe or release waits for its answer before it is sent again. A server that processed the
        /// request and lost the answer (acks dropped while it was silent) answers the repeat OPSP0002 or OPSP0003;
        /// without the repeat the registration would stay in flight for the connection's life, its code never
        /// counted as streaming and, once released by the owner, never released at the server.
        public var answerTimeout: Duration = .seconds(5)
        /// Registrations per session: KIS allows 41 (docs/kis-protocol.md §5.7); lower it to keep room for another
        /// user of the session.
        public var registrationLimit = 41
        /// The largest message accepted; KIS's largest are 20-record H0STCNT0 frames of about 8 KiB.
        public var maxMessageSize = 1 << 20
        /// The longest the loop waits without looking at `stop()` and new subscriptions when nothing arrives.
        public var pollInterval: Duration = .milliseconds(50)
        /// Reads the socket without ever blocking, in a loop: a message is read the moment it is there instead of
        /// after poll(2) wakes the thread, at the cost of the thread's whole core. For a feed thread pinned to a
        /// core of its own.
        public var busyPoll = false
        /// Seeds the backoff's jitter; nil draws it from the system generator. Tests fix it.
        public var jitterSeed: UInt64?

        public init(url: String) {
            self.url = url
        }
    }

    public let configuration: Configuration
    fileprivate let machine: Mutex<WebSocketStateMachine>
    /// Set when `subscribe`, `unsubscribe` or `stop` changed something the loop must act on.
    fileprivate let attention = Atomic<Bool>(false)
    fileprivate let stopRequested = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    fileprivate let published = PublishedCounters()

    public init(configuration: Configuration) {
        self.configuration = configuration
        var system = SystemRandomNumberGenerator()
        let backoff = ReconnectBackoff(
            base: Self.nanoseconds(configuration.backoffBase),
            cap: Self.nanoseconds(configuration.backoffCap),
            seed: configuration.jitterSeed ?? system.next()
        )
        let settings = WebSocketStateMachine.Settings(
            silenceTimeout: Self.nanoseconds(configuration.silenceTimeout),
            subscribeGap: Self.nanoseconds(configuration.subscribeGap),
            healthyAfter: Self.nanoseconds(configuration.healthyAfter),
            registrationLimit: configuration.registrationLimit,
            answerTimeout: Self.nanoseconds(configuration.answerTimeout)
        )
        self.machine = Mutex(WebSocketStateMachine(settings: settings, backoff: backoff))
    }

    /// Wants `subscription` on this session from now on, across reconnects; `.subscribed` reports KIS's ack.
    /// Subscribing what is already wanted does nothing.
    ///
    /// - Throws: `.budgetExceeded` when `registrationLimit` registrations are already wanted (pending or
    ///   acknowledged); nothing is sent then. `.invalidKey` when the key is not a code or HTS id.
    public func subscribe(_ subscription: Subscription) throws(SubscriptionError) {
        try self.machine.withLock { (machine) throws(SubscriptionError) in try machine.subscribe(subscription) }
        self.attention.store(true, ordering: .releasing)
    }

    /// No longer wants `subscription`; `.unsubscribed` reports the release if KIS held it.
    public func unsubscribe(_ subscription: Subscription) {
        self.machine.withLock { $0.unsubscribe(subscription) }
        self.attention.store(true, ordering: .releasing)
    }

    /// Makes `run` close the connection and return, within `pollInterval` (or the connect timeout, when a
    /// connection is being opened). A stopped session stays stopped.
    public func stop() {
        self.stopRequested.store(true, ordering: .releasing)
        self.attention.store(true, ordering: .releasing)
    }

    /// A snapshot of the counters, which `run` publishes after each socket read.
    public var counters: WebSocketCounters { self.published.load() }

    /// Connects, keeps the connection and its subscriptions up, and decodes every message until `stop()`.
    ///
    /// - Parameters:
    ///   - approvalKeys: asked for a key before the first connection and after KIS rejects one (OPSP0011).
    ///   - sink: receives every record, on this thread, as it is decoded.
    ///   - observer: receives the session's events, on this thread, in order with the records.
    /// - Throws: only when the notice cipher cannot be created (OpenSSL out of memory), before anything starts.
    public func run<Keys: ApprovalKeyProvider & ~Copyable, Sink: FeedSink, Observer: WebSocketObserver & ~Copyable>(
        approvalKeys: inout Keys,
        sink: inout Sink,
        observer: inout Observer
    ) throws(CryptoError) {
        precondition(!self.running.exchange(true, ordering: .acquiring), "run is already active on another thread")
        defer { self.running.store(false, ordering: .releasing) }
        var loop = FeedLoop(session: self, decoder: try FeedDecoder())
        loop.run(keys: &approvalKeys, sink: &sink, observer: &observer)
    }

    fileprivate static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        precondition(seconds >= 0 && attoseconds >= 0, "durations must not be negative")
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, carry) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return overflow || carry ? .max : total
    }
}

/// What a session has done so far.
public struct WebSocketCounters: Equatable, Sendable {
    /// WebSocket messages received: data frames and control JSON.
    public var frames = 0
    /// Records handed to the sink.
    public var records = 0
    /// Messages counted and skipped: not KIS's format, a record that does not decode, a notice that does not
    /// decrypt. The session goes on.
    public var malformed = 0
    /// Connections opened after the first.
    public var reconnects = 0
    /// PINGPONGs echoed.
    public var pingsAnswered = 0
    /// Subscribe and unsubscribe requests sent.
    public var requestsSent = 0

    public init() {}
}

/// The counters as other threads read them. Only the feed thread writes, so plain stores suffice: no
/// read-modify-write on the hot path.
private final class PublishedCounters: Sendable {
    private let frames = Atomic<Int>(0)
    private let records = Atomic<Int>(0)
    private let malformed = Atomic<Int>(0)
    private let reconnects = Atomic<Int>(0)
    private let pingsAnswered = Atomic<Int>(0)
    private let requestsSent = Atomic<Int>(0)

    func store(_ counters: WebSocketCounters) {
        self.frames.store(counters.frames, ordering: .relaxed)
        self.records.store(counters.records, ordering: .relaxed)
        self.malformed.store(counters.malformed, ordering: .relaxed)
        self.reconnects.store(counters.reconnects, ordering: .relaxed)
        self.pingsAnswered.store(counters.pingsAnswered, ordering: .relaxed)
        self.requestsSent.store(counters.requestsSent, ordering: .relaxed)
    }

    func load() -> WebSocketCounters {
        var counters = WebSocketCounters()
        counters.frames = self.frames.load(ordering: .relaxed)
        counters.records = self.records.load(ordering: .relaxed)
        counters.malformed = self.malformed.load(ordering: .relaxed)
        counters.reconnects = self.reconnects.load(ordering: .relaxed)
        counters.pingsAnswered = self.pingsAnswered.load(ordering: .relaxed)
        counters.requestsSent = self.requestsSent.load(ordering: .relaxed)
        return counters
    }
}

/// The feed thread's side of a session: the connection, the decoder, the send buffer and the counters.
private struct FeedLoop: ~Copyable {
    typealias Action = WebSocketStateMachine.Action

    let session: WebSocketSession
    var link: Link?
    var decoder: FeedDecoder
    var counters = WebSocketCounters()
    var connections = 0
    /// Monotonic time of the last bytes received, and of the machine's next deadline.
    var lastReceived: UInt64 = 0
    var deadline = UInt64.max
    var random = SystemRandomNumberGenerator()
    let ioTimeoutMilliseconds: Int
    let pollInterval: UInt64
    let busyPoll: Bool

    init(session: WebSocketSession, decoder: consuming FeedDecoder) {
        self.session = session
        self.decoder = decoder
        self.ioTimeoutMilliseconds = Int(WebSocketSession.nanoseconds(session.configuration.connectTimeout) / 1_000_000)
        self.pollInterval = WebSocketSession.nanoseconds(session.configuration.pollInterval)
        self.busyPoll = session.configuration.busyPoll
    }

    mutating func run<Keys: ApprovalKeyProvider & ~Copyable, Sink: FeedSink, Observer: WebSocketObserver & ~Copyable>(
        keys: inout Keys,
        sink: inout Sink,
        observer: inout Observer
    ) {
        var actions = self.withMachine { $0.start(now: machineNow()) }
        while true {
            self.perform(actions, keys: &keys, observer: &observer)
            if self.link != nil {
                self.receive(keys: &keys, sink: &sink, observer: &observer)
            } else {
                self.sleepUntilDeadline()
            }
            let now = machineNow()
            guard self.session.attention.load(ordering: .acquiring) || now >= self.deadline else {
                actions = []
                continue
            }
            self.session.attention.store(false, ordering: .relaxed)
            if self.session.stopRequested.load(ordering: .acquiring) {
                self.perform(self.withMachine { $0.stop() }, keys: &keys, observer: &observer)
                return
            }
            let lastReceived = self.lastReceived
            actions = self.withMachine { $0.tick(now: now, lastReceived: lastReceived) }
        }
    }

    /// Runs `body` on the machine under the session's lock and takes the machine's next deadline.
    private mutating func withMachine(_ body: (inout WebSocketStateMachine) -> [Action]) -> [Action] {
        let (actions, deadline) = self.session.machine.withLock { machine in
            let actions = body(&machine)
            return (actions, machine.deadline ?? .max)
        }
        self.deadline = deadline
        return actions
    }

    // MARK: Receiving

    /// Waits for bytes until the next deadline (at most `pollInterval`), then handles every complete message.
    private mutating func receive<
        Keys: ApprovalKeyProvider & ~Copyable,
        Sink: FeedSink,
        Observer: WebSocketObserver & ~Copyable
    >(
        keys: inout Keys,
        sink: inout Sink,
        observer: inout Observer
    ) {
        let now = machineNow()
        let wait = self.busyPoll ? 0 : min(self.pollInterval, self.deadline > now ? self.deadline - now : 0)
        let received: Int
        do {
            received = try self.link!.fill(timeoutMilliseconds: Int((wait + 999_999) / 1_000_000))
        } catch {
            self.perform(self.fail(Self.reason(error)), keys: &keys, observer: &observer)
            return
        }
        guard received > 0 else { return sink.endOfBatch() }
        self.lastReceived = machineNow()
        let localTs = WallClock().now()
        while self.link != nil {
            let message: WebSocketMessage
            do {
                guard let next = try self.link!.reader.next() else { break }
                message = next
            } catch {
                self.perform(self.fail(.protocolViolation(error)), keys: &keys, observer: &observer)
                break
            }
            self.handle(message, localTs: localTs, keys: &keys, sink: &sink, observer: &observer)
        }
        sink.endOfBatch()
        self.session.published.store(self.counters)
    }

    private mutating func handle<
        Keys: ApprovalKeyProvider & ~Copyable,
        Sink: FeedSink,
        Observer: WebSocketObserver & ~Copyable
    >(
        _ message: WebSocketMessage,
        localTs: Int64,
        keys: inout Keys,
        sink: inout Sink,
        observer: inout Observer
    ) {
        switch message.opcode {
        case .text, .binary:
            self.counters.frames += 1
            self.link!.reader.withBytes(of: message) { observer.received($0, localTs: localTs) }
            let decoded: DecodedMessage
            do {
                decoded = try unsafe self.link!.reader.withUnsafeMutableBytes(of: message) {
                    (bytes) throws(FeedError) in
                    try unsafe self.decoder.decode(bytes, localTs: localTs, into: &sink)
                }
            } catch {
                self.counters.malformed += 1
                return
            }
            switch decoded {
            case .records(_, let count):
                self.counters.records += count
            case .unsupported:
                break
            case .control(let control):
                // The decoder has already taken the session's key and iv from a successful ack.
                let reply = self.link!.reader.withBytes(of: message) { ControlReply(control, in: $0) }
                let actions = self.withMachine { $0.control(reply, now: machineNow()) }
                self.perform(actions, message: message, keys: &keys, observer: &observer)
            }
        case .ping:
            // RFC 6455 §5.5.2. KIS sends none; a proxy in between might.
            do {
                _ = try self.echo(message, as: .pong)
            } catch {
                self.perform(self.fail(Self.reason(error)), keys: &keys, observer: &observer)
            }
        case .close:
            self.perform(self.fail(.closed), keys: &keys, observer: &observer)
        case .pong, .continuation:
            break
        }
    }

    // MARK: Actions

    /// Performs `actions` and those their outcomes lead to. `message` is the control message being handled, for
    /// `.echoPingPong`.
    private mutating func perform<Keys: ApprovalKeyProvider & ~Copyable, Observer: WebSocketObserver & ~Copyable>(
        _ actions: [Action],
        message: WebSocketMessage? = nil,
        keys: inout Keys,
        observer: inout Observer
    ) {
        guard !actions.isEmpty else { return }
        var queue = actions
        var next = 0
        while next < queue.count {
            let action = queue[next]
            next += 1
            switch action {
            case .fetchApprovalKey:
                do {
                    let key = try keys.approvalKey()
                    queue += self.withMachine { $0.approvalKeyReceived(key, now: machineNow()) }
                } catch {
                    queue += self.withMachine { $0.approvalKeyFailed(error, now: machineNow()) }
                }
            case .connect:
                do {
                    self.link = try Link.open(
                        self.session.configuration,
                        timeoutMilliseconds: self.ioTimeoutMilliseconds
                    )
                } catch {
                    queue += self.withMachine { $0.disconnected(error.reason, now: machineNow()) }
                    break
                }
                self.connections += 1
                if self.connections > 1 { self.counters.reconnects += 1 }
                self.lastReceived = machineNow()
                queue += self.withMachine { $0.connected(now: machineNow()) }
            case .send(let request):
                // A send that failed earlier in this batch has already told the machine.
                guard self.link != nil else { break }
                let json = request.json
                do {
                    let fits = try self.send(.text, unsafe json.span.bytes)
                    precondition(fits, "a \(json.count)-byte subscription request does not fit the send buffer")
                    self.counters.requestsSent += 1
                } catch {
                    queue += self.fail(Self.reason(error))
                }
            case .echoPingPong:
                guard let message, self.link != nil else { break }
                do {
                    if try self.echo(message, as: .text) { self.counters.pingsAnswered += 1 }
                } catch {
                    queue += self.fail(Self.reason(error))
                }
            case .close:
                guard self.link != nil else { break }
                // RFC 6455 asks for a close frame; KIS answers none and ends the connection (§5.1).
                _ = try? self.send(.close, unsafe [0x03, 0xE8].span.bytes)
                self.link = nil
            case .report(let event):
                observer.event(event)
            }
        }
        self.session.published.store(self.counters)
    }

    /// Sends `message` back with `opcode`: the PINGPONG echo, and RFC 6455's pong. A PINGPONG is a few dozen bytes;
    /// one that does not fit the send buffer is not KIS's and goes unanswered (false).
    private mutating func echo(_ message: WebSocketMessage, as opcode: WebSocketOpcode) throws(NetError) -> Bool {
        try self.link!.echo(message, as: opcode, maskingKey: UInt32(truncatingIfNeeded: self.random.next()))
    }

    /// Sends one frame of `payload`; false, sending nothing, when it does not fit the send buffer.
    private mutating func send(_ opcode: WebSocketOpcode, _ payload: RawSpan) throws(NetError) -> Bool {
        try self.link!.send(opcode, payload, maskingKey: UInt32(truncatingIfNeeded: self.random.next()))
    }

    /// Drops the connection after a failure and tells the machine.
    private mutating func fail(_ reason: DisconnectReason) -> [Action] {
        self.link = nil
        return self.withMachine { $0.disconnected(reason, now: machineNow()) }
    }

    private static func reason(_ error: NetError) -> DisconnectReason {
        error == .closed ? .closed : .network(error)
    }

    private func sleepUntilDeadline() {
        let now = machineNow()
        guard self.deadline > now else { return }
        usleep(useconds_t(min(self.deadline - now, self.pollInterval) / 1_000))
    }
}

/// One open, upgraded connection with its receive buffer and its send buffer, each reused for every frame.
private struct Link: ~Copyable {
    let stream: Net.Stream
    var reader: WebSocketReader
    let writer = FrameWriter(capacity: 4096)
    let ioTimeoutMilliseconds: Int

    /// Reads what the socket has into the reader's free tail; 0 when nothing came within the timeout.
    mutating func fill(timeoutMilliseconds: Int) throws(NetError) -> Int {
        try unsafe self.reader.writeWithUnsafeMutableBytes { (buffer) throws(NetError) -> Int in
            try unsafe self.stream.receive(into: buffer, timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    /// Sends one masked frame of `payload`; false, sending nothing, when it does not fit the send buffer.
    func send(_ opcode: WebSocketOpcode, _ payload: RawSpan, maskingKey: UInt32) throws(NetError) -> Bool {
        try self.writer.send(
            opcode,
            payload,
            maskingKey: maskingKey,
            on: self.stream,
            timeoutMilliseconds: self.ioTimeoutMilliseconds
        )
    }

    /// Sends `message`, the reader's latest, back as one frame of `opcode`.
    func echo(_ message: WebSocketMessage, as opcode: WebSocketOpcode, maskingKey: UInt32) throws(NetError) -> Bool {
        try self.reader.withBytes(of: message) { (payload) throws(NetError) -> Bool in
            try self.send(opcode, payload, maskingKey: maskingKey)
        }
    }

    struct OpenFailure: Error {
        var reason: DisconnectReason
    }

    /// Connects and performs the RFC 6455 opening handshake.
    static func open(
        _ configuration: WebSocketSession.Configuration,
        timeoutMilliseconds: Int
    ) throws(OpenFailure) -> Link {
        let stream: Net.Stream
        do {
            stream = try Net.Stream(url: configuration.url, connectTimeoutMilliseconds: timeoutMilliseconds)
        } catch {
            throw OpenFailure(reason: .connectFailed(error))
        }
        let early = try Self.upgrade(stream, path: configuration.path, timeoutMilliseconds: timeoutMilliseconds)
        var reader = WebSocketReader(maxMessageSize: configuration.maxMessageSize)
        reader.write(early)
        return Link(stream: stream, reader: reader, ioTimeoutMilliseconds: timeoutMilliseconds)
    }

    /// Sends the upgrade request and reads the answer; returns the bytes that followed it in the same read.
    private static func upgrade(
        _ stream: borrowing Net.Stream,
        path: String,
        timeoutMilliseconds: Int
    ) throws(OpenFailure) -> [UInt8] {
        var random = SystemRandomNumberGenerator()
        let handshake = WebSocketHandshake(nonce: (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
        let request = handshake.request(host: stream.endpoint, path: path)
        let deadline = machineNow() + UInt64(timeoutMilliseconds) * 1_000_000
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        do throws(NetError) {
            try unsafe request.span.bytes.withUnsafeBytes { (bytes) throws(NetError) in
                try unsafe stream.send(bytes, timeoutMilliseconds: timeoutMilliseconds)
            }
        } catch {
            throw OpenFailure(reason: .connectFailed(error))
        }
        while true {
            let now = machineNow()
            guard now < deadline else { throw OpenFailure(reason: .connectFailed(.timedOut)) }
            let count: Int
            do throws(NetError) {
                var free = chunk.mutableSpan
                count = try unsafe free.withUnsafeMutableBytes { (buffer) throws(NetError) -> Int in
                    try unsafe stream.receive(into: buffer, timeoutMilliseconds: Int((deadline - now) / 1_000_000) + 1)
                }
            } catch {
                throw OpenFailure(reason: .connectFailed(error))
            }
            received += chunk[..<count]
            let end: Int?
            do throws(WebSocketHandshakeError) {
                end = try handshake.parseResponse(received)
            } catch {
                throw OpenFailure(reason: .handshakeFailed(error))
            }
            if let end { return Array(received[end...]) }
        }
    }
}

/// A send buffer into which each outgoing frame is masked.
@safe
private struct FrameWriter: ~Copyable {
    private let storage: UnsafeMutableRawBufferPointer

    init(capacity: Int) {
        unsafe self.storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
    }

    deinit {
        unsafe self.storage.deallocate()
    }

    /// Masks `payload` into a frame and sends it on `stream`.
    ///
    /// - Returns: false, sending nothing, when the frame does not fit the buffer.
    func send(
        _ opcode: WebSocketOpcode,
        _ payload: RawSpan,
        maskingKey: UInt32,
        on stream: borrowing Net.Stream,
        timeoutMilliseconds: Int
    ) throws(NetError) -> Bool {
        let capacity = unsafe self.storage.count
        guard WebSocketFrameEncoder.frameSize(payloadCount: payload.byteCount) <= capacity else { return false }
        let written = unsafe WebSocketFrameEncoder.writeFrame(
            opcode: opcode,
            payload: payload,
            maskingKey: maskingKey,
            into: self.storage
        )
        try unsafe stream.send(
            UnsafeRawBufferPointer(rebasing: self.storage[..<written]),
            timeoutMilliseconds: timeoutMilliseconds
        )
        return true
    }
}

/// The state machine's time: monotonic nanoseconds, unsigned as the machine counts them.
private func machineNow() -> UInt64 {
    UInt64(truncatingIfNeeded: MonotonicClock().now())
}
