import ArgumentParser
import Capture
import Foundation
import TickCore

/// `kistick capture info|cat|export|import`: what a capture file holds, as a summary, raw lines or decoded tables;
/// and a capture made from a file of raw messages.
struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Inspect, print, export or import a capture file (as `kistick record` or paper/live --capture make).",
        subcommands: [Info.self, Cat.self, Export.self, Import.self]
    )

    /// `kistick capture info FILE`.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Header, span, counts per TR and code, connects and gaps of a capture file."
        )

        @Argument(help: "The capture file.") var file: String
        @Option(help: "Report a stretch of this many seconds or more without a message as a gap.") var gap = 60.0

        func run() throws {
            let reader = try CaptureReader(path: self.file)
            var counts: [String: (messages: Int, records: Int)] = [:]
            var markers: [String] = []
            var gaps: [(from: Int64, seconds: Double)] = []
            var (first, last, messages, bytes): (Int64?, Int64, Int, Int) = (nil, 0, 0, 0)
            let end = reader.read { message in
                first = first ?? message.localNs
                switch message.kind {
                case .message:
                    let label = MessageLabel(message.bytes)
                    counts[label.key, default: (0, 0)].messages += 1
                    counts[label.key, default: (0, 0)].records += label.records
                    if messages > 0, Double(message.localNs - last) / 1e9 >= self.gap {
                        gaps.append((last, Double(message.localNs - last) / 1e9))
                    }
                    messages += 1
                    bytes += message.bytes.count
                    last = message.localNs
                case .connected, .disconnected:
                    let note = String(decoding: message.bytes, as: UTF8.self)
                    markers.append(
                        "\(CaptureText.time(message.localNs))  \(message.kind)\(note.isEmpty ? "" : ": " + note)"
                    )
                }
            }
            let damaged = CaptureText.warn(reader.damage)
            let header = reader.header
            print("file         \(self.file) (part \(reader.part), \(CaptureText.megabytes(reader.fileSize)))")
            switch end {
            case .complete:
                print("state        finished: \(reader.blocks?.count ?? 0) blocks, \(reader.recordCount ?? 0) records")
            case .truncated(let why):
                print("state        unfinished: \(why)")
            }
            print("format       \(header.formatVersion)")
            print("environment  \(header.environment)")
            print("codes        \(header.codes.joined(separator: " "))")
            print("TR ids       \(header.trIDs.joined(separator: " "))")
            print("started      \(CaptureText.date(header.startNs)) \(CaptureText.time(header.startNs)) KST")
            if !header.note.isEmpty { print("note         \(header.note)") }
            if let first {
                let seconds = Double(last - first) / 1e9
                print(
                    "span         \(CaptureText.time(first)) → \(CaptureText.time(last)) KST (\(String(format: "%.1f", seconds)) s)"
                )
            }
            let ratio = reader.fileSize > 0 ? Double(bytes) / Double(reader.fileSize) : 0
            print(
                "messages     \(messages) and \(markers.count) connect/disconnect markers, \(CaptureText.megabytes(bytes)) raw, "
                    + "\(String(format: "%.1fx", ratio)) compressed"
            )
            print("")
            printTable(
                [["kind", "TR", "code", "messages", "records"]]
                    + counts.keys.sorted().map { key in
                        key.split(separator: " ").map(String.init) + [
                            String(counts[key]!.messages), String(counts[key]!.records),
                        ]
                    }
            )
            print("")
            print("connects and disconnects:\(markers.isEmpty ? " none" : "")")
            for marker in markers { print("  " + marker) }
            print("gaps of \(self.gap) s or more without a message: \(gaps.isEmpty ? "none" : "\(gaps.count)")")
            for gap in gaps.sorted(by: { $0.seconds > $1.seconds }).prefix(20) {
                print("  after \(CaptureText.time(gap.from))  \(String(format: "%.1f", gap.seconds)) s")
            }
            if damaged { throw ExitCode.failure }
        }
    }

    /// `kistick capture cat FILE`.
    struct Cat: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the messages of a capture file, one per line: the `kistick decode` input format.",
            discussion: "Connect and disconnect markers are left out unless --markers (they are not KIS messages)."
        )

        @Argument(help: "The capture file.") var file: String
        @Flag(help: "Prefix each line with its local receive time (ns since the epoch) and a tab.") var times = false
        @Flag(help: "Also print connects and disconnects, as lines starting with #.") var markers = false

        func run() throws {
            let reader = try CaptureReader(path: self.file)
            let out = TextFile.standardOutput()
            let end = reader.read { message in
                if message.kind != .message {
                    guard self.markers else { return }
                    out.write(
                        "# \(message.localNs) \(message.kind) \(String(decoding: message.bytes, as: UTF8.self))\n"
                    )
                    return
                }
                if self.times { out.write("\(message.localNs)\t") }
                out.write(UnsafeRawBufferPointer(message.bytes))
                out.write("\n")
            }
            try out.close()
            if case .truncated(let why) = end { FileHandle.standardError.write(Data((why + "\n").utf8)) }
            if CaptureText.warn(reader.damage) { throw ExitCode.failure }
        }
    }

    /// `kistick capture export --csv|--jsonl FILE`.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode a capture into trades, books, notices and 1-minute bars, as CSV or JSON lines.",
            discussion: """
                --csv writes PREFIX.trades.csv, PREFIX.books.csv and PREFIX.bars.csv (PREFIX: --out, or the file \
                without its extension), for pandas, DuckDB or a spreadsheet. --jsonl prints one JSON object per \
                line with a "type" (trade, book, notice, bar) to stdout, or to --out. Bars are built by the \
                engine's candle builder from the trades, by exchange time.
                """
        )

        @Argument(help: "The capture file.") var file: String
        @Flag(help: "Three CSV files.") var csv = false
        @Flag(help: "JSON lines.") var jsonl = false
        @Option(help: "CSV: the files' prefix; JSON lines: the output file.") var out: String?

        func validate() throws {
            guard self.csv != self.jsonl else { throw ValidationError("choose one of --csv and --jsonl") }
        }

        func run() throws {
            let summary = try CaptureExport.run(
                capture: self.file,
                format: self.csv ? .csv : .jsonl,
                prefix: self.prefix
            )
            if summary.malformed > 0 {
                FileHandle.standardError.write(Data("\(summary.malformed) messages did not decode\n".utf8))
            }
            if case .truncated(let why) = summary.end { FileHandle.standardError.write(Data((why + "\n").utf8)) }
            for path in summary.paths { FileHandle.standardError.write(Data("wrote \(path)\n".utf8)) }
            if CaptureText.warn(summary.damage) { throw ExitCode.failure }
        }

        private var prefix: String? {
            if self.jsonl { return self.out }
            if let out = self.out { return out }
            let url = URL(fileURLWithPath: self.file)
            return url.pathExtension.isEmpty ? self.file : url.deletingPathExtension().path
        }
    }

    /// `kistick capture import FILE --out X.kcap`.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a capture of a file of raw KIS messages, one a line (the `kistick decode` input format).",
            discussion: """
                A line may start with its receive time (nanoseconds since the epoch) and a tab, as `capture cat \
                --times` prints it; a line without one gets the exchange time of its message's first record, plus \
                1 µs for each earlier message of the same second (a book or notice on the date of the latest trade, \
                or of the first, or --date when the file has none), and a message with no time of its own the \
                previous one's plus 1 µs. Messages are kept \
                exactly as they are; a line that is not a KIS message is an error naming it, and nothing is written. \
                The codes and TR ids of the capture's header are those the messages hold. The input is read twice, \
                through one reused buffer.
                """
        )

        @Argument(help: "The file of raw KIS messages.") var file: String
        @Option(help: "The capture to write.") var out: String
        @Option(help: "The environment the header names: real, paper or sim.") var env = "real"
        @Option(help: "The header's note (default: where the messages came from and how times were found).")
        var note: String?
        @Option(help: "The session's date, YYYYMMDD, for books and notices before the first trade.") var date: UInt32?
        @Option(help: "zstd compression level.") var level: Int32 = CaptureWriter.Options.defaultCompressionLevel
        @Flag(help: "Replace --out if it exists (otherwise an existing file is an error).") var force = false

        func validate() throws {
            guard ["real", "paper", "sim"].contains(self.env) else {
                throw ValidationError("--env takes real, paper or sim")
            }
        }

        func run() throws {
            var options = CaptureImport.Options()
            options.environment = self.env
            options.note = self.note
            options.date = self.date
            options.replacing = self.force
            options.writer.compressionLevel = self.level
            let summary: CaptureImport.Summary
            do {
                summary = try CaptureImport.run(input: self.file, output: self.out, options: options)
            } catch {
                guard error.reason == .exists else { throw error }
                FileHandle.standardError.write(Data("kistick: \(error); pass --force to replace it\n".utf8))
                throw ExitCode(1)
            }
            let seconds = Double(summary.lastNs - summary.firstNs) / 1e9
            print("wrote        \(summary.paths.joined(separator: " "))")
            print(
                "messages     \(summary.messages): receive times \(summary.timesGiven) from the file, "
                    + "\(summary.timesFromExchange) from exchange times, the rest 1 µs after the one before"
            )
            print(
                "span         \(CaptureText.time(summary.firstNs)) → \(CaptureText.time(summary.lastNs)) KST"
                    + " (\(String(format: "%.1f", seconds)) s)"
            )
            print("codes        \(summary.codes.count): \(summary.codes.joined(separator: " "))")
            print("TR ids       \(summary.trIDs.joined(separator: " "))")
            let stats = summary.stats
            print(
                "size         \(CaptureText.megabytes(stats.rawBytes)) raw, "
                    + "\(CaptureText.megabytes(stats.compressedBytes)) written"
                    + " (\(String(format: "%.1fx", stats.compressionRatio)))"
            )
            for (reason, count) in summary.undecodable.sorted(by: { $0.key < $1.key }) {
                print("kept as they are, not decoding: \(count) (\(reason))")
            }
        }
    }
}

/// The TR, code and record count of a raw message, for `capture info`'s table.
struct MessageLabel {
    var key: String
    var records: Int

    init(_ bytes: UnsafeMutableRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        if text.hasPrefix("{") {
            let tr = Self.jsonValue(text, "tr_id") ?? "?"
            let key = Self.jsonValue(text, "tr_key").flatMap { $0.isEmpty ? nil : $0 } ?? "-"
            self.key = "control \(tr) \(tr == "PINGPONG" ? "-" : key)"
            self.records = 0
            return
        }
        let fields = text.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4 else {
            self.key = "other ? -"
            self.records = 0
            return
        }
        // An encrypted payload (a notice) names no code in the clear.
        let code = fields[0] == "0" ? String(fields[3].prefix { $0 != "^" }) : "-"
        self.key = "data \(fields[1]) \(code.isEmpty ? "-" : code)"
        self.records = Int(fields[2]) ?? 0
    }

    private static func jsonValue(_ text: String, _ name: String) -> String? {
        guard let start = text.range(of: "\"\(name)\":\"") else { return nil }
        return String(text[start.upperBound...].prefix { $0 != "\"" })
    }
}

/// Times and sizes as the capture commands print them.
enum CaptureText {
    static func time(_ ns: Int64) -> String {
        let seconds = ns / 1_000_000_000 - (ns % 1_000_000_000 < 0 ? 1 : 0)
        let millis = (ns - seconds * 1_000_000_000) / 1_000_000
        let t = KST.time(epochSeconds: seconds)
        return String(format: "%02d:%02d:%02d.%03d", t / 10_000, t / 100 % 100, t % 100, Int(millis))
    }

    static func date(_ ns: Int64) -> String {
        let d = KST.date(epochSeconds: ns / 1_000_000_000)
        return String(format: "%04d-%02d-%02d", d / 10_000, d / 100 % 100, d % 100)
    }

    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.2f MB", Double(bytes) / 1_048_576)
    }

    /// Says on stderr what a read skipped; whether it skipped anything (the command then fails, after its output).
    static func warn(_ damage: [CaptureDamage]) -> Bool {
        for stretch in damage { FileHandle.standardError.write(Data("kistick: \(stretch)\n".utf8)) }
        return !damage.isEmpty
    }
}
