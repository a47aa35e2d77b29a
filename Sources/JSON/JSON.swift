/// A JSON value that keeps object keys in the order they were written or read. KIS clients (and our tests) see
/// the real key order, `output…` first and then `rt_cd`, `msg_cd`, `msg1`, which a dictionary would lose.
///
/// KIS sends every number as a string, so `.string` carries them; `.number` exists only for the few places the
/// real API sends a bare number (`expires_in`).
public enum JSON: Sendable {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case array([JSON])
    case object([(String, JSON)])

    /// The member `key` of an object (first match), else nil.
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The text of a string value.
    public var text: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The text of a string value or of a bare number (`expires_in` is the one KIS number that is not a string).
    public var scalarText: String? {
        switch self {
        case .string(let s), .number(let s): return s
        default: return nil
        }
    }

    /// The items of an array, else nil.
    public var items: [JSON]? {
        if case .array(let items) = self { return items }
        return nil
    }

    // MARK: Writing

    /// UTF-8 JSON without whitespace, as KIS sends it; non-ASCII text is written as-is, not `\u` escaped.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        self.write(into: &out)
        return out
    }

    public func write(into out: inout [UInt8]) {
        switch self {
        case .string(let s): Self.writeString(s, into: &out)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: Reading

    /// Parses a whole JSON text; nil if it is not valid JSON.
    public init?(parsing bytes: some Collection<UInt8>) {
        var parser = Parser(bytes: Array(bytes))
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { return nil }
        self = value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func skipSpace() {
            while self.index < self.bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(self.bytes[self.index]) {
                self.index += 1
            }
        }

        mutating func value(depth: Int) -> JSON? {
            guard depth < 32 else { return nil }
            self.skipSpace()
            guard self.index < self.bytes.count else { return nil }
            switch self.bytes[self.index] {
            case UInt8(ascii: "{"):
                self.index += 1
                var members: [(String, JSON)] = []
                self.skipSpace()
                if self.peek(UInt8(ascii: "}")) { return .object(members) }
                while true {
                    self.skipSpace()
                    guard let key = self.string() else { return nil }
                    self.skipSpace()
                    guard self.peek(UInt8(ascii: ":")), let value = self.value(depth: depth + 1) else { return nil }
                    members.append((key, value))
                    self.skipSpace()
                    if self.peek(UInt8(ascii: ",")) { continue }
                    return self.peek(UInt8(ascii: "}")) ? .object(members) : nil
                }
            case UInt8(ascii: "["):
                self.index += 1
                var items: [JSON] = []
                self.skipSpace()
                if self.peek(UInt8(ascii: "]")) { return .array(items) }
                while true {
                    guard let item = self.value(depth: depth + 1) else { return nil }
                    items.append(item)
                    self.skipSpace()
                    if self.peek(UInt8(ascii: ",")) { continue }
                    return self.peek(UInt8(ascii: "]")) ? .array(items) : nil
                }
            case UInt8(ascii: "\""):
                return self.string().map(JSON.string)
            default:
                let start = self.index
                while self.index < self.bytes.count,
                    !",}] \t\r\n".utf8.contains(self.bytes[self.index])
                {
                    self.index += 1
                }
                let word = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
                switch word {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                default: return Double(word) == nil ? nil : .number(word)
                }
            }
        }

        /// Consumes `byte` if it is next.
        mutating func peek(_ byte: UInt8) -> Bool {
            guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
            self.index += 1
            return true
        }

        mutating func hex4() -> UInt32? {
            guard self.index + 4 <= self.bytes.count,
                let code = UInt32(String(decoding: self.bytes[self.index..<self.index + 4], as: UTF8.self), radix: 16)
            else { return nil }
            self.index += 4
            return code
        }

        mutating func string() -> String? {
            guard self.peek(UInt8(ascii: "\"")) else { return nil }
            var out: [UInt8] = []
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                self.index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard self.index < self.bytes.count else { return nil }
                    let escape = self.bytes[self.index]
                    self.index += 1
                    switch escape {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard var code = self.hex4() else { return nil }
                        // A UTF-16 surrogate pair arrives as two escapes; a lone surrogate becomes U+FFFD.
                        if (0xD800..<0xDC00).contains(code), self.bytes[self.index...].starts(with: [0x5C, 0x75]) {
                            let mark = self.index
                            self.index += 2
                            guard let low = self.hex4() else { return nil }
                            if (0xDC00..<0xE000).contains(low) {
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                self.index = mark
                            }
                        }
                        out.append(contentsOf: Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8))
                    default: out.append(escape)
                    }
                case 0..<0x20:
                    return nil
                default:
                    out.append(byte)
                }
            }
            return nil
        }
    }
}

extension JSON: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

/// Builds an ordered object: `.obj(["rt_cd": "0", …])` keeps the literal's order.
extension JSON {
    public static func obj(_ members: KeyValuePairs<String, JSON>) -> JSON {
        .object(members.map { ($0.key, $0.value) })
    }
}
