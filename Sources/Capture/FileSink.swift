import CZstd
import TickCore

#if canImport(Glibc)
import Glibc
#endif

/// The writer thread's side of a `CaptureWriter` (or the caller's, for a `CaptureFileWriter`): gathers records into
/// a block, compresses each block into one zstd frame, writes it, keeps the index, and rotates files.
@safe
final class FileSink: @unchecked Sendable {
    // Safe because: created on the owner's thread before the writer thread starts, then used only by that thread
    // (the start of the thread orders the two).

    /// One block of the index, as written to the file (see captures/README.md).
    struct IndexEntry {
        var firstNs: Int64
        var maxNs: Int64
        var offset: UInt64
        var records: UInt32
        var frameLength: UInt32
    }

    private let basePath: String
    private let header: CaptureHeader
    private let rotation: CaptureRotation
    private let options: CaptureWriter.Options
    private let control: WriterControl
    /// Whether an existing file is replaced; otherwise it is an error (an earlier recording is never lost by default).
    private let replacing: Bool

    private var part = 0
    private var path: String
    private var fd: Int32 = -1
    private var fileBytes: Int64 = 0
    private var fileRecords: UInt64 = 0
    /// The KST date (`YYYYMMDD`) of the current file's first record; nil while it has none.
    private var fileDay: UInt32?
    private var index: [IndexEntry] = []
    private var failed = false

    private let block: UnsafeMutableRawPointer
    private let blockCapacity: Int
    private var blockLength = 0
    private var blockRecords: UInt32 = 0
    private var blockFirstNs: Int64 = 0
    private var blockMaxNs: Int64 = 0
    private var blockStarted: Int64 = 0

    private let context: OpaquePointer
    private let frame: UnsafeMutableRawPointer
    private let frameCapacity: Int

    /// Creates the first file and writes its header.
    init(
        path: String,
        header: CaptureHeader,
        rotation: CaptureRotation,
        options: CaptureWriter.Options,
        control: WriterControl,
        replacing: Bool = false
    ) throws(CaptureError) {
        self.basePath = path
        self.replacing = replacing
        self.path = path
        self.header = header
        self.rotation = rotation
        self.options = options
        self.control = control
        self.blockCapacity = options.blockBytes + options.maxMessageBytes + CaptureFormat.recordHeaderSize
        self.frameCapacity = ZSTD_compressBound(self.blockCapacity)
        guard let context = unsafe ZSTD_createCCtx() else {
            throw CaptureError(path: path, reason: .compression("cannot create a context"))
        }
        // Each frame carries its content size (readers size their buffer from it) and a checksum of its content,
        // so a damaged block is reported, not read as other bytes.
        let level = unsafe ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, options.compressionLevel)
        let match = unsafe ZSTD_CCtx_setParameter(context, ZSTD_c_minMatch, options.minimumMatch)
        let checksum = unsafe ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        guard ZSTD_isError(level) == 0, ZSTD_isError(match) == 0, ZSTD_isError(checksum) == 0 else {
            unsafe ZSTD_freeCCtx(context)
            throw CaptureError(
                path: path,
                reason: .compression("compression level \(options.compressionLevel) refused")
            )
        }
        unsafe self.context = context
        unsafe self.block = .allocate(byteCount: self.blockCapacity, alignment: 64)
        unsafe self.frame = .allocate(byteCount: self.frameCapacity, alignment: 64)
        self.index.reserveCapacity(4096)
        try self.open(part: 0)
    }

    deinit {
        if self.fd >= 0 {
            close(self.fd)
        }
        // Safe because: the sink is the sole owner of the context and both buffers.
        unsafe ZSTD_freeCCtx(self.context)
        unsafe self.block.deallocate()
        unsafe self.frame.deallocate()
    }

    /// Adds one record from the ring (block layout: kind, localNs, length, bytes) to the current block.
    func add(_ record: UnsafeRawBufferPointer) {
        // Safe because: a ring record is at least a record header long.
        let localNs = unsafe Int64(littleEndian: record.loadUnaligned(fromByteOffset: 1, as: Int64.self))
        guard let at = unsafe self.reserve(record.count, localNs: localNs) else { return }
        // Safe because: reserve made room for `record.count` bytes at `at`.
        unsafe at.copyMemory(from: record.baseAddress!, byteCount: record.count)
        self.commit(record.count, localNs: localNs)
    }

    /// Adds one record given by its parts, for a writer on the caller's thread.
    func add(_ kind: CaptureRecordKind, localNs: Int64, bytes: UnsafeRawBufferPointer) {
        let size = CaptureFormat.recordHeaderSize + bytes.count
        guard let at = unsafe self.reserve(size, localNs: localNs) else { return }
        // Safe because: reserve made room for the header and the bytes at `at`.
        unsafe at.storeBytes(of: kind.rawValue, as: UInt8.self)
        unsafe at.storeBytes(of: localNs.littleEndian, toByteOffset: 1, as: Int64.self)
        unsafe at.storeBytes(of: UInt32(bytes.count).littleEndian, toByteOffset: 9, as: UInt32.self)
        if bytes.count > 0 {
            unsafe (at + CaptureFormat.recordHeaderSize).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
        self.commit(size, localNs: localNs)
    }

    /// Where the next record of `size` bytes goes in the current block, after any rotation its time calls for and
    /// flushing a block it would overflow; nil when writing has failed (the record is counted as lost).
    private func reserve(_ size: Int, localNs: Int64) -> UnsafeMutableRawPointer? {
        guard !self.failed else {
            self.countLost(1)
            return nil
        }
        if self.rotation.daily {
            let seconds = localNs / 1_000_000_000 - (localNs % 1_000_000_000 < 0 ? 1 : 0)
            let day = KST.date(epochSeconds: seconds)
            if let fileDay = self.fileDay, fileDay != day {
                self.flushBlock()
                self.rotate()
                guard !self.failed else {
                    self.countLost(1)
                    return nil
                }
            }
            if self.fileDay == nil {
                self.fileDay = day
            }
        }
        if self.blockLength + size > self.blockCapacity {
            self.flushBlock()
        }
        // Safe because: the check above (and a record never exceeding maxMessageBytes plus a header) keeps the
        // record inside the block buffer.
        return unsafe self.block + self.blockLength
    }

    /// Accounts for the record of `size` bytes just written where `reserve` said, and flushes a full block.
    private func commit(_ size: Int, localNs: Int64) {
        self.blockLength += size
        if self.blockRecords == 0 {
            self.blockFirstNs = localNs
            self.blockMaxNs = localNs
            self.blockStarted = MonotonicClock().now()
        } else {
            self.blockMaxNs = max(self.blockMaxNs, localNs)
        }
        self.blockRecords += 1
        if self.blockLength >= self.options.blockBytes {
            self.flushBlock()
        }
    }

    /// Writes the current block if its first record has waited `flushIntervalNanoseconds`.
    func flushIfDue() {
        guard self.blockRecords > 0,
            MonotonicClock().now() - self.blockStarted >= self.options.flushIntervalNanoseconds
        else { return }
        self.flushBlock()
    }

    /// Writes the last block and the index, and closes the file.
    func finish() {
        self.flushBlock()
        self.closeFile()
    }

    // MARK: Blocks and files

    private func flushBlock() {
        guard self.blockRecords > 0, !self.failed else { return }
        if let maxBytes = self.rotation.maxBytes, self.fileBytes >= maxBytes, !self.index.isEmpty {
            self.rotate()
            guard !self.failed else {
                return self.countLost(Int(self.blockRecords))
            }
        }
        // Safe because: `block` holds `blockLength` initialized bytes; `frame` is `frameCapacity` bytes, which is
        // zstd's bound for the largest block.
        let length = unsafe ZSTD_compress2(self.context, self.frame, self.frameCapacity, self.block, self.blockLength)
        guard ZSTD_isError(length) == 0 else {
            let name = unsafe String(cString: ZSTD_getErrorName(length))
            self.countLost(Int(self.blockRecords))
            return self.fail(CaptureError(path: self.path, reason: .compression(name)))
        }
        let entry = IndexEntry(
            firstNs: self.blockFirstNs,
            maxNs: self.blockMaxNs,
            offset: UInt64(self.fileBytes),
            records: self.blockRecords,
            frameLength: UInt32(length)
        )
        self.fileRecords += UInt64(self.blockRecords)
        self.blockLength = 0
        self.blockRecords = 0
        guard unsafe self.write(UnsafeRawBufferPointer(start: self.frame, count: length)) else {
            return self.countLost(Int(entry.records))
        }
        self.index.append(entry)
    }

    private func rotate() {
        self.closeFile()
        guard !self.failed else { return }
        do {
            try self.open(part: self.part + 1)
        } catch {
            self.fail(error)
        }
    }

    private func open(part: Int) throws(CaptureError) {
        let path = CaptureRotation.path(of: self.basePath, part: part)
        // Private: a capture holds the notice key and iv, which decrypt the account's fills.
        let replace = self.replacing ? O_TRUNC : O_EXCL
        let fd = unsafe Glibc.open(path, O_WRONLY | O_CREAT | replace | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason: CaptureError.Reason = errno == EEXIST ? .exists : .system(call: "open", errno: errno)
            throw CaptureError(path: path, reason: reason)
        }
        self.part = part
        self.path = path
        self.fd = fd
        self.fileBytes = 0
        self.fileRecords = 0
        self.fileDay = nil
        self.index.removeAll(keepingCapacity: true)
        self.control.files.store(part + 1, ordering: .relaxed)
        self.control.paths.withLock { $0.append(path) }
        var bytes: [UInt8] = []
        try CaptureFormat.encode(self.header, part: UInt32(part), into: &bytes, path: path)
        let written = unsafe bytes.withUnsafeBytes { unsafe self.write($0) }
        if !written, let error = self.control.error.withLock({ $0 }) {
            throw error
        }
    }

    /// Appends the index frame and the trailer, syncs and closes the current file.
    private func closeFile() {
        guard self.fd >= 0 else { return }
        if !self.failed {
            var content: [UInt8] = []
            content.reserveCapacity(self.index.count * CaptureFormat.indexEntrySize + 32)
            for entry in self.index {
                CaptureFormat.put(entry.firstNs, into: &content)
                CaptureFormat.put(entry.maxNs, into: &content)
                CaptureFormat.put(entry.offset, into: &content)
                CaptureFormat.put(entry.records, into: &content)
                CaptureFormat.put(entry.frameLength, into: &content)
            }
            CaptureFormat.put(UInt32(self.index.count), into: &content)
            CaptureFormat.put(UInt32(0), into: &content)
            CaptureFormat.put(self.fileRecords, into: &content)
            CaptureFormat.put(UInt64(self.fileBytes), into: &content)
            content += CaptureFormat.trailerMagic
            var frame: [UInt8] = []
            CaptureFormat.put(CaptureFormat.indexFrameMagic, into: &frame)
            CaptureFormat.put(UInt32(content.count), into: &frame)
            frame += content
            if unsafe frame.withUnsafeBytes({ unsafe self.write($0) }), fsync(self.fd) != 0 {
                self.fail(CaptureError(path: self.path, reason: .system(call: "fsync", errno: errno)))
            }
        }
        if close(self.fd) != 0, !self.failed {
            self.fail(CaptureError(path: self.path, reason: .system(call: "close", errno: errno)))
        }
        self.fd = -1
    }

    /// Writes all of `bytes` at the end of the current file; false (and the writer failed) on an error.
    private func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            // Safe because: done < count, so the range written lies inside `bytes`.
            let result = unsafe Glibc.write(self.fd, bytes.baseAddress! + done, bytes.count - done)
            if result < 0 {
                if errno == EINTR { continue }
                self.fail(CaptureError(path: self.path, reason: .system(call: "write", errno: errno)))
                return false
            }
            done += result
        }
        self.fileBytes += Int64(bytes.count)
        self.control.written.store(self.control.written.load(ordering: .relaxed) + bytes.count, ordering: .relaxed)
        return true
    }

    private func countLost(_ records: Int) {
        self.control.lost.store(self.control.lost.load(ordering: .relaxed) + records, ordering: .relaxed)
    }

    private func fail(_ error: CaptureError) {
        self.failed = true
        self.control.fail(error)
    }
}
