/// What the record decoders read fields through: the fast `FieldScanner`, or a `DiagnosingReader` that also notes
/// which field went bad. Decoders are generic over it, so the fast path carries no bookkeeping at all and the
/// slow path, run only on a record already known to be malformed, reuses the very same decoder.
protocol RecordReader {
    var scanner: FieldScanner { get set }
    /// Called after every `count` fields consumed.
    mutating func didRead(fields count: Int)
    /// Marks the record bad unless `condition` holds; `field` is the index the condition is about.
    mutating func require(_ condition: Bool, field: Int)
}

extension FieldScanner: RecordReader {
    var scanner: FieldScanner {
        get { self }
        set { self = newValue }
    }

    @inline(__always)
    mutating func didRead(fields count: Int) {}

    @inline(__always)
    mutating func require(_ condition: Bool, field: Int) {
        self.bad = self.bad || !condition
    }
}

/// Replays a bad record to name its first bad field.
struct DiagnosingReader: RecordReader {
    var scanner: FieldScanner
    private var index = 0
    private(set) var firstBadField: Int?

    init(start: Int, end: Int) {
        self.scanner = FieldScanner(start: start, end: end)
    }

    mutating func didRead(fields count: Int) {
        if self.scanner.bad && self.firstBadField == nil { self.firstBadField = self.index }
        self.index += count
    }

    mutating func require(_ condition: Bool, field: Int) {
        if !condition && self.firstBadField == nil { self.firstBadField = field }
    }
}

extension RecordReader {
    @inline(__always)
    mutating func skip(_ bytes: RawSpan, count: Int = 1) {
        self.scanner.skip(bytes, count: count)
        self.didRead(fields: count)
    }

    @inline(__always)
    mutating func unsigned(_ bytes: RawSpan) -> Int64 {
        let value = self.scanner.unsigned(bytes)
        self.didRead(fields: 1)
        return value
    }

    @inline(__always)
    mutating func int32(_ bytes: RawSpan) -> Int32 {
        let value = self.scanner.int32(bytes)
        self.didRead(fields: 1)
        return value
    }

    @inline(__always)
    mutating func hundredths32(_ bytes: RawSpan) -> Int32 {
        let value = self.scanner.hundredths32(bytes)
        self.didRead(fields: 1)
        return value
    }

    @inline(__always)
    mutating func code(_ bytes: RawSpan) -> UInt8 {
        let value = self.scanner.code(bytes)
        self.didRead(fields: 1)
        return value
    }

    @inline(__always)
    mutating func packed(_ bytes: RawSpan, maxLength: Int = 8) -> UInt64 {
        let value = self.scanner.packed(bytes, maxLength: maxLength)
        self.didRead(fields: 1)
        return value
    }

    @inline(__always)
    mutating func flag(_ bytes: RawSpan) -> Bool {
        let value = self.scanner.flag(bytes)
        self.didRead(fields: 1)
        return value
    }
}
