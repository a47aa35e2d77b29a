public import TickCore

/// A KIS JSON control message: a subscribe/unsubscribe ack, an error ack, or the PINGPONG keep-alive
/// (docs/kis-protocol.md §5.3–5.4).
///
/// String values are byte ranges into the message as received, so reading one allocates nothing; they are raw
/// JSON string contents (escapes not undone). `JSONText.decode` turns one into a `String` off the hot path.
public struct ControlMessage: Equatable, Sendable {
    /// header.tr_id (`PINGPONG` for the keep-alive).
    public var trID = TRID(rawValue: 0)
    /// header.tr_key: the code, or the HTS id for notice TRs.
    public var trKey: Range<Int>?
    /// header.encrypt: "Y" for TRs whose frames are encrypted.
    public var encrypted = false
    /// body.rt_cd: "0" success; errors have been seen as "1" and "9".
    public var returnCode: PackedASCII?
    /// body.msg_cd, e.g. `OPSP0000`.
    public var messageCode: PackedASCII?
    /// body.msg1, e.g. `SUBSCRIBE SUCCESS`.
    public var messageText: Range<Int>?
    /// body.output.key and body.output.iv: the session's AES key and iv.
    public var key: Range<Int>?
    public var iv: Range<Int>?
    /// header.datetime (PINGPONG only).
    public var datetime: Range<Int>?

    public init() {}

    public var isPingPong: Bool { self.trID == .pingpong }

    /// A body with `rt_cd` "0".
    public var isSuccess: Bool { self.returnCode == PackedASCII(ascii: "0") }

    public var kind: Kind {
        if self.isPingPong { return .pingPong }
        if self.returnCode == nil { return .other }
        return self.isSuccess ? .ack : .error
    }

    public enum Kind: Sendable {
        case pingPong
        /// rt_cd "0": subscribed (OPSP0000), unsubscribed (OPSP0001), already subscribed (OPSP0002).
        case ack
        /// rt_cd other than "0": OPSP0008 too many registrations, OPSP0011 bad approval key, …
        case error
        /// A JSON object without a body, other than PINGPONG.
        case other
    }

    /// Parses a control message from `bytes[start..<end]`; ranges in the result are offsets into `bytes`.
    ///
    /// - Complexity: O(n), no allocation; nesting deeper than `maxDepth` is rejected.
    static func parse(_ bytes: RawSpan, start: Int, end: Int) throws(KISFormatError) -> ControlMessage {
        var parser = JSONScanner(position: start, end: end)
        var message = ControlMessage()
        parser.skipWhitespace(bytes)
        try parser.object(bytes, context: .root, depth: 0, into: &message)
        parser.skipWhitespace(bytes)
        guard parser.position == end else { throw .badJSON(offset: parser.position) }
        return message
    }
}

/// Undoes JSON string escapes, for showing control-message text.
public enum JSONText {
    public static func decode(_ raw: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        var pendingHigh: UInt32?
        var i = raw.startIndex
        func appendScalar(_ value: UInt32) {
            if let scalar = Unicode.Scalar(value) {
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            } else {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])
            }
        }
        /// A high surrogate no low one followed is U+FFFD, as JSON readers make it, not nothing.
        func flushHigh() {
            if pendingHigh != nil { appendScalar(0xFFFD) }
            pendingHigh = nil
        }
        while i != raw.endIndex {
            let byte = raw[i]
            i = raw.index(after: i)
            guard byte == UInt8(ascii: "\\"), i != raw.endIndex else {
                flushHigh()
                out.append(byte)
                continue
            }
            let escape = raw[i]
            i = raw.index(after: i)
            if escape != UInt8(ascii: "u") { flushHigh() }
            switch escape {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "u"):
                let hex = raw[i...].prefix(4)
                i = hex.endIndex
                let value = UInt32(String(decoding: hex, as: UTF8.self), radix: 16) ?? 0xFFFD
                if (0xD800..<0xDC00).contains(value) {
                    flushHigh()
                    pendingHigh = value
                } else if let high = pendingHigh, (0xDC00..<0xE000).contains(value) {
                    appendScalar(0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00))
                    pendingHigh = nil
                } else {
                    flushHigh()
                    appendScalar(value)
                }
            default: out.append(escape)
            }
        }
        flushHigh()
        return String(decoding: out, as: UTF8.self)
    }
}

/// Just enough JSON to walk a KIS control message and record where the known fields are.
struct JSONScanner {
    var position: Int
    let end: Int

    static let maxDepth = 16

    enum Context {
        case root, header, body, output, ignored
    }

    // Keys we look for, all at most eight bytes, compared as packed integers.
    private static let header = PackedASCII(ascii: "header")
    private static let body = PackedASCII(ascii: "body")
    private static let output = PackedASCII(ascii: "output")
    private static let trID = PackedASCII(ascii: "tr_id")
    private static let trKey = PackedASCII(ascii: "tr_key")
    private static let encrypt = PackedASCII(ascii: "encrypt")
    private static let datetime = PackedASCII(ascii: "datetime")
    private static let rtCd = PackedASCII(ascii: "rt_cd")
    private static let msgCd = PackedASCII(ascii: "msg_cd")
    private static let msg1 = PackedASCII(ascii: "msg1")
    private static let key = PackedASCII(ascii: "key")
    private static let iv = PackedASCII(ascii: "iv")

    @inline(__always)
    private func peek(_ bytes: RawSpan) -> UInt8? {
        guard self.position < self.end else { return nil }
        // Safe because: position < end <= bytes.byteCount (checked by the caller of parse).
        return unsafe bytes.unsafeLoad(fromUncheckedByteOffset: self.position, as: UInt8.self)
    }

    mutating func skipWhitespace(_ bytes: RawSpan) {
        while let byte = self.peek(bytes), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            self.position += 1
        }
    }

    private mutating func expect(_ bytes: RawSpan, _ byte: UInt8) throws(KISFormatError) {
        guard self.peek(bytes) == byte else { throw .badJSON(offset: self.position) }
        self.position += 1
    }

    mutating func object(
        _ bytes: RawSpan,
        context: Context,
        depth: Int,
        into message: inout ControlMessage
    ) throws(KISFormatError) {
        guard depth < Self.maxDepth else { throw .badJSON(offset: self.position) }
        try self.expect(bytes, UInt8(ascii: "{"))
        self.skipWhitespace(bytes)
        if self.peek(bytes) == UInt8(ascii: "}") {
            self.position += 1
            return
        }
        while true {
            self.skipWhitespace(bytes)
            let name = try self.string(bytes)
            self.skipWhitespace(bytes)
            try self.expect(bytes, UInt8(ascii: ":"))
            self.skipWhitespace(bytes)
            let packedName = name.count <= 8 ? Self.pack(bytes, name) : nil
            if self.peek(bytes) == UInt8(ascii: "\"") {
                let value = try self.string(bytes)
                if let packedName { Self.record(packedName, value, in: context, bytes, into: &message) }
            } else if self.peek(bytes) == UInt8(ascii: "{") {
                let inner: Context =
                    switch (context, packedName) {
                    case (.root, Self.header): .header
                    case (.root, Self.body): .body
                    case (.body, Self.output): .output
                    default: .ignored
                    }
                try self.object(bytes, context: inner, depth: depth + 1, into: &message)
            } else {
                try self.value(bytes, depth: depth + 1, into: &message)
            }
            self.skipWhitespace(bytes)
            switch self.peek(bytes) {
            case UInt8(ascii: ","): self.position += 1
            case UInt8(ascii: "}"):
                self.position += 1
                return
            default: throw .badJSON(offset: self.position)
            }
        }
    }

    private static func record(
        _ name: PackedASCII,
        _ value: Range<Int>,
        in context: Context,
        _ bytes: RawSpan,
        into message: inout ControlMessage
    ) {
        switch (context, name) {
        case (.header, Self.trID): message.trID = Self.pack(bytes, value) ?? TRID(rawValue: 0)
        case (.header, Self.trKey): message.trKey = value
        case (.header, Self.encrypt): message.encrypted = Self.pack(bytes, value) == PackedASCII(ascii: "Y")
        case (.header, Self.datetime): message.datetime = value
        case (.body, Self.rtCd): message.returnCode = Self.pack(bytes, value)
        case (.body, Self.msgCd): message.messageCode = Self.pack(bytes, value)
        case (.body, Self.msg1): message.messageText = value
        case (.output, Self.key): message.key = value
        case (.output, Self.iv): message.iv = value
        default: break
        }
    }

    /// Any JSON value other than an object we care about; objects inside it record nothing (context `.ignored`).
    private mutating func value(_ bytes: RawSpan, depth: Int, into message: inout ControlMessage) throws(KISFormatError)
    {
        guard depth < Self.maxDepth else { throw .badJSON(offset: self.position) }
        switch self.peek(bytes) {
        case UInt8(ascii: "\""):
            _ = try self.string(bytes)
        case UInt8(ascii: "{"):
            try self.object(bytes, context: .ignored, depth: depth, into: &message)
        case UInt8(ascii: "["):
            self.position += 1
            self.skipWhitespace(bytes)
            if self.peek(bytes) == UInt8(ascii: "]") {
                self.position += 1
                return
            }
            while true {
                self.skipWhitespace(bytes)
                try self.value(bytes, depth: depth + 1, into: &message)
                self.skipWhitespace(bytes)
                switch self.peek(bytes) {
                case UInt8(ascii: ","): self.position += 1
                case UInt8(ascii: "]"):
                    self.position += 1
                    return
                default: throw .badJSON(offset: self.position)
                }
            }
        case let byte?:
            // Numbers, true, false, null: a run of their characters.
            let start = self.position
            var current: UInt8? = byte
            while let c = current,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
                    || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c)
                    || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
                    || c == UInt8(ascii: "E")
            {
                self.position += 1
                current = self.peek(bytes)
            }
            guard self.position > start else { throw .badJSON(offset: start) }
        case nil:
            throw .badJSON(offset: self.position)
        }
    }

    /// A string's contents (between the quotes, escapes left in place).
    private mutating func string(_ bytes: RawSpan) throws(KISFormatError) -> Range<Int> {
        try self.expect(bytes, UInt8(ascii: "\""))
        let start = self.position
        while let byte = self.peek(bytes) {
            switch byte {
            case UInt8(ascii: "\""):
                self.position += 1
                return start..<(self.position - 1)
            case UInt8(ascii: "\\"):
                self.position += 2
            case 0..<0x20:
                throw .badJSON(offset: self.position)
            default:
                self.position += 1
            }
        }
        throw .badJSON(offset: self.position)
    }

    /// Packs up to eight bytes of `range`; nil when longer.
    static func pack(_ bytes: RawSpan, _ range: Range<Int>) -> PackedASCII? {
        guard range.count <= 8 else { return nil }
        var value: UInt64 = 0
        for (n, i) in range.enumerated() {
            // Safe because: ranges come from string(), inside start..<end <= bytes.byteCount.
            value |= UInt64(unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self)) << UInt64(8 * n)
        }
        return PackedASCII(rawValue: value)
    }
}
