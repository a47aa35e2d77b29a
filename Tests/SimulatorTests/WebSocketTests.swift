import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Simulator
import Testing
import Wire

/// The WebSocket control protocol (docs/kis-protocol.md §5.1–5.4).
@Suite struct WebSocketTests {
    @Test(arguments: ["", "/", "/tryitout", "/tryitout/H0STCNT0"])
    func acceptsTheDocumentedPaths(path: String) async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let client = try await FeedClient(port: h.ws, path: path.isEmpty ? "/" : path)
        let ack = try await client.request(approval: try await h.approvalKey(), tr: "H0STCNT0", key: "005930")
        #expect(ack.at("body", "msg_cd") as? String == "OPSP0000")
        await client.close()
    }

    @Test func acksCarryOneKeyAndIVPerSessionInTheRealShape() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let approval = try await h.approvalKey()
        let client = try await FeedClient(port: h.ws)
        try await client.send(
            text:
                #"{"header":{"approval_key":"\#(approval)","custtype":"P","tr_type":"1","content-type":"utf-8"},"body":{"input":{"tr_id":"H0STASP0","tr_key":"005930"}}}"#
        )
        let raw = try await client.nextText()
        // Same members in the same order as the real acks (vectors/hoga-ops_control_acks_20260608.txt).
        let shape =
            #"^\{"header":\{"tr_id":"H0STASP0","tr_key":"005930","encrypt":"N"\},"body":\{"rt_cd":"0","msg_cd":"OPSP0000","msg1":"SUBSCRIBE SUCCESS","output":\{"iv":"[0-9a-f]{16}","key":"[a-z]{32}"\}\}\}$"#
        #expect(raw.range(of: shape, options: .regularExpression) != nil)
        let first = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as! [String: Any]
        // python-kis fetches a new approval key for every message: all of them work on the open session.
        let second = try await client.request(approval: try await h.approvalKey(), tr: "H0STCNT0", key: "005930")
        let notice = try await client.request(approval: approval, tr: "H0STCNI0", key: "simuser")
        #expect(notice.at("header", "encrypt") as? String == "Y")
        for ack in [second, notice] {
            #expect(ack.at("body", "output", "key") as? String == first.at("body", "output", "key") as? String)
            #expect(ack.at("body", "output", "iv") as? String == first.at("body", "output", "iv") as? String)
        }
        let again = try await client.request(approval: approval, tr: "H0STCNT0", key: "005930")
        #expect(again.at("body", "msg_cd") as? String == "OPSP0002")
        let released = try await client.request(approval: approval, tr: "H0STCNT0", key: "005930", type: "2")
        #expect(released.at("body", "msg_cd") as? String == "OPSP0001")
        #expect(released.at("body", "msg1") as? String == "UNSUBSCRIBE SUCCESS")
        let notSubscribed = try await client.request(approval: approval, tr: "H0STCNT0", key: "005930", type: "2")
        #expect(notSubscribed.at("body", "msg_cd") as? String == "OPSP0003")
        await client.close()
    }

    @Test func errorsUseKISCodes() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let approval = try await h.approvalKey()
        let client = try await FeedClient(port: h.ws)
        let badKey = try await client.request(approval: "nope", tr: "H0STCNT0", key: "005930")
        #expect(badKey.at("body", "msg_cd") as? String == "OPSP0011")
        #expect(badKey.at("body", "msg1") as? String == "invalid approval : NOT FOUND")
        let badCode = try await client.request(approval: approval, tr: "H0STCNT0", key: "59")
        #expect(badCode.at("body", "rt_cd") as? String == "9")
        #expect(badCode.at("body", "msg1") as? String == "JSON PARSING ERROR : invalid tr_key")
        try await client.send(text: #"{"body":{}}"#)
        let noHeader = try JSONSerialization.jsonObject(with: Data(try await client.nextText().utf8)) as! [String: Any]
        #expect(noHeader.at("body", "msg1") as? String == "JSON PARSING ERROR : header not found")
        await client.close()
    }

    @Test func fortyOneRegistrationsThenOPSP0008() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let approval = try await h.approvalKey()
        let client = try await FeedClient(port: h.ws)
        for i in 0..<41 {
            let code = String(format: "%06d", 100_000 + i)
            let ack = try await client.request(approval: approval, tr: "H0STCNT0", key: code)
            #expect(ack.at("body", "msg_cd") as? String == "OPSP0000")
        }
        let over = try await client.request(approval: approval, tr: "H0STASP0", key: "005930")
        #expect(over.at("body", "msg_cd") as? String == "OPSP0008")
        #expect(over.at("body", "msg1") as? String == "MAX SUBSCRIBE OVER")
        // A second app key has a session and a limit of its own.
        let other = try await FeedClient(port: h.ws)
        let secondKey = String(repeating: "L", count: 36)
        let otherApproval = try await h.approvalKey(appKey: secondKey)
        let more = try await other.request(approval: otherApproval, tr: "H0STASP0", key: "005930")
        #expect(more.at("body", "msg_cd") as? String == "OPSP0000")
        let counted = h.simulator.sessionRegistrations()
        #expect(counted.map { [$0.held, $0.peak, $0.refusals] } == [[41, 41, 1], [1, 1, 0]])
        await client.close()
        await other.close()
    }

    @Test func oneSessionPerAppKey() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let first = try await FeedClient(port: h.ws)
        _ = try await first.request(approval: try await h.approvalKey(), tr: "H0STCNT0", key: "005930")
        let second = try await FeedClient(port: h.ws)
        let refused = try await second.request(approval: try await h.approvalKey(), tr: "H0STCNT0", key: "000660")
        #expect(refused.at("body", "msg_cd") as? String == "OPSP8996")
        #expect(refused.at("body", "msg1") as? String == "ALREADY IN USE appkey")
        await first.close()
        await second.close()
    }

    @Test func pingPongWhenIdleAnsweredByTextOrPongFrame() async throws {
        let h = try await Harness {
            $0.pingInterval = 10
            $0.pongTimeout = 15
        }
        defer { Task { await h.stop() } }
        let approval = try await h.approvalKey()
        let client = try await FeedClient(port: h.ws)
        _ = try await client.request(approval: approval, tr: "H0STCNI0", key: "simuser")
        try await h.advance(10)
        let ping = try await client.nextText()
        #expect(
            ping.range(of: #"^\{"header":\{"tr_id":"PINGPONG","datetime":"\d{14}"\}\}$"#, options: .regularExpression)
                != nil
        )
        // Answer with a text echo (python-kis, most clients): 16 s later the session is pinged again, not dropped.
        try await client.send(text: ping)
        try await h.advance(16)
        let second = try await client.nextText()
        #expect(second.hasPrefix(#"{"header":{"tr_id":"PINGPONG""#))
        // Answer with a pong frame carrying it (the official client): the same.
        try await client.send(Array(second.utf8), opcode: .pong)
        try await h.advance(16)
        #expect(try await client.nextText().hasPrefix(#"{"header":{"tr_id":"PINGPONG""#))
        let alive = try await client.request(approval: approval, tr: "H0STCNT0", key: "005930")
        #expect(alive.at("body", "msg_cd") as? String == "OPSP0000")
        await client.close()
    }

    @Test func unansweredPingPongDropsTheSession() async throws {
        let h = try await Harness {
            $0.pingInterval = 10
            $0.pongTimeout = 30
        }
        defer { Task { await h.stop() } }
        let client = try await FeedClient(port: h.ws)
        _ = try await client.request(approval: try await h.approvalKey(), tr: "H0STCNI0", key: "simuser")
        try await h.advance(10)
        #expect(try await client.nextText().contains("PINGPONG"))
        try await h.advance(30)
        var last = try await client.next()
        while case .text = last { last = try await client.next() }
        #expect(last == .eof)
    }

    @Test func clientCloseGetsNoCloseFrame() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let client = try await FeedClient(port: h.ws)
        _ = try await client.request(approval: try await h.approvalKey(), tr: "H0STCNT0", key: "005930")
        try await client.send([0x03, 0xE8], opcode: .close)
        var last = try await client.next()
        while case .text = last { last = try await client.next() }
        // "sent 1000 (OK); no close frame received" (vectors/real_ws_session_log_20250722.txt).
        #expect(last == .eof)
    }

    /// NIO's WebSocket client, an implementation independent of ours, reads the same frames our Wire reader reads.
    @Test func nioClientSeesTheSameFramesAsWire() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let approval = try await h.approvalKey()
        let subscribe =
            #"{"header":{"approval_key":"\#(approval)","custtype":"P","tr_type":"1","content-type":"utf-8"},"body":{"input":{"tr_id":"H0STCNT0","tr_key":"005930"}}}"#
        let received = try await NIOFeed.collect(port: h.ws, send: subscribe, count: 4) {
            try await h.advance(20)
        }
        #expect(received.first?.hasPrefix(#"{"header":{"tr_id":"H0STCNT0""#) == true)
        #expect(received.dropFirst().allSatisfy { $0.hasPrefix("0|H0STCNT0|") })
    }
}

/// A minimal client on NIO's own WebSocket upgrader and frame codec.
enum NIOFeed {
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        let continuation: AsyncStream<String>.Continuation
        init(_ continuation: AsyncStream<String>.Continuation) { self.continuation = continuation }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = self.unwrapInboundIn(data)
            if frame.opcode == .text {
                var data = frame.unmaskedData
                self.continuation.yield(data.readString(length: data.readableBytes) ?? "")
            }
        }
        func channelInactive(context: ChannelHandlerContext) { self.continuation.finish() }
    }

    static func collect(
        port: Int,
        send text: String,
        count: Int,
        then: @Sendable () async throws -> Void
    ) async throws -> [String] {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let upgraded = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                let upgrader = NIOWebSocketClientUpgrader(
                    requestKey: "dGhlIHNhbXBsZSBub25jZQ==",
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(Collector(continuation))
                            upgraded.succeed()
                        }
                    }
                )
                let request = Request()
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                    try channel.pipeline.syncOperations.addHandler(request)
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        try await upgraded.futureResult.get()
        var buffer = channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        try await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer))
        var out: [String] = []
        var iterator = stream.makeAsyncIterator()
        out.append(await iterator.next() ?? "")
        try await then()
        while out.count < count, let next = await iterator.next() { out.append(next) }
        try await channel.close()
        return out
    }

    /// Sends the upgrade request once the channel is active.
    final class Request: ChannelInboundHandler, RemovableChannelHandler, Sendable {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart
        func channelActive(context: ChannelHandlerContext) {
            var headers = HTTPHeaders()
            headers.add(name: "host", value: "127.0.0.1")
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/tryitout", headers: headers)
            context.write(self.wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            context.fireChannelActive()
        }
    }
}
