import TickCore

/// An incremental RFC 6455 frame parser for the client side, over one receive buffer allocated once.
///
/// Bytes from the socket are written into the free tail of the buffer; `next()` parses as far as they go and
/// returns each complete message in place. Fragments of a message are moved down to join the first one, so a
/// message is always one contiguous range and nothing is copied out. A frame may arrive split at any byte.
///
///     storage:  0      fragment.start     fragment end    cursor            writerIndex        capacity
///               │ free │ open message so far │ parsed headers │ unparsed frames │ writable            │
///               └──────┴─────────────────────┴────────────────┴─────────────────┴─────────────────────┘
///
/// When the writable tail runs short, a write first compacts: the open message moves to 0 and the unparsed bytes
/// follow it directly, dropping the frame headers and returned control frames between them.
///
/// Thread-confined: one reader belongs to one connection's thread.
@safe
public struct WebSocketReader: ~Copyable {
    private let storage: UnsafeMutableRawBufferPointer
    private var writerIndex = 0
    private var cursor = 0
    private var state = State.header
    private var fragment: Fragment?
    /// The largest message (sum of its fragments) accepted.
    public let maxMessageSize: Int

    private enum State {
        case header
        /// Header parsed; waiting for `length` payload bytes starting at `cursor`.
        case payload(opcode: WebSocketOpcode, fin: Bool, length: Int)
    }

    private struct Fragment {
        var opcode: WebSocketOpcode
        var start: Int
        var count: Int
    }

    /// Largest frame header: 2 bytes, 8 of extended length, and a mask key we reject but must be able to read.
    public static let maxHeaderSize = 14

    /// - Parameters:
    ///   - maxMessageSize: the largest message accepted; a frame that would exceed it fails as soon as its header
    ///     is read.
    ///   - readSlack: extra capacity so that socket reads can take several frames at once.
    public init(maxMessageSize: Int, readSlack: Int = 16 * 1024) {
        precondition(maxMessageSize > 0, "maxMessageSize must be positive")
        precondition(readSlack >= 0, "readSlack must not be negative")
        self.maxMessageSize = maxMessageSize
        // Worst case still needed after compaction: a whole open message, a control frame that interrupts it and
        // the next header. Anything beyond that is room for batching reads.
        let capacity = maxMessageSize + 2 * Self.maxHeaderSize + 125 + max(readSlack, 1)
        unsafe self.storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit {
        unsafe self.storage.deallocate()
    }

    /// Total bytes of the buffer.
    public var capacity: Int { unsafe self.storage.count }

    /// Bytes received and not yet parsed.
    public var unparsedCount: Int { self.writerIndex - self.cursor }

    // MARK: Writing

    /// Lets `body` write into the free tail of the buffer (a socket read, typically) and records the bytes it
    /// reports. Ends the life of the last message returned.
    ///
    /// - Parameter body: receives at least one writable byte and returns how many it wrote.
    /// - Returns: what `body` returned.
    public mutating func writeWithUnsafeMutableBytes<E: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> Int
    ) throws(E) -> Int {
        self.compactIfNeeded(minimumWritable: 1)
        let free = unsafe UnsafeMutableRawBufferPointer(rebasing: self.storage[self.writerIndex...])
        precondition(free.count > 0, "drain the reader with next() before writing more")
        let written = try unsafe body(free)
        precondition(written >= 0 && written <= free.count, "body reported \(written) bytes for \(free.count)")
        self.writerIndex += written
        return written
    }

    /// Appends `bytes` (tests, replay), compacting as needed. Returns how many fit; the rest must be written after
    /// draining with `next()`.
    @discardableResult
    public mutating func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        self.compactIfNeeded(minimumWritable: bytes.count)
        let n = min(bytes.count, self.capacity - self.writerIndex)
        if n > 0, let source = bytes.baseAddress {
            unsafe (self.storage.baseAddress! + self.writerIndex).copyMemory(from: source, byteCount: n)
        }
        self.writerIndex += n
        return n
    }

    /// Appends `bytes`; see `write(_:)`.
    @discardableResult
    public mutating func write(_ bytes: [UInt8]) -> Int {
        unsafe bytes.withUnsafeBytes { unsafe self.write($0) }
    }

    /// Moves the open fragment to offset 0 and the unparsed bytes right behind it, dropping the frame headers and
    /// already-returned control frames between them, so that many small fragments cannot fill the buffer.
    private mutating func compactIfNeeded(minimumWritable: Int) {
        guard self.capacity - self.writerIndex < minimumWritable else { return }
        let base = unsafe self.storage.baseAddress!
        var keep = 0
        if let open = self.fragment {
            if open.start > 0 {
                unsafe base.copyMemory(from: base + open.start, byteCount: open.count)
            }
            self.fragment?.start = 0
            keep = open.count
        }
        let unparsed = self.writerIndex - self.cursor
        if self.cursor > keep {
            unsafe (base + keep).copyMemory(from: base + self.cursor, byteCount: unparsed)
        }
        self.cursor = keep
        self.writerIndex = keep + unparsed
        self.checkInvariants()
    }

    // MARK: Parsing

    /// Parses the next complete message, or returns nil when more bytes are needed. A message returned here stays
    /// valid in the buffer until the next call to `next()` or a write.
    ///
    /// - Throws: `WebSocketError` when the stream breaks RFC 6455; the connection must then be failed.
    /// - Complexity: O(header bytes) per frame, plus one `memmove` of each continuation fragment's payload.
    public mutating func next() throws(WebSocketError) -> WebSocketMessage? {
        while true {
            switch self.state {
            case .header:
                guard try self.parseHeader() else { return nil }
            case .payload(let opcode, let fin, let length):
                guard self.writerIndex - self.cursor >= length else { return nil }
                let start = self.cursor
                self.cursor += length
                self.state = .header
                if let message = self.completeFrame(opcode: opcode, fin: fin, start: start, length: length) {
                    self.checkInvariants()
                    return message
                }
            }
        }
    }

    /// Reads the header at `cursor` into `state`; false when it is not all here yet.
    private mutating func parseHeader() throws(WebSocketError) -> Bool {
        let available = self.writerIndex - self.cursor
        guard available >= 2 else { return false }
        let base = unsafe UnsafeRawPointer(self.storage.baseAddress!) + self.cursor
        // Safe because: available >= 2.
        let b0 = unsafe base.load(as: UInt8.self)
        let b1 = unsafe base.load(fromByteOffset: 1, as: UInt8.self)
        guard b0 & 0x70 == 0 else { throw .reservedBitsSet }
        guard let opcode = WebSocketOpcode(rawValue: b0 & 0x0F) else { throw .unknownOpcode(b0 & 0x0F) }
        guard b1 & 0x80 == 0 else { throw .maskedFrame }
        let fin = b0 & 0x80 != 0
        let length7 = b1 & 0x7F
        let headerSize = length7 == 126 ? 4 : length7 == 127 ? 10 : 2
        if opcode.isControl {
            guard fin else { throw .fragmentedControlFrame }
            guard length7 <= 125 else { throw .controlFrameTooLong(Int(length7)) }
        }
        guard available >= headerSize else { return false }
        let length: UInt64
        switch length7 {
        case 126:
            // Safe because: available >= 4.
            length = unsafe UInt64(UInt16(bigEndian: base.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        case 127:
            // Safe because: available >= 10.
            length = unsafe UInt64(bigEndian: base.loadUnaligned(fromByteOffset: 2, as: UInt64.self))
            guard length >> 63 == 0 else { throw .invalidLength }
        default:
            length = UInt64(length7)
        }
        switch opcode {
        case .continuation:
            guard self.fragment != nil else { throw .unexpectedContinuation }
        case .text, .binary:
            guard self.fragment == nil else { throw .expectedContinuation }
        case .close:
            guard length != 1 else { throw .invalidClosePayload }
        case .ping, .pong:
            break
        }
        if !opcode.isControl {
            let total = UInt64(self.fragment?.count ?? 0) + length
            guard total <= UInt64(self.maxMessageSize) else {
                throw .messageTooLarge(length: total, limit: self.maxMessageSize)
            }
        }
        self.cursor += headerSize
        self.state = .payload(opcode: opcode, fin: fin, length: Int(length))
        return true
    }

    /// Handles a frame whose payload is all here; returns the message it completes, if any.
    private mutating func completeFrame(
        opcode: WebSocketOpcode,
        fin: Bool,
        start: Int,
        length: Int
    ) -> WebSocketMessage? {
        if opcode.isControl {
            return WebSocketMessage(opcode: opcode, offset: start, count: length)
        }
        guard var open = self.fragment else {
            if fin { return WebSocketMessage(opcode: opcode, offset: start, count: length) }
            self.fragment = Fragment(opcode: opcode, start: start, count: length)
            return nil
        }
        let end = open.start + open.count
        if end != start && length > 0 {
            // Overwrites the continuation header (and any control frame already returned) between them.
            let base = unsafe self.storage.baseAddress!
            unsafe (base + end).copyMemory(from: base + start, byteCount: length)
        }
        open.count += length
        if fin {
            self.fragment = nil
            return WebSocketMessage(opcode: open.opcode, offset: open.start, count: open.count)
        }
        self.fragment = open
        return nil
    }

    // MARK: Reading a message

    /// Calls `body` with the payload of `message`, which must be the one `next()` last returned.
    public func withBytes<R: ~Copyable, E: Error>(
        of message: WebSocketMessage,
        _ body: (RawSpan) throws(E) -> R
    ) throws(E) -> R {
        let bytes = unsafe self.payload(of: message)
        return try unsafe body(UnsafeRawBufferPointer(bytes).bytes)
    }

    /// Calls `body` with the payload of `message` to transform in place (a notice is base64-decoded and decrypted
    /// where it lies).
    ///
    /// - Warning: `body` must not let the pointer escape; it is invalid after the next `next()` or write.
    public mutating func withUnsafeMutableBytes<R: ~Copyable, E: Error>(
        of message: WebSocketMessage,
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        try unsafe body(self.payload(of: message))
    }

    private func payload(of message: WebSocketMessage) -> UnsafeMutableRawBufferPointer {
        precondition(
            message.offset >= 0 && message.count >= 0 && message.offset + message.count <= self.writerIndex,
            "message \(message) is not in this reader's buffer"
        )
        return unsafe UnsafeMutableRawBufferPointer(
            rebasing: self.storage[message.offset..<message.offset + message.count]
        )
    }

    private func checkInvariants() {
        #if DEBUG || TICK_INTERNAL_CHECKS
        guard InternalChecks.enabled else { return }
        precondition(0 <= self.cursor && self.cursor <= self.writerIndex && self.writerIndex <= self.capacity)
        if let fragment = self.fragment {
            precondition(fragment.start + fragment.count <= self.cursor)
            precondition(fragment.count <= self.maxMessageSize)
        }
        #endif
    }
}

@available(*, unavailable)
extension WebSocketReader: Sendable {}
