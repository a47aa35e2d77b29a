import JSON
import NIOCore
import NIOPosix
import Synchronization
import TickCore

/// A local KIS server: REST and WebSocket on loopback, a seeded KRX market, accounts that fill, and every fault
/// the real server is known to produce. Start it in-process on port 0 (tests) or through `kistick sim`.
///
/// All state sits behind one lock; the NIO event loop answers requests and feeds sessions, and a driver task
/// moves market time (except in `.manual`, where only `advance(seconds:)` and `POST /sim/advance` do).
public final class Simulator: Sendable {
    public let config: SimConfig
    private let state: Mutex<ExchangeState>
    private let group: MultiThreadedEventLoopGroup
    private let listeners = Mutex<[any Channel]>([])
    private let driver = Mutex<Task<Void, Never>?>(nil)
    /// Replies held by the order-delay fault in manual mode, released when the manual wall clock passes `due`.
    private let held = Mutex<[(due: Int64, release: @Sendable () -> Void)]>([])
    private let sessionCount = Atomic<Int>(0)

    /// Where a started simulator listens.
    public struct Endpoints: Sendable, Equatable {
        public var rest: String
        public var webSocket: String
        public var restPort: Int
        public var webSocketPort: Int
    }

    public private(set) var endpoints: [Environment: Endpoints] {
        get { self.boundEndpoints.withLock { $0 } }
        set { self.boundEndpoints.withLock { $0 = newValue } }
    }
    private let boundEndpoints = Mutex<[Environment: Endpoints]>([:])

    public init(config: SimConfig) {
        self.config = config
        self.state = Mutex(ExchangeState(config: config))
        // One event loop: well under a core at speed 1, and every connection's writes keep their order.
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// What `GET /sim/ledger` answers, as JSON: every order, holding and session the exchange knows
    /// (`ExchangeState.ledger`), for checking a client against the exchange's own books.
    public func ledger() -> [UInt8] {
        self.state.withLock { state in state.ledger(sessions: state.sessions.all) }.bytes
    }

    /// Binds the configured servers and starts the clock.
    @discardableResult
    public func start() async throws -> [Environment: Endpoints] {
        var result: [Environment: Endpoints] = [:]
        for environment in Environment.allCases {
            guard let ports = self.config.servers[environment] else { continue }
            let rest = try await Servers.bindREST(
                self,
                environment,
                host: self.config.host,
                port: ports.rest,
                group: self.group
            )
            let ws = try await Servers.bindWebSocket(
                self,
                environment,
                host: self.config.host,
                port: ports.webSocket,
                group: self.group
            )
            self.listeners.withLock { $0 += [rest, ws] }
            let restPort = rest.localAddress?.port ?? ports.rest
            let wsPort = ws.localAddress?.port ?? ports.webSocket
            result[environment] = Endpoints(
                rest: "http://\(self.config.host):\(restPort)",
                webSocket: "ws://\(self.config.host):\(wsPort)",
                restPort: restPort,
                webSocketPort: wsPort
            )
        }
        self.endpoints = result
        self.startDriver()
        return result
    }

    /// Stops the clock, closes every listener and connection, and shuts the event loop down.
    public func stop() async throws {
        self.driver.withLock { $0?.cancel() }
        for channel in self.listeners.withLock({ $0 }) { try? await channel.close() }
        let sessions = self.state.withLock { Array($0.sessions.all.values) }
        for session in sessions { session.drop() }
        try await self.group.shutdownGracefully()
    }

    // MARK: Time

    private func startDriver() {
        switch self.config.clock {
        case .manual:
            return
        case .realtime(let speed):
            let task = Task.detached { [self] in
                let startWall = MonotonicClock().now() / 1_000
                let startMarket = self.state.withLock { $0.now }
                // Market time jumped over closed hours (`SimConfig.skipsClosedHours`).
                var skipped: Int64 = 0
                while !Task.isCancelled {
                    let elapsed = Double(MonotonicClock().now() / 1_000 - startWall) * speed
                    self.state.withLock { state in
                        let target = startMarket + Int64(elapsed) + skipped
                        let jump = state.closedHoursBefore(target)
                        skipped += jump
                        state.advanceMarket(to: target + jump)
                        state.keepAlive()
                    }
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
            self.driver.withLock { $0 = task }
        case .maximum:
            let task = Task.detached { [self] in
                var lastKeepAlive = MonotonicClock().now() / 1_000
                while !Task.isCancelled {
                    let sessions = self.state.withLock { state -> [Session] in
                        // Nobody to feed: hold time still rather than race through market days for no one.
                        guard !state.sessions.all.isEmpty else { return [] }
                        // One publication interval per lock hold: a full batch of frames per wake-up.
                        state.advanceMarket(to: state.now + state.flushInterval)
                        return Array(state.sessions.all.values)
                    }
                    if sessions.isEmpty { try? await Task.sleep(for: .milliseconds(5)) }
                    // Back-pressure: the market waits for the slowest subscriber's socket.
                    while !Task.isCancelled,
                        sessions.contains(where: { $0.pendingBytes.load(ordering: .relaxed) > 4 << 20 })
                    {
                        try? await Task.sleep(for: .microseconds(200))
                    }
                    if MonotonicClock().now() / 1_000 - lastKeepAlive > 1_000_000 {
                        lastKeepAlive = MonotonicClock().now() / 1_000
                        self.state.withLock { $0.keepAlive() }
                    }
                    await Task.yield()
                }
            }
            self.driver.withLock { $0 = task }
        }
    }

    /// Moves a `.manual` clock: wall and market time advance by `seconds`, due events run in order, idle
    /// sessions get their PINGPONG, and held order replies whose delay has passed are released.
    public func advance(seconds: Double) {
        precondition(self.config.clock == .manual, "advance(seconds:) drives a manual clock only")
        let step = Int64((seconds * 1e6).rounded())
        let wall = self.state.withLock { state in
            state.manualWall! += step
            state.advanceMarket(to: state.now + step)
            state.keepAlive()
            return state.manualWall!
        }
        let due = self.held.withLock { held in
            let due = held.filter { $0.due <= wall }
            held.removeAll { $0.due <= wall }
            return due
        }
        for reply in due { reply.release() }
    }

    /// Holds a reply `seconds` of wall time: on the event loop in real time, or until the manual clock passes.
    func hold(_ seconds: Double, on loop: any EventLoop, _ release: @escaping () -> Void) {
        let bound = NIOLoopBound(release, eventLoop: loop)
        let deliver: @Sendable () -> Void = { loop.execute { bound.value() } }
        if self.config.clock == .manual {
            let due = self.state.withLock { $0.wallMicros } + Int64(seconds * 1e6)
            self.held.withLock { $0.append((due, deliver)) }
        } else {
            loop.scheduleTask(in: .microseconds(Int64(seconds * 1e6))) { bound.value() }
        }
    }

    // MARK: Requests

    /// Codes whose trades (H0STCNT0) some session holds a registration for, sorted: what a client subscribed.
    public func tradeRegistrations() -> [String] {
        self.state.withLock { $0.sessions.tradeRegisteredCodes }
    }

    /// Every WebSocket session opened since start, in the order they opened, with its registrations: what a test
    /// checks a client's spread of codes over app keys against, from the exchange's side.
    public func sessionRegistrations() -> [SessionRegistrations] {
        self.state.withLock { state in
            state.sessionLog.entries.keys.sorted().map { id in
                let entry = state.sessionLog.entries[id]!
                return SessionRegistrations(
                    held: entry.closedAt == nil ? entry.registrations : 0,
                    peak: entry.peakRegistrations,
                    refusals: entry.refusals
                )
            }
        }
    }

    /// Recorded frames not yet sent (a recorded market, `SimConfig.market`), or nil for the generated market: 0
    /// says the recorded day is over.
    public func recordedFramesLeft() -> Int? {
        self.state.withLock { state in state.config.market.map { $0.frames.count - state.recordedCursor } }
    }

    /// How many requests with `trID` were answered by an endpoint since start, on either server: a test's count of
    /// the calls a client made.
    public func answeredCount(trID: String) -> Int {
        self.state.withLock { $0.answered[trID] ?? 0 }
    }

    func handle(_ request: RESTRequest, on environment: Environment) -> RESTReply {
        if request.path.hasPrefix("/sim/") { return self.control(request) }
        return self.state.withLock { $0.handle(request, on: environment) }
    }

    func register(environment: Environment, channel: any Channel, raw: RawTap) -> Session {
        let id = self.sessionCount.add(1, ordering: .relaxed).newValue
        var random = SimRandom(seed: self.config.seed, stream: 0x5E55_0000 + UInt64(id))
        return self.state.withLock { state in
            let session = Session(
                id: id,
                environment: environment,
                keyText: random.letters(32),
                ivText: random.hex(16),
                channel: channel,
                raw: raw,
                now: state.wallMicros
            )
            state.sessions.add(session)
            state.sessionLog.opened(session, at: state.wallMicros)
            return session
        }
    }

    func unregister(_ session: Session) {
        self.state.withLock { state in
            state.sessions.remove(session)
            state.sessionLog.closed(session, at: state.wallMicros)
        }
    }

    func receive(_ text: [UInt8], from session: Session) {
        self.state.withLock { state in
            if let reply = state.receive(text, from: session), !state.faults.silent {
                session.sendText(reply, at: state.wallMicros)
            }
            state.flush()
        }
    }

    // MARK: Control

    /// `/sim/…`: the test and operator control surface (not a KIS path).
    ///
    /// - `POST /sim/advance {"seconds": 1.5}`: move a manual clock.
    /// - `POST /sim/fault {"fault": name, …}`: arm a fault; names are `drop_mid_frame`, `malformed_frame`,
    ///   `silence` (`enabled`), `expire_token`, `rate_limit` (`count`), `order_delay` (`seconds`), `order_timeout`
    ///   (`count`), `schema_drift` (`fields`), `duplicate_notice` (`enabled`), `server_error` (`count`) and `clear`.
    /// - `GET /sim/state`: market time, phase, sessions, and requests refused with EGW00201 for their key's budget.
    /// - `GET /sim/ledger`: every order, holding and session the exchange knows (`ledger()`).
    private func control(_ request: RESTRequest) -> RESTReply {
        let body = JSON(parsing: request.body) ?? .object([])
        let number: (String) -> Double? = { name in
            switch body[name] {
            case .number(let n)?, .string(let n)?: Double(n)
            default: nil
            }
        }
        let enabled: Bool = {
            if case .bool(let b)? = body["enabled"] { return b }
            return true
        }()
        switch (request.method, request.path) {
        case ("POST", "/sim/advance"):
            guard self.config.clock == .manual, let seconds = number("seconds"), seconds >= 0 else {
                return RESTReply(
                    status: 400,
                    body: JSON.obj(["error": "advance needs a manual clock and seconds ≥ 0"]).bytes
                )
            }
            self.advance(seconds: seconds)
            return self.stateReply()
        case ("GET", "/sim/state"):
            return self.stateReply()
        case ("GET", "/sim/ledger"):
            return RESTReply(status: 200, body: self.ledger())
        case ("POST", "/sim/fault"):
            let applied: Bool = self.state.withLock { state in
                switch body["fault"]?.text {
                case "drop_mid_frame": state.dropNextFrame = true
                case "malformed_frame": state.malformNextFrame = true
                case "silence": state.faults.silent = enabled
                case "expire_token": state.auth.expireAll(wall: state.wallMicros)
                case "rate_limit": state.auth.forcedRateLimits = Int(number("count") ?? 1)
                case "order_delay": state.faults.orderDelay = number("seconds") ?? 0
                case "order_timeout": state.pendingOrderTimeouts = Int(number("count") ?? 1)
                case "schema_drift": state.faults.extraFields = Int(number("fields") ?? 1)
                case "duplicate_notice": state.faults.duplicateNotices = enabled
                case "server_error": state.pendingServerErrors = Int(number("count") ?? 1)
                case "clear":
                    state.faults = FaultSettings()
                    state.dropNextFrame = false
                    state.malformNextFrame = false
                    state.pendingOrderTimeouts = 0
                    state.auth.forcedRateLimits = 0
                    state.pendingServerErrors = 0
                default: return false
                }
                return true
            }
            guard applied else { return RESTReply(status: 400, body: JSON.obj(["error": "unknown fault"]).bytes) }
            return self.stateReply()
        default:
            return RESTReply(status: 404, body: [])
        }
    }

    private func stateReply() -> RESTReply {
        let body: JSON = self.state.withLock { state in
            let seconds = state.marketSeconds
            var stamp: [UInt8] = []
            stamp.appendInt(Int64(KST.date(epochSeconds: seconds)))
            stamp.appendPadded(Int64(KST.time(epochSeconds: seconds)), width: 6)
            let phase: String =
                switch state.phase {
                case .closed: "closed"
                case .preOpen: "pre_open"
                case .continuous: "continuous"
                case .closingAuction: "closing_auction"
                }
            return JSON.obj([
                "market_time": .string(String(decoding: stamp, as: UTF8.self)),
                "phase": .string(phase),
                "wall_us": .number(String(state.wallMicros)),
                "sessions": .number(String(state.sessions.all.count)),
                "over_budget": .number(String(state.auth.overBudget)),
            ])
        }
        return RESTReply(status: 200, body: body.bytes)
    }
}

/// One WebSocket session's registrations as the exchange counted them.
public struct SessionRegistrations: Sendable, Equatable {
    /// Registrations held now (0 once the session closed).
    public var held: Int
    /// The most held at once: never above KIS's 41 (`SessionRegistry.maxRegistrations`).
    public var peak: Int
    /// Registrations refused past the limit (OPSP0008 MAX SUBSCRIBE OVER).
    public var refusals: Int
}
