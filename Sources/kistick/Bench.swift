import ArgumentParser
import Capture
import Engine
import Feed
import Foundation
import KIS
import Metrics
import Ring
import TickCore

/// `kistick bench`: a capture at maximum speed through the threaded pipeline, as live, with stage latencies.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a capture at maximum speed through the threaded pipeline and report throughput and latency.",
        discussion: """
            The capture's messages are loaded into memory, then fed as fast as the stages take them to the engine's \
            market path on its own stage threads (feed router → candle stage → strategy stage with risk), stamped \
            with the wall clock as a socket read would be. Reports records/s, MB/s of message payload and the \
            p50/p90/p99/p99.9/max of each stage interval. --html also charts the latency distributions and one \
            code's 1-minute candles with the trades of a deterministic replay (`kistick replay`) of the same file. \
            The replay itself is timed too: every stage inline on one thread, with the simulated exchange.
            """
    )

    @Argument(help: "The capture file.") var file: String
    @OptionGroup var replay: ReplayOptions
    @Flag(help: "Print the report as JSON on stdout.") var json = false
    @Option(help: "Write a self-contained HTML report here.") var html: String?
    @Option(help: "The code whose candles the HTML report charts (default: the first traded).") var chart: String?

    func validate() throws { try self.replay.validate() }

    func run() throws {
        let reader = try CaptureReader(path: self.file)
        let settings = try self.replay.settings(header: reader.header, file: self.file)
        let recorded = try RecordedMessages(reader: reader)
        var report = try self.measure(recorded, settings: settings)
        let start = WallClock().now()
        let summary = try Self.deterministicReplay(recorded, settings: settings)
        report.replayNanoseconds = WallClock().now() - start
        print(self.json ? report.json() : report.table().joined(separator: "\n"))
        guard let path = self.html else { return }
        let code = self.chart ?? summary.fills.first?.code ?? settings.codes[0].description
        let page = BenchPage(
            file: self.file, report: report, code: code, bars: recorded.minuteBars(code: code),
            fills: summary.fills.filter { $0.code == code })
        try page.html().write(toFile: path, atomically: true, encoding: .utf8)
        FileHandle.standardError.write(Data("kistick: wrote \(path)\n".utf8))
    }

    /// The threaded run: every message, wall-clock stamped, through the stage threads.
    private func measure(_ recorded: RecordedMessages, settings: ReplaySettings) throws -> BenchReport {
        let pipeline = try PipelineHarness(
            codes: settings.codes, parameters: settings.parameters, settingsPath: settings.settingsPath,
            speed: settings.marketSpeed)
        // Fused as live is: with fewer than four cores the candle and strategy stages share one thread.
        try pipeline.start(
            wait: SpinThenYield(), fused: EngineSettings(codes: settings.codes, journalPath: "").fuseMarketStages)
        var scratch = [UInt8](repeating: 0, count: recorded.longest)
        let start = WallClock().now()
        recorded.forEach { _, payload in
            scratch.withUnsafeMutableBytes { buffer in
                let message = UnsafeMutableRawBufferPointer(rebasing: buffer[..<payload.count])
                message.copyMemory(from: payload)
                pipeline.feedMessage(message, localTs: WallClock().now())
            }
        }
        pipeline.settle()
        let elapsed = WallClock().now() - start
        let latency = pipeline.stop()
        return BenchReport(
            messages: recorded.count, records: pipeline.records, bytes: recorded.bytes, nanoseconds: elapsed,
            malformed: pipeline.malformed, conflated: pipeline.conflatedBooks, spilled: pipeline.spilled,
            lost: pipeline.lost, latency: latency)
    }

    /// The trades the strategy makes on this file, as `kistick replay` finds them.
    static func deterministicReplay(_ recorded: RecordedMessages, settings: ReplaySettings) throws -> ReplaySummary {
        let engine = try ReplayEngine(settings: settings)
        var scratch = [UInt8](repeating: 0, count: recorded.longest)
        recorded.forEach { localNs, payload in
            scratch.withUnsafeMutableBytes { buffer in
                let message = UnsafeMutableRawBufferPointer(rebasing: buffer[..<payload.count])
                message.copyMemory(from: payload)
                engine.message(message, localNs: localNs)
            }
        }
        return engine.finish()
    }
}

/// A capture's data messages in one buffer, so a benchmark measures the pipeline, not the file.
struct RecordedMessages {
    private var data: [UInt8] = []
    private var ends: [Int] = []
    private var times: [Int64] = []
    private(set) var longest = 0

    init(reader: CaptureReader) throws {
        _ = try reader.read { message in
            guard message.kind == .message else { return }
            self.data.append(contentsOf: message.bytes)
            self.ends.append(self.data.count)
            self.times.append(message.localNs)
            self.longest = max(self.longest, message.bytes.count)
        }
    }

    var count: Int { self.ends.count }
    var bytes: Int { self.data.count }

    /// Each message in order, with its receive time.
    func forEach(_ body: (Int64, UnsafeRawBufferPointer) -> Void) {
        self.data.withUnsafeBytes { all in
            var start = 0
            for (i, end) in self.ends.enumerated() {
                body(self.times[i], UnsafeRawBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
    }

    /// One-minute bars of `code` from the recorded trades, by exchange time.
    func minuteBars(code: String) -> [MinuteBar] {
        guard var decoder = try? FeedDecoder(), let symbol = SymbolCode(code) else { return [] }
        var sink = MinuteBarSink(code: symbol)
        var scratch = [UInt8](repeating: 0, count: self.longest)
        self.forEach { localNs, payload in
            guard payload.starts(with: "0|H0STCNT0".utf8) else { return }
            scratch.withUnsafeMutableBytes { buffer in
                let message = UnsafeMutableRawBufferPointer(rebasing: buffer[..<payload.count])
                message.copyMemory(from: payload)
                _ = try? decoder.decode(message, localTs: localNs, into: &sink)
            }
        }
        return sink.bars
    }
}

/// A one-minute bar, KRW.
struct MinuteBar {
    var minute: Int64
    var open: Int64
    var high: Int64
    var low: Int64
    var close: Int64
}

/// Collects one code's trades into one-minute bars.
struct MinuteBarSink: FeedSink {
    let code: SymbolCode
    var bars: [MinuteBar] = []

    mutating func trade(_ trade: Trade) {
        guard trade.code == self.code else { return }
        let minute = Int64(trade.exchangeTime) / 60
        let price = Int64(trade.price)
        if var last = self.bars.last, last.minute == minute {
            last.high = max(last.high, price)
            last.low = min(last.low, price)
            last.close = price
            self.bars[self.bars.count - 1] = last
        } else {
            self.bars.append(MinuteBar(minute: minute, open: price, high: price, low: price, close: price))
        }
    }

    mutating func book(_ book: Book) {}
    mutating func notice(_ notice: Notice) {}
}

/// What `bench` measured.
struct BenchReport {
    var messages: Int
    var records: Int
    var bytes: Int
    var nanoseconds: Int64
    var malformed: Int
    var conflated: Int
    var spilled: Int
    var lost: Int
    var latency: PipelineLatency
    /// The deterministic replay of the same messages: inline, on replay time, with the simulated exchange.
    var replayNanoseconds: Int64 = 0

    var seconds: Double { Double(self.nanoseconds) / 1e9 }
    var recordsPerSecond: Int { Int(Double(self.records) / self.seconds) }
    var megabytesPerSecond: Double { Double(self.bytes) / 1e6 / self.seconds }
    var replayRecordsPerSecond: Int { Int(Double(self.records) / max(1e-9, Double(self.replayNanoseconds) / 1e9)) }

    var intervals: [(PipelineInterval, LatencySummary)] {
        PipelineInterval.allCases.compactMap { interval in
            self.latency[interval].count == 0 ? nil : (interval, self.latency[interval].summary())
        }
    }

    func table() -> [String] {
        var lines = [
            "\(self.messages) messages, \(self.records) records, \(self.bytes) bytes in "
                + String(format: "%.3f s: %d records/s, %.1f MB/s", self.seconds, self.recordsPerSecond, self.megabytesPerSecond),
            "malformed \(self.malformed), books conflated \(self.conflated), spilled \(self.spilled), lost \(self.lost)",
            "replay (inline, replay time, simulated exchange): "
                + String(format: "%.3f s: %d records/s", Double(self.replayNanoseconds) / 1e9, self.replayRecordsPerSecond),
        ]
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        lines.append(["interval", "count", "p50", "p90", "p99", "p99.9", "max"].enumerated().map { pad($1, $0 == 0 ? 18 : 10) }.joined())
        for (interval, s) in self.intervals {
            let cells = [interval.label, "\(s.count)"] + [s.p50, s.p90, s.p99, s.p999, s.max].map(LatencySummary.text)
            lines.append(cells.enumerated().map { pad($1, $0 == 0 ? 18 : 10) }.joined())
        }
        return lines
    }

    func json() -> String {
        let intervals = self.intervals.map { interval, s in
            #""\#(interval.label)":{"count":\#(s.count),"p50_ns":\#(s.p50),"p90_ns":\#(s.p90),"p99_ns":\#(s.p99),"#
                + #""p99_9_ns":\#(s.p999),"max_ns":\#(s.max)}"#
        }
        return #"{"messages":\#(self.messages),"records":\#(self.records),"bytes":\#(self.bytes),"#
            + #""seconds":\#(self.seconds),"records_per_second":\#(self.recordsPerSecond),"#
            + #""mb_per_second":\#(String(format: "%.1f", self.megabytesPerSecond)),"malformed":\#(self.malformed),"#
            + #""books_conflated":\#(self.conflated),"spilled":\#(self.spilled),"lost":\#(self.lost),"#
            + #""replay_seconds":\#(Double(self.replayNanoseconds) / 1e9),"#
            + #""replay_records_per_second":\#(self.replayRecordsPerSecond),"#
            + #""latency":{\#(intervals.joined(separator: ","))}}"#
    }
}
