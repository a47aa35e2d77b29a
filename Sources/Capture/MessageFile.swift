import TickCore

#if canImport(Glibc)
import Glibc
#endif

/// One line of a message file: `[RECEIVE_NS<TAB>]MESSAGE`, what `kistick decode` and `kistick capture import` read
/// and `kistick capture cat [--times]` writes.
@safe
public struct MessageLine {
    /// The line's number in the file, from 1.
    public let number: Int
    /// The time of the line's receive-time column (nanoseconds since the Unix epoch), nil when it has none.
    public let localNs: Int64?
    /// The message, where it lies in the reader's buffer: valid until the reader's next call, and free to be
    /// changed in place (the feed decoder decrypts notices in place).
    public let message: UnsafeMutableRawBufferPointer
}

/// Reads a file of raw KIS messages, one a line, through one reused buffer: each line is handed out where it lies,
/// never copied out, and the file is never in memory whole.
///
///     buffer:  0          start                 filled            capacity
///              │ handed out │ lines not yet handed out │ free: the next read │
///
/// When no whole line is left, the rest moves to the front and the next `read` fills the free part; a line longer
/// than the buffer doubles it (the only allocation after init). A line may end in `\r\n`; empty lines are skipped
/// but counted, so numbers match an editor's. `-` reads standard input.
///
/// A line's receive-time column is an optionally signed decimal of at most 19 digits and a tab. A line that does
/// not start that way has none: a KIS message starts with `{`, `0|` or `1|`.
@safe
public final class MessageFileReader {
    /// The file, as given.
    public let path: String
    private let fd: Int32
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    /// The first byte not yet handed out, and the end of the bytes read.
    private var start = 0
    private var filled = 0
    private var atEnd = false
    private var lineNumber = 0
    /// Bytes read so far.
    public private(set) var bytesRead = 0
    /// Nanoseconds spent inside `read` so far, so a caller can time its own work without the file's.
    public private(set) var readNanoseconds: Int64 = 0

    /// Opens `path` (`-` for standard input).
    ///
    /// - Throws: `CaptureError` naming the file when it cannot be opened.
    public init(path: String, bufferBytes: Int = 1 << 20) throws(CaptureError) {
        precondition(bufferBytes > 0, "MessageFileReader bufferBytes must be positive")
        self.path = path
        if path == "-" {
            self.fd = STDIN_FILENO
        } else {
            let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw CaptureError(path: path, reason: .system(call: "open", errno: errno))
            }
            self.fd = fd
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        }
        self.capacity = bufferBytes
        unsafe self.buffer = .allocate(byteCount: bufferBytes, alignment: 64)
    }

    deinit {
        if self.fd != STDIN_FILENO {
            close(self.fd)
        }
        // Safe because: the reader is the buffer's sole owner, and lines handed out are valid only until the next
        // call, which cannot come after deinit.
        unsafe self.buffer.deallocate()
    }

    /// The next non-empty line, or nil at the end of the file.
    ///
    /// - Throws: `CaptureError` naming the file, and the line for a receive-time column out of range.
    public func next() throws(CaptureError) -> MessageLine? {
        while true {
            let pending = self.filled &- self.start
            // Safe because: start <= filled <= capacity, so the range searched lies inside the buffer.
            if pending > 0, let newline = unsafe memchr(self.buffer + self.start, Int32(UInt8(ascii: "\n")), pending) {
                let end = unsafe self.buffer.distance(to: newline)
                let line = self.start..<end
                self.start = end &+ 1
                self.lineNumber &+= 1
                if let parsed = try self.line(line) { return parsed }
                continue
            }
            if self.atEnd {
                guard pending > 0 else { return nil }
                let line = self.start..<self.filled
                self.start = self.filled
                self.lineNumber &+= 1
                return try self.line(line)
            }
            try self.refill()
        }
    }

    /// Splits off the time column of the line at `range` of the buffer; nil for an empty line.
    private func line(_ range: Range<Int>) throws(CaptureError) -> MessageLine? {
        var end = range.upperBound
        // Safe because: every offset read lies in range, inside the buffer's filled part.
        if end > range.lowerBound, unsafe self.buffer.load(fromByteOffset: end &- 1, as: UInt8.self) == 13 {
            end &-= 1
        }
        guard end > range.lowerBound else { return nil }
        let bytes = unsafe UnsafeMutableRawBufferPointer(
            start: self.buffer + range.lowerBound,
            count: end &- range.lowerBound
        )
        guard let (localNs, messageStart) = try self.timeColumn(unsafe UnsafeRawBufferPointer(bytes).bytes) else {
            return unsafe MessageLine(number: self.lineNumber, localNs: nil, message: bytes)
        }
        let message = unsafe UnsafeMutableRawBufferPointer(rebasing: bytes[messageStart...])
        return unsafe MessageLine(number: self.lineNumber, localNs: localNs, message: message)
    }

    /// The receive time of a `[-]DIGITS\t` prefix and where the message after it starts; nil without one.
    private func timeColumn(_ bytes: RawSpan) throws(CaptureError) -> (Int64, Int)? {
        // Safe because: every offset read is checked against byteCount first (the line is not empty).
        func byte(_ i: Int) -> UInt8 { unsafe bytes.unsafeLoad(fromByteOffset: i, as: UInt8.self) }
        var i = 0
        let negative = byte(0) == UInt8(ascii: "-")
        if negative { i = 1 }
        var magnitude: UInt64 = 0
        var digits = 0
        while i < bytes.byteCount, byte(i) &- UInt8(ascii: "0") <= 9 {
            if digits < 20 { magnitude = magnitude &* 10 &+ UInt64(byte(i) &- UInt8(ascii: "0")) }
            digits &+= 1
            i &+= 1
        }
        guard digits > 0, i < bytes.byteCount, byte(i) == UInt8(ascii: "\t") else { return nil }
        guard digits <= 19, magnitude <= UInt64(Int64.max) else {
            throw CaptureError(path: self.path, reason: .badLine(self.lineNumber, "the receive time is out of range"))
        }
        let value = Int64(magnitude)
        return (negative ? -value : value, i &+ 1)
    }

    /// Moves the unread bytes to the front and reads more after them, doubling the buffer when a line fills it.
    private func refill() throws(CaptureError) {
        if self.start > 0 {
            // Safe because: both ranges lie inside the buffer; memmove allows them to overlap.
            unsafe memmove(self.buffer, self.buffer + self.start, self.filled &- self.start)
            self.filled &-= self.start
            self.start = 0
        }
        if self.filled == self.capacity {
            let larger = UnsafeMutableRawPointer.allocate(byteCount: 2 &* self.capacity, alignment: 64)
            // Safe because: both buffers hold at least `filled` bytes, and the old one is not used after.
            unsafe larger.copyMemory(from: self.buffer, byteCount: self.filled)
            unsafe self.buffer.deallocate()
            unsafe self.buffer = larger
            self.capacity &*= 2
        }
        let clock = MonotonicClock()
        let before = clock.now()
        var count: Int
        repeat {
            // Safe because: filled < capacity, so the read lands in the buffer's free part.
            count = unsafe read(self.fd, self.buffer + self.filled, self.capacity &- self.filled)
        } while count < 0 && errno == EINTR
        self.readNanoseconds &+= clock.now() &- before
        guard count >= 0 else {
            throw CaptureError(path: self.path, reason: .system(call: "read", errno: errno))
        }
        if count == 0 {
            self.atEnd = true
        } else {
            self.filled &+= count
            self.bytesRead &+= count
        }
    }
}
