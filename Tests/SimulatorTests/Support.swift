import Foundation
import NIOCore
import NIOPosix
import Simulator
import Synchronization
import Wire

/// A raw TCP connection on loopback: the tests speak to the simulator in bytes only.
final class Connection: Sendable {
    private let channel: any Channel
    private let inbox: Inbox

    /// What arrived and was not read yet, and a reader waiting for more.
    private final class Inbox: Sendable {
        private struct State {
            var chunks: [[UInt8]] = []
            var closed = false
            var waiter: CheckedContinuation<[UInt8]?, any Error>?
        }
        private let state = Mutex(State())

        func push(_ bytes: [UInt8]) {
            let waiter = self.state.withLock { state -> CheckedContinuation<[UInt8]?, any Error>? in
                if let waiter = state.waiter {
                    state.waiter = nil
                    return waiter
                }
                state.chunks.append(bytes)
                return nil
            }
            waiter?.resume(returning: bytes)
        }

        func finish() {
            let waiter = self.state.withLock { state in
                state.closed = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }

        /// The next chunk, nil at EOF; throws `CancellationError` when the reading task is cancelled (timeouts).
        func next() async throws -> [UInt8]? {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    let ready: [UInt8]?? = self.state.withLock { state in
                        if !state.chunks.isEmpty { return .some(state.chunks.removeFirst()) }
                        if state.closed { return .some(nil) }
                        state.waiter = continuation
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            } onCancel: {
                let waiter = self.state.withLock { state in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(throwing: CancellationError())
            }
        }
    }

    /// Passes every inbound buffer, and the end of the connection, to an AsyncStream.
    private final class Feeder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let inbox: Inbox
        init(_ inbox: Inbox) { self.inbox = inbox }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = self.unwrapInboundIn(data)
            self.inbox.push(buffer.readBytes(length: buffer.readableBytes) ?? [])
        }
        func channelInactive(context: ChannelHandlerContext) { self.inbox.finish() }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    init(port: Int) async throws {
        let inbox = Inbox()
        self.channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Feeder(inbox)) }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        self.inbox = inbox
    }

    func send(_ bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// The next bytes the server sent; nil at EOF. Fails after `timeout` seconds so a broken test cannot hang.
    func receive(timeout: Double = 10) async throws -> [UInt8]? {
        try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask { try await self.inbox.next() }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                throw TestFailure("no bytes from the server within \(timeout) s")
            }
            let result = try await group.next()!
            group.cancelAll()
            return result
        }
    }

    func close() async {
        try? await self.channel.close()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// An HTTP/1.1 answer: status, lower-cased headers and body.
struct HTTPAnswer {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    /// Header names as the server spelled them, in order.
    var headerNames: [String] = []

    var json: Any? { try? JSONSerialization.jsonObject(with: Data(self.body)) }
    var object: [String: Any] { self.json as? [String: Any] ?? [:] }
    var text: String { String(decoding: self.body, as: UTF8.self) }

    /// The top-level keys in the order they appear in the body.
    var keyOrder: [String] { Self.keys(of: self.body) }

    /// Keys of the outermost object in order (a small scan: KIS bodies are flat at the top).
    static func keys(of body: [UInt8]) -> [String] {
        var keys: [String] = []
        var depth = 0
        var i = 0
        var inString = false
        var start = 0
        while i < body.count {
            let c = body[i]
            if inString {
                if c == UInt8(ascii: "\\") {
                    i += 1
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 1, i + 1 < body.count, body[i + 1] == UInt8(ascii: ":") {
                        keys.append(String(decoding: body[start..<i], as: UTF8.self))
                    }
                }
            } else if c == UInt8(ascii: "\"") {
                inString = true
                start = i + 1
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                depth += 1
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                depth -= 1
            }
            i += 1
        }
        return keys
    }
}

/// A simulator on loopback port 0 with a manual clock, and the HTTP calls the tests make against it.
final class Harness: Sendable {
    let simulator: Simulator
    let rest: Int
    let ws: Int
    let paperRest: Int?
    let paperWS: Int?

    static let appKey = String(repeating: "K", count: 36)
    static let secret = String(repeating: "S", count: 180)
    static let paperKey = String(repeating: "P", count: 36)
    static let account = "5000000001"

    init(_ configure: (inout SimConfig) -> Void = { _ in }) async throws {
        var config = SimConfig()
        config.clock = .manual
        config.date = 20_260_608
        config.symbols = ["005930", "000660"]
        configure(&config)
        self.simulator = Simulator(config: config)
        let endpoints = try await self.simulator.start()
        self.rest = endpoints[.real]?.restPort ?? 0
        self.ws = endpoints[.real]?.webSocketPort ?? 0
        self.paperRest = endpoints[.paper]?.restPort
        self.paperWS = endpoints[.paper]?.webSocketPort
    }

    func stop() async {
        try? await self.simulator.stop()
    }

    /// One request on a fresh connection (`Connection: close`), read to EOF.
    func http(
        _ method: String,
        _ path: String,
        port: Int? = nil,
        headers: [(String, String)] = [],
        body: String = ""
    ) async throws -> HTTPAnswer {
        let connection = try await Connection(port: port ?? (self.rest != 0 ? self.rest : self.paperRest!))
        var head =
            "\(method) \(path) HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-type: application/json\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "content-length: \(body.utf8.count)\r\n\r\n"
        try await connection.send(Array((head + body).utf8))
        var bytes: [UInt8] = []
        while let chunk = try await connection.receive() { bytes += chunk }
        await connection.close()
        guard let end = Self.headEnd(bytes) else { throw TestFailure("no HTTP head in \(bytes.count) bytes") }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1])!
        var fields: [String: String] = [:]
        var names: [String] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            names.append(String(line[..<colon]))
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPAnswer(status: status, headers: fields, body: Array(bytes[(end + 4)...]), headerNames: names)
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        return (0...(bytes.count - 4)).first {
            bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10
        }
    }

    func tokenP(
        appKey: String = Harness.appKey,
        secret: String = Harness.secret,
        port: Int? = nil
    ) async throws -> HTTPAnswer {
        try await self.http(
            "POST",
            "/oauth2/tokenP",
            port: port,
            body: #"{"grant_type":"client_credentials","appkey":"\#(appKey)","appsecret":"\#(secret)"}"#
        )
    }

    func token(appKey: String = Harness.appKey, port: Int? = nil) async throws -> String {
        let answer = try await self.tokenP(appKey: appKey, port: port)
        guard let token = answer.object["access_token"] as? String else { throw TestFailure("tokenP: \(answer.text)") }
        return token
    }

    func approvalKey(appKey: String = Harness.appKey, port: Int? = nil) async throws -> String {
        let answer = try await self.http(
            "POST",
            "/oauth2/Approval",
            port: port,
            body: #"{"grant_type":"client_credentials","appkey":"\#(appKey)","secretkey":"\#(Harness.secret)"}"#
        )
        guard let key = answer.object["approval_key"] as? String else { throw TestFailure("Approval: \(answer.text)") }
        return key
    }

    static func headers(
        token: String,
        tr: String,
        appKey: String = Harness.appKey,
        extra: [(String, String)] = []
    ) -> [(String, String)] {
        [
            ("authorization", "Bearer \(token)"), ("appkey", appKey), ("appsecret", Harness.secret), ("tr_id", tr),
            ("custtype", "P"),
        ] + extra
    }

    func get(
        _ path: String,
        token: String,
        tr: String,
        port: Int? = nil,
        appKey: String = Harness.appKey,
        extra: [(String, String)] = []
    ) async throws -> HTTPAnswer {
        try await self.http(
            "GET",
            path,
            port: port,
            headers: Self.headers(token: token, tr: tr, appKey: appKey, extra: extra)
        )
    }

    func post(
        _ path: String,
        token: String,
        tr: String,
        body: String,
        port: Int? = nil,
        appKey: String = Harness.appKey
    ) async throws -> HTTPAnswer {
        try await self.http(
            "POST",
            path,
            port: port,
            headers: Self.headers(token: token, tr: tr, appKey: appKey),
            body: body
        )
    }

    static let orderPath = "/uapi/domestic-stock/v1/trading/order-cash"
    static let revisePath = "/uapi/domestic-stock/v1/trading/order-rvsecncl"
    static let pricePath = "/uapi/domestic-stock/v1/quotations/inquire-price"

    func order(
        token: String,
        tr: String = "TTTC0012U",
        code: String = "005930",
        type: String = "00",
        quantity: Int,
        price: Int64,
        port: Int? = nil,
        appKey: String = Harness.appKey,
        account: String = Harness.account,
        venue: String? = nil
    ) async throws -> HTTPAnswer {
        let exchange = venue.map { #","EXCG_ID_DVSN_CD":"\#($0)""# } ?? ""
        let body =
            #"{"CANO":"\#(account.prefix(8))","ACNT_PRDT_CD":"\#(account.suffix(2))","PDNO":"\#(code)","ORD_DVSN":"\#(type)","ORD_QTY":"\#(quantity)","ORD_UNPR":"\#(price)"\#(exchange)}"#
        return try await self.post(Self.orderPath, token: token, tr: tr, body: body, port: port, appKey: appKey)
    }

    func quote(token: String, code: String = "005930") async throws -> [String: String] {
        let answer = try await self.get(
            "\(Self.pricePath)?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=\(code)",
            token: token,
            tr: "FHKST01010100"
        )
        return answer.object["output"] as? [String: String] ?? [:]
    }

    @discardableResult
    func advance(_ seconds: Double) async throws -> HTTPAnswer {
        try await self.http("POST", "/sim/advance", body: #"{"seconds":\#(seconds)}"#)
    }

    @discardableResult
    func fault(_ json: String) async throws -> HTTPAnswer {
        let answer = try await self.http("POST", "/sim/fault", body: json)
        guard answer.status == 200 else { throw TestFailure("fault \(json): \(answer.status)") }
        return answer
    }
}

/// A WebSocket client written on our own Wire module: handshake, masked client frames, and the reader.
final class FeedClient {
    let connection: Connection
    private var reader = WebSocketReader(maxMessageSize: 1 << 22)
    private var maskSeed: UInt32 = 0x1234_5678

    enum Message: Equatable {
        case text([UInt8])
        case pong([UInt8])
        case close
        /// The TCP connection ended.
        case eof
    }

    init(port: Int, path: String = "/tryitout") async throws {
        self.connection = try await Connection(port: port)
        var nonce = [UInt8](repeating: 0, count: 16)
        for i in nonce.indices { nonce[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11) }
        let handshake = WebSocketHandshake(nonce: nonce)
        try await self.connection.send(handshake.request(host: "127.0.0.1:\(port)", path: path))
        var received: [UInt8] = []
        while true {
            guard let chunk = try await self.connection.receive() else { throw TestFailure("EOF during the handshake") }
            received += chunk
            if let end = try handshake.parseResponse(received) {
                self.reader.write(Array(received[end...]))
                return
            }
        }
    }

    func send(text: String) async throws { try await self.send(Array(text.utf8), opcode: .text) }

    func send(_ payload: [UInt8], opcode: WebSocketOpcode) async throws {
        self.maskSeed = self.maskSeed &* 1_103_515_245 &+ 12345
        try await self.connection.send(
            WebSocketFrameEncoder.frame(opcode: opcode, payload: payload, maskingKey: self.maskSeed)
        )
    }

    /// The next message; control frames (pong, close) are reported too.
    func next(timeout: Double = 10) async throws -> Message {
        while true {
            if let message = try self.reader.next() {
                let bytes = self.reader.withBytes(of: message) { span in
                    (0..<span.byteCount).map { span.unsafeLoad(fromByteOffset: $0, as: UInt8.self) }
                }
                switch message.opcode {
                case .text, .binary: return .text(bytes)
                case .pong: return .pong(bytes)
                case .close: return .close
                default: continue
                }
            }
            guard let chunk = try await self.connection.receive(timeout: timeout) else { return .eof }
            self.reader.write(chunk)
        }
    }

    /// The next text message, as a string.
    func nextText(timeout: Double = 10) async throws -> String {
        guard case .text(let bytes) = try await self.next(timeout: timeout) else {
            throw TestFailure("expected a text message")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Sends a subscribe (tr_type 1) or unsubscribe (2) request and returns the ack, skipping data frames.
    func request(approval: String, tr: String, key: String, type: String = "1") async throws -> [String: Any] {
        try await self.send(
            text:
                #"{"header":{"approval_key":"\#(approval)","custtype":"P","tr_type":"\#(type)","content-type":"utf-8"},"body":{"input":{"tr_id":"\#(tr)","tr_key":"\#(key)"}}}"#
        )
        while true {
            let text = try await self.nextText()
            if text.hasPrefix("{"),
                let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                (json["header"] as? [String: Any])?["tr_id"] as? String != "PINGPONG"
            {
                return json
            }
        }
    }

    func close() async { await self.connection.close() }
}

extension Dictionary where Key == String, Value == Any {
    func at(_ path: String...) -> Any? {
        var current: Any? = self
        for key in path { current = (current as? [String: Any])?[key] }
        return current
    }
}
