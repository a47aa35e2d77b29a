import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import Simulator

/// A session's writes leave in the order they were made, everything gathered since the loop last ran with one
/// flush: an accelerated market's thousands of frames a second must not cost a `writev` each on the event loop the
/// REST server shares.
@Suite struct SessionOutboxTests {
    @Test func framesGatheredBeforeTheLoopRunsLeaveInOrderWithOneFlush() throws {
        let (session, channel, flushes) = try Self.session()
        for i in 0..<100 { session.sendText(Array("frame \(i)".utf8), at: 0) }
        #expect(try channel.readOutbound(as: WebSocketFrame.self) == nil, "nothing is written inline")
        #expect(session.pendingBytes.load(ordering: .relaxed) > 0)
        channel.embeddedEventLoop.run()
        #expect(try Self.texts(channel) == (0..<100).map { "frame \($0)" })
        #expect(flushes.count == 1)
        #expect(session.pendingBytes.load(ordering: .relaxed) == 0, "the batch's bytes are settled once written")
        #expect(session.messagesSent.load(ordering: .relaxed) == 100)

        // A lone frame after the batch leaves at the loop's next turn, with a flush of its own.
        session.sendText(Array("late".utf8), at: 0)
        channel.embeddedEventLoop.run()
        #expect(try Self.texts(channel) == ["late"])
        #expect(flushes.count == 2)
    }

    @Test func aCutFrameFollowsTheFramesBeforeItAndClosesTheConnection() throws {
        let (session, channel, _) = try Self.session()
        session.sendText(Array("before".utf8), at: 0)
        session.dropMidFrame(Array("cut in half".utf8))
        session.sendText(Array("after".utf8), at: 0)
        channel.embeddedEventLoop.run()
        let before = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(String(buffer: before.unmaskedData) == "before")
        // The half frame went out below the frame encoder, as raw bytes, and the connection closed behind it.
        let half = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(half.readableBytes == (2 + "cut in half".utf8.count) / 2)
        #expect(!channel.isActive)
        // The batch's bytes are settled, the write after the close included.
        #expect(session.pendingBytes.load(ordering: .relaxed) == 0)
    }

    @Test func aDropClosesAfterTheFramesBeforeIt() throws {
        let (session, channel, _) = try Self.session()
        session.sendText(Array("last words".utf8), at: 0)
        session.drop()
        channel.embeddedEventLoop.run()
        #expect(try Self.texts(channel) == ["last words"])
        #expect(!channel.isActive)
    }

    // MARK: Support

    /// Counts the flushes on their way to the socket.
    final class FlushCounter: ChannelOutboundHandler {
        typealias OutboundIn = WebSocketFrame
        private(set) var count = 0

        func flush(context: ChannelHandlerContext) {
            self.count += 1
            context.flush()
        }
    }

    /// A session on an embedded channel laid out as the server lays a WebSocket pipeline out: the raw tap next to
    /// the socket, then (here) the flush counter where the frame encoder would be.
    static func session() throws -> (Session, EmbeddedChannel, FlushCounter) {
        let channel = EmbeddedChannel()
        let raw = RawTap()
        let flushes = FlushCounter()
        try channel.pipeline.syncOperations.addHandler(raw, position: .first)
        try channel.pipeline.syncOperations.addHandler(flushes)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let session = Session(
            id: 1,
            environment: .paper,
            keyText: String(repeating: "k", count: 32),
            ivText: "0123456789abcdef",
            channel: channel,
            raw: raw,
            now: 0
        )
        return (session, channel, flushes)
    }

    /// The text frames written so far, as strings.
    static func texts(_ channel: EmbeddedChannel) throws -> [String] {
        var texts: [String] = []
        while let frame = try channel.readOutbound(as: WebSocketFrame.self) {
            texts.append(String(buffer: frame.unmaskedData))
        }
        return texts
    }
}
