import Ring
import Synchronization

/// Records raw feed messages to a capture file: the feed thread's `append` copies each into a ring, and a writer
/// thread of its own compresses them (zstd, one independent frame per block, a block flushed at least every
/// `flushIntervalNanoseconds`) and writes them, rotating files by day and size (`CaptureRotation`).
///
/// `append` is for one thread (the feed thread); `stats` for any; `finish` for the owner, once, after the last
/// `append`. A write failure (a full disk) stops the writing, counts what follows as dropped, and is thrown by
/// `finish`.
public final class CaptureWriter: @unchecked Sendable {
    // Safe because: `append` and `addSecret` touch only the ring's producer side; the writer thread
    // owns `FileSink`; `finish` and `deinit` take `thread` on the owner's thread, once.

    /// Sizes and tunings; the defaults suit a KIS session.
    public struct Options: Sendable {
        /// The ring between the feed thread and the writer thread, in bytes (a power of two).
        public var ringBytes = 8 << 20
        /// The largest message `append` takes; KIS's largest are about 8 KiB.
        public var maxMessageBytes = 1 << 20
        /// Raw bytes after which a block is compressed and written.
        public var blockBytes = 1 << 20
        /// The longest a record waits in an unwritten block: what a crash can lose.
        public var flushIntervalNanoseconds: Int64 = 1_000_000_000
        /// zstd's level; higher trades the writer thread's CPU for a smaller file.
        public var compressionLevel = Options.defaultCompressionLevel
        /// zstd's shortest match. KIS messages are ASCII fields between `^`, where a match of 3–5 bytes costs
        /// about what it saves: 6 made the sample's trade frames 8 % smaller at level 3 and 4 % at level 9, and
        /// compressing them no slower.
        public var minimumMatch: Int32 = 6
        /// Credentials overwritten with `*` wherever they occur in a message (see `Redactor`).
        public var secrets: [String] = []

        /// 9: the sample's trade frames 7.4x smaller at 55–60 MB/s of a core, about a hundred times the sample's
        /// 60x-accelerated feed and far more than a live one (level 3: 6.4x at 220–265 MB/s; 19: 8.1x at 2 MB/s).
        /// `scripts/capture_ratio.py` gives these figures.
        public static let defaultCompressionLevel: Int32 = 9

        public init() {}
    }

    /// The first file's path; the rotated ones are `CaptureRotation.path(of:part:)`.
    public let path: String
    private let ring: ByteRing
    private let control: WriterControl
    private var thread: StageThread?

    /// Creates the first file, writes its header, and starts the writer thread.
    ///
    /// - Throws: `CaptureError` when the file cannot be created or written, or the thread cannot start.
    public init(
        path: String,
        header: CaptureHeader,
        rotation: CaptureRotation = .init(),
        options: Options = .init()
    ) throws(CaptureError) {
        precondition(options.blockBytes > 0, "CaptureWriter blockBytes must be positive")
        precondition(options.flushIntervalNanoseconds > 0, "CaptureWriter flushIntervalNanoseconds must be positive")
        self.path = path
        self.ring = ByteRing(
            capacity: options.ringBytes,
            maxPayload: options.maxMessageBytes,
            redactor: Redactor(secrets: options.secrets)
        )
        let control = WriterControl()
        self.control = control
        let sink = try FileSink(
            path: path,
            header: header,
            rotation: rotation,
            options: options,
            control: control
        )
        let ring = self.ring
        do {
            self.thread = try StageThread(name: "capture") {
                var wait = SpinYieldSleep(
                    spins: 0,
                    yields: 0,
                    minSleepNanoseconds: 50_000,
                    maxSleepNanoseconds: 2_000_000
                )
                while true {
                    let stopping = control.stopRequested.load(ordering: .acquiring)
                    let count = unsafe ring.drain { unsafe sink.add($0) }
                    sink.flushIfDue()
                    if count > 0 {
                        wait.reset()
                    } else if stopping {
                        break
                    } else {
                        wait.idle()
                    }
                }
                sink.finish()
            }
        } catch {
            sink.finish()
            throw CaptureError(path: path, reason: .thread("\(error)"))
        }
    }

    deinit {
        if let thread = self.thread {
            self.control.stopRequested.store(true, ordering: .releasing)
            thread.join()
        }
    }

    /// Copies one record into the ring, redacting any secret in the copy. Feed thread only.
    ///
    /// - Parameters:
    ///   - kind: a message, or a connect/disconnect marker.
    ///   - localNs: the local receive time, nanoseconds since the Unix epoch.
    ///   - bytes: the message as received (not modified).
    /// - Returns: false, counting a drop, when the ring is full or the message exceeds `maxMessageBytes`.
    /// - Complexity: O(n) in the message: one copy and a sampled scan; no allocation, lock or syscall.
    public func append(_ kind: CaptureRecordKind, localNs: Int64, bytes: UnsafeRawBufferPointer) -> Bool {
        unsafe self.ring.tryAppend(kind, localNs: localNs, bytes: bytes)
    }

    /// Redacts `secret` too from now on: for a credential issued while recording (a WebSocket approval key).
    /// Feed thread only, like `append`; a cold path (it rebuilds the redactor).
    public func addSecret(_ secret: String) {
        self.ring.addSecret(secret)
    }

    /// What has been appended and written so far; exact after `finish`.
    public var stats: CaptureStats {
        let ring = self.ring.counters
        return CaptureStats(
            messages: ring.appended,
            rawBytes: ring.bytes,
            compressedBytes: self.control.written.load(ordering: .relaxed),
            dropped: ring.refused + self.control.lost.load(ordering: .relaxed),
            files: self.control.files.load(ordering: .relaxed)
        )
    }

    /// The failure that stopped the writing (a full disk, a file that could not be created at rotation), as soon as
    /// the writer thread meets it; nil while all is well. Any thread. The owner warns at once: from then on every
    /// record is counted as dropped, and `finish` throws this error.
    public var failure: CaptureError? {
        self.control.error.withLock { $0 }
    }

    /// Bytes appended that the writer thread has not taken yet: how close the ring is to refusing (a status line,
    /// or a benchmark waiting for the writer).
    public var backlogBytes: Int {
        self.ring.backlog
    }

    /// Every file started so far, in order.
    public var paths: [String] {
        self.control.paths.withLock { $0 }
    }

    /// Writes what is left in the ring and the current block, writes the index and closes the file. Call once,
    /// after the last `append` (`precondition`).
    ///
    /// - Returns: the final statistics.
    /// - Throws: the first `CaptureError` the writer thread met (the records after it are counted as dropped).
    @discardableResult
    public func finish() throws(CaptureError) -> CaptureStats {
        guard let thread = self.thread else {
            preconditionFailure("CaptureWriter.finish called twice")
        }
        self.thread = nil
        self.control.stopRequested.store(true, ordering: .releasing)
        thread.join()
        if let error = self.control.error.withLock({ $0 }) {
            throw error
        }
        return self.stats
    }
}

/// What the owner and the writer thread share.
final class WriterControl: Sendable {
    let stopRequested = Atomic<Bool>(false)
    /// Bytes written to files.
    let written = Atomic<Int>(0)
    /// Records drained after a write failure, never written.
    let lost = Atomic<Int>(0)
    let files = Atomic<Int>(0)
    let paths = Mutex<[String]>([])
    let error = Mutex<CaptureError?>(nil)

    /// Keeps the first failure.
    func fail(_ error: CaptureError) {
        self.error.withLock { if $0 == nil { $0 = error } }
    }
}
