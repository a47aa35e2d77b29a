import CByteScan

/// Reads `^`-separated KIS fields left to right without splitting or copying.
///
/// Field boundaries come from a bitmap of the payload's `^` bytes, made 64 bytes at a time with SIMD compares:
/// the next separator is a `tzcnt` of the current bitmap word, so finding where a field ends never waits on
/// reading the field before it, and the loads of successive fields can overlap. Numbers are then read eight
/// bytes at a time (SWAR): a mask checks that every byte is a digit and three multiplies combine them.
///
///     payload   0 5 9 3 0 ^ 1 1 4 8 2 7 ^ 3 1 4 0 0 0 ^ 5 ^ - 1 5 0 0 0 ^ …
///     carets    0 0 0 0 0 1 0 0 0 0 0 0 1 0 0 0 0 0 0 1 0 1 0 0 0 0 0 0 1 …   (bit i ↔ byte block + i)
///
/// Every reader consumes exactly one field: up to the next separator, or to the end of the payload for its last
/// field. Malformed text never traps: it sets `bad`, which the record decoder checks once per record.
///
/// Empty numeric fields read as 0: KIS sends empty values where nothing applies (MRKT_TRTM_CLS_CODE, for one).
/// Offsets use wrapping arithmetic: they are bounded by the payload's length, so overflow traps would only cost.
struct FieldScanner {
    /// Offset of the next field.
    var position: Int
    /// One past the last byte of the payload.
    let end: Int
    /// Set by any reader that met a malformed field.
    var bad = false
    /// Start of the 64-byte block `carets` describes.
    private var block: Int
    /// Separators at or after `position` in that block, bit i for byte `block + i`.
    private var carets: UInt64

    static let caret = UInt8(ascii: "^")
    static let dot = UInt8(ascii: ".")

    init(_ bytes: RawSpan, start: Int, end: Int) {
        precondition(start >= 0 && start <= end && end <= bytes.byteCount)
        self.position = start
        self.end = end
        self.block = start
        self.carets = Self.carets(bytes, block: start, end: end)
    }

    // MARK: Separators

    /// The separator bitmap of `bytes[block..<min(block + 64, end)]`.
    @inline(__always)
    private static func carets(_ bytes: RawSpan, block: Int, end: Int) -> UInt64 {
        if block &+ 64 <= end {
            return Self.match64(bytes, block)
        }
        if end >= 64 {
            // The last, partial block: the 64 bytes ending at `end` (the frame header and earlier fields lie before
            // it, all inside the message), shifted so that bit 0 is `block` again.
            return Self.match64(bytes, end &- 64) &>> UInt64(64 &- (end &- block))
        }
        return Self.caretsByBytes(bytes, block: block, end: end)
    }

    @inline(__always)
    private static func match64(_ bytes: RawSpan, _ offset: Int) -> UInt64 {
        // Safe because: callers check 0 <= offset and offset + 64 <= end <= bytes.byteCount.
        unsafe bytes.withUnsafeBytes { raw in
            unsafe kistick_match64((raw.baseAddress! + offset).assumingMemoryBound(to: UInt8.self), Self.caret)
        }
    }

    /// A message shorter than one block.
    @inline(never)
    private static func caretsByBytes(_ bytes: RawSpan, block: Int, end: Int) -> UInt64 {
        var mask: UInt64 = 0
        var i = block
        // Safe because: i < end <= bytes.byteCount.
        while i < end {
            let byte = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self)
            mask |= (byte == Self.caret ? 1 : 0) << UInt64(i &- block)
            i &+= 1
        }
        return mask
    }

    /// Counts the fields of `bytes[start..<end]`: separators plus one.
    ///
    /// - Complexity: O(n), 64 bytes per step.
    static func countFields(_ bytes: RawSpan, start: Int, end: Int) -> Int {
        precondition(start >= 0 && start <= end && end <= bytes.byteCount)
        var separators = 0
        var block = start
        while block < end {
            separators &+= Self.carets(bytes, block: block, end: end).nonzeroBitCount
            block &+= 64
        }
        return separators &+ 1
    }

    /// Ends the current field: returns where it stops (its separator, or the payload's end) and moves past it.
    @inline(__always)
    private mutating func nextStop(_ bytes: RawSpan) -> Int {
        while self.carets == 0 {
            self.block &+= 64
            guard self.block < self.end else {
                // The last field of the payload runs to its end.
                self.position = self.end
                return self.end
            }
            self.carets = Self.carets(bytes, block: self.block, end: self.end)
        }
        let stop = self.block &+ self.carets.trailingZeroBitCount
        self.carets &= self.carets &- 1
        self.position = stop &+ 1
        return stop
    }

    // MARK: Word-at-a-time digits

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080
    private static let powersOf10: [9 of UInt64] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]

    /// Eight bytes at `offset`, the first in the low byte.
    @inline(__always)
    private static func word(_ bytes: RawSpan, _ offset: Int) -> UInt64 {
        // Safe because: every caller checks offset + 8 <= end <= bytes.byteCount.
        UInt64(littleEndian: unsafe bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: offset, as: UInt64.self))
    }

    /// Bit 7 set in every byte of `word` that is not an ASCII digit. Exact per byte: no borrow crosses a byte.
    @inline(__always)
    private static func nonDigits(_ word: UInt64) -> UInt64 {
        let low = word & ~Self.highBits
        // (low | 0x80) − 0x30 keeps bit 7 iff low ≥ 0x30; 0xB9 − low keeps it iff low ≤ 0x39.
        let atLeastZero = (low | Self.highBits) &- (Self.ones &* 0x30)
        let atMostNine = (Self.ones &* 0xB9) &- low
        return ~(atLeastZero & atMostNine & ~word) & Self.highBits
    }

    /// The low `count` (1...8) bytes set.
    @inline(__always)
    private static func lowBytes(_ count: Int) -> UInt64 {
        UInt64.max &>> UInt64(64 &- 8 &* count)
    }

    /// Bit 7 of the first byte of `word` equal to `byte` is set (bits of later bytes may be too: use the lowest).
    @inline(__always)
    private static func firstMatch(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ (Self.ones &* UInt64(byte))
        return (x &- Self.ones) & ~x & Self.highBits
    }

    /// The value of the first `count` (1...8) bytes of `word`, ASCII digits, most significant first.
    @inline(__always)
    private static func digitsValue(_ word: UInt64, count: Int) -> UInt64 {
        // Move the digits to the top so the bytes below act as leading zeros, then combine pairs, quads, octets.
        var v = (word &<< UInt64(64 &- 8 &* count)) & 0x0F0F_0F0F_0F0F_0F0F
        v = (v &* (10 << 8 + 1)) >> 8 & 0x00FF_00FF_00FF_00FF
        v = (v &* (100 << 16 + 1)) >> 16 & 0x0000_FFFF_0000_FFFF
        return (v &* (10_000 << 32 + 1)) >> 32
    }

    /// The value of the decimal digits `bytes[start..<stop]`; anything else, or more than 18 digits, sets `bad`.
    @inline(__always)
    private mutating func digits(_ bytes: RawSpan, from start: Int, to stop: Int) -> UInt64 {
        let count = stop &- start
        if count == 0 { return 0 }
        if count <= 8 && start &+ 8 <= self.end {
            let word = Self.word(bytes, start)
            self.bad = self.bad || Self.nonDigits(word) & Self.lowBytes(count) != 0
            return Self.digitsValue(word, count: count)
        }
        if count <= 16 && start &+ 16 <= self.end {
            let high = Self.word(bytes, start)
            let low = Self.word(bytes, start &+ 8)
            let rest = count &- 8
            self.bad = self.bad || Self.nonDigits(high) != 0 || Self.nonDigits(low) & Self.lowBytes(rest) != 0
            return Self.digitsValue(high, count: 8) &* Self.powersOf10[rest] &+ Self.digitsValue(low, count: rest)
        }
        let (value, ok) = Self.digitsByBytes(bytes, from: start, to: stop)
        self.bad = self.bad || !ok
        return value
    }

    /// The general case: the payload's last bytes, or runs too long to be valid anyway.
    @inline(never)
    private static func digitsByBytes(_ bytes: RawSpan, from start: Int, to stop: Int) -> (UInt64, Bool) {
        var value: UInt64 = 0
        var ok = stop &- start <= 18
        var i = start
        // Safe because: start <= i < stop <= end <= bytes.byteCount.
        while i < stop {
            let digit = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) &- UInt8(ascii: "0")
            ok = ok && digit <= 9
            value = value &* 10 &+ UInt64(digit)
            i &+= 1
        }
        return (value, ok)
    }

    @inline(__always)
    private func byte(_ bytes: RawSpan, at i: Int) -> UInt8 {
        // Safe because: callers pass i < stop <= end <= bytes.byteCount.
        unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self)
    }

    // MARK: Field readers

    /// Skips `count` fields, whatever they hold.
    @inline(__always)
    mutating func skip(_ bytes: RawSpan, count: Int) {
        for _ in 0..<count { _ = self.nextStop(bytes) }
    }

    /// Decimal digits only, at most 18 of them.
    @inline(__always)
    mutating func unsigned(_ bytes: RawSpan) -> Int64 {
        let start = self.position
        let stop = self.nextStop(bytes)
        return Int64(bitPattern: self.digits(bytes, from: start, to: stop))
    }

    /// An optionally signed decimal integer.
    @inline(__always)
    mutating func signed(_ bytes: RawSpan) -> Int64 {
        var start = self.position
        let stop = self.nextStop(bytes)
        let negative = self.sign(bytes, &start, stop)
        let magnitude = Int64(bitPattern: self.digits(bytes, from: start, to: stop))
        // Wrapping: nineteen digits can reach Int64.min, which has no negation; digits() marked them bad already.
        return negative ? 0 &- magnitude : magnitude
    }

    /// Consumes a leading `-` or `+` of `bytes[start..<stop]`, which must be followed by a digit.
    @inline(__always)
    private mutating func sign(_ bytes: RawSpan, _ start: inout Int, _ stop: Int) -> Bool {
        guard start < stop else { return false }
        let first = self.byte(bytes, at: start)
        guard first == UInt8(ascii: "-") || first == UInt8(ascii: "+") else { return false }
        start &+= 1
        self.bad = self.bad || start == stop
        return first == UInt8(ascii: "-")
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

    /// A signed decimal with up to two fraction digits, as hundredths (`"-4.5"` → -450). Further fraction digits
    /// are dropped, truncating toward zero.
    @inline(__always)
    mutating func hundredths(_ bytes: RawSpan) -> Int64 {
        var start = self.position
        let stop = self.nextStop(bytes)
        let negative = self.sign(bytes, &start, stop)
        var dot = start
        if start &+ 8 <= self.end {
            let match = Self.firstMatch(Self.word(bytes, start), Self.dot)
            dot = match != 0 ? min(start &+ match.trailingZeroBitCount >> 3, stop) : min(start &+ 8, stop)
        }
        while dot < stop && self.byte(bytes, at: dot) != Self.dot { dot &+= 1 }
        let whole = self.digits(bytes, from: start, to: dot)
        var fraction: UInt64 = 0
        if dot < stop {
            let count = stop &- dot &- 1
            let kept = self.digits(bytes, from: dot &+ 1, to: dot &+ 1 &+ min(count, 2))
            self.bad = self.bad || count == 0 || count > 10
            // Dropped digits must still be digits.
            if count > 2 { _ = self.digits(bytes, from: dot &+ 3, to: stop) }
            fraction = count == 1 ? kept &* 10 : kept
        }
        self.bad = self.bad || dot &- start > 16
        let value = Int64(bitPattern: whole &* 100 &+ fraction)
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
        let stop = self.nextStop(bytes)
        self.bad = self.bad || stop &- start > 2
        return UInt8(truncatingIfNeeded: self.digits(bytes, from: start, to: min(stop, start &+ 2)))
    }

    /// Up to `maxLength` (at most 8) ASCII bytes packed little-endian (codes, TR ids, session classes).
    @inline(__always)
    mutating func packed(_ bytes: RawSpan, maxLength: Int) -> UInt64 {
        let start = self.position
        let stop = self.nextStop(bytes)
        let count = stop &- start
        self.bad = self.bad || count > maxLength
        if start &+ 8 <= self.end {
            return count == 0 ? 0 : Self.word(bytes, start) & Self.lowBytes(min(count, 8))
        }
        var value: UInt64 = 0
        for i in start..<min(stop, start &+ 8) {
            value |= UInt64(self.byte(bytes, at: i)) << UInt64(8 &* (i &- start))
        }
        return value
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
