/// Reads `^`-separated KIS fields left to right without splitting or copying.
///
/// Every reader consumes one field and the separator after it. Malformed input never traps: it sets `bad`, which
/// the record decoder checks once per record, keeping the hot loop free of branches on errors.
///
/// Fields are read eight bytes at a time (SWAR): one unaligned load finds where the digits stop and three
/// multiplies turn up to eight ASCII digits into their value. Only the last few bytes of a payload, where a word
/// would run past the end, go through the byte-at-a-time loops.
///
/// Empty numeric fields read as 0: KIS sends empty values where nothing applies (MRKT_TRTM_CLS_CODE, for one).
///
/// Offsets use wrapping arithmetic on the fast paths: they are bounded by the payload's length, so the overflow
/// traps would never fire and only cost instructions per field.
struct FieldScanner {
    /// Offset of the next field.
    var position: Int
    /// One past the last byte of the payload.
    let end: Int
    /// Set by any reader that met a malformed field.
    var bad = false

    static let caret = UInt8(ascii: "^")
    static let dot = UInt8(ascii: ".")

    init(start: Int, end: Int) {
        self.position = start
        self.end = end
    }

    // MARK: Word-at-a-time primitives

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080
    private static let powersOf10: [9 of UInt64] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]

    /// Eight bytes at `offset`, the first in the low byte.
    @inline(__always)
    private static func word(_ bytes: RawSpan, _ offset: Int) -> UInt64 {
        // Safe because: every caller checks offset + 8 <= end <= bytes.byteCount.
        UInt64(littleEndian: unsafe bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: offset, as: UInt64.self))
    }

    /// Bit 7 of the first byte of `word` equal to `byte` is set (bits of later bytes may be too, so use the lowest).
    @inline(__always)
    private static func firstMatch(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ (Self.ones &* UInt64(byte))
        return (x &- Self.ones) & ~x & Self.highBits
    }

    /// Bit 7 set in every byte of `word` that is not an ASCII digit. Exact per byte: no borrow crosses a byte.
    @inline(__always)
    private static func nonDigits(_ word: UInt64) -> UInt64 {
        let low = word & ~Self.highBits
        // (low | 0x80) − 0x30 keeps bit 7 iff low ≥ 0x30; 0xB9 − low keeps it iff low ≤ 0x39.
        let atLeastZero = (low | Self.highBits) &- (Self.ones &* 0x30)
        let atMostNine = (Self.ones &* 0xB9) &- low
        let digits = atLeastZero & atMostNine & ~word & Self.highBits
        return ~digits & Self.highBits
    }

    /// The value of the first `count` (0...8) bytes of `word`, which are ASCII digits, most significant first.
    @inline(__always)
    private static func digitsValue(_ word: UInt64, count: Int) -> UInt64 {
        // Move the digits to the top so the bytes below act as leading zeros, then combine pairs, quads, octets.
        var v = (word << UInt64(64 - 8 * count)) & 0x0F0F_0F0F_0F0F_0F0F
        v = (v &* (10 << 8 + 1)) >> 8 & 0x00FF_00FF_00FF_00FF
        v = (v &* (100 << 16 + 1)) >> 16 & 0x0000_FFFF_0000_FFFF
        return (v &* (10_000 << 32 + 1)) >> 32
    }

    /// Reads the run of digits at `start`; returns its value and where it stops. Runs over 18 digits set `bad`.
    @inline(__always)
    private mutating func digitRun(_ bytes: RawSpan, from start: Int) -> (value: UInt64, stop: Int) {
        if start &+ 8 <= self.end {
            let first = Self.word(bytes, start)
            let stops = Self.nonDigits(first)
            if stops != 0 {
                let n = stops.trailingZeroBitCount >> 3
                return (Self.digitsValue(first, count: n), start + n)
            }
            if start &+ 16 <= self.end {
                let second = Self.word(bytes, start &+ 8)
                let more = Self.nonDigits(second)
                if more != 0 {
                    let n = more.trailingZeroBitCount >> 3
                    let high = Self.digitsValue(first, count: 8) &* Self.powersOf10[n]
                    return (high &+ Self.digitsValue(second, count: n), start &+ 8 &+ n)
                }
            }
        }
        let (value, stop) = Self.digitRunByBytes(bytes, from: start, end: self.end)
        self.bad = self.bad || stop - start > 18
        return (value, stop)
    }

    @inline(never)
    private static func digitRunByBytes(_ bytes: RawSpan, from start: Int, end: Int) -> (value: UInt64, stop: Int) {
        var i = start
        var value: UInt64 = 0
        // Safe because: i < end <= bytes.byteCount.
        while i < end {
            let digit = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) &- UInt8(ascii: "0")
            if digit > 9 { break }
            value = value &* 10 &+ UInt64(digit)
            i += 1
        }
        return (value, i)
    }

    @inline(__always)
    private func byte(_ bytes: RawSpan, at i: Int) -> UInt8? {
        // Safe because: i < end <= bytes.byteCount.
        i < self.end ? unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) : nil
    }

    /// Consumes the separator that must follow a field, or the end of the payload. Anything else marks the
    /// record bad and resynchronises on the next separator, so the frame's later records still line up.
    @inline(__always)
    private mutating func finishField(_ bytes: RawSpan, at i: Int) {
        guard let separator = self.byte(bytes, at: i) else {
            self.position = i
            return
        }
        if separator == Self.caret {
            self.position = i + 1
        } else {
            self.bad = true
            self.position = i
            self.skipOne(bytes)
        }
    }

    // MARK: Field readers

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
            // Widen first: sixteen lanes of up to 255 overflow a byte.
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

    /// Skips one field whatever it holds.
    @inline(__always)
    private mutating func skipOne(_ bytes: RawSpan) {
        var i = self.position
        while i &+ 8 <= self.end {
            let match = Self.firstMatch(Self.word(bytes, i), Self.caret)
            if match != 0 {
                self.position = i &+ match.trailingZeroBitCount >> 3 &+ 1
                return
            }
            i &+= 8
        }
        while let byte = self.byte(bytes, at: i), byte != Self.caret {
            i += 1
        }
        self.position = min(i + 1, self.end)
    }

    /// Skips `count` fields.
    @inline(__always)
    mutating func skip(_ bytes: RawSpan, count: Int) {
        for _ in 0..<count { self.skipOne(bytes) }
    }

    /// Decimal digits only, at most 18 of them.
    @inline(__always)
    mutating func unsigned(_ bytes: RawSpan) -> Int64 {
        if let value = self.shortField(bytes, signed: false) { return value }
        let (scanner, value) = Self.unsignedSlow(self, bytes)
        self = scanner
        return value
    }

    /// An optionally signed decimal integer.
    @inline(__always)
    mutating func signed(_ bytes: RawSpan) -> Int64 {
        if let value = self.shortField(bytes, signed: true) { return value }
        let (scanner, value) = Self.signedSlow(self, bytes)
        self = scanner
        return value
    }

    /// Decimal digits only, as a non-negative `Int32`.
    @inline(__always)
    mutating func uint32(_ bytes: RawSpan) -> Int32 {
        Self.narrow(self.unsigned(bytes), &self.bad)
    }

    /// A signed integer that must fit `Int32`.
    @inline(__always)
    mutating func int32(_ bytes: RawSpan) -> Int32 {
        Self.narrow(self.signed(bytes), &self.bad)
    }

    /// The common cases, a word or two at a time: up to fifteen digits (six after a `-`) and the `^` after them.
    /// Anything else (longer numbers, `+`, the last bytes of the payload, malformed text) returns nil for the
    /// general path, which gives the same results for every input.
    @inline(__always)
    private mutating func shortField(_ bytes: RawSpan, signed: Bool) -> Int64? {
        let start = self.position
        guard start &+ 8 <= self.end else { return nil }
        var word = Self.word(bytes, start)
        var skipped = 0
        if signed && UInt8(truncatingIfNeeded: word) == UInt8(ascii: "-") {
            // The byte shifted in at the top is 0, a non-digit, so the stop below is always found.
            word >>= 8
            skipped = 1
        }
        let stops = Self.nonDigits(word)
        guard stops != 0 else { return self.longField(bytes, first: word) }
        let n = stops.trailingZeroBitCount >> 3
        guard UInt8(truncatingIfNeeded: word >> UInt64(8 * n)) == Self.caret, n > 0 || skipped == 0 else { return nil }
        self.position = start &+ skipped &+ n &+ 1
        let value = Int64(bitPattern: Self.digitsValue(word, count: n))
        return skipped == 0 ? value : 0 &- value
    }

    /// Eight digits in `first`, then up to seven more and the `^` in the next word (cumulative volume and value,
    /// dates).
    @inline(__always)
    private mutating func longField(_ bytes: RawSpan, first: UInt64) -> Int64? {
        let start = self.position
        guard start &+ 16 <= self.end else { return nil }
        let second = Self.word(bytes, start &+ 8)
        let stops = Self.nonDigits(second)
        guard stops != 0 else { return nil }
        let n = stops.trailingZeroBitCount >> 3
        guard UInt8(truncatingIfNeeded: second >> UInt64(8 * n)) == Self.caret else { return nil }
        self.position = start &+ 8 &+ n &+ 1
        let high = Self.digitsValue(first, count: 8) &* Self.powersOf10[n]
        return Int64(bitPattern: high &+ Self.digitsValue(second, count: n))
    }

    // The general paths take and return the scanner by value rather than `inout`: a scanner whose address never
    // escapes stays in registers across the whole record.

    @inline(never)
    private static func unsignedSlow(_ scanner: FieldScanner, _ bytes: RawSpan) -> (FieldScanner, Int64) {
        var scanner = scanner
        let (value, stop) = scanner.digitRun(bytes, from: scanner.position)
        scanner.finishField(bytes, at: stop)
        return (scanner, Int64(bitPattern: value))
    }

    @inline(never)
    private static func signedSlow(_ scanner: FieldScanner, _ bytes: RawSpan) -> (FieldScanner, Int64) {
        var scanner = scanner
        let negative = scanner.consumeSign(bytes)
        let (next, magnitude) = Self.unsignedSlow(scanner, bytes)
        // Wrapping: nineteen digits can reach Int64.min, which has no negation; the digit count marks them bad anyway.
        return (next, negative ? 0 &- magnitude : magnitude)
    }

    /// Consumes a leading `-` or `+`, which must be followed by a digit; returns whether it was `-`.
    @inline(__always)
    private mutating func consumeSign(_ bytes: RawSpan) -> Bool {
        guard let first = self.byte(bytes, at: self.position), first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
        else { return false }
        self.position += 1
        let next = self.byte(bytes, at: self.position) ?? 0
        self.bad = self.bad || next &- UInt8(ascii: "0") > 9
        return first == UInt8(ascii: "-")
    }

    /// A signed decimal with up to two fraction digits, as hundredths (`"-4.5"` → -450). Further fraction digits
    /// are dropped, truncating toward zero.
    @inline(__always)
    mutating func hundredths(_ bytes: RawSpan) -> Int64 {
        let negative = self.consumeSign(bytes)
        let start = self.position
        var (whole, stop) = self.digitRun(bytes, from: start)
        var fraction: UInt64 = 0
        if self.byte(bytes, at: stop) == Self.dot {
            let (digits, fractionStop) = self.digitRun(bytes, from: stop + 1)
            let count = fractionStop - stop - 1
            switch count {
            case 0: self.bad = true
            case 1: fraction = digits &* 10
            case 2: fraction = digits
            default: fraction = digits / Self.powersOf10[min(count - 2, 8)]
            }
            self.bad = self.bad || count > 10
            stop = fractionStop
        }
        self.bad = self.bad || stop - start > 16 || (negative && stop == start)
        whole = whole &* 100 &+ fraction
        self.finishField(bytes, at: stop)
        let value = Int64(bitPattern: whole)
        return negative ? 0 &- value : value
    }

    /// Hundredths that must fit `Int32`.
    @inline(__always)
    mutating func hundredths32(_ bytes: RawSpan) -> Int32 {
        Self.narrow(self.hundredths(bytes), &self.bad)
    }

    /// A one-digit code (`"5"`) or a zero-padded two-digit code (`"02"`), as its value; empty is 0.
    @inline(__always)
    mutating func code(_ bytes: RawSpan) -> UInt8 {
        let start = self.position
        let (value, stop) = self.digitRun(bytes, from: start)
        self.bad = self.bad || stop - start > 2
        self.finishField(bytes, at: stop)
        return UInt8(truncatingIfNeeded: value)
    }

    /// Up to `maxLength` (at most 8) ASCII bytes packed little-endian (codes, TR ids, session classes).
    @inline(__always)
    mutating func packed(_ bytes: RawSpan, maxLength: Int) -> UInt64 {
        let start = self.position
        if start &+ 8 <= self.end {
            let word = Self.word(bytes, start)
            let match = Self.firstMatch(word, Self.caret)
            if match != 0 {
                let n = match.trailingZeroBitCount >> 3
                self.bad = self.bad || n > maxLength
                self.position = start &+ n &+ 1
                // n < 8 here, so the shift is in range.
                return word & ((1 << UInt64(8 * n)) &- 1)
            }
        }
        let (scanner, value) = Self.packedByBytes(self, bytes, maxLength: maxLength)
        self = scanner
        return value
    }

    @inline(never)
    private static func packedByBytes(
        _ scanner: FieldScanner,
        _ bytes: RawSpan,
        maxLength: Int
    ) -> (FieldScanner, UInt64) {
        var scanner = scanner
        var i = scanner.position
        var value: UInt64 = 0
        while let byte = scanner.byte(bytes, at: i), byte != Self.caret {
            if i - scanner.position < 8 { value |= UInt64(byte) << UInt64(8 * (i - scanner.position)) }
            i += 1
        }
        scanner.bad = scanner.bad || i - scanner.position > maxLength
        scanner.finishField(bytes, at: i)
        return (scanner, value)
    }

    /// `Y`/`N` (or `1`/`0`); empty is false.
    @inline(__always)
    mutating func flag(_ bytes: RawSpan) -> Bool {
        let value = self.packed(bytes, maxLength: 1)
        let yes = value == UInt64(UInt8(ascii: "Y")) || value == UInt64(UInt8(ascii: "1"))
        let no = value == 0 || value == UInt64(UInt8(ascii: "N")) || value == UInt64(UInt8(ascii: "0"))
        self.bad = self.bad || !(yes || no)
        return yes
    }

    @inline(__always)
    static func narrow(_ value: Int64, _ bad: inout Bool) -> Int32 {
        bad = bad || value != Int64(Int32(truncatingIfNeeded: value))
        return Int32(truncatingIfNeeded: value)
    }
}
