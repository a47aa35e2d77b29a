/// What the record decoders read fields through: the fast `FieldScanner`, or a `DiagnosingReader` that also notes
/// which field went bad. Decoders are generic over it, so the fast path carries no bookkeeping at all and the
/// slow path, run only on a record already known to be malformed, reuses the very same decoder.
protocol RecordReader {
    mutating func skip(_ bytes: RawSpan, count: Int)
    mutating func unsigned(_ bytes: RawSpan) -> Int64
    mutating func int32(_ bytes: RawSpan) -> Int32
    mutating func uint32(_ bytes: RawSpan) -> Int32
    mutating func hundredths32(_ bytes: RawSpan) -> Int32
    mutating func code(_ bytes: RawSpan) -> UInt8
    mutating func packed(_ bytes: RawSpan, maxLength: Int) -> UInt64
    mutating func flag(_ bytes: RawSpan) -> Bool
    /// Marks the record bad unless `condition` holds; `field` is the index the condition is about.
    mutating func require(_ condition: Bool, field: Int)
}

extension RecordReader {
    @inline(__always)
    mutating func skip(_ bytes: RawSpan) { self.skip(bytes, count: 1) }

    @inline(__always)
    mutating func packed(_ bytes: RawSpan) -> UInt64 { self.packed(bytes, maxLength: 8) }
}

extension FieldScanner: RecordReader {
    @inline(__always)
    mutating func require(_ condition: Bool, field: Int) {
        self.bad = self.bad || !condition
    }
}

/// Replays a bad record to name its first bad field.
struct DiagnosingReader: RecordReader {
    private var scanner: FieldScanner
    private var index = 0
    private(set) var firstBadField: Int?

    init(_ bytes: RawSpan, start: Int, end: Int) {
        self.scanner = FieldScanner(bytes, start: start, end: end)
    }

    private mutating func didRead<T>(_ value: T, fields count: Int = 1) -> T {
        if self.scanner.bad && self.firstBadField == nil { self.firstBadField = self.index }
        self.index += count
        return value
    }

    mutating func skip(_ bytes: RawSpan, count: Int) { self.didRead(self.scanner.skip(bytes, count: count), fields: count) }
    mutating func unsigned(_ bytes: RawSpan) -> Int64 { self.didRead(self.scanner.unsigned(bytes)) }
    mutating func int32(_ bytes: RawSpan) -> Int32 { self.didRead(self.scanner.int32(bytes)) }
    mutating func uint32(_ bytes: RawSpan) -> Int32 { self.didRead(self.scanner.uint32(bytes)) }
    mutating func hundredths32(_ bytes: RawSpan) -> Int32 { self.didRead(self.scanner.hundredths32(bytes)) }
    mutating func code(_ bytes: RawSpan) -> UInt8 { self.didRead(self.scanner.code(bytes)) }
    mutating func packed(_ bytes: RawSpan, maxLength: Int) -> UInt64 {
        self.didRead(self.scanner.packed(bytes, maxLength: maxLength))
    }
    mutating func flag(_ bytes: RawSpan) -> Bool { self.didRead(self.scanner.flag(bytes)) }

    mutating func require(_ condition: Bool, field: Int) {
        if !condition && self.firstBadField == nil { self.firstBadField = field }
    }
}
