import CByteScan

/// Reads the `^`-separated fields of a KIS payload by index, without splitting or copying.
///
/// A `FieldMap` first lists where every field of the payload ends, in one SIMD pass over it; a record decoder then
/// reads each field it keeps by its documented index. Finding a field is two loads from that list (where the field
/// before it ends, where it ends), never a walk over the fields before it, so no read waits on another and the
/// fields a decoder does not keep cost nothing. Numbers are read eight bytes at a time (SWAR), from the word that
/// *ends* where the field ends: the field's digits are that word's top bytes whatever its length, a mask from a
/// table keeps them, one check finds any byte that is not a digit, and three multiplies combine them.
///
///     payload   0 5 9 3 0 ^ 1 1 4 8 2 7 ^ 3 1 4 0 0 0 ^ 5 ^ - 1 5 0 0 0 ^ …
///     ends      …       [0]           [1]           [2] [3]           [4]   field k: ends[k-1] + 1 ..< ends[k]
///                             └── the eight bytes ending at field 2's end ──┘
///                             7 ^ 3 1 4 0 0 0   ∧ top 6 bytes → 0 0 3 1 4 0 0 0 → 314000
///
/// A word ending at a field's end never runs past the payload, so there is no separate path for the payload's last
/// bytes; it may start before the field, which is why the payload must start at least `lookBehind` bytes into the
/// message (the `0|H0STCNT0|N|` prefix of every frame we decode is at least 13).
///
/// Malformed text never traps: the digit readers gather non-digit bytes in `junk`, the others set `malformed`, and
/// the record decoder checks `bad` once per record.
///
/// Empty numeric fields read as 0: KIS sends empty values where nothing applies (MRKT_TRTM_CLS_CODE, for one).
/// Offsets use wrapping arithmetic: they are bounded by the payload's length, so overflow traps would only cost.
@safe
struct FieldScanner {
    /// `ends[k]` is where field k of the current record ends; `ends[-1]` the separator before its field 0 (or, for
    /// the payload's first record, the byte before the payload).
    private var ends: UnsafePointer<UInt32>
    /// Fields from the current record's first to the payload's last.
    private var available: Int
    /// Bit 7 of a byte is set once a digit reader has met a byte that is not a digit.
    private var junk: UInt64 = 0
    /// Set by a reader whose field is malformed in a way the digit check does not see (too long, a bad flag, …).
    private var malformed = false

    static let caret = UInt8(ascii: "^")
    static let dot = UInt8(ascii: ".")
    /// How far before the payload the readers may load: eight bytes ending at a field's end.
    static let lookBehind = 8

    /// A scanner of the payload `map` mapped last, at its field `first`.
    init(map: borrowing FieldMap, first: Int = 0) {
        precondition(map.start >= Self.lookBehind && first >= 0 && first < map.fields)
        // Safe because: the map holds fields + 1 entries, the first for the byte before the payload.
        unsafe self.ends = UnsafePointer(map.ends + 1 + first)
        self.available = map.fields &- first
    }

    /// Moves to the record that starts `width` fields later.
    @inline(__always)
    mutating func advance(by width: Int) {
        precondition(width <= self.available)
        // Safe because: at most `available` fields lie ahead; the new record's ends[-1] is the old ends[width - 1].
        unsafe self.ends = self.ends + width
        self.available &-= width
    }

    /// Whether any field read since the last reset was malformed. Setting it (to false) starts a new record.
    var bad: Bool {
        get { self.malformed || self.junk & Self.highBits != 0 }
        set {
            self.malformed = newValue
            self.junk = 0
        }
    }

    /// Where field `k` of the current record starts and ends; `k` must be below the record's width, which the
    /// decoder checked is at least the documented field count before reading any record.
    @inline(__always)
    private func field(_ k: Int) -> (start: Int, stop: Int) {
        #if TICK_INTERNAL_CHECKS
        precondition(k >= 0 && k < self.available)
        #endif
        // Safe because: 0 <= k < available, and ends[-1 ..< available] lie inside the map.
        let start = Int(unsafe self.ends[k &- 1]) &+ 1
        let stop = Int(unsafe self.ends[k])
        return (start, stop)
    }

    // MARK: Word-at-a-time digits

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The eight bytes that end at `stop`, the first in the low byte.
    @inline(__always)
    private static func word(_ bytes: RawSpan, endingAt stop: Int) -> UInt64 {
        // Safe because: every field ends at or after the payload's start, which init checked is at least
        // `lookBehind` (8) bytes into `bytes`, and at or before the payload's end <= bytes.byteCount.
        UInt64(littleEndian: unsafe bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: stop &- 8, as: UInt64.self))
    }

    /// The top `count` bytes of a word set; any count is safe, and only 0...8 mean anything.
    @inline(__always)
    private static func highBytes(_ count: Int) -> UInt64 {
        kistick_high_bytes(UInt(truncatingIfNeeded: count))
    }

    /// The value of the `count` (0...8) bytes that end at `stop`, which should be ASCII digits; any other byte
    /// marks `junk`.
    @inline(__always)
    private mutating func digits(_ bytes: RawSpan, endingAt stop: Int, count: Int) -> UInt64 {
        // '0'…'9' are 0x30…0x39: the xor leaves 0…9 there and 10 or more for any other byte, and the mask clears
        // the bytes before the field. A byte of 10…127 gets bit 7 from adding 0x76; one of 128 or more has it
        // already. Adding carries into the next byte only from a byte ≥ 0x8A, which is junk by its own bit 7.
        let d = (Self.word(bytes, endingAt: stop) ^ (Self.ones &* 0x30)) & Self.highBytes(count)
        self.junk |= d | (d &+ Self.ones &* 0x76)
        // Digits most significant first, at the top of the word; the cleared bytes below act as leading zeros.
        // Combine pairs, then quads, then octets.
        var v = (d &* (10 << 8 + 1)) >> 8 & 0x00FF_00FF_00FF_00FF
        v = (v &* (100 << 16 + 1)) >> 16 & 0x0000_FFFF_0000_FFFF
        return (v &* (10_000 << 32 + 1)) >> 32
    }

    /// The value of the `count` decimal digits that end at `stop`: more than eight take two or three words; more
    /// than `limit` (at most 24) are malformed.
    @inline(__always)
    private mutating func number(_ bytes: RawSpan, endingAt stop: Int, count: Int, limit: Int) -> UInt64 {
        // Unsigned, so the compiler knows 0 <= count <= 8 on this side and drops the table index's range mask.
        if UInt(bitPattern: count) <= 8 { return self.digits(bytes, endingAt: stop, count: count) }
        self.malformed = self.malformed || count > limit
        let low = self.digits(bytes, endingAt: stop, count: 8)
        if count <= 16 {
            return self.digits(bytes, endingAt: stop &- 8, count: count &- 8) &* 100_000_000 &+ low
        }
        let middle = self.digits(bytes, endingAt: stop &- 8, count: 8)
        // Wrapping: more than 18 digits can exceed UInt64, and they are malformed already.
        let high = self.digits(bytes, endingAt: stop &- 16, count: min(count &- 16, 8))
        return (high &* 100_000_000 &+ middle) &* 100_000_000 &+ low
    }

    @inline(__always)
    private func byte(_ bytes: RawSpan, at i: Int) -> UInt8 {
        // Safe because: callers pass an offset inside the payload or the byte just before it.
        unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self)
    }

    // MARK: Field readers

    /// Decimal digits only, at most 18 of them.
    @inline(__always)
    mutating func unsigned(_ bytes: RawSpan, _ k: Int) -> Int64 {
        let (start, stop) = self.field(k)
        return Int64(bitPattern: self.number(bytes, endingAt: stop, count: stop &- start, limit: 18))
    }

    /// An optionally signed decimal integer.
    @inline(__always)
    mutating func signed(_ bytes: RawSpan, _ k: Int) -> Int64 {
        var (start, stop) = self.field(k)
        let negative = self.sign(bytes, &start, stop)
        let magnitude = Int64(bitPattern: self.number(bytes, endingAt: stop, count: stop &- start, limit: 18))
        // Wrapping: nineteen digits can reach Int64.min, which has no negation; number() marked them bad already.
        return negative ? 0 &- magnitude : magnitude
    }

    /// Consumes a leading `-` or `+` of `bytes[start..<stop]`, which must be followed by a digit.
    @inline(__always)
    private mutating func sign(_ bytes: RawSpan, _ start: inout Int, _ stop: Int) -> Bool {
        // An empty field reads the separator before it (or the byte before the payload) instead, which is no sign.
        let first = self.byte(bytes, at: min(start, stop &- 1))
        let signed = first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
        start &+= signed ? 1 : 0
        self.malformed = self.malformed || (signed && start == stop)
        return first == UInt8(ascii: "-")
    }

    /// Decimal digits only, as a non-negative `Int32`.
    @inline(__always)
    mutating func uint32(_ bytes: RawSpan, _ k: Int) -> Int32 {
        let (start, stop) = self.field(k)
        let count = stop &- start
        // Eight digits always fit; longer fields take the general path and its range check.
        if UInt(bitPattern: count) <= 8 {
            return Int32(truncatingIfNeeded: self.digits(bytes, endingAt: stop, count: count))
        }
        let value = Int64(bitPattern: self.number(bytes, endingAt: stop, count: count, limit: 18))
        return Self.narrow(value, &self.malformed)
    }

    /// A signed integer that must fit `Int32`.
    @inline(__always)
    mutating func int32(_ bytes: RawSpan, _ k: Int) -> Int32 {
        Self.narrow(self.signed(bytes, k), &self.malformed)
    }

    /// A signed decimal with up to two fraction digits, as hundredths (`"-4.5"` → -450). Further fraction digits
    /// are dropped, truncating toward zero.
    @inline(__always)
    mutating func hundredths(_ bytes: RawSpan, _ k: Int) -> Int64 {
        var (start, stop) = self.field(k)
        let negative = self.sign(bytes, &start, stop)
        // KIS prints two decimals: then the dot is the third byte from the end, and the digits either side of it
        // are read as two numbers ending at known places. Any other shape takes the general path.
        let dot = stop &- 3
        let magnitude: UInt64
        if dot >= start && self.byte(bytes, at: dot) == Self.dot {
            let whole = self.number(bytes, endingAt: dot, count: dot &- start, limit: 16)
            magnitude = whole &* 100 &+ self.digits(bytes, endingAt: stop, count: 2)
        } else {
            let (value, ok) = Self.hundredthsByBytes(bytes, from: start, to: stop)
            self.malformed = self.malformed || !ok
            magnitude = value
        }
        let value = Int64(bitPattern: magnitude)
        return negative ? 0 &- value : value
    }

    /// Unsigned hundredths of any other shape: no dot, or one to ten fraction digits; at most 16 whole digits.
    @inline(never)
    private static func hundredthsByBytes(_ bytes: RawSpan, from start: Int, to stop: Int) -> (UInt64, Bool) {
        var whole: UInt64 = 0
        var fraction: UInt64 = 0
        var wholeDigits = 0
        var fractionDigits = 0
        var dots = 0
        var ok = true
        var i = start
        // Safe because: start <= i < stop <= the payload's end <= bytes.byteCount.
        while i < stop {
            let byte = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self)
            let digit = byte &- UInt8(ascii: "0")
            if byte == Self.dot {
                dots &+= 1
            } else if digit > 9 {
                ok = false
            } else if dots == 0 {
                whole = whole &* 10 &+ UInt64(digit)
                wholeDigits &+= 1
            } else {
                if fractionDigits < 2 { fraction = fraction &* 10 &+ UInt64(digit) }
                fractionDigits &+= 1
            }
            i &+= 1
        }
        ok = ok && dots <= 1 && wholeDigits <= 16 && (dots == 0 || (1...10).contains(fractionDigits))
        if fractionDigits == 1 { fraction &*= 10 }
        return (whole &* 100 &+ fraction, ok)
    }

    /// Hundredths that must fit `Int32`.
    @inline(__always)
    mutating func hundredths32(_ bytes: RawSpan, _ k: Int) -> Int32 {
        Self.narrow(self.hundredths(bytes, k), &self.malformed)
    }

    /// A one-digit code (`"5"`) or a zero-padded two-digit code (`"02"`), as its value; empty is 0.
    @inline(__always)
    mutating func code(_ bytes: RawSpan, _ k: Int) -> UInt8 {
        let (start, stop) = self.field(k)
        let count = stop &- start
        self.malformed = self.malformed || count > 2
        return UInt8(truncatingIfNeeded: self.digits(bytes, endingAt: stop, count: min(count, 2)))
    }

    /// Up to `maxLength` (at most 8) ASCII bytes packed little-endian (codes, TR ids, session classes).
    @inline(__always)
    mutating func packed(_ bytes: RawSpan, _ k: Int, maxLength: Int) -> UInt64 {
        let (start, stop) = self.field(k)
        let count = stop &- start
        self.malformed = self.malformed || count > maxLength
        // The field's bytes are the word's top `count`; moved down, the first lands in the low byte. An empty field
        // masks to 0 before the (then meaningless) shift.
        let kept = min(count, 8)
        let shift = UInt64(truncatingIfNeeded: 8 &* (8 &- kept))
        return (Self.word(bytes, endingAt: start &+ kept) & Self.highBytes(kept)) &>> shift
    }

    /// `Y`/`N` (or `1`/`0`); empty is false.
    @inline(__always)
    mutating func flag(_ bytes: RawSpan, _ k: Int) -> Bool {
        let value = self.packed(bytes, k, maxLength: 1)
        let yes = value == UInt64(UInt8(ascii: "Y")) || value == UInt64(UInt8(ascii: "1"))
        let no = value == 0 || value == UInt64(UInt8(ascii: "N")) || value == UInt64(UInt8(ascii: "0"))
        self.malformed = self.malformed || !(yes || no)
        return yes
    }

    /// Marks the record malformed unless `condition` holds (the field index is for `DiagnosingReader`).
    @inline(__always)
    mutating func require(_ condition: Bool, field: Int) {
        self.malformed = self.malformed || !condition
    }

    @inline(__always)
    static func narrow(_ value: Int64, _ bad: inout Bool) -> Int32 {
        bad = bad || value != Int64(Int32(truncatingIfNeeded: value))
        return Int32(truncatingIfNeeded: value)
    }
}

/// Where every field of one payload ends: entry 0 is the byte before the payload, entry k + 1 the separator after
/// field k, and the last entry the payload's end, so field k is `ends[k] + 1 ..< ends[k + 1]`.
///
/// One SIMD pass per message finds the separators (`kistick_split`), which also counts the fields. A decoder owns
/// one and reuses it for every message; it allocates again only for a payload longer than any before it.
@safe
struct FieldMap: ~Copyable {
    /// `fields + 1` entries for the payload mapped last.
    fileprivate private(set) var ends: UnsafeMutablePointer<UInt32>
    /// Entries `ends` has room for.
    private var capacity: Int
    /// How many fields the payload mapped last holds: separators plus one.
    private(set) var fields = 0
    /// Where the payload mapped last starts.
    private(set) var start = 0

    init(payloadBytes: Int = 1 << 14) {
        self.capacity = max(2, payloadBytes &+ 2 &+ Int(KISTICK_SPLIT_SLACK))
        unsafe self.ends = .allocate(capacity: self.capacity)
    }

    deinit {
        unsafe self.ends.deallocate()
    }

    /// Maps `bytes[start..<end]` and returns how many fields it holds.
    ///
    /// - Complexity: O(n), 64 bytes per compare step, and one step per separator.
    mutating func map(_ bytes: RawSpan, start: Int, end: Int) -> Int {
        // Entry 0 is start - 1, so start is at least 1 (a data frame's payload follows at least `0|X|1|`).
        precondition(start >= 1 && start <= end && end <= bytes.byteCount)
        precondition(end < Int(UInt32.max), "a payload's offsets are kept in 32 bits")
        // A separator per byte at most, plus the entries before and after them, plus the entries kistick_split may
        // write past its last.
        let needed = end &- start &+ 2 &+ Int(KISTICK_SPLIT_SLACK)
        if needed > self.capacity {
            unsafe self.ends.deallocate()
            self.capacity = max(needed, 2 &* self.capacity)
            unsafe self.ends = .allocate(capacity: self.capacity)
        }
        // Safe because: capacity >= 2 entries, and kistick_split writes at most end - start + KISTICK_SPLIT_SLACK,
        // after the first.
        unsafe self.ends[0] = UInt32(truncatingIfNeeded: start &- 1)
        var separators = 0
        if start < end {
            // Safe because: bytes[start..<end] lies inside bytes (checked above).
            separators = unsafe bytes.withUnsafeBytes { raw in
                unsafe kistick_split(
                    (raw.baseAddress! + start).assumingMemoryBound(to: UInt8.self),
                    end &- start,
                    FieldScanner.caret,
                    UInt32(truncatingIfNeeded: start),
                    self.ends + 1
                )
            }
        }
        // Safe because: separators <= end - start, so entry separators + 1 < needed <= capacity.
        unsafe self.ends[separators &+ 1] = UInt32(truncatingIfNeeded: end)
        self.fields = separators &+ 1
        self.start = start
        return self.fields
    }
}
