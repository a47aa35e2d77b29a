#if canImport(Glibc)
import Glibc
#endif

/// Text written to a file or to standard output through one buffer, for exports and listings. Writing never
/// throws (a `FeedSink` that writes cannot): the first error is kept, and `flush` or `close` throws it.
@safe
public final class TextFile {
    /// The file, or `-` for standard output.
    public let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var error: CaptureError?
    private var closed = false
    /// Bytes gathered before a write to the file.
    private static let chunk = 1 << 20

    /// Creates `path`, replacing a file of that name. Private (0600): exports hold the account's fills.
    ///
    /// - Throws: `CaptureError` naming the file when it cannot be created.
    public init(creating path: String) throws(CaptureError) {
        let fd = unsafe open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CaptureError(path: path, reason: .system(call: "open", errno: errno))
        }
        self.path = path
        self.fd = fd
        self.buffer.reserveCapacity(Self.chunk)
    }

    private init(standardOutput: Void) {
        self.path = "-"
        self.fd = STDOUT_FILENO
        self.buffer.reserveCapacity(Self.chunk)
    }

    /// Standard output.
    public static func standardOutput() -> TextFile {
        TextFile(standardOutput: ())
    }

    deinit {
        try? self.close()
    }

    public func write(_ text: String) {
        self.buffer.append(contentsOf: text.utf8)
        if self.buffer.count >= Self.chunk { self.drain() }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) {
        unsafe self.buffer.append(contentsOf: bytes)
        if self.buffer.count >= Self.chunk { self.drain() }
    }

    /// Writes out what is buffered.
    ///
    /// - Throws: the first error any write met.
    public func flush() throws(CaptureError) {
        self.drain()
        if let error = self.error { throw error }
    }

    /// Writes out what is buffered and closes the file (not standard output). Later calls do nothing.
    ///
    /// - Throws: the first error any write, or the close, met.
    public func close() throws(CaptureError) {
        guard !self.closed else { return }
        self.closed = true
        self.drain()
        if self.fd != STDOUT_FILENO, Glibc.close(self.fd) != 0, self.error == nil {
            self.error = CaptureError(path: self.path, reason: .system(call: "close", errno: errno))
        }
        if let error = self.error { throw error }
    }

    private func drain() {
        defer { self.buffer.removeAll(keepingCapacity: true) }
        guard self.error == nil else { return }
        unsafe self.buffer.withUnsafeBytes { bytes in
            var done = 0
            while done < bytes.count {
                // Safe because: done < count, so the range written lies inside the buffer.
                let result = unsafe Glibc.write(self.fd, bytes.baseAddress! + done, bytes.count - done)
                if result < 0 {
                    if errno == EINTR { continue }
                    self.error = CaptureError(path: self.path, reason: .system(call: "write", errno: errno))
                    return
                }
                done += result
            }
        }
    }
}
