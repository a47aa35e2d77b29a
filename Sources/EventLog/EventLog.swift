public import Logging
import Ring
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// kistick's log: one JSON line per event in the day's file (`LogFile`) and a line for a person on stderr, written
/// by a thread of its own, so no stage ever waits on a disk or a terminal.
///
///     stage threads ──LogRecord rings (LogProducer, one each)──┐
///                                                              ├──▶ writer thread ──▶ kistick-YYYY-MM-DD.jsonl
///     cold paths ──swift-log Logger (EventLogHandler) ─────────┘                  └─▶ stderr (≥ consoleLevel)
///
/// Stages record fixed-size `LogRecord`s that the writer formats; what a full ring drops is counted and logged.
/// Cold paths log through swift-log; their lines are rendered where they are logged (a `Secret` renders as
/// `<redacted>`, whether interpolated or passed as metadata) and queued for the writer, which never blocks them
/// either: past `coldCapacity` waiting lines, a line is dropped and counted.
public final class EventLog: Sendable {
    public struct Settings: Sendable {
        /// Where the daily files go; nil writes none (stderr only).
        public var directory: String?
        /// Lines at this level and above reach the file.
        public var fileLevel: Logger.Level = .info
        /// Lines at this level and above reach stderr; nil: none.
        public var consoleLevel: Logger.Level? = .warning
        /// Days of files kept.
        public var keepDays = 30

        public init(directory: String?) {
            self.directory = directory
        }

        /// `$XDG_STATE_HOME/kistick/logs`, else `$HOME/.local/state/kistick/logs`; nil when neither is set.
        public static func defaultDirectory(environmentVariables: [String: String]) -> String? {
            if let state = environmentVariables["XDG_STATE_HOME"], state.hasPrefix("/") {
                return "\(state)/kistick/logs"
            }
            guard let home = environmentVariables["HOME"], !home.isEmpty else { return nil }
            return "\(home)/.local/state/kistick/logs"
        }
    }

    /// What the writer has done so far.
    public struct Counters: Sendable, Equatable {
        /// Lines written to the file.
        public var written = 0
        /// Records and lines dropped because the writer was behind.
        public var dropped = 0
        /// Writes the file refused (a full disk); the first one is reported on stderr.
        public var failedWrites = 0
    }

    public let settings: Settings
    private let writer: LogWriter
    private let thread: Mutex<StageThread?>

    /// Makes the log folder (0700) and starts the writer thread.
    public init(settings: Settings) throws(LogError) {
        self.settings = settings
        let writer = LogWriter(
            settings: settings,
            file: try settings.directory.map { directory throws(LogError) in
                try LogFile(directory: directory, keepDays: settings.keepDays)
            }
        )
        self.writer = writer
        do {
            self.thread = Mutex(try StageThread(name: "ks-log") { writer.run() })
        } catch {
            throw .file(path: settings.directory ?? "stderr", reason: "cannot start the log thread: \(error)")
        }
    }

    /// A ring for one stage thread's records.
    /// - Parameters:
    ///   - capacity: records the ring holds while the writer is behind, a power of two.
    ///   - reasons: the names of the values its `riskRefused` records carry, by value, so a stage hands the writer a
    ///     number and the line reads as words.
    public func producer(stage: String, capacity: Int = 4_096, reasons: [String] = []) -> LogProducer {
        let producer = LogProducer(stage: stage, capacity: capacity, reasons: reasons)
        self.writer.producers.withLock { $0.append(producer) }
        return producer
    }

    /// A swift-log logger whose lines go to this log.
    /// - Parameter console: false keeps its lines off stderr, for what the caller prints there itself.
    public func logger(label: String, console: Bool = true) -> Logger {
        Logger(label: label) { label in
            var handler = self.handler(label: label)
            handler.console = console
            return handler
        }
    }

    /// A handler for `LoggingSystem.bootstrap`, so every `Logger` of the process writes here.
    public func handler(label: String) -> EventLogHandler {
        EventLogHandler(label: label, log: self)
    }

    /// The lowest level anything is written at.
    var lowestLevel: Logger.Level {
        min(self.settings.fileLevel, self.settings.consoleLevel ?? .critical)
    }

    public var counters: Counters {
        let writer = self.writer
        let dropped = writer.producers.withLock { $0.reduce(0) { $0 + $1.dropped } }
        return Counters(
            written: writer.written.load(ordering: .relaxed),
            dropped: dropped + writer.coldDropped.load(ordering: .relaxed),
            failedWrites: writer.failedWrites.load(ordering: .relaxed)
        )
    }

    /// The file lines go to now (the day of the last line written), nil before the first.
    public var currentPath: String? {
        self.writer.file.withLock { file in file.flatMap { $0.day == 0 ? nil : $0.path(day: $0.day) } }
    }

    /// Writes what is waiting and stops the writer; later lines are dropped. Call once, from any thread but a
    /// producer's.
    public func stop() {
        self.writer.running.store(false, ordering: .releasing)
        self.thread.withLock { thread in
            thread?.join()
            thread = nil
        }
        self.writer.file.withLock { $0?.close() }
    }

    func enqueue(_ entry: ColdEntry) {
        self.writer.enqueue(entry)
    }
}

/// The state the writer thread works on, shared with the `EventLog` that owns the thread.
final class LogWriter: Sendable {
    static let coldCapacity = 4_096
    let settings: EventLog.Settings
    let producers = Mutex<[LogProducer]>([])
    private let cold = Mutex<[ColdEntry]>([])
    let coldDropped = Atomic<Int>(0)
    let written = Atomic<Int>(0)
    let failedWrites = Atomic<Int>(0)
    let running = Atomic<Bool>(true)
    /// The file the writer thread writes; others only read its day or close it after the thread ends.
    let file: Mutex<LogFile?>
    private let pid = getpid()

    init(settings: EventLog.Settings, file: LogFile?) {
        self.settings = settings
        self.file = Mutex(file)
    }

    func enqueue(_ entry: ColdEntry) {
        let kept = self.cold.withLock { cold in
            guard cold.count < Self.coldCapacity else { return false }
            cold.append(entry)
            return true
        }
        if !kept { self.coldDropped.add(1, ordering: .relaxed) }
    }

    // MARK: The writer thread

    /// Writes what the producers and the cold paths hand it, in time order, until `stop`.
    ///
    /// Each pass drains every ring, then writes, sorted by time, what was stamped before the pass began and keeps the
    /// rest for the next. A stage records an order's step before it passes the order on, so a later step is stamped
    /// after the earlier one is in its ring: if a pass finds the later step (say a fill, in the journal's ring)
    /// but missed the earlier (the acceptance, pushed to the dispatcher's ring after that ring was drained), the later
    /// one was stamped after the pass began and waits for the earlier. An order's lines are in its order.
    func run() {
        var batch = Batch()
        var waiting: [Waiting] = []
        var seenDrops: [ObjectIdentifier: Int] = [:]
        while true {
            let stopping = !self.running.load(ordering: .acquiring)
            let began = LogProducer.now()
            var taken = 0
            self.producers.withLock { producers in
                for producer in producers {
                    taken += producer.ring.drain(max: 4_096) { record in
                        waiting.append(.record(record, producer))
                    }
                    let dropped = producer.dropped
                    if dropped > seenDrops[ObjectIdentifier(producer), default: 0] {
                        let entry = ColdEntry(
                            time: LogProducer.now(),
                            level: .warning,
                            label: "kistick.log",
                            message:
                                "\(producer.stage): \(dropped) log records dropped so far (the writer fell behind)",
                            metadata: [],
                            console: true
                        )
                        waiting.append(.cold(entry))
                        seenDrops[ObjectIdentifier(producer)] = dropped
                    }
                }
            }
            var entries: [ColdEntry] = []
            self.cold.withLock { swap(&$0, &entries) }
            waiting.append(contentsOf: entries.map(Waiting.cold))
            taken += entries.count
            // Stable, so one producer's records of one nanosecond keep their order.
            waiting.sort { $0.time < $1.time }
            let due = stopping ? waiting.count : waiting.firstIndex { $0.time > began } ?? waiting.count
            for item in waiting[..<due] {
                switch item {
                case .record(let record, let producer): self.add(record, from: producer, to: &batch)
                case .cold(let entry): self.add(entry, to: &batch)
                }
            }
            waiting.removeFirst(due)
            self.flush(&batch)
            if taken == 0, waiting.isEmpty {
                if stopping { return }
                usleep(10_000)
            }
        }
    }

    /// A record or a line drained but not yet written.
    private enum Waiting {
        case record(LogRecord, LogProducer)
        case cold(ColdEntry)

        var time: Int64 {
            switch self {
            case .record(let record, _): record.time
            case .cold(let entry): entry.time
            }
        }
    }

    /// Lines formatted but not yet written: the file's per day, stderr's.
    private struct Batch {
        var file: [UInt8] = []
        var day: UInt32 = 0
        var lines = 0
        var console = ""
    }

    private func add(_ record: LogRecord, from producer: LogProducer, to batch: inout Batch) {
        let level = record.level
        if level >= self.settings.fileLevel, self.settings.directory != nil {
            self.roll(&batch, to: LineFormat.date(record.time))
            LineFormat.json(record, stage: producer.stage, reasons: producer.reasons, pid: self.pid, into: &batch.file)
            batch.lines += 1
        }
        if let console = self.settings.consoleLevel, level >= console {
            batch.console += LineFormat.human(record, stage: producer.stage, reasons: producer.reasons)
        }
    }

    private func add(_ entry: ColdEntry, to batch: inout Batch) {
        if entry.level >= self.settings.fileLevel, self.settings.directory != nil {
            self.roll(&batch, to: LineFormat.date(entry.time))
            LineFormat.json(entry, pid: self.pid, into: &batch.file)
            batch.lines += 1
        }
        if entry.console, let console = self.settings.consoleLevel, entry.level >= console {
            batch.console += LineFormat.human(entry)
        }
    }

    /// Lines of a new day go to that day's file: what the batch holds of the old day is written first.
    private func roll(_ batch: inout Batch, to day: UInt32) {
        if batch.day != day, !batch.file.isEmpty { self.flush(&batch) }
        batch.day = day
    }

    private func flush(_ batch: inout Batch) {
        if !batch.file.isEmpty {
            let outcome: Result<Void, LogError> = self.file.withLock { file in
                do throws(LogError) {
                    try file?.append(batch.file, day: batch.day)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            switch outcome {
            case .success: self.written.add(batch.lines, ordering: .relaxed)
            case .failure(let error):
                if self.failedWrites.add(1, ordering: .relaxed).newValue == 1 {
                    batch.console += "kistick: \(error); log lines are lost until it can be written\n"
                }
            }
            batch.file.removeAll(keepingCapacity: true)
            batch.lines = 0
        }
        if !batch.console.isEmpty {
            var text = batch.console
            text.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let count = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                    if count < 0, errno == EINTR { continue }
                    guard count > 0 else { break }
                    offset += count
                }
            }
            batch.console = ""
        }
    }
}

/// The swift-log handler of `EventLog.logger(label:)`: renders the line where it is logged and queues it for the
/// writer thread.
public struct EventLogHandler: LogHandler {
    public let label: String
    private let log: EventLog
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    /// Whether lines also go to stderr at the log's console level.
    public var console = true

    init(label: String, log: EventLog) {
        self.label = label
        self.log = log
        self.logLevel = log.lowestLevel
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let given = event.metadata { merged.merge(given) { $1 } }
        self.log.enqueue(
            ColdEntry(
                time: LogProducer.now(),
                level: event.level,
                label: self.label,
                message: event.message.description,
                metadata: merged.sorted { $0.key < $1.key }.map { ($0.key, Self.render($0.value)) },
                console: self.console
            )
        )
    }

    /// A metadata value as text. Each case renders through `description`, which for a `Secret` is `<redacted>`.
    static func render(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value): value.description
        case .array(let values): "[" + values.map(Self.render).joined(separator: ", ") + "]"
        case .dictionary(let values):
            "{"
                + values.sorted { $0.key < $1.key }.map { "\($0.key): \(Self.render($0.value))" }
                .joined(separator: ", ") + "}"
        }
    }
}
