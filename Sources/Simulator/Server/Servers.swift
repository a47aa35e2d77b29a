import JSON
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Wire

/// The REST server: HTTP/1.1 keep-alive, one request at a time per connection, answered under the exchange lock.
final class RESTHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let simulator: Simulator
    private let environment: Environment
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(simulator: Simulator, environment: Environment) {
        self.simulator = simulator
        self.environment = environment
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = []
        case .body(var buffer):
            self.body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let target = RequestTarget(head.uri)
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let request = RESTRequest(
                method: head.method.rawValue,
                path: target.path,
                query: target.query,
                headers: headers,
                body: self.body
            )
            let reply = self.simulator.handle(request, on: self.environment)
            let keepAlive = head.isKeepAlive
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let write = {
                let (handler, context) = loopBound.value
                handler.write(reply, keepAlive: keepAlive, version: head.version, context: context)
            }
            if reply.delay > 0 {
                self.simulator.hold(reply.delay, on: context.eventLoop, write)
            } else {
                write()
            }
        }
    }

    private func write(_ reply: RESTReply, keepAlive: Bool, version: HTTPVersion, context: ChannelHandlerContext) {
        // KIS spells the standard names capitalised and its own (`tr_id`, `tr_cont`, `gt_uid`) in lower case, and
        // the official client depends on it: `kis_auth.APIResp._setHeader` makes every all-lower-case name a
        // namedtuple field, so a lower-case `content-type` would fail every answer (docs/kis-protocol.md §3.2).
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=UTF-8")
        headers.add(name: "Content-Length", value: String(reply.body.count))
        for (name, value) in reply.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(
            version: version,
            status: HTTPResponseStatus(statusCode: reply.status),
            headers: headers
        )
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(
            self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply.body)))),
            promise: nil
        )
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive { done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) } }
    }
}

@available(*, unavailable)
extension RESTHandler: Sendable {}

/// One upgraded WebSocket connection. NIO's decoder and encoder do the framing; a client's close frame is answered
/// by dropping the TCP connection with no close frame, as KIS does (docs/kis-protocol.md §5.1).
final class WebSocketHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let simulator: Simulator
    private let session: Session
    private var message: [UInt8] = []

    init(simulator: Simulator, session: Session) {
        self.simulator = simulator
        self.session = session
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .continuation, .binary:
            var data = frame.unmaskedData
            self.message += data.readBytes(length: data.readableBytes) ?? []
            guard frame.fin else { return }
            let text = self.message
            self.message = []
            self.simulator.receive(text, from: self.session)
        case .pong:
            // The official client answers PINGPONG with a pong frame carrying the JSON.
            self.session.pingSentAt.store(0, ordering: .relaxed)
        case .ping:
            context.writeAndFlush(
                self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)),
                promise: nil
            )
        case .connectionClose:
            context.close(promise: nil)
        default:
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.simulator.unregister(self.session)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension WebSocketHandler: Sendable {}

enum Servers {
    /// Paths the KIS WebSocket accepts: none, `/tryitout`, `/tryitout/{TR_ID}` (docs/kis-protocol.md §1).
    static func isFeedPath(_ uri: String) -> Bool {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        if path.isEmpty || path == "/" || path == "/tryitout" || path == "/tryitout/" { return true }
        guard path.hasPrefix("/tryitout/") else { return false }
        let tr = path.dropFirst("/tryitout/".count)
        return (1...12).contains(tr.count) && tr.allSatisfy { $0.isLetter || $0.isNumber }
    }

    /// A loopback listener with Nagle off: replies and frames are small and latency is what clients measure.
    private static func bootstrap(_ group: any EventLoopGroup) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    }

    static func bindREST(
        _ simulator: Simulator,
        _ environment: Environment,
        host: String,
        port: Int,
        group: any EventLoopGroup
    ) async throws -> any Channel {
        try await Self.bootstrap(group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        RESTHandler(simulator: simulator, environment: environment)
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    static func bindWebSocket(
        _ simulator: Simulator,
        _ environment: Environment,
        host: String,
        port: Int,
        group: any EventLoopGroup
    ) async throws -> any Channel {
        try await Self.bootstrap(group)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: 1 << 20,
                    automaticErrorHandling: false,
                    shouldUpgrade: { channel, head in
                        channel.eventLoop.makeSucceededFuture(Self.isFeedPath(head.uri) ? HTTPHeaders() : nil)
                    },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let raw = RawTap()
                            try channel.pipeline.syncOperations.addHandler(raw, position: .first)
                            let session = simulator.register(environment: environment, channel: channel, raw: raw)
                            try channel.pipeline.syncOperations.addHandler(
                                WebSocketHandler(simulator: simulator, session: session)
                            )
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}
