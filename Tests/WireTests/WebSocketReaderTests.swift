import Testing
import Wire

/// Builds server frames by hand, independently of `WebSocketFrameEncoder`.
enum ServerFrame {
    enum Length { case minimal, sixteen, sixtyFour }

    static func make(
        _ opcode: UInt8,
        _ payload: [UInt8],
        fin: Bool = true,
        length: Length = .minimal,
        rsv: UInt8 = 0,
        mask: UInt32? = nil
    ) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | rsv << 4 | opcode]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        let n = payload.count
        switch length {
        case .minimal where n < 126:
            out.append(maskBit | UInt8(n))
        case .minimal where n <= 0xFFFF, .sixteen:
            out.append(maskBit | 126)
            out += [UInt8(n >> 8), UInt8(n & 0xFF)]
        default:
            out.append(maskBit | 127)
            out += (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(n) >> (8 * UInt64($0))) }
        }
        guard let mask else { return out + payload }
        let key = (0..<4).map { UInt8(truncatingIfNeeded: mask >> (24 - 8 * UInt32($0))) }
        return out + key + payload.enumerated().map { $0.element ^ key[$0.offset & 3] }
    }

    static func text(_ s: String, fin: Bool = true) -> [UInt8] { make(0x1, Array(s.utf8), fin: fin) }
    static func continuation(_ s: String, fin: Bool = true) -> [UInt8] { make(0x0, Array(s.utf8), fin: fin) }
}

/// A message copied out of the reader, for comparing.
struct Received: Equatable, CustomStringConvertible {
    var opcode: WebSocketOpcode
    var payload: [UInt8]
    var description: String { "\(self.opcode) \(self.payload.count)B" }

    static func text(_ s: String) -> Received { Received(opcode: .text, payload: Array(s.utf8)) }
}

extension WebSocketReader {
    /// Parses everything buffered; copies each message out.
    mutating func drain() throws(WebSocketError) -> [Received] {
        var out: [Received] = []
        while let message = try self.next() {
            out.append(self.withBytes(of: message) { Received(opcode: message.opcode, payload: Array($0)) })
        }
        return out
    }

    /// Writes `bytes` in chunks at the given cut points, draining after each.
    mutating func feed(_ bytes: [UInt8], cuts: [Int]) throws(WebSocketError) -> [Received] {
        var out: [Received] = []
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start {
            var chunk = Array(bytes[start..<cut])
            while !chunk.isEmpty {
                let n = self.write(chunk)
                chunk.removeFirst(n)
                out += try self.drain()
            }
            start = cut
        }
        return out
    }
}

extension Array where Element == UInt8 {
    fileprivate init(_ span: RawSpan) {
        self = (0..<span.byteCount).map { span.unsafeLoad(fromByteOffset: $0, as: UInt8.self) }
    }
}

@Suite struct WebSocketReaderTests {
    // RFC 6455 §5.7.
    @Test func rfcExamples() throws {
        var reader = WebSocketReader(maxMessageSize: 1 << 20)
        let big256 = [UInt8](repeating: 0x5A, count: 256)
        let big64k = (0..<65_536).map { UInt8(truncatingIfNeeded: $0) }
        let stream: [UInt8] =
            [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]  // "Hello"
            + [0x01, 0x03, 0x48, 0x65, 0x6c] + [0x80, 0x02, 0x6c, 0x6f]  // "Hel" + "lo"
            + [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]  // ping "Hello"
            + [0x82, 0x7E, 0x01, 0x00] + big256  // 16-bit length
            + [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + big64k  // 64-bit length
        let messages = try reader.feed(stream, cuts: [])
        #expect(
            messages == [
                .text("Hello"), .text("Hello"), Received(opcode: .ping, payload: Array("Hello".utf8)),
                Received(opcode: .binary, payload: big256), Received(opcode: .binary, payload: big64k),
            ]
        )
    }

    @Test func controlFramesBetweenFragmentsComeFirst() throws {
        var reader = WebSocketReader(maxMessageSize: 1024)
        let stream =
            ServerFrame.text("Hel", fin: false) + ServerFrame.make(0x9, Array("p1".utf8))
            + ServerFrame.continuation("l", fin: false) + ServerFrame.make(0xA, [])
            + ServerFrame.make(0x8, [0x03, 0xE8]) + ServerFrame.continuation("o")
        let messages = try reader.feed(stream, cuts: [])
        #expect(
            messages == [
                Received(opcode: .ping, payload: Array("p1".utf8)), Received(opcode: .pong, payload: []),
                Received(opcode: .close, payload: [0x03, 0xE8]), .text("Hello"),
            ]
        )
    }

    /// A stream that exercises every state: a fragmented message interrupted by a control frame, all three length
    /// encodings (small payloads in the long encodings, which RFC 6455 frowns on but receivers may accept, keep
    /// the every-split test quadratic in a small number), an empty frame, and a KIS data frame.
    static let mixedStream: [UInt8] =
        ServerFrame.text("0|H0STCNT0|001|005930^114827", fin: false) + ServerFrame.make(0x9, Array("{}".utf8))
        + ServerFrame.continuation("^314000^5", fin: false) + ServerFrame.continuation("^-15000")
        + ServerFrame.make(0x1, [UInt8](repeating: 0x41, count: 30), length: .sixteen)
        + ServerFrame.make(0x2, [UInt8](repeating: 0x42, count: 70), length: .sixtyFour)
        + ServerFrame.make(0x1, [])
        + ServerFrame.make(0x1, Array("{\"header\":{\"tr_id\":\"PINGPONG\"}}".utf8), length: .sixtyFour)

    static let mixedExpected: [Received] = [
        Received(opcode: .ping, payload: Array("{}".utf8)), .text("0|H0STCNT0|001|005930^114827^314000^5^-15000"),
        Received(opcode: .text, payload: [UInt8](repeating: 0x41, count: 30)),
        Received(opcode: .binary, payload: [UInt8](repeating: 0x42, count: 70)), .text(""),
        .text("{\"header\":{\"tr_id\":\"PINGPONG\"}}"),
    ]

    @Test func everySplitPointParsesTheSame() throws {
        for cut in 0...Self.mixedStream.count {
            var reader = WebSocketReader(maxMessageSize: 1000)
            let messages = try reader.feed(Self.mixedStream, cuts: [cut])
            guard messages == Self.mixedExpected else {
                Issue.record("split at \(cut): \(messages)")
                return
            }
        }
    }

    @Test func oneByteAtATime() throws {
        var reader = WebSocketReader(maxMessageSize: 100, readSlack: 0)
        let messages = try reader.feed(Self.mixedStream, cuts: Array(0..<Self.mixedStream.count))
        #expect(messages == Self.mixedExpected)
    }

    /// 2,000 one-byte fragments with a ping after each: three times the buffer's size on the wire. Compaction must
    /// drop the spent headers, or the reader would stall with a full buffer.
    @Test func manyTinyFragmentsFitAMessageSizedBuffer() throws {
        var stream = ServerFrame.text("x", fin: false)
        for i in 1..<2000 {
            stream += ServerFrame.make(0x9, [UInt8(i & 0x7F)])
            stream += ServerFrame.continuation("x", fin: i == 1999)
        }
        var reader = WebSocketReader(maxMessageSize: 2000, readSlack: 16)
        let messages = try reader.feed(stream, cuts: Array(stride(from: 0, to: stream.count, by: 7)))
        #expect(messages.filter { $0.opcode == .ping }.count == 1999)
        #expect(messages.last == .text(String(repeating: "x", count: 2000)))
        #expect(reader.capacity < stream.count / 2)
    }

    @Test func oversizeIsRejectedAsSoonAsTheLengthIsKnown() {
        var reader = WebSocketReader(maxMessageSize: 100)
        // Only the header of a 101-byte frame: no payload needs to arrive for the error.
        reader.write([0x81, 101])
        #expect(throws: WebSocketError.messageTooLarge(length: 101, limit: 100)) { try reader.next() }

        var fragmented = WebSocketReader(maxMessageSize: 100)
        fragmented.write(ServerFrame.make(0x1, [UInt8](repeating: 1, count: 60), fin: false) + [0x80, 41])
        #expect(throws: WebSocketError.messageTooLarge(length: 101, limit: 100)) { try fragmented.drain() }

        var huge = WebSocketReader(maxMessageSize: 100)
        huge.write([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(throws: WebSocketError.messageTooLarge(length: 1 << 32, limit: 100)) { try huge.next() }
    }

    @Test func exactlyTheMaximumIsAccepted() throws {
        var reader = WebSocketReader(maxMessageSize: 100, readSlack: 0)
        let stream =
            ServerFrame.make(0x1, [UInt8](repeating: 0x61, count: 50), fin: false)
            + ServerFrame.make(0x0, [UInt8](repeating: 0x61, count: 50))
        let messages = try reader.feed(stream, cuts: [3, 60, 90])
        #expect(messages == [.text(String(repeating: "a", count: 100))])
    }

    @Test(arguments: [
        (ServerFrame.make(0x1, Array("hi".utf8), mask: 0x3712_0000), WebSocketError.maskedFrame),
        (ServerFrame.make(0x1, [], rsv: 0b100), .reservedBitsSet),
        (ServerFrame.make(0x1, [], rsv: 0b001), .reservedBitsSet),
        (ServerFrame.make(0x3, []), .unknownOpcode(3)),
        (ServerFrame.make(0xB, []), .unknownOpcode(0xB)),
        (ServerFrame.make(0x9, [], fin: false), .fragmentedControlFrame),
        (ServerFrame.make(0x9, [UInt8](repeating: 0, count: 126)), .controlFrameTooLong(126)),
        (ServerFrame.make(0x8, [0x03]), .invalidClosePayload),
        (ServerFrame.continuation("x"), .unexpectedContinuation),
        (ServerFrame.text("a", fin: false) + ServerFrame.text("b"), .expectedContinuation),
        ([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0], .invalidLength),
    ])
    func protocolViolations(stream: [UInt8], expected: WebSocketError) {
        var reader = WebSocketReader(maxMessageSize: 1 << 20)
        reader.write(stream)
        #expect(throws: expected) { try reader.drain() }
        #expect(expected.closeCode == 1002)
    }

    @Test func tooLargeClosesWith1009() {
        #expect(WebSocketError.messageTooLarge(length: 2, limit: 1).closeCode == 1009)
    }

    @Test func messagesCanBeTransformedInPlace() throws {
        var reader = WebSocketReader(maxMessageSize: 64)
        reader.write(ServerFrame.text("abc"))
        let message = try #require(try reader.next())
        reader.withUnsafeMutableBytes(of: message) { bytes in
            for i in bytes.indices { bytes[i] -= 32 }
        }
        #expect(reader.withBytes(of: message) { Array($0) } == Array("ABC".utf8))
    }

    @Test func socketStyleWrites() throws {
        var reader = WebSocketReader(maxMessageSize: 64, readSlack: 0)
        var pending = ServerFrame.text("hello") + ServerFrame.text("world")
        var received: [Received] = []
        while !pending.isEmpty {
            let n = reader.writeWithUnsafeMutableBytes { free in
                let n = min(free.count, 3, pending.count)
                free.copyBytes(from: pending[..<n])
                return n
            }
            pending.removeFirst(n)
            received += try reader.drain()
        }
        #expect(received == [.text("hello"), .text("world")])
    }

    @Test func nonPositiveMaximumIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            _ = WebSocketReader(maxMessageSize: 0)
        }
    }
}

@Suite struct WebSocketFrameEncoderTests {
    /// Unmasks a client frame the way a server would.
    static func unmask(_ frame: [UInt8]) -> (fin: Bool, opcode: UInt8, payload: [UInt8]) {
        #expect(frame[1] & 0x80 != 0, "client frames are masked")
        var offset = 2
        var length = Int(frame[1] & 0x7F)
        if length == 126 {
            length = Int(frame[2]) << 8 | Int(frame[3])
            offset = 4
        } else if length == 127 {
            length = (2..<10).reduce(0) { $0 << 8 | Int(frame[$1]) }
            offset = 10
        }
        let key = Array(frame[offset..<offset + 4])
        let payload = frame[(offset + 4)...].enumerated().map { $0.element ^ key[$0.offset & 3] }
        #expect(payload.count == length)
        return (frame[0] & 0x80 != 0, frame[0] & 0x0F, payload)
    }

    @Test func rfcMaskedHello() {
        let frame = WebSocketFrameEncoder.frame(opcode: .text, payload: Array("Hello".utf8), maskingKey: 0x37FA_213D)
        #expect(frame == [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
        let pong = WebSocketFrameEncoder.frame(opcode: .pong, payload: Array("Hello".utf8), maskingKey: 0x37FA_213D)
        #expect(pong == [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
    }

    @Test(arguments: [0, 1, 125, 126, 300, 65_535, 65_536, 70_000])
    func lengthsRoundTrip(count: Int) {
        let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let frame = WebSocketFrameEncoder.frame(opcode: .binary, payload: payload, maskingKey: 0xDEAD_BEEF)
        #expect(frame.count == WebSocketFrameEncoder.frameSize(payloadCount: count))
        let decoded = Self.unmask(frame)
        #expect(decoded.fin && decoded.opcode == 0x2 && decoded.payload == payload)
    }

    @Test func tooSmallABufferIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            var out = [UInt8](repeating: 0, count: 8)
            _ = out.withUnsafeMutableBytes {
                WebSocketFrameEncoder.writeFrame(opcode: .text, payload: Array("Hello".utf8), maskingKey: 1, into: $0)
            }
        }
    }

    @Test func oversizedControlFrameIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            _ = WebSocketFrameEncoder.frame(opcode: .ping, payload: [UInt8](repeating: 0, count: 126), maskingKey: 1)
        }
    }

    @Test func writesIntoACallersBuffer() {
        var out = [UInt8](repeating: 0xEE, count: 64)
        let n = out.withUnsafeMutableBytes {
            WebSocketFrameEncoder.writeFrame(
                opcode: .text,
                fin: false,
                payload: Array("abc".utf8),
                maskingKey: 1,
                into: $0
            )
        }
        #expect(n == 9)
        #expect(out[9] == 0xEE, "nothing written past the frame")
        let decoded = Self.unmask(Array(out[..<n]))
        #expect(!decoded.fin && decoded.payload == Array("abc".utf8))
    }
}
