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

    @Option(help: "Decode the input this many times (throughput measurement; output only on the first pass).")
    var `repeat`: Int = 1

    @Argument(help: "Files of raw KIS messages.")
    var files: [String]

    func validate() throws {
        guard self.repeat >= 1 else { throw ValidationError("--repeat must be at least 1") }
    }

    func run() throws {
        var decoder = try FeedDecoder()
        var tally = Tally()
        let inputs = try self.files.map { path -> (String, [[UInt8]]) in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read \(path)")
            }
            return (path, Self.lines(of: [UInt8](data)))
        }
        // One scratch buffer for every message: decoding decrypts in place, and repeats need the original bytes.
        var scratch = [UInt8](repeating: 0, count: inputs.flatMap(\.1).map(\.count).max() ?? 0)
        let clock = ContinuousClock()
        for pass in 0..<self.repeat {
            var sink = Sink(format: pass == 0 ? self.format : .none)
            for (path, lines) in inputs {
                for (number, line) in lines.enumerated() where !line.isEmpty {
                    scratch.replaceSubrange(0..<line.count, with: line)
                    let start = clock.now
                    let outcome = scratch.withUnsafeMutableBytes { buffer in
                        Result { () throws(FeedError) -> DecodedMessage in
                            try decoder.decode(
                                UnsafeMutableRawBufferPointer(rebasing: buffer[0..<line.count]),
                                localTs: Self.realtimeNanoseconds(),
                                into: &sink
                            )
                        }
                    }
                    tally.decodeTime += clock.now - start
                    tally.messages += 1
                    guard pass == 0 else { continue }
                    switch outcome {
                    case .success(.control(let control)):
                        tally.count(control)
                        sink.emit(control, line: line)
                    case .success(.records):
                        break
                    case .success(.unsupported(let tr, _)):
                        tally.skipped["unsupportedTR \(tr)", default: 0] += 1
                    case .failure(let error):
                        tally.skipped[error.reason, default: 0] += 1
                        tally.malformed += 1
                        Self.standardError("\(path):\(number + 1): skipped: \(error)")
                    }
                }
            }
            tally.add(sink)
        }
        if self.stats { tally.report(passes: self.repeat) }
        if tally.malformed > 0 { throw ExitCode(1) }
    }

    /// Splits on LF, dropping a CR before it.
    static func lines(of bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            Array(line.last == UInt8(ascii: "\r") ? line.dropLast() : line)
        }
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
        switch self.format {
        case .table: print(RecordFormat.table(trade))
        case .jsonl: print(RecordFormat.json(trade))
        case .none: break
        }
    }

    mutating func book(_ book: Book) {
        self.books += 1
        self.checksum &+= Int64(book.totalAskQuantity)
        switch self.format {
        case .table: print(RecordFormat.table(book))
        case .jsonl: print(RecordFormat.json(book))
        case .none: break
        }
    }

    mutating func notice(_ notice: Notice) {
        self.notices += 1
        self.checksum &+= Int64(notice.quantity)
        switch self.format {
        case .table: print(RecordFormat.table(notice))
        case .jsonl: print(RecordFormat.json(notice))
        case .none: break
        }
    }

    func emit(_ control: ControlMessage, line: [UInt8]) {
        switch self.format {
        case .table: print(RecordFormat.table(control, in: line))
        case .jsonl: print(RecordFormat.json(control, in: line))
        case .none: break
        }
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

    func report(passes: Int) {
        let records = self.trades + self.books + self.notices
        let seconds = Double(self.decodeTime.components.seconds) + Double(self.decodeTime.components.attoseconds) / 1e18
        var lines = [
            "messages  \(self.messages)" + (passes > 1 ? " (\(passes) passes)" : ""),
            "records   \(records): \(self.trades) trades, \(self.books) books, \(self.notices) notices",
            "control   \(self.acks) acks, \(self.errors) error acks, \(self.pingPongs) PINGPONG",
            "skipped   \(self.skipped.values.reduce(0, +)) per pass",
        ]
        for (reason, count) in self.skipped.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(reason)  \(count)")
        }
        if seconds > 0 {
            let rate = Double(records) / seconds
            let perMessage = seconds * 1e9 / Double(max(self.messages, 1))
            lines.append(
                "decode    \(Int(rate.rounded())) records/s, \(Int(perMessage.rounded())) ns/message"
                    + " (decode only, \(Int((seconds * 1e3).rounded())) ms in all; checksum \(self.checksum))"
            )
        }
        Decode.standardError(lines.joined(separator: "\n"))
    }
}
