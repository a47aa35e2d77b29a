import ArgumentParser
import Capture
import Foundation
import KIS
import Pipeline
import Replay
import TickCore

/// `kistick bench`: a capture from memory through the pipeline as live runs it, with stage latencies.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Feed a capture from memory through the pipeline as live runs it; report throughput and latency.",
        discussion: """
            The capture's messages are loaded into memory, then fed to the pipeline from this thread in place of the \
            feed thread, stamped with the wall clock as a socket read is, while the market stage (bars, strategy, \
            risk, order book) runs on its own thread, waiting as the engine's does; the strategy's orders are \
            refused, as by a dispatcher with no connection. Without --rate the feed goes as fast as the stage takes \
            it: records/s, and latency that is mostly the wait in the queue (reported as such). With --rate N each \
            message waits for its due time at N records/s: frame ready → decision, the pipeline's own latency. \
            --busy-poll makes the market thread spin instead of sleeping between events. The deterministic replay \
            (`kistick replay`) of the same file is timed too. --html also charts the latency distributions and one \
            code's one-minute candles with the replay's trades.
            """
    )

    @Argument(help: "The capture file.") var file: String
    @OptionGroup var replay: ReplayOptions
    @Option(help: "Feed at this many records a second (default: as fast as possible).") var rate: Double?
    @Flag(help: "The market thread spins instead of sleeping between events.") var busyPoll = false
    @Flag(help: "Skip the deterministic replay's timing.") var noReplay = false
    @Flag(help: "Print the report as JSON on stdout.") var json = false
    @Option(help: "Write a self-contained HTML report here.") var html: String?
    @Option(help: "The code whose candles the HTML report charts (default: the first traded).") var chart: String?

    func validate() throws {
        try self.replay.validate()
        if let rate = self.rate, !(rate > 0) {
            throw ValidationError("--rate takes a positive number of records a second")
        }
    }

    func run() throws {
        let reader = try CaptureReader(path: self.file)
        let settings = try self.replay.settings(header: reader.header, file: self.file)
        let recorded = RecordedMessages(reader: reader)
        _ = CaptureText.warn(recorded.damage)
        var pipeline = PipelineSettings(codes: settings.codes)
        pipeline.parameters = settings.parameters
        pipeline.settingsPath = settings.settingsPath
        pipeline.speed = settings.marketSpeed
        var bench = CaptureBench(settings: pipeline)
        bench.rate = self.rate
        if self.busyPoll { bench.waiting = .busyPoll(cpu: nil) }
        var report = try bench.run(recorded)
        var summary: ReplaySummary?
        if !self.noReplay || self.html != nil {
            let start = WallClock().now()
            summary = try Self.deterministicReplay(recorded, settings: settings)
            report.replayNanoseconds = WallClock().now() - start
        }
        print(self.json ? report.json() : report.table().joined(separator: "\n"))
        guard let path = self.html, let summary else { return }
        let code = self.chart ?? summary.fills.first?.code ?? settings.codes[0].description
        let page = BenchPage(
            file: self.file,
            report: report,
            code: code,
            bars: SymbolCode(code).map { BenchPage.minuteBars(of: $0, in: recorded) } ?? [],
            fills: summary.fills.filter { $0.code == code }
        )
        try PrivateFile.write(Array(page.html().utf8), to: path)
        FileHandle.standardError.write(Data("kistick: wrote \(path)\n".utf8))
    }

    /// The trades the strategy makes on this file, as `kistick replay` finds them.
    static func deterministicReplay(_ recorded: RecordedMessages, settings: ReplaySettings) throws -> ReplaySummary {
        let engine = try ReplayEngine(settings: settings)
        recorded.forEachMessage { localNs, message in engine.message(message, localNs: localNs) }
        return engine.finish()
    }
}
