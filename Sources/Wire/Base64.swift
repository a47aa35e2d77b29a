/// Standard base64 (RFC 4648 §4, with `=` padding), the encoding of KIS's encrypted notice payloads and of the
/// WebSocket handshake keys.
public enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 0xFF marks a byte outside the alphabet; `=` is handled separately.
    static let decodeTable: [256 of UInt8] = {
        var table = [256 of UInt8](repeating: 0xFF)
        for (value, symbol) in alphabet.enumerated() {
            table[Int(symbol)] = UInt8(value)
        }
        return table
    }()

    /// Encodes `bytes` with padding.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            let group = UInt32(b0) << 16 | UInt32(b1 ?? 0) << 8 | UInt32(b2 ?? 0)
            out.append(alphabet[Int(group >> 18 & 63)])
            out.append(alphabet[Int(group >> 12 & 63)])
            out.append(b1 == nil ? UInt8(ascii: "=") : alphabet[Int(group >> 6 & 63)])
            out.append(b2 == nil ? UInt8(ascii: "=") : alphabet[Int(group & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `text`, or returns nil if it is not canonical padded base64.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var bytes = Array(text.utf8)
        let count = unsafe bytes.withUnsafeMutableBytes { buffer in
            try? unsafe Self.decodeInPlace(buffer)
        }
        guard let count else { return nil }
        bytes.removeSubrange(count...)
        return bytes
    }

    /// Decodes the base64 text in `buffer` into its own first bytes and returns how many it wrote.
    ///
    /// Safe in place because the write index trails the read index: every 4 bytes read produce at most 3.
    ///
    /// - Complexity: O(n), no allocation.
    public static func decodeInPlace(_ buffer: UnsafeMutableRawBufferPointer) throws(Base64Error) -> Int {
        let count = buffer.count
        guard count % 4 == 0 else { throw .badLength(count) }
        guard count > 0, let base = buffer.baseAddress else { return 0 }
        let padding: Int
        if unsafe base.load(fromByteOffset: count - 1, as: UInt8.self) != UInt8(ascii: "=") {
            padding = 0
        } else if unsafe base.load(fromByteOffset: count - 2, as: UInt8.self) != UInt8(ascii: "=") {
            padding = 1
        } else {
            padding = 2
        }
        let fullGroups = count / 4 - (padding > 0 ? 1 : 0)
        var read = 0
        var write = 0
        // Safe because: read + 3 < count for every full group, and write < read.
        for _ in 0..<fullGroups {
            let a = Self.decodeTable[Int(unsafe base.load(fromByteOffset: read, as: UInt8.self))]
            let b = Self.decodeTable[Int(unsafe base.load(fromByteOffset: read + 1, as: UInt8.self))]
            let c = Self.decodeTable[Int(unsafe base.load(fromByteOffset: read + 2, as: UInt8.self))]
            let d = Self.decodeTable[Int(unsafe base.load(fromByteOffset: read + 3, as: UInt8.self))]
            // Every valid symbol is < 64; a 0xFF table hit (not in the alphabet, or `=`) has bit 7 set. Checked
            // before the group's bytes are overwritten, so the offset can still be found.
            if (a | b | c | d) & 0x80 != 0 {
                throw .invalidCharacter(offset: read + [a, b, c, d].firstIndex { $0 & 0x80 != 0 }!)
            }
            let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
            unsafe base.storeBytes(of: UInt8(truncatingIfNeeded: group >> 16), toByteOffset: write, as: UInt8.self)
            unsafe base.storeBytes(of: UInt8(truncatingIfNeeded: group >> 8), toByteOffset: write + 1, as: UInt8.self)
            unsafe base.storeBytes(of: UInt8(truncatingIfNeeded: group), toByteOffset: write + 2, as: UInt8.self)
            read += 4
            write += 3
        }
        if padding > 0 {
            let a = Self.decodeTable[Int(unsafe base.load(fromByteOffset: read, as: UInt8.self))]
            let b = Self.decodeTable[Int(unsafe base.load(fromByteOffset: read + 1, as: UInt8.self))]
            let c =
                padding == 1 ? Self.decodeTable[Int(unsafe base.load(fromByteOffset: read + 2, as: UInt8.self))] : 0
            if (a | b | c) & 0x80 != 0 {
                throw .invalidCharacter(offset: read + [a, b, c].firstIndex { $0 & 0x80 != 0 }!)
            }
            // Canonical encodings leave the unused low bits zero.
            guard padding == 2 ? b & 0x0F == 0 : c & 0x03 == 0 else { throw .nonCanonicalPadding }
            let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
            unsafe base.storeBytes(of: UInt8(truncatingIfNeeded: group >> 16), toByteOffset: write, as: UInt8.self)
            write += 1
            if padding == 1 {
                unsafe base.storeBytes(of: UInt8(truncatingIfNeeded: group >> 8), toByteOffset: write, as: UInt8.self)
                write += 1
            }
        }
        return write
    }
}

public enum Base64Error: Error, Equatable, Sendable {
    /// Padded base64 is a multiple of four bytes long.
    case badLength(Int)
    /// A byte outside the alphabet (or a `=` before the end).
    case invalidCharacter(offset: Int)
    /// The bits below the last symbol's payload are not zero.
    case nonCanonicalPadding
}
