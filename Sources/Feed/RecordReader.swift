/// What the record decoders read fields through: the fast `FieldScanner`, or a `DiagnosingReader` that also notes
/// which field went bad. Decoders are generic over it, so the fast path carries no bookkeeping at all and the
/// slow path, run only on a record already known to be malformed, reuses the very same decoder.
///
/// Every reader takes the field's index in the record, as the layouts document it.
protocol RecordReader {
    mutating func unsigned(_ bytes: RawSpan, _ k: Int) -> Int64
    mutating func int32(_ bytes: RawSpan, _ k: Int) -> Int32
    mutating func uint32(_ bytes: RawSpan, _ k: Int) -> Int32
    mutating func hundredths32(_ bytes: RawSpan, _ k: Int) -> Int32
    mutating func code(_ bytes: RawSpan, _ k: Int) -> UInt8
    mutating func packed(_ bytes: RawSpan, _ k: Int, maxLength: Int) -> UInt64
    mutating func flag(_ bytes: RawSpan, _ k: Int) -> Bool
    /// Marks the record bad unless `condition` holds; `field` is the index the condition is about.
    mutating func require(_ condition: Bool, field: Int)
}

extension RecordReader {
    @inline(__always)
    mutating func packed(_ bytes: RawSpan, _ k: Int) -> UInt64 { self.packed(bytes, k, maxLength: 8) }
}

extension FieldScanner: RecordReader {}

/// Replays a bad record to name its first bad field: the first read, in the decoder's order, that found it bad.
struct DiagnosingReader: RecordReader {
    private var scanner: FieldScanner
    private(set) var firstBadField: Int?

    init(_ scanner: FieldScanner) {
        self.scanner = scanner
        self.scanner.bad = false
    }

    private mutating func didRead<T>(_ value: T, field k: Int) -> T {
        if self.scanner.bad && self.firstBadField == nil { self.firstBadField = k }
        return value
    }

    mutating func unsigned(_ bytes: RawSpan, _ k: Int) -> Int64 {
        self.didRead(self.scanner.unsigned(bytes, k), field: k)
    }
    mutating func int32(_ bytes: RawSpan, _ k: Int) -> Int32 { self.didRead(self.scanner.int32(bytes, k), field: k) }
    mutating func uint32(_ bytes: RawSpan, _ k: Int) -> Int32 { self.didRead(self.scanner.uint32(bytes, k), field: k) }
    mutating func hundredths32(_ bytes: RawSpan, _ k: Int) -> Int32 {
        self.didRead(self.scanner.hundredths32(bytes, k), field: k)
    }
    mutating func code(_ bytes: RawSpan, _ k: Int) -> UInt8 { self.didRead(self.scanner.code(bytes, k), field: k) }
    mutating func packed(_ bytes: RawSpan, _ k: Int, maxLength: Int) -> UInt64 {
        self.didRead(self.scanner.packed(bytes, k, maxLength: maxLength), field: k)
    }
    mutating func flag(_ bytes: RawSpan, _ k: Int) -> Bool { self.didRead(self.scanner.flag(bytes, k), field: k) }

    mutating func require(_ condition: Bool, field: Int) {
        if !condition && self.firstBadField == nil { self.firstBadField = field }
    }
}
