import NIOCore
import NIOEmbedded
import Testing
import Wire

@testable import Simulator

/// A session's messages leave in the order they were made, everything gathered since the loop last ran framed into
/// one write with one flush: an accelerated market's thousands of frames a second must not cost a trip through
/// NIO's frame encoder and a `writev` each on the event loop the REST server shares.
@Suite struct SessionOutboxTests {
    @Test func messagesGatheredBeforeTheLoopRunsLeaveInOrderInOneWrite() throws {
        let (session, channel, counter) = try Self.session()
        let messages = (0..<100).map { "message \($0)" } + [String(repeating: "long ", count: 30_000)]
        for message in messages { session.sendText(Array(message.utf8), at: 0) }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "nothing is written inline")
        #expect(session.pendingBytes.load(ordering: .relaxed) > 0)
        channel.embeddedEventLoop.run()
        #expect((counter.writes, counter.flushes) == (1, 1))
        #expect(try Self.texts(Self.written(channel)) == messages)
        #expect(session.pendingBytes.load(ordering: .relaxed) == 0, "the batch's bytes are settled once written")
        #expect(session.messagesSent.load(ordering: .relaxed) == messages.count)

        // A lone message after the batch leaves at the loop's next turn, with a write of its own.
        session.sendText(Array("late".utf8), at: 0)
        channel.embeddedEventLoop.run()
        #expect(try Self.texts(Self.written(channel)) == ["late"])
        #expect((counter.writes, counter.flushes) == (2, 2))
    }

    @Test func aCutFrameFollowsTheMessagesBeforeItAndClosesTheConnection() throws {
        let (session, channel, _) = try Self.session()
        session.sendText(Array("before".utf8), at: 0)
        session.dropMidFrame(Array("cut in half".utf8))
        session.sendText(Array("after".utf8), at: 0)
        channel.embeddedEventLoop.run()
        // "before" whole, then a header promising 11 bytes and the first 4 of them: (2 + 11) / 2 bytes of the frame.
        var reader = WebSocketReader(maxMessageSize: 1 << 20)
        _ = reader.write(try #require(try channel.readOutbound(as: ByteBuffer.self)).readableBytesView.map { $0 })
        let before = try #require(try reader.next())
        #expect(Self.text(before, in: reader) == "before")
        #expect(try reader.next() == nil)
        // The reader took the header in; 4 of the 11 bytes it promised wait for the rest.
        #expect(reader.unparsedCount == 4)
        #expect(!channel.isActive)
        // The batch's bytes are settled, the write after the close included.
        #expect(session.pendingBytes.load(ordering: .relaxed) == 0)
    }

    @Test func aDropClosesAfterTheMessagesBeforeIt() throws {
        let (session, channel, _) = try Self.session()
        session.sendText(Array("last words".utf8), at: 0)
        session.drop()
        channel.embeddedEventLoop.run()
        #expect(try Self.texts(Self.written(channel)) == ["last words"])
        #expect(!channel.isActive)
    }

    // MARK: Support

    /// Counts the writes and flushes that reach the socket.
    final class Counter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        private(set) var writes = 0
        private(set) var flushes = 0

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            self.writes += 1
            context.write(data, promise: promise)
        }

        func flush(context: ChannelHandlerContext) {
            self.flushes += 1
            context.flush()
        }
    }

    /// A session on an embedded channel laid out as the server lays a WebSocket pipeline out, the raw tap next to
    /// the socket, with the counter between them.
    static func session() throws -> (Session, EmbeddedChannel, Counter) {
        let channel = EmbeddedChannel()
        let raw = RawTap()
        let counter = Counter()
        try channel.pipeline.syncOperations.addHandler(counter, position: .first)
        try channel.pipeline.syncOperations.addHandler(raw, position: .after(counter))
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
        return (session, channel, counter)
    }

    /// Every byte written to the socket so far.
    static func written(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }

    /// The text messages `bytes` hold, read as a client reads them; every byte must belong to one.
    static func texts(_ bytes: [UInt8]) throws -> [String] {
        var reader = WebSocketReader(maxMessageSize: 1 << 20)
        #expect(reader.write(bytes) == bytes.count)
        var texts: [String] = []
        while let message = try reader.next() {
            #expect(message.opcode == .text)
            texts.append(Self.text(message, in: reader))
        }
        #expect(reader.unparsedCount == 0)
        return texts
    }

    static func text(_ message: WebSocketMessage, in reader: borrowing WebSocketReader) -> String {
        let bytes = reader.withBytes(of: message) { span in
            (0..<span.byteCount).map { span.unsafeLoad(fromByteOffset: $0, as: UInt8.self) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
