import ArgumentParser
import Capture
import Feed
import Foundation
import TickCore

/// `kistick decode`: KIS WebSocket messages from files, one per line as they came off the socket, decoded with
/// the same code the live feed uses.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode files of raw KIS WebSocket messages, one per line.",
        discussion: """
            Lines are data frames (enc|TR_ID|NNN|payload) and JSON control messages exactly as received, optionally \
            after a receive time (nanoseconds since the epoch) and a tab, as `kistick capture cat --times` prints \
            them; - reads standard input. A subscribe ack's key and iv decrypt the encrypted notices on later lines \
            of the same file. Files are read through one reused buffer, never whole. Malformed lines are reported \
            on stderr and skipped; the exit status is 1 if there were any.
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

    @Argument(help: "Files of raw KIS messages (- for standard input).")
    var files: [String]

    func validate() throws {
        guard (self.repeat ?? 1) >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard !(self.stats && self.files.contains("-") && self.repeat ?? 2 > 1) else {
            throw ValidationError("standard input can be read once: pass --repeat 1 with --stats")
        }
    }

    func run() throws {
        // Lines without a receive time are stamped with the time of the run (books and notices take their date
        // from it).
        let localNs = WallClock().now()
        var tally = DecodeTally()
        if self.format != .none || !self.stats {
            tally = try self.pass(format: self.format, report: true, localNs: localNs)
        }
        if self.stats {
            // Throughput comes from silent passes, so that printing is not counted as decoding. A single pass over
            // a small file times cold caches more than decoding.
            var timed: Int64 = 0
            var passes = 0
            while passes < (self.repeat ?? 1) || (self.repeat == nil && timed < 200_000_000) {
                let run = try self.pass(format: .none, report: self.format == .none && passes == 0, localNs: localNs)
                if self.format == .none && passes == 0 { tally = run }
                timed += run.decodeNanoseconds
                passes += 1
            }
            Self.standardError(tally.report(passes: passes, decodeNanoseconds: timed).joined(separator: "\n"))
        }
        if tally.malformed > 0 { throw ExitCode(1) }
    }

    /// Decodes every line of every file once, with one decoder (an ack's key applies to later files too).
    private func pass(format: Format, report: Bool, localNs: Int64) throws -> DecodeTally {
        var decoder = try FeedDecoder()
        var tally = DecodeTally()
        let printer = Printer(format: format)
        var sink = CountingSink(printer)
        for path in self.files {
            let reader = try MessageFileReader(path: path)
            try MessageDecoding.pass(
                reader,
                decoder: &decoder,
                into: &sink,
                defaultLocalNs: localNs,
                tally: &tally,
                rejected: { error in if report { Self.standardError("\(error): skipped") } },
                each: { line, outcome in
                    switch outcome {
                    case .success(.control(let control)):
                        if format != .none { printer.print(control, line: line.message) }
                    case .failure(let error):
                        if report { Self.standardError("\(path):\(line.number): skipped: \(error)") }
                    default:
                        break
                    }
                }
            )
        }
        tally.add(sink)
        return tally
    }

    static func standardError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Prints records in the chosen format, or nothing.
private struct Printer: FeedSink {
    let format: Decode.Format

    mutating func trade(_ trade: Trade) { self.write(RecordFormat.table(trade), RecordFormat.json(trade)) }
    mutating func book(_ book: Book) { self.write(RecordFormat.table(book), RecordFormat.json(book)) }
    mutating func notice(_ notice: Notice) { self.write(RecordFormat.table(notice), RecordFormat.json(notice)) }
    mutating func marketStatus(_ status: MarketStatus) {
        self.write(RecordFormat.table(status), RecordFormat.json(status))
    }

    func print(_ control: ControlMessage, line: UnsafeMutableRawBufferPointer) {
        let bytes = Array(UnsafeRawBufferPointer(line))
        self.write(RecordFormat.table(control, in: bytes), RecordFormat.json(control, in: bytes))
    }

    /// Prints in the chosen format; the text is only built when it is printed.
    private func write(_ table: @autoclosure () -> String, _ json: @autoclosure () -> String) {
        switch self.format {
        case .table: Swift.print(table())
        case .jsonl: Swift.print(json())
        case .none: break
        }
    }
}
