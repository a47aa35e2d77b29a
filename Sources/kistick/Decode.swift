import ArgumentParser
import Feed
import Foundation
import TickCore

/// `kistick decode`: KIS WebSocket messages from files, one per line as they came off the socket, decoded with
/// the same code the live feed uses.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode files of raw KIS WebSocket messages, one per line.",
        discussion: """
            Lines are data frames (enc|TR_ID|NNN|payload) and JSON control messages exactly as received. A subscribe \
            ack's key and iv decrypt the encrypted notices on later lines of the same file. Malformed lines are \
            reported on stderr and skipped; the exit status is 1 if there were any.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, jsonl, none
    }

    @Option(help: "Output: \(Format.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: Format = .table

    @Flag(help: "Print counts, skipped messages by reason, and decode throughput to stderr.")
    var stats = false

    @Option(help: "With --stats: how many silent passes over the input to time (default: as many as fit in 0.2 s).")
    var `repeat`: Int?

    @Argument(help: "Files of raw KIS messages.")
    var files: [String]

    func validate() throws {
        guard (self.repeat ?? 1) >= 1 else { throw ValidationError("--repeat must be at least 1") }
    }

    func run() throws {
        var inputs: [Input] = []
        for path in self.files {
            inputs.append(Input(path: path, bytes: try readFile(path)))
        }
        var tally = Tally()
        if self.format != .none || !self.stats {
            tally = try Self.pass(over: inputs, format: self.format, report: true)
        }
        if self.stats {
            // Throughput comes from silent passes, so that printing is not counted as decoding.
            // A single pass over a small file times cold caches more than decoding.
            var timed = Duration.zero
            var passes = 0
            while passes < (self.repeat ?? 1) || (self.repeat == nil && timed < .milliseconds(200)) {
                let run = try Self.pass(over: inputs, format: .none, report: self.format == .none && passes == 0)
                if self.format == .none && passes == 0 { tally = run }
                timed += run.decodeTime
                passes += 1
            }
            tally.report(passes: passes, decodeTime: timed)
        }
        if tally.malformed > 0 { throw ExitCode(1) }
    }

    /// One file's bytes and where its lines are.
    struct Input {
        var path: String
        var bytes: [UInt8]
        var lines: [Range<Int>]

        init(path: String, bytes: [UInt8]) {
            self.path = path
            self.bytes = bytes
            var lines: [Range<Int>] = []
            var start = 0
            for (i, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
                lines.append(start..<(i > start && bytes[i - 1] == UInt8(ascii: "\r") ? i - 1 : i))
                start = i + 1
            }
            if start < bytes.count { lines.append(start..<bytes.count) }
            self.lines = lines
        }
    }

    /// Decodes every line of every input once. Each file is decoded in a fresh copy of its bytes (decoding
    /// decrypts in place); the copy is made before the clock starts.
    private static func pass(over inputs: [Input], format: Format, report: Bool) throws -> Tally {
        var decoder = try FeedDecoder()
        var tally = Tally()
        var sink = Sink(format: format)
        let clock = ContinuousClock()
        for input in inputs {
            var arena = input.bytes
            let localTs = Self.realtimeNanoseconds()
            var outcomes: [(Int, Result<DecodedMessage, FeedError>)] = []
            outcomes.reserveCapacity(input.lines.count)
            let start = clock.now
            arena.withUnsafeMutableBytes { buffer in
                for (number, line) in input.lines.enumerated() where !line.isEmpty {
                    let outcome = Result { () throws(FeedError) -> DecodedMessage in
                        try decoder.decode(
                            UnsafeMutableRawBufferPointer(rebasing: buffer[line]),
                            localTs: localTs,
                            into: &sink
                        )
                    }
                    // Only what needs a look afterwards is kept, so the timed loop stays a decode loop.
                    switch outcome {
                    case .success(.records): break
                    default: outcomes.append((number, outcome))
                    }
                    if format != .none, case .success(.control(let control)) = outcome {
                        sink.emit(control, line: Array(input.bytes[line]))
                    }
                }
            }
            tally.decodeTime += clock.now - start
            tally.messages += input.lines.filter { !$0.isEmpty }.count
            for (number, outcome) in outcomes {
                switch outcome {
                case .success(.control(let control)):
                    tally.count(control)
                case .success(.records):
                    break
                case .success(.unsupported(let tr, _)):
                    tally.skipped["unsupportedTR \(tr)", default: 0] += 1
                case .failure(let error):
                    tally.skipped[error.reason, default: 0] += 1
                    tally.malformed += 1
                    if report { Self.standardError("\(input.path):\(number + 1): skipped: \(error)") }
                }
            }
        }
        tally.add(sink)
        return tally
    }

    static func realtimeNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    static func standardError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Prints or just counts records, and keeps a checksum so that `--format none` cannot be optimised away.
private struct Sink: FeedSink {
    let format: Decode.Format
    var trades = 0
    var books = 0
    var notices = 0
    var checksum: Int64 = 0

    init(format: Decode.Format) {
        self.format = format
    }

    mutating func trade(_ trade: Trade) {
        self.trades += 1
        self.checksum &+= Int64(trade.price) &+ trade.cumulativeVolume
        self.write(RecordFormat.table(trade), RecordFormat.json(trade))
    }

    mutating func book(_ book: Book) {
        self.books += 1
        self.checksum &+= Int64(book.totalAskQuantity)
        self.write(RecordFormat.table(book), RecordFormat.json(book))
    }

    mutating func notice(_ notice: Notice) {
        self.notices += 1
        self.checksum &+= Int64(notice.quantity)
        self.write(RecordFormat.table(notice), RecordFormat.json(notice))
    }

    /// Prints in the chosen format; the text is only built when it is printed.
    private func write(_ table: @autoclosure () -> String, _ json: @autoclosure () -> String) {
        switch self.format {
        case .table: print(table())
        case .jsonl: print(json())
        case .none: break
        }
    }

    func emit(_ control: ControlMessage, line: [UInt8]) {
        self.write(RecordFormat.table(control, in: line), RecordFormat.json(control, in: line))
    }
}

/// What `--stats` reports.
private struct Tally {
    var messages = 0
    var trades = 0
    var books = 0
    var notices = 0
    var acks = 0
    var errors = 0
    var pingPongs = 0
    var malformed = 0
    var checksum: Int64 = 0
    var skipped: [String: Int] = [:]
    var decodeTime = Duration.zero

    mutating func count(_ control: ControlMessage) {
        switch control.kind {
        case .ack: self.acks += 1
        case .error: self.errors += 1
        case .pingPong: self.pingPongs += 1
        case .other: break
        }
    }

    mutating func add(_ sink: Sink) {
        self.trades += sink.trades
        self.books += sink.books
        self.notices += sink.notices
        self.checksum &+= sink.checksum
    }

    /// Prints the counts of one pass and the throughput of `passes` timed passes.
    func report(passes: Int, decodeTime: Duration) {
        let records = self.trades + self.books + self.notices
        let seconds = Double(decodeTime.components.seconds) + Double(decodeTime.components.attoseconds) / 1e18
        var lines = [
            "messages  \(self.messages)",
            "records   \(records): \(self.trades) trades, \(self.books) books, \(self.notices) notices",
            "control   \(self.acks) acks, \(self.errors) error acks, \(self.pingPongs) PINGPONG",
            "skipped   \(self.skipped.values.reduce(0, +))",
        ]
        for (reason, count) in self.skipped.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(reason)  \(count)")
        }
        if seconds > 0 {
            let rate = Double(records * passes) / seconds
            let perMessage = seconds * 1e9 / Double(max(self.messages * passes, 1))
            lines.append(
                "decode    \(Int(rate.rounded())) records/s, \(Int(perMessage.rounded())) ns/message"
                    + " over \(passes) silent pass\(passes == 1 ? "" : "es") (\(Int((seconds * 1e3).rounded())) ms;"
                    + " checksum \(self.checksum))"
            )
        }
        Decode.standardError(lines.joined(separator: "\n"))
    }
}
