/// RFC 6455 §5.2 opcodes.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Control frames (close, ping, pong) may not be fragmented and carry at most 125 bytes.
    @inlinable
    public var isControl: Bool { self.rawValue & 0x8 != 0 }
}

/// A complete message in a `WebSocketReader`'s buffer: a whole data message (fragments joined) or one control
/// frame. `offset` and `count` locate its payload; they stay valid until the reader's next `next()` or write.
public struct WebSocketMessage: Equatable, Sendable {
    public var opcode: WebSocketOpcode
    public var offset: Int
    public var count: Int

    @inlinable
    public init(opcode: WebSocketOpcode, offset: Int, count: Int) {
        self.opcode = opcode
        self.offset = offset
        self.count = count
    }
}

/// Why the server's bytes are not a valid RFC 6455 stream. Each case is a reason to fail the connection; the
/// `closeCode` is the one to send.
public enum WebSocketError: Error, Equatable, Sendable {
    /// RSV1–3 set without a negotiated extension (§5.2).
    case reservedBitsSet
    /// Opcodes 0x3–0x7 and 0xB–0xF are reserved.
    case unknownOpcode(UInt8)
    /// A server must not mask its frames (§5.1).
    case maskedFrame
    /// Control frames must have FIN set (§5.5).
    case fragmentedControlFrame
    /// Control frames carry at most 125 bytes (§5.5).
    case controlFrameTooLong(Int)
    /// A close frame's body is empty or a 2-byte code plus reason, never 1 byte (§5.5.1).
    case invalidClosePayload
    /// A continuation frame with no message in progress.
    case unexpectedContinuation
    /// A new text or binary frame while a fragmented message is still open.
    case expectedContinuation
    /// The 64-bit length has its most significant bit set (§5.2).
    case invalidLength
    /// The message would exceed the configured maximum; detected as soon as the frame header is read.
    case messageTooLarge(length: UInt64, limit: Int)

    /// The close status to send (RFC 6455 §7.4.1).
    public var closeCode: UInt16 {
        switch self {
        case .messageTooLarge: 1009
        default: 1002
        }
    }
}
