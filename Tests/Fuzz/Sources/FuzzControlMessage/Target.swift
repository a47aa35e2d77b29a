// libFuzzer target for Feed's control-message scanner (`ControlMessage`, the JSON of subscribe acks, error acks and
// PINGPONG), held to an independent strict JSON reader written here. Built and run by scripts/fuzz.
//
// Input: one WebSocket text message, decoded as the feed decodes it (from an allocation of exactly its size).
//
// Oracles, besides traps and ASan/LSan reports, for a message that starts with `{`:
//   - every valid JSON object (RFC 8259) of modest nesting is accepted: a valid ack is never dropped;
//   - what the scanner accepts and RFC 8259 calls valid, the reference reads the same way: the same byte ranges for
//     header.tr_key, header.datetime, body.msg1, body.output.key and .iv, the same header.tr_id, header.encrypt,
//     body.rt_cd and body.msg_cd, the later of two equal keys winning, nothing read from objects elsewhere;
//   - each range lies inside the message and undoes its escapes (`JSONText.decode`) as RFC 8259 says, a lone
//     surrogate becoming U+FFFD;
//   - an ack with a key and an iv sets the decoder's key exactly when both decode as AES-256 material.
import Feed
import TickCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControlMessage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0, data[0] == UInt8(ascii: "{") else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
    defer { buffer.deallocate() }
    buffer.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size))
    var decoder: FeedDecoder
    do {
        decoder = try FeedDecoder()
    } catch {
        fatalError("FeedDecoder(): \(error)")
    }
    var sink = NoRecords()
    var scanned: ControlMessage?
    var keyRefused = false
    do {
        guard case .control(let control) = try decoder.decode(buffer, localTs: 0, into: &sink) else {
            preconditionFailure("a message starting with { decoded as data")
        }
        scanned = control
    } catch {
        switch error {
        case .format: break
        case .decrypt: keyRefused = true
        default: preconditionFailure("a control message failed with \(error)")
        }
    }

    var reference = Reference(input)
    guard let expected = reference.document() else { return 0 }
    precondition(!keyRefused || expected.hasBadKeyMaterial, "an ack's good key and iv refused")
    guard let control = scanned else {
        precondition(keyRefused || expected.depth > 12, "valid JSON refused: \(String(decoding: input, as: UTF8.self))")
        return 0
    }
    precondition(expected.isObject)
    precondition(control.trKey == expected.trKey, "tr_key \(String(describing: control.trKey))")
    precondition(control.datetime == expected.datetime, "datetime")
    precondition(control.messageText == expected.messageText, "msg1")
    precondition(control.key == expected.key, "key")
    precondition(control.iv == expected.iv, "iv")
    precondition(control.trID.rawValue == expected.packed(expected.trID).rawValue, "tr_id")
    precondition(control.encrypted == (expected.packed(expected.encrypt) == PackedASCII(ascii: "Y")), "encrypt")
    precondition(control.returnCode == expected.packedOrNil(expected.returnCode), "rt_cd")
    precondition(control.messageCode == expected.packedOrNil(expected.messageCode), "msg_cd")
    let keyed = control.isSuccess && control.key != nil && control.iv != nil
    precondition(decoder.hasKey == keyed, "an ack with key and iv sets the key, nothing else does")
    for range in [control.trKey, control.datetime, control.messageText, control.key, control.iv].compactMap({ $0 }) {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "range \(range) outside the message")
        let decoded = JSONText.decode(input[range])
        precondition(
            decoded == Reference.unescape(input[range]),
            "JSONText.decode(\(Array(input[range]))) = \(decoded)"
        )
    }
    return 0
}

/// The decoder must hand no record to its sink for a control message.
struct NoRecords: FeedSink {
    mutating func trade(_ trade: Trade) { preconditionFailure("a record from a control message") }
    mutating func book(_ book: Book) { preconditionFailure("a record from a control message") }
    mutating func notice(_ notice: Notice) { preconditionFailure("a record from a control message") }
}

/// A strict RFC 8259 reader that also notes where a KIS control message's fields are, as raw byte ranges of string
/// contents (escapes left in place), by the scanner's rules: `header` and `body` at the top, `output` in `body`, the
/// later of two equal keys winning.
struct Reference {
    let bytes: [UInt8]
    var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    struct Document {
        var isObject = false
        var depth = 0
        var trID: Range<Int>?
        var trKey: Range<Int>?
        var encrypt: Range<Int>?
        var datetime: Range<Int>?
        var returnCode: Range<Int>?
        var messageCode: Range<Int>?
        var messageText: Range<Int>?
        var key: Range<Int>?
        var iv: Range<Int>?
        var source: [UInt8] = []

        /// A successful ack whose key and iv are not AES-256 material (32 and 16 bytes, as received).
        var hasBadKeyMaterial: Bool {
            guard self.returnCode.map({ Array(self.source[$0]) == [UInt8(ascii: "0")] }) ?? false,
                let key = self.key, let iv = self.iv
            else { return false }
            return key.count != 32 || iv.count != 16
        }

        func packedOrNil(_ range: Range<Int>?) -> PackedASCII? {
            guard let range, range.count <= 8 else { return nil }
            return self.packed(range)
        }

        func packed(_ range: Range<Int>?) -> PackedASCII {
            guard let range, range.count <= 8 else { return PackedASCII(rawValue: 0) }
            var value: UInt64 = 0
            for (n, i) in range.enumerated() { value |= UInt64(self.source[i]) << UInt64(8 * n) }
            return PackedASCII(rawValue: value)
        }
    }

    enum Context { case root, header, body, output, ignored }

    /// The document, or nil when the bytes are not one JSON text.
    mutating func document() -> Document? {
        var doc = Document()
        doc.source = self.bytes
        self.space()
        doc.isObject = self.peek() == UInt8(ascii: "{")
        guard self.value(context: .root, depth: 1, into: &doc) else { return nil }
        self.space()
        return self.i == self.bytes.count ? doc : nil
    }

    func peek() -> UInt8? { self.i < self.bytes.count ? self.bytes[self.i] : nil }

    mutating func space() {
        while let b = self.peek(), b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { self.i += 1 }
    }

    mutating func value(context: Context, depth: Int, into doc: inout Document) -> Bool {
        doc.depth = max(doc.depth, depth)
        guard depth < 64 else { return false }
        self.space()
        switch self.peek() {
        case UInt8(ascii: "{"): return self.object(context: context, depth: depth, into: &doc)
        case UInt8(ascii: "["):
            self.i += 1
            self.space()
            if self.peek() == UInt8(ascii: "]") {
                self.i += 1
                return true
            }
            while true {
                guard self.value(context: .ignored, depth: depth + 1, into: &doc) else { return false }
                self.space()
                if self.peek() == UInt8(ascii: ",") {
                    self.i += 1
                    continue
                }
                guard self.peek() == UInt8(ascii: "]") else { return false }
                self.i += 1
                return true
            }
        case UInt8(ascii: "\""): return self.string() != nil
        case UInt8(ascii: "t"): return self.word("true")
        case UInt8(ascii: "f"): return self.word("false")
        case UInt8(ascii: "n"): return self.word("null")
        case .some: return self.number()
        case nil: return false
        }
    }

    mutating func object(context: Context, depth: Int, into doc: inout Document) -> Bool {
        self.i += 1
        self.space()
        if self.peek() == UInt8(ascii: "}") {
            self.i += 1
            return true
        }
        while true {
            self.space()
            guard let name = self.string() else { return false }
            self.space()
            guard self.peek() == UInt8(ascii: ":") else { return false }
            self.i += 1
            self.space()
            let key = Array(self.bytes[name])
            if self.peek() == UInt8(ascii: "\"") {
                guard let value = self.string() else { return false }
                Self.record(key, value, context, &doc)
            } else if self.peek() == UInt8(ascii: "{") {
                let inner: Context =
                    switch (context, key) {
                    case (.root, Array("header".utf8)): .header
                    case (.root, Array("body".utf8)): .body
                    case (.body, Array("output".utf8)): .output
                    default: .ignored
                    }
                doc.depth = max(doc.depth, depth + 1)
                guard self.object(context: inner, depth: depth + 1, into: &doc) else { return false }
            } else {
                guard self.value(context: .ignored, depth: depth + 1, into: &doc) else { return false }
            }
            self.space()
            if self.peek() == UInt8(ascii: ",") {
                self.i += 1
                continue
            }
            guard self.peek() == UInt8(ascii: "}") else { return false }
            self.i += 1
            return true
        }
    }

    static func record(_ key: [UInt8], _ value: Range<Int>, _ context: Context, _ doc: inout Document) {
        switch (context, String(decoding: key, as: UTF8.self)) {
        case (.header, "tr_id"): doc.trID = value
        case (.header, "tr_key"): doc.trKey = value
        case (.header, "encrypt"): doc.encrypt = value
        case (.header, "datetime"): doc.datetime = value
        case (.body, "rt_cd"): doc.returnCode = value
        case (.body, "msg_cd"): doc.messageCode = value
        case (.body, "msg1"): doc.messageText = value
        case (.output, "key"): doc.key = value
        case (.output, "iv"): doc.iv = value
        default: break
        }
    }

    /// A string's raw contents, checked: escapes as RFC 8259 lists them, no control character.
    mutating func string() -> Range<Int>? {
        guard self.peek() == UInt8(ascii: "\"") else { return nil }
        self.i += 1
        let start = self.i
        while let b = self.peek() {
            switch b {
            case UInt8(ascii: "\""):
                self.i += 1
                return start..<(self.i - 1)
            case UInt8(ascii: "\\"):
                self.i += 1
                guard let e = self.peek() else { return nil }
                self.i += 1
                if e == UInt8(ascii: "u") {
                    guard self.i + 4 <= self.bytes.count, self.bytes[self.i..<self.i + 4].allSatisfy(Self.isHex) else {
                        return nil
                    }
                    self.i += 4
                } else {
                    guard Array("\"\\/bfnrt".utf8).contains(e) else { return nil }
                }
            case 0..<0x20: return nil
            default: self.i += 1
            }
        }
        return nil
    }

    mutating func word(_ text: String) -> Bool {
        let w = Array(text.utf8)
        guard self.bytes.count - self.i >= w.count, Array(self.bytes[self.i..<self.i + w.count]) == w else {
            return false
        }
        self.i += w.count
        return true
    }

    /// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    mutating func number() -> Bool {
        if self.peek() == UInt8(ascii: "-") { self.i += 1 }
        guard let first = self.peek(), Self.isDigit(first) else { return false }
        self.i += 1
        if first != UInt8(ascii: "0") { while let d = self.peek(), Self.isDigit(d) { self.i += 1 } }
        if self.peek() == UInt8(ascii: ".") {
            self.i += 1
            guard let d = self.peek(), Self.isDigit(d) else { return false }
            while let d = self.peek(), Self.isDigit(d) { self.i += 1 }
        }
        if self.peek() == UInt8(ascii: "e") || self.peek() == UInt8(ascii: "E") {
            self.i += 1
            if self.peek() == UInt8(ascii: "+") || self.peek() == UInt8(ascii: "-") { self.i += 1 }
            guard let d = self.peek(), Self.isDigit(d) else { return false }
            while let d = self.peek(), Self.isDigit(d) { self.i += 1 }
        }
        return true
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    static func isHex(_ b: UInt8) -> Bool {
        Self.isDigit(b) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(b)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(b)
    }

    /// RFC 8259's reading of a valid string's raw contents; an unpaired surrogate is U+FFFD.
    static func unescape(_ raw: ArraySlice<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        var bytes: [UInt8] = []
        func flushBytes() {
            scalars.append(contentsOf: String(decoding: bytes, as: UTF8.self).unicodeScalars)
            bytes.removeAll()
        }
        var i = raw.startIndex
        var high: UInt32?
        func flushHigh() {
            if high != nil { scalars.append("\u{FFFD}") }
            high = nil
        }
        while i < raw.endIndex {
            let b = raw[i]
            guard b == UInt8(ascii: "\\") else {
                flushHigh()
                bytes.append(b)
                i += 1
                continue
            }
            let e = raw[i + 1]
            i += 2
            if e != UInt8(ascii: "u") {
                flushHigh()
                let map: [UInt8: UInt8] = [0x62: 8, 0x66: 12, 0x6E: 10, 0x72: 13, 0x74: 9]
                bytes.append(map[e] ?? e)
                continue
            }
            let code = UInt32(String(decoding: raw[i..<i + 4], as: UTF8.self), radix: 16)!
            i += 4
            flushBytes()
            switch code {
            case 0xD800..<0xDC00:
                flushHigh()
                high = code
            case 0xDC00..<0xE000:
                if let h = high {
                    scalars.append(Unicode.Scalar(0x10000 + ((h - 0xD800) << 10) + (code - 0xDC00))!)
                    high = nil
                } else {
                    scalars.append("\u{FFFD}")
                }
            default:
                flushHigh()
                scalars.append(Unicode.Scalar(code)!)
            }
        }
        flushHigh()
        flushBytes()
        return String(scalars)
    }
}
