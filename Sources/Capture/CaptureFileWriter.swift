/// Writes a capture on the caller's thread, record by record, dropping none: for imports and tools, where nothing
/// is latency-critical. The files are `CaptureWriter`'s (the same blocks, compression, index and rotation), and an
/// existing file is an error unless `replacing` is set.
@safe
public final class CaptureFileWriter {
    /// The first file's path; the rotated ones are `CaptureRotation.path(of:part:)`.
    public let path: String
    private let sink: FileSink
    private let control = WriterControl()
    private let maxMessageBytes: Int
    private var messages = 0
    private var rawBytes = 0

    /// Creates the first file and writes its header.
    ///
    /// - Throws: `CaptureError`: `.exists` for a file already there (unless `replacing`), or when it cannot be
    ///   created or written.
    public init(
        path: String,
        header: CaptureHeader,
        rotation: CaptureRotation = .init(),
        options: CaptureWriter.Options = .init(),
        replacing: Bool = false
    ) throws(CaptureError) {
        self.path = path
        self.maxMessageBytes = options.maxMessageBytes
        self.sink = try FileSink(
            path: path,
            header: header,
            rotation: rotation,
            options: options,
            control: self.control,
            replacing: replacing
        )
    }

    /// Adds one record.
    ///
    /// - Throws: `.messageTooLong` for bytes longer than the options' `maxMessageBytes`, or the first error writing
    ///   met (a full disk); nothing is written after one.
    public func append(_ kind: CaptureRecordKind, localNs: Int64, bytes: UnsafeRawBufferPointer) throws(CaptureError) {
        guard bytes.count <= self.maxMessageBytes else {
            throw CaptureError(path: self.path, reason: .messageTooLong(bytes.count, limit: self.maxMessageBytes))
        }
        unsafe self.sink.add(kind, localNs: localNs, bytes: bytes)
        if let error = self.control.error.withLock({ $0 }) {
            throw error
        }
        self.messages += 1
        self.rawBytes += bytes.count
    }

    /// Writes the last block and the index, and closes the file. Call once, after the last `append`.
    ///
    /// - Returns: what was written.
    /// - Throws: the first `CaptureError` writing met.
    @discardableResult
    public func finish() throws(CaptureError) -> CaptureStats {
        self.sink.finish()
        if let error = self.control.error.withLock({ $0 }) {
            throw error
        }
        return CaptureStats(
            messages: self.messages,
            rawBytes: self.rawBytes,
            compressedBytes: self.control.written.load(ordering: .relaxed),
            dropped: self.control.lost.load(ordering: .relaxed),
            files: self.control.files.load(ordering: .relaxed)
        )
    }

    /// Every file started so far, in order.
    public var paths: [String] {
        self.control.paths.withLock { $0 }
    }
}
