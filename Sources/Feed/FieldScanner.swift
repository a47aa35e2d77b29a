/// Reads `^`-separated KIS fields left to right without splitting or copying.
///
/// Every reader consumes one field and the separator after it. Malformed input never traps: it sets `bad`, which
/// the record decoder checks once per record, keeping the hot loop free of branches on errors.
///
/// Empty numeric fields read as 0: KIS sends empty values where nothing applies (MRKT_TRTM_CLS_CODE, for one).
struct FieldScanner {
    /// Offset of the next field.
    var position: Int
    /// One past the last byte of the payload.
    let end: Int
    /// Set by any reader that met a malformed field.
    var bad = false

    static let caret = UInt8(ascii: "^")

    init(start: Int, end: Int) {
        self.position = start
        self.end = end
    }

    /// Counts the fields of `bytes[start..<end]`: separators plus one.
    ///
    /// - Complexity: O(n), 16 bytes per step.
    static func countFields(_ bytes: RawSpan, start: Int, end: Int) -> Int {
        precondition(start >= 0 && start <= end && end <= bytes.byteCount)
        var separators = 0
        var i = start
        let splat = SIMD16<UInt8>(repeating: Self.caret)
        while end - i >= 16 {
            // Lanes count up to 255 before they could wrap, so flush every 255 blocks.
            var lanes = SIMD16<UInt8>()
            var blocks = 0
            while end - i >= 16 && blocks < 255 {
                // Safe because: i + 16 <= end <= bytes.byteCount.
                let chunk = unsafe bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: i, as: SIMD16<UInt8>.self)
                lanes &+= SIMD16<UInt8>(repeating: 0).replacing(with: 1, where: chunk .== splat)
                i += 16
                blocks += 1
            }
            // Widen before the horizontal sum: sixteen lanes of up to 255 overflow a UInt8 total.
            separators += Int(SIMD16<UInt16>(truncatingIfNeeded: lanes).wrappedSum())
        }
        while i < end {
            // Safe because: i < end <= bytes.byteCount.
            let byte = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self)
            separators += byte == Self.caret ? 1 : 0
            i += 1
        }
        return separators + 1
    }

    /// Consumes the separator that must follow a field, or the end of the payload.
    @inline(__always)
    private mutating func finishField(_ bytes: RawSpan, at i: Int) {
        if i < self.end {
            // Safe because: i < end <= bytes.byteCount.
            let separator = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self)
            self.bad = self.bad || separator != Self.caret
            self.position = i + 1
        } else {
            self.position = i
        }
    }

    /// Skips one field whatever it holds.
    @inline(__always)
    mutating func skip(_ bytes: RawSpan) {
        var i = self.position
        // Safe because: i < end <= bytes.byteCount.
        while i < self.end, unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) != Self.caret {
            i += 1
        }
        self.position = min(i + 1, self.end)
    }

    /// Skips `count` fields.
    @inline(__always)
    mutating func skip(_ bytes: RawSpan, count: Int) {
        for _ in 0..<count { self.skip(bytes) }
    }

    /// Decimal digits only, at most 18 of them.
    @inline(__always)
    mutating func unsigned(_ bytes: RawSpan) -> Int64 {
        var i = self.position
        var value: Int64 = 0
        let start = i
        // Safe because: i < end <= bytes.byteCount.
        while i < self.end {
            let digit = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) &- UInt8(ascii: "0")
            if digit > 9 { break }
            value = value &* 10 &+ Int64(digit)
            i += 1
        }
        self.bad = self.bad || i - start > 18
        self.finishField(bytes, at: i)
        return value
    }

    /// An optionally signed decimal integer.
    @inline(__always)
    mutating func signed(_ bytes: RawSpan) -> Int64 {
        guard self.position < self.end else { return 0 }
        // Safe because: position < end <= bytes.byteCount.
        let first = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: self.position, as: UInt8.self)
        if first == UInt8(ascii: "-") {
            self.position += 1
            return -self.unsignedNonEmpty(bytes)
        }
        if first == UInt8(ascii: "+") {
            self.position += 1
            return self.unsignedNonEmpty(bytes)
        }
        return self.unsigned(bytes)
    }

    /// After a sign, at least one digit must follow.
    @inline(__always)
    private mutating func unsignedNonEmpty(_ bytes: RawSpan) -> Int64 {
        let start = self.position
        let value = self.unsigned(bytes)
        self.bad = self.bad || self.position == start
        return value
    }

    /// A signed integer that must fit `Int32`.
    @inline(__always)
    mutating func int32(_ bytes: RawSpan) -> Int32 {
        Self.narrow(self.signed(bytes), &self.bad)
    }

    /// A signed decimal with up to two fraction digits, as hundredths (`"-4.5"` → -450). Further fraction digits
    /// are dropped, truncating toward zero.
    @inline(__always)
    mutating func hundredths(_ bytes: RawSpan) -> Int64 {
        var negative = false
        if self.position < self.end {
            // Safe because: position < end <= bytes.byteCount.
            let first = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: self.position, as: UInt8.self)
            if first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
                negative = first == UInt8(ascii: "-")
                self.position += 1
            }
        }
        var i = self.position
        let start = i
        var whole: Int64 = 0
        // Safe because: i < end <= bytes.byteCount, here and in the loop below.
        while i < self.end {
            let digit = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) &- UInt8(ascii: "0")
            if digit > 9 { break }
            whole = whole &* 10 &+ Int64(digit)
            i += 1
        }
        let wholeDigits = i - start
        var fraction: Int64 = 0
        var fractionDigits = 0
        if i < self.end, unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) == UInt8(ascii: ".") {
            i += 1
            while i < self.end {
                let digit = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) &- UInt8(ascii: "0")
                if digit > 9 { break }
                if fractionDigits < 2 { fraction = fraction * 10 + Int64(digit) }
                fractionDigits += 1
                i += 1
            }
            self.bad = self.bad || fractionDigits == 0
        }
        if fractionDigits == 1 { fraction *= 10 }
        self.bad = self.bad || wholeDigits > 16 || (negative && wholeDigits + fractionDigits == 0)
        self.finishField(bytes, at: i)
        let value = whole &* 100 &+ fraction
        return negative ? -value : value
    }

    /// Hundredths that must fit `Int32`.
    @inline(__always)
    mutating func hundredths32(_ bytes: RawSpan) -> Int32 {
        Self.narrow(self.hundredths(bytes), &self.bad)
    }

    /// A one-digit code (`"5"`) or a zero-padded two-digit code (`"02"`), as its value; empty is 0.
    @inline(__always)
    mutating func code(_ bytes: RawSpan) -> UInt8 {
        var i = self.position
        var value: UInt8 = 0
        // Safe because: i < end <= bytes.byteCount.
        while i < self.end {
            let digit = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) &- UInt8(ascii: "0")
            if digit > 9 { break }
            value = value &* 10 &+ digit
            i += 1
        }
        self.bad = self.bad || i - self.position > 2
        self.finishField(bytes, at: i)
        return value
    }

    /// Up to `maxLength` ASCII bytes packed little-endian (codes, TR ids, session classes).
    @inline(__always)
    mutating func packed(_ bytes: RawSpan, maxLength: Int = 8) -> UInt64 {
        var i = self.position
        var value: UInt64 = 0
        var shift: UInt64 = 0
        // Safe because: i < end <= bytes.byteCount.
        while i < self.end {
            let byte = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self)
            if byte == Self.caret { break }
            value |= UInt64(byte) << (shift & 63)
            shift += 8
            i += 1
        }
        self.bad = self.bad || shift > UInt64(maxLength * 8)
        self.finishField(bytes, at: i)
        return value
    }

    /// `Y`/`N` (or `1`/`0`); empty is false.
    @inline(__always)
    mutating func flag(_ bytes: RawSpan) -> Bool {
        let value = self.packed(bytes, maxLength: 1)
        self.bad =
            self.bad
            || !(value == 0 || value == UInt64(UInt8(ascii: "Y")) || value == UInt64(UInt8(ascii: "N"))
                || value == UInt64(UInt8(ascii: "1")) || value == UInt64(UInt8(ascii: "0")))
        return value == UInt64(UInt8(ascii: "Y")) || value == UInt64(UInt8(ascii: "1"))
    }

    @inline(__always)
    static func narrow(_ value: Int64, _ bad: inout Bool) -> Int32 {
        bad = bad || value != Int64(Int32(truncatingIfNeeded: value))
        return Int32(truncatingIfNeeded: value)
    }
}
