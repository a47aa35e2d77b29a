/// An append-only byte buffer reused from request to request: after the first use its storage is big enough,
/// so writing a request allocates nothing.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
    }

    public var count: Int { self.bytes.count }

    /// Empties the buffer and keeps its storage.
    public mutating func reset() {
        self.bytes.removeAll(keepingCapacity: true)
    }

    /// Drops everything after the first `count` bytes: a template's fixed prefix stays, its variable tail goes.
    public mutating func truncate(to count: Int) {
        self.bytes.removeSubrange(count...)
    }

    public mutating func append(_ text: StaticString) {
        unsafe self.bytes.append(
            contentsOf: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        )
    }

    public mutating func append(_ text: String) {
        self.bytes.append(contentsOf: text.utf8)
    }

    public mutating func append(_ byte: UInt8) {
        self.bytes.append(byte)
    }

    public mutating func append(bytes: some Sequence<UInt8>) {
        self.bytes.append(contentsOf: bytes)
    }

    /// Writes `value` in decimal, without going through `String`.
    public mutating func append(decimal value: Int64) {
        if value < 0 { self.bytes.append(UInt8(ascii: "-")) }
        self.appendPadded(value.magnitude, width: 1)
    }

    /// Writes `value` in decimal, left-padded with zeros to at least `width` digits (at most 20).
    public mutating func appendPadded(_ value: UInt64, width: Int) {
        precondition(width <= 20, "a UInt64 has at most 20 digits")
        var divisor: UInt64 = 1
        var digits = 1
        while digits < width || value / divisor >= 10 {
            divisor &*= 10
            digits += 1
        }
        while divisor > 0 {
            self.bytes.append(UInt8(ascii: "0") &+ UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    /// Writes `text` percent-encoded for a URL query value (RFC 3986 unreserved characters pass).
    public mutating func appendQueryEncoded(_ text: String) {
        let hex: StaticString = "0123456789ABCDEF"
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                self.bytes.append(byte)
            default:
                self.bytes.append(UInt8(ascii: "%"))
                unsafe self.bytes.append(hex.utf8Start[Int(byte >> 4)])
                unsafe self.bytes.append(hex.utf8Start[Int(byte & 15)])
            }
        }
    }
}
