#if canImport(Glibc)
import Glibc
#endif

/// What a capture record holds.
public enum CaptureRecordKind: UInt8, Sendable {
    /// One complete WebSocket text or binary message payload exactly as received, before decryption: data frames
    /// (`0|H0STCNT0|…`, `1|H0STCNI0|…`), JSON acks (with the notice key and iv), PINGPONG.
    case message = 0
    /// The feed (re)connected; the bytes are empty or a short ASCII note.
    case connected = 1
    /// The feed lost its connection; the bytes are a short ASCII reason.
    case disconnected = 2
}

/// What a capture file says about itself, ahead of its records.
public struct CaptureHeader: Sendable, Equatable {
    /// The file format's version; this module writes 1 and reads 1.
    public var formatVersion: UInt16
    /// `"real"`, `"paper"` or `"sim"`.
    public var environment: String
    /// The 6-character KRX codes subscribed.
    public var codes: [String]
    /// The TR ids subscribed, e.g. `["H0STCNT0", "H0STASP0", "H0STCNI9"]`.
    public var trIDs: [String]
    /// Wall clock when recording started, in nanoseconds since the Unix epoch (UTC).
    public var startNs: Int64
    /// Free text, e.g. `"kistick sim seed 7, speed 60"`.
    public var note: String

    public init(environment: String, codes: [String], trIDs: [String], startNs: Int64, note: String = "") {
        self.formatVersion = CaptureFormat.version
        self.environment = environment
        self.codes = codes
        self.trIDs = trIDs
        self.startNs = startNs
        self.note = note
    }
}

/// How a writer splits a recording into files. A new file starts when a record's KST date (of its `localNs`)
/// differs from the current file's, if `daily`, and when the current file has reached `maxBytes`, if set; the split
/// falls between blocks, so no record spans two files. Each file is a complete capture with its own header and
/// index. The first file is the path given; the n-th after it inserts `.n` (three digits at least) before the
/// extension: `day.kcap`, `day.001.kcap`, `day.002.kcap` (see `CaptureRotation.path(of:part:)`).
public struct CaptureRotation: Sendable, Equatable {
    public var daily: Bool
    /// Bytes after which the next block goes to a new file; nil for no limit.
    public var maxBytes: Int64?

    public init(daily: Bool = true, maxBytes: Int64? = nil) {
        precondition(maxBytes.map { $0 > 0 } ?? true, "CaptureRotation maxBytes must be positive")
        self.daily = daily
        self.maxBytes = maxBytes
    }

    /// The path of part `part` (0 for the first file) of a recording started at `path`.
    public static func path(of path: String, part: Int) -> String {
        precondition(part >= 0, "CaptureRotation part must not be negative, got \(part)")
        guard part > 0 else { return path }
        let number = String(part)
        let suffix = "." + String(repeating: "0", count: max(0, 3 - number.count)) + number
        let slash = path.lastIndex(of: "/")
        if let dot = path.lastIndex(of: "."), dot > (slash ?? path.startIndex), dot != path.startIndex,
            path[path.index(before: dot)] != "/"
        {
            return String(path[..<dot]) + suffix + String(path[dot...])
        }
        return path + suffix
    }
}

/// What a writer has done so far.
public struct CaptureStats: Sendable, Equatable {
    /// Records accepted by `append` (messages and markers).
    public var messages: Int
    /// Their payload bytes.
    public var rawBytes: Int
    /// Bytes written to files (headers, frames, indexes).
    public var compressedBytes: Int
    /// Records refused because the ring was full, or lost after a write failed.
    public var dropped: Int
    /// Files started.
    public var files: Int

    public init(messages: Int = 0, rawBytes: Int = 0, compressedBytes: Int = 0, dropped: Int = 0, files: Int = 0) {
        self.messages = messages
        self.rawBytes = rawBytes
        self.compressedBytes = compressedBytes
        self.dropped = dropped
        self.files = files
    }

    /// Raw bytes per byte written; 0 before anything was written.
    public var compressionRatio: Double {
        self.compressedBytes > 0 ? Double(self.rawBytes) / Double(self.compressedBytes) : 0
    }
}

/// How a read ended.
public enum CaptureEnd: Equatable, Sendable {
    /// Every block up to the index (or the end of the file) was read.
    case complete
    /// The file ends inside a block, as after a crash: where it ends and how many messages were read.
    case truncated(String)
}

/// A stretch of a capture that could not be read (a block whose checksum fails, a damaged frame header, records
/// that do not parse) and was skipped, reading going on after it.
public struct CaptureDamage: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    /// Where the stretch starts in the file, and how many bytes were skipped.
    public var offset: Int
    public var length: Int
    /// The messages lost with it, when the file's index counts them; nil for an unfinished file.
    public var records: Int?
    /// zstd's or the reader's word for what is wrong.
    public var reason: String

    public init(path: String, offset: Int, length: Int, records: Int?, reason: String) {
        self.path = path
        self.offset = offset
        self.length = length
        self.records = records
        self.reason = reason
    }

    public var description: String {
        let lost = self.records.map { "\($0) messages" } ?? "an unknown number of messages"
        return "\(self.path): skipped \(self.length) damaged bytes at byte \(self.offset) (\(lost)): \(self.reason)"
    }
}

/// A capture that cannot be written or read; names the file.
public struct CaptureError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        /// `open`, `read`, `write`, `fsync`, `mmap` or `close` failed with this errno.
        case system(call: String, errno: Int32)
        /// The file does not start with the capture magic.
        case notACapture
        /// The file's format version is not one this reader knows.
        case unsupportedVersion(UInt16)
        /// The header is cut short or its fields do not parse.
        case badHeader(String)
        /// A complete block does not decompress or its records do not parse, at this byte offset.
        case corrupt(offset: Int, String)
        /// zstd refused to compress (out of memory).
        case compression(String)
        /// The header does not fit the format (a field longer than 65535 bytes).
        case headerTooLarge(String)
        /// The writer thread could not be started.
        case thread(String)
        /// The file exists already, and was not to be replaced.
        case exists
        /// A message longer than the writer takes.
        case messageTooLong(Int, limit: Int)
        /// A line of a message file that cannot be read as one: its number, from 1, and why.
        case badLine(Int, String)
        /// An input that cannot make a capture as a whole.
        case badInput(String)
    }

    public var path: String
    public var reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        switch self.reason {
        case .system(let call, let errno):
            // strerror's text, not the number: "No space left on device" says what to do, "errno 28" does not.
            return "\(self.path): \(call) failed: \(unsafe String(cString: strerror(errno)))"
        case .notACapture:
            return "\(self.path): not a kistick capture (bad magic)"
        case .unsupportedVersion(let version):
            return "\(self.path): capture format version \(version) is not supported (this build reads 1)"
        case .badHeader(let what):
            return "\(self.path): bad capture header: \(what)"
        case .corrupt(let offset, let what):
            return "\(self.path): corrupt block at byte \(offset): \(what)"
        case .compression(let what):
            return "\(self.path): zstd compression failed: \(what)"
        case .headerTooLarge(let what):
            return "\(self.path): capture header too large: \(what)"
        case .thread(let what):
            return "\(self.path): capture writer thread: \(what)"
        case .exists:
            return "\(self.path) exists: a capture is never overwritten (remove it or choose another name)"
        case .messageTooLong(let length, let limit):
            return "\(self.path): a message of \(length) bytes is longer than the \(limit) a capture takes"
        case .badLine(let line, let what):
            return "\(self.path):\(line): \(what)"
        case .badInput(let what):
            return "\(self.path): \(what)"
        }
    }
}

/// The byte layout shared by the writer and the reader; captures/README.md is its specification.
enum CaptureFormat {
    static let version: UInt16 = 1
    /// The first 8 bytes of every capture file.
    static let magic: [UInt8] = Array("KTCAPT\r\n".utf8)
    /// The last 8 bytes of a finished file, after the index frame's offset.
    static let trailerMagic: [UInt8] = Array("KTCIDX\r\n".utf8)
    /// zstd's skippable-frame magic used for the index (any of 0x184D2A50…5F is skippable; this one is ours).
    static let indexFrameMagic: UInt32 = 0x184D_2A5B
    /// A record inside a block: kind u8, localNs i64, length u32, then the bytes.
    static let recordHeaderSize = 13
    /// One index entry: firstNs i64, maxNs i64, offset u64, records u32, frameLength u32.
    static let indexEntrySize = 32
    /// The largest decompressed block a reader accepts, so a corrupt size cannot exhaust memory.
    static let maxBlockSize = 1 << 28

    /// Appends the header (magic through note) to `out`.
    static func encode(
        _ header: CaptureHeader,
        part: UInt32,
        into out: inout [UInt8],
        path: String
    ) throws(CaptureError) {
        out += Self.magic
        Self.put(header.formatVersion, into: &out)
        var body: [UInt8] = []
        Self.put(part, into: &body)
        Self.put(header.startNs, into: &body)
        try Self.putString(header.environment, into: &body, field: "environment", path: path)
        try Self.putStrings(header.codes, into: &body, field: "codes", path: path)
        try Self.putStrings(header.trIDs, into: &body, field: "trIDs", path: path)
        let note = Array(header.note.utf8)
        guard note.count <= Int(UInt32.max) else {
            throw CaptureError(path: path, reason: .headerTooLarge("note"))
        }
        Self.put(UInt32(note.count), into: &body)
        body += note
        Self.put(UInt32(body.count), into: &out)
        out += body
    }

    /// Parses a header from the start of `bytes`: the header, the file's part number and the header's length.
    static func decode(
        _ bytes: UnsafeRawBufferPointer,
        path: String
    ) throws(CaptureError) -> (header: CaptureHeader, part: UInt32, length: Int) {
        var cursor = unsafe ByteCursor(bytes: bytes)
        guard let magic = unsafe cursor.take(Self.magic.count), unsafe magic.elementsEqual(Self.magic) else {
            throw CaptureError(
                path: path,
                reason: bytes.count < Self.magic.count ? .badHeader("file too short") : .notACapture
            )
        }
        guard let version = cursor.read(UInt16.self) else {
            throw CaptureError(path: path, reason: .badHeader("file too short"))
        }
        guard version == Self.version else {
            throw CaptureError(path: path, reason: .unsupportedVersion(version))
        }
        guard let bodyLength = cursor.read(UInt32.self), let body = unsafe cursor.take(Int(bodyLength)) else {
            throw CaptureError(path: path, reason: .badHeader("cut short"))
        }
        var fields = unsafe ByteCursor(bytes: body)
        guard let part = fields.read(UInt32.self), let startNs = fields.read(Int64.self),
            let environment = fields.string(), let codes = fields.strings(), let trIDs = fields.strings(),
            let noteLength = fields.read(UInt32.self), let note = unsafe fields.take(Int(noteLength)),
            let noteText = unsafe String(validating: note, as: UTF8.self)
        else {
            throw CaptureError(path: path, reason: .badHeader("fields do not parse"))
        }
        var header = CaptureHeader(
            environment: environment,
            codes: codes,
            trIDs: trIDs,
            startNs: startNs,
            note: noteText
        )
        header.formatVersion = version
        return (header, part, cursor.offset)
    }

    static func put<T: FixedWidthInteger>(_ value: T, into out: inout [UInt8]) {
        unsafe withUnsafeBytes(of: value.littleEndian) { unsafe out += $0 }
    }

    private static func putString(
        _ string: String,
        into out: inout [UInt8],
        field: String,
        path: String
    ) throws(CaptureError) {
        let bytes = Array(string.utf8)
        guard bytes.count <= Int(UInt16.max) else {
            throw CaptureError(path: path, reason: .headerTooLarge(field))
        }
        Self.put(UInt16(bytes.count), into: &out)
        out += bytes
    }

    private static func putStrings(
        _ strings: [String],
        into out: inout [UInt8],
        field: String,
        path: String
    ) throws(CaptureError) {
        guard strings.count <= Int(UInt16.max) else {
            throw CaptureError(path: path, reason: .headerTooLarge(field))
        }
        Self.put(UInt16(strings.count), into: &out)
        for string in strings {
            try Self.putString(string, into: &out, field: field, path: path)
        }
    }
}

/// Little-endian reads over a byte buffer that stop, returning nil, at its end.
@safe
struct ByteCursor {
    // Safe because: every read is bounds-checked against `bytes`; the owner keeps the memory alive while reading.
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
        guard unsafe count >= 0 && count <= self.bytes.count - self.offset else { return nil }
        // Safe because: offset ... offset + count lies inside `bytes`, checked above.
        let slice = unsafe UnsafeRawBufferPointer(rebasing: self.bytes[self.offset..<self.offset + count])
        self.offset += count
        return unsafe slice
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard let slice = unsafe self.take(MemoryLayout<T>.size) else { return nil }
        return T(littleEndian: unsafe slice.loadUnaligned(as: T.self))
    }

    mutating func string() -> String? {
        guard let length = self.read(UInt16.self), let bytes = unsafe self.take(Int(length)) else { return nil }
        return unsafe String(validating: bytes, as: UTF8.self)
    }

    mutating func strings() -> [String]? {
        guard let count = self.read(UInt16.self) else { return nil }
        var strings: [String] = []
        for _ in 0..<count {
            guard let string = self.string() else { return nil }
            strings.append(string)
        }
        return strings
    }
}
