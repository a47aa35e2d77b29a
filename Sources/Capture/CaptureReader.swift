import CZstd

#if canImport(Glibc)
import Glibc
#endif

/// One record as read back. `bytes` is valid only inside the callback and may be modified in place (the feed
/// decoder decrypts notices in place).
@safe
public struct CapturedMessage {
    public let kind: CaptureRecordKind
    /// The local receive time, nanoseconds since the Unix epoch.
    public let localNs: Int64
    public let bytes: UnsafeMutableRawBufferPointer
}

/// One block of a finished file's index.
public struct CaptureBlock: Sendable, Equatable {
    /// The `localNs` of the block's first record, and the largest in the block.
    public var firstNs: Int64
    public var maxNs: Int64
    /// Where its zstd frame starts in the file, and how long it is.
    public var offset: Int
    public var frameLength: Int
    public var records: Int
}

/// Reads a capture file: the header, then its records in order, from the start or from a time.
///
/// The file is mapped, not read: a block is decompressed straight from the mapping into one reused buffer, and
/// each record is handed out in place. A finished file is read up to its index; an unfinished one (the writer
/// crashed or is still writing) frame by frame up to the last complete frame, ending `.truncated`.
@safe
public final class CaptureReader {
    public let path: String
    public let header: CaptureHeader
    /// The file's place in a rotated recording: 0 for the first file (`CaptureRotation.path(of:part:)`).
    public let part: Int
    /// The file's size in bytes.
    public let fileSize: Int
    /// The index of a finished file; nil for an unfinished one.
    public let blocks: [CaptureBlock]?
    /// The records a finished file holds, from its trailer; nil for an unfinished one.
    public let recordCount: Int?
    /// The stretches the last `read` skipped because they could not be read, in file order; empty when it read
    /// every block.
    public private(set) var damage: [CaptureDamage] = []

    private let base: UnsafeRawPointer?
    private let headerLength: Int
    /// Where the frames end: the index frame's offset, or the file's size.
    private let framesEnd: Int
    private let context: OpaquePointer
    private var buffer: UnsafeMutableRawPointer
    private var bufferCapacity: Int

    /// Opens and maps `path`, and reads its header and (if the file is finished) its index.
    ///
    /// - Throws: `CaptureError` naming the file when it cannot be opened or is not a capture this build reads.
    public init(path: String) throws(CaptureError) {
        self.path = path
        let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CaptureError(path: path, reason: .system(call: "open", errno: errno))
        }
        defer { close(fd) }
        var status = stat()
        guard unsafe fstat(fd, &status) == 0 else {
            throw CaptureError(path: path, reason: .system(call: "fstat", errno: errno))
        }
        let size = Int(status.st_size)
        var base: UnsafeRawPointer?
        if size > 0 {
            let mapped = unsafe mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
            guard let mapped = unsafe mapped, unsafe mapped != MAP_FAILED else {
                throw CaptureError(path: path, reason: .system(call: "mmap", errno: errno))
            }
            unsafe madvise(mapped, size, MADV_SEQUENTIAL)
            unsafe base = UnsafeRawPointer(mapped)
        }
        let bytes = unsafe UnsafeRawBufferPointer(start: base, count: size)
        let parsed: (header: CaptureHeader, part: UInt32, length: Int)
        let index: (blocks: [CaptureBlock], records: Int, offset: Int)?
        do {
            parsed = try unsafe CaptureFormat.decode(bytes, path: path)
            index = try unsafe Self.readIndex(bytes, headerLength: parsed.length, path: path)
        } catch {
            if let base = unsafe base {
                unsafe munmap(UnsafeMutableRawPointer(mutating: base), size)
            }
            throw error
        }
        guard let context = unsafe ZSTD_createDCtx() else {
            if let base = unsafe base {
                unsafe munmap(UnsafeMutableRawPointer(mutating: base), size)
            }
            throw CaptureError(path: path, reason: .compression("cannot create a decompression context"))
        }
        unsafe self.base = base
        self.fileSize = size
        self.header = parsed.header
        self.part = Int(parsed.part)
        self.headerLength = parsed.length
        self.blocks = index?.blocks
        self.recordCount = index?.records
        self.framesEnd = index?.offset ?? size
        unsafe self.context = context
        self.bufferCapacity = 1 << 20
        unsafe self.buffer = .allocate(byteCount: self.bufferCapacity, alignment: 64)
    }

    deinit {
        // Safe because: the reader is the sole owner of the mapping, the context and the buffer.
        if let base = unsafe self.base {
            unsafe munmap(UnsafeMutableRawPointer(mutating: base), self.fileSize)
        }
        unsafe ZSTD_freeDCtx(self.context)
        unsafe self.buffer.deallocate()
    }

    /// Every file of the rotated recording that starts at `path` and exists, in order (`path` itself first).
    public static func parts(of path: String) -> [String] {
        var paths: [String] = []
        var part = 0
        while true {
            let candidate = CaptureRotation.path(of: path, part: part)
            guard unsafe access(candidate, F_OK) == 0 else { break }
            paths.append(candidate)
            part += 1
        }
        return paths
    }

    /// Reads every record from the first one at or after `fromNs` (in file order; nil for the first record), in
    /// order. A finished file's index finds the first block to decompress; an unfinished one is scanned.
    ///
    /// A block that cannot be read (its checksum fails, its frame header is damaged, its records do not parse)
    /// costs only itself: it is listed in `damage` and reading goes on at the next block, which the index names in
    /// a finished file and a scan for the next zstd frame finds in an unfinished one.
    ///
    /// - Returns: `.complete`, or `.truncated` with where the file ends when it ends inside a frame or lacks its
    ///   index.
    /// - Complexity: O(bytes read); no allocation per record.
    public func read(
        fromNs: Int64? = nil,
        _ body: (borrowing CapturedMessage) -> Void
    ) -> CaptureEnd {
        self.damage = []
        var offset = self.headerLength
        if let fromNs, let blocks = self.blocks {
            guard let first = blocks.first(where: { $0.maxNs >= fromNs }) else { return .complete }
            offset = first.offset
        }
        var started = fromNs == nil
        var messages = 0
        while offset < self.framesEnd {
            // Safe because: offset < framesEnd ≤ fileSize, so the range lies inside the mapping.
            let start = unsafe self.base! + offset
            let remaining = self.framesEnd - offset
            let frameLength = unsafe ZSTD_findFrameCompressedSize(start, remaining)
            if ZSTD_isError(frameLength) != 0 {
                let next = self.nextFrame(after: offset)
                if next == self.framesEnd, self.blocks == nil,
                    ZSTD_getErrorCode(frameLength) == ZSTD_error_srcSize_wrong
                {
                    return .truncated(self.truncation(at: offset, messages: messages, midFrame: true))
                }
                self.skip(offset..<next, delivered: 0, unsafe String(cString: ZSTD_getErrorName(frameLength)))
                offset = next
                continue
            }
            if remaining >= 4, unsafe Self.isSkippable(start.loadUnaligned(as: UInt32.self)) {
                offset += frameLength
                continue
            }
            let length: Int
            switch unsafe self.decompress(start, length: frameLength) {
            case .success(let count):
                length = count
            case .failure(let reason):
                let next = self.nextFrame(after: offset, guess: offset + frameLength)
                self.skip(offset..<next, delivered: 0, reason.text)
                offset = next
                continue
            }
            var cursor = 0
            var delivered = 0
            while cursor < length {
                // Safe because: cursor + 13 ≤ length (checked first), inside the decompressed block.
                guard length - cursor >= CaptureFormat.recordHeaderSize else {
                    self.skip(offset..<(offset + frameLength), delivered: delivered, "a record header is cut short")
                    break
                }
                let record = unsafe self.buffer + cursor
                let rawKind = unsafe record.load(as: UInt8.self)
                let localNs = unsafe Int64(littleEndian: record.loadUnaligned(fromByteOffset: 1, as: Int64.self))
                let size = unsafe Int(UInt32(littleEndian: record.loadUnaligned(fromByteOffset: 9, as: UInt32.self)))
                guard let kind = CaptureRecordKind(rawValue: rawKind) else {
                    self.skip(offset..<(offset + frameLength), delivered: delivered, "unknown record kind \(rawKind)")
                    break
                }
                guard size <= length - cursor - CaptureFormat.recordHeaderSize else {
                    self.skip(offset..<(offset + frameLength), delivered: delivered, "a record runs past its block")
                    break
                }
                cursor += CaptureFormat.recordHeaderSize + size
                delivered += 1
                if !started {
                    guard localNs >= fromNs! else { continue }
                    started = true
                }
                // Safe because: the payload lies inside the block buffer, checked above; it stays valid until the
                // next block is decompressed, after `body` returns.
                let message = unsafe CapturedMessage(
                    kind: kind,
                    localNs: localNs,
                    bytes: UnsafeMutableRawBufferPointer(start: record + CaptureFormat.recordHeaderSize, count: size)
                )
                body(message)
                messages += 1
            }
            offset += frameLength
        }
        if self.blocks == nil {
            return .truncated(self.truncation(at: offset, messages: messages, midFrame: false))
        }
        return .complete
    }

    /// Where reading goes on after a block at `offset` that could not be read: the index's next block in a finished
    /// file; in an unfinished one `guess` (the end of a frame whose size was readable) if a frame starts there, else
    /// the next offset where a zstd frame header parses. `framesEnd` when there is none.
    private func nextFrame(after offset: Int, guess: Int? = nil) -> Int {
        if let blocks = self.blocks {
            return blocks.first { $0.offset > offset }?.offset ?? self.framesEnd
        }
        if let guess, guess >= self.framesEnd || self.frameStarts(at: guess) { return min(guess, self.framesEnd) }
        var candidate = offset + 1
        while candidate + 4 <= self.framesEnd {
            if self.frameStarts(at: candidate) { return candidate }
            candidate += 1
        }
        return self.framesEnd
    }

    /// Whether a zstd frame (data or skippable) with a header that parses and a size that fits starts at `offset`.
    private func frameStarts(at offset: Int) -> Bool {
        guard offset + 4 <= self.framesEnd else { return false }
        // Safe because: offset + 4 ≤ framesEnd ≤ fileSize, inside the mapping.
        let start = unsafe self.base! + offset
        let magic = unsafe UInt32(littleEndian: start.loadUnaligned(as: UInt32.self))
        guard magic == 0xFD2F_B528 || Self.isSkippable(magic) else { return false }
        return unsafe ZSTD_isError(ZSTD_findFrameCompressedSize(start, self.framesEnd - offset)) == 0
    }

    /// Lists the unread stretch `range`, merged with the one before it when they touch (a scan that met a false
    /// frame start inside damaged bytes), and how many of its block's records were lost (from the index).
    private func skip(_ range: Range<Int>, delivered: Int, _ reason: String) {
        if var last = self.damage.last, last.offset + last.length == range.lowerBound {
            last.length += range.count
            if let lost = self.lostRecords(range.lowerBound, delivered: delivered) {
                last.records = last.records.map { $0 + lost }
            }
            self.damage[self.damage.count - 1] = last
            return
        }
        self.damage.append(
            CaptureDamage(
                path: self.path,
                offset: range.lowerBound,
                length: range.count,
                records: self.lostRecords(range.lowerBound, delivered: delivered),
                reason: reason
            )
        )
    }

    /// The records of the indexed block at `offset` that were not delivered; nil without an index.
    private func lostRecords(_ offset: Int, delivered: Int) -> Int? {
        guard let blocks = self.blocks else { return nil }
        return blocks.first { $0.offset == offset }.map { max(0, $0.records - delivered) } ?? 0
    }

    /// Decompresses the frame at `start` into the buffer, growing it to the frame's content size.
    private func decompress(_ start: UnsafeRawPointer, length: Int) -> Result<Int, DamageReason> {
        let content = unsafe ZSTD_getFrameContentSize(start, length)
        guard content != ZSTD_CONTENTSIZE_ERROR, content != ZSTD_CONTENTSIZE_UNKNOWN,
            content <= UInt64(CaptureFormat.maxBlockSize)
        else {
            return .failure(DamageReason(text: "frame content size missing or too large"))
        }
        if Int(content) > self.bufferCapacity {
            unsafe self.buffer.deallocate()
            self.bufferCapacity = Int(content)
            unsafe self.buffer = .allocate(byteCount: self.bufferCapacity, alignment: 64)
        }
        // Safe because: the buffer holds `bufferCapacity` ≥ content bytes; the source range lies in the mapping.
        let result = unsafe ZSTD_decompressDCtx(self.context, self.buffer, self.bufferCapacity, start, length)
        guard ZSTD_isError(result) == 0 else {
            return .failure(DamageReason(text: unsafe String(cString: ZSTD_getErrorName(result))))
        }
        return .success(result)
    }

    private struct DamageReason: Error {
        var text: String
    }

    private func truncation(at offset: Int, messages: Int, midFrame: Bool) -> String {
        let place =
            midFrame
            ? "ends inside a block at byte \(offset) of \(self.fileSize)"
            : "has no index (the writer did not finish) and ends after the block that ends at byte \(offset)"
        return "\(self.path) \(place); read \(messages) messages up to there"
    }

    private static func isSkippable(_ magic: UInt32) -> Bool {
        UInt32(littleEndian: magic) & 0xFFFF_FFF0 == 0x184D_2A50
    }

    /// The index of a finished file: its trailer names the index frame, whose content ends with the trailer.
    private static func readIndex(
        _ bytes: UnsafeRawBufferPointer,
        headerLength: Int,
        path: String
    ) throws(CaptureError) -> (blocks: [CaptureBlock], records: Int, offset: Int)? {
        let trailer = 16
        let footer = 16 + trailer
        guard bytes.count >= headerLength + 8 + footer else { return nil }
        var tail = unsafe ByteCursor(bytes: bytes, offset: bytes.count - trailer)
        guard let indexOffset = tail.read(UInt64.self), let magic = unsafe tail.take(8),
            unsafe magic.elementsEqual(CaptureFormat.trailerMagic)
        else { return nil }
        let bad = CaptureError(path: path, reason: .corrupt(offset: Int(clamping: indexOffset), "bad index"))
        guard indexOffset >= UInt64(headerLength), indexOffset <= UInt64(bytes.count - 8 - footer) else { throw bad }
        var frame = unsafe ByteCursor(bytes: bytes, offset: Int(indexOffset))
        guard frame.read(UInt32.self) == CaptureFormat.indexFrameMagic, let contentLength = frame.read(UInt32.self),
            Int(indexOffset) + 8 + Int(contentLength) == bytes.count
        else { throw bad }
        var counts = unsafe ByteCursor(bytes: bytes, offset: bytes.count - footer)
        guard let entries = counts.read(UInt32.self), counts.read(UInt32.self) != nil,
            let records = counts.read(UInt64.self),
            Int(entries) * CaptureFormat.indexEntrySize + footer == Int(contentLength)
        else { throw bad }
        var blocks: [CaptureBlock] = []
        blocks.reserveCapacity(Int(entries))
        for _ in 0..<entries {
            guard let firstNs = frame.read(Int64.self), let maxNs = frame.read(Int64.self),
                let offset = frame.read(UInt64.self), let count = frame.read(UInt32.self),
                let length = frame.read(UInt32.self), offset >= UInt64(headerLength),
                offset + UInt64(length) <= indexOffset
            else { throw bad }
            blocks.append(
                CaptureBlock(
                    firstNs: firstNs,
                    maxNs: maxNs,
                    offset: Int(offset),
                    frameLength: Int(length),
                    records: Int(count)
                )
            )
        }
        return (blocks, Int(clamping: records), Int(indexOffset))
    }
}

@available(*, unavailable)
extension CaptureReader: Sendable {}
