import Foundation
public import KIS
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Wire

/// What the page's buttons do: the remote controls Telegram has (`/pause`, `/resume`, `/stop`).
public struct DashboardControls: Sendable {
    public var pauseEntries: @Sendable () -> Void
    public var resumeEntries: @Sendable () -> Void
    public var armKillSwitch: @Sendable () -> Void

    public init(
        pauseEntries: @escaping @Sendable () -> Void,
        resumeEntries: @escaping @Sendable () -> Void,
        armKillSwitch: @escaping @Sendable () -> Void
    ) {
        self.pauseEntries = pauseEntries
        self.resumeEntries = resumeEntries
        self.armKillSwitch = armKillSwitch
    }
}

/// The live page of a running engine and its `/metrics`, over HTTP/1.1 on a thread of its own, every route behind
/// one access token (`?token=` or `Authorization: Bearer`; 401 without):
///
/// | route | what |
/// |---|---|
/// | `GET /` | the page: positions, orders, fills, PnL, candles with the bot's trades, counters, latencies |
/// | `GET /events` | server-sent events: the snapshot as JSON when a new one is published (every second) |
/// | `GET /api/state` | the snapshot as JSON |
/// | `GET /metrics` | the Prometheus text format |
/// | `POST /api/pause`, `/api/resume`, `/api/kill?confirm=yes` | the controls |
///
/// The control loop publishes a snapshot once a second (`publish`); the server only ever reads the last one, so the
/// engine never waits on a browser.
public final class DashboardServer: Sendable {
    /// The token every request must carry: 32 random bytes in hex, never logged.
    public let token: Secret
    /// Where the server listens.
    public let host: String
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    let state: DashboardState

    /// Binds and starts serving.
    /// - Parameters:
    ///   - host: the address to listen on; loopback unless the operator asked otherwise.
    ///   - port: 0 for any free port.
    public init(host: String, port: Int, controls: DashboardControls) async throws {
        var generator = SystemRandomNumberGenerator()
        self.token = Secret(
            (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        )
        self.state = DashboardState(token: self.token, controls: controls)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = self.state
        do {
            self.channel = try await ServerBootstrap(group: self.group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(DashboardHandler(state: state))
                    }
                }
                .bind(host: host, port: port)
                .get()
        } catch {
            try? await self.group.shutdownGracefully()
            throw error
        }
        self.host = host
        self.port = self.channel.localAddress?.port ?? port
    }

    /// The page's address with its token, for the operator: print it, never log it (`reveal`).
    public var url: Secret {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return Secret("http://\(host):\(self.port)/?token=\(self.token.reveal)")
    }

    /// Replaces what the page and `/metrics` show.
    public func publish(_ snapshot: DashboardSnapshot) {
        self.state.publish(snapshot)
    }

    /// Closes every connection and stops the server's thread.
    public func stop() async {
        try? await self.channel.close()
        try? await self.group.shutdownGracefully()
    }

    /// `ADDR:PORT` (`127.0.0.1:8080`, `[::1]:0`, `0.0.0.0:9000`) as host and port; nil when it is not one.
    public static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) else { return nil }
        return (host, port)
    }

    /// Whether `host` is a loopback address, which only this machine reaches.
    public static func isLoopback(_ host: String) -> Bool {
        host == "::1" || host.hasPrefix("127.")
    }
}

/// The published snapshot, its JSON, and what the handlers need to answer: shared by the event loop and the
/// control loop.
final class DashboardState: Sendable {
    struct Published {
        var version = 0
        var snapshot = DashboardSnapshot()
        var json: [UInt8] = Array("{}".utf8)
    }

    let token: Secret
    let controls: DashboardControls
    private let published = Mutex(Published())

    init(token: Secret, controls: DashboardControls) {
        self.token = token
        self.controls = controls
    }

    func publish(_ snapshot: DashboardSnapshot) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(snapshot)).map(Array.init) ?? Array("{}".utf8)
        self.published.withLock { published in
            published.version += 1
            published.snapshot = snapshot
            published.json = json
        }
    }

    var current: Published { self.published.withLock { $0 } }

    /// Whether a request carries the token, in its query or as a bearer token. Compared in constant time.
    func authorized(_ head: HTTPRequestHead, target: RequestTarget) -> Bool {
        var offered = target.query["token"]
        if let header = head.headers.first(name: "authorization"), header.hasPrefix("Bearer ") {
            offered = String(header.dropFirst("Bearer ".count))
        }
        guard let offered else { return false }
        let expected = Array(self.token.reveal.utf8)
        let given = Array(offered.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// One HTTP connection: a request at a time, or a stream of server-sent events until the browser leaves.
final class DashboardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: DashboardState
    private var head: HTTPRequestHead?
    private var events: RepeatedTask?
    /// The version of the last snapshot streamed, and polls since.
    private var sentVersion = -1
    private var quietTicks = 0

    init(state: DashboardState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            // No route takes a body; the controls are in the path.
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.route(head, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.events?.cancel()
        self.events = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func route(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let target = RequestTarget(head.uri)
        guard self.state.authorized(head, target: target) else {
            return self.respond(
                head,
                status: .unauthorized,
                type: "text/plain; charset=utf-8",
                body: Array("open the address kistick printed at start, with its ?token=…\n".utf8),
                context: context,
                extra: [("www-authenticate", "Bearer")]
            )
        }
        switch (head.method, target.path) {
        case (.GET, "/"):
            self.respond(
                head,
                status: .ok,
                type: "text/html; charset=utf-8",
                body: Array(Page.html.utf8),
                context: context
            )
        case (.GET, "/api/state"):
            self.respond(head, status: .ok, type: "application/json", body: self.state.current.json, context: context)
        case (.GET, "/metrics"):
            let text = MetricsText.render(self.state.current.snapshot)
            self.respond(
                head,
                status: .ok,
                type: "text/plain; version=0.0.4; charset=utf-8",
                body: Array(text.utf8),
                context: context
            )
        case (.GET, "/events"):
            self.stream(head, context: context)
        case (.POST, "/api/pause"):
            self.state.controls.pauseEntries()
            self.done(head, context: context)
        case (.POST, "/api/resume"):
            self.state.controls.resumeEntries()
            self.done(head, context: context)
        case (.POST, "/api/kill"):
            // Telegram asks `/stop yes`; the page asks for the same confirmation.
            guard target.query["confirm"] == "yes" else {
                return self.respond(
                    head,
                    status: .badRequest,
                    type: "application/json",
                    body: Array(#"{"ok":false,"error":"add confirm=yes"}"#.utf8),
                    context: context
                )
            }
            self.state.controls.armKillSwitch()
            self.done(head, context: context)
        default:
            self.respond(head, status: .notFound, type: "text/plain", body: Array("not found\n".utf8), context: context)
        }
    }

    /// A control's answer: it was done.
    private func done(_ request: HTTPRequestHead, context: ChannelHandlerContext) {
        self.respond(
            request,
            status: .ok,
            type: "application/json",
            body: Array(#"{"ok":true}"#.utf8),
            context: context
        )
    }

    private func respond(
        _ request: HTTPRequestHead,
        status: HTTPResponseStatus,
        type: String,
        body: [UInt8],
        context: ChannelHandlerContext,
        extra: [(String, String)] = []
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: type)
        headers.add(name: "content-length", value: String(body.count))
        headers.add(name: "cache-control", value: "no-store")
        // The page's own script only; no frame may embed it (its buttons arm a kill switch).
        headers.add(
            name: "content-security-policy",
            value: "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'"
        )
        headers.add(name: "referrer-policy", value: "no-referrer")
        for (name, value) in extra { headers.add(name: name, value: value) }
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(
            self.wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
            promise: nil
        )
        context.write(
            self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))),
            promise: nil
        )
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive { done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) } }
    }

    /// Server-sent events: each new snapshot within a quarter of a second of its publication, and a comment every
    /// 15 s of none, so proxies keep the stream open.
    private func stream(_ request: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream")
        headers.add(name: "cache-control", value: "no-store")
        context.writeAndFlush(
            self.wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers))),
            promise: nil
        )
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.events = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(250)) { _ in
            let (handler, context) = loopBound.value
            handler.sendEvent(context: context)
        }
    }

    /// The snapshot if it is new, else a keep-alive comment once in 60 calls.
    private func sendEvent(context: ChannelHandlerContext) {
        let current = self.state.current
        let text: [UInt8]
        if current.version != self.sentVersion {
            self.sentVersion = current.version
            self.quietTicks = 0
            text = Array("data: ".utf8) + current.json + Array("\n\n".utf8)
        } else {
            self.quietTicks += 1
            guard self.quietTicks % 60 == 0 else { return }
            text = Array(": keep-alive\n\n".utf8)
        }
        context.writeAndFlush(
            self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: text)))),
            promise: nil
        )
    }
}

@available(*, unavailable)
extension DashboardHandler: Sendable {}
