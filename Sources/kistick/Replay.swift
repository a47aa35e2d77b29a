import ArgumentParser
import Capture
import Foundation
import KIS
import Pipeline
import Replay
import TickCore

/// `kistick replay`: a capture through the live pipeline and strategy, on replay time, against a simulated exchange.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a capture through the live pipeline and strategy against a simulated exchange.",
        discussion: """
            Every recorded trade and book goes through the same feed router, candle and strategy stages, \
            ScalpingStrategy, risk gate, order state machine and positions as a live run, on one thread, with time \
            read from the capture (the receive time of the message being replayed), never from the wall clock. \
            Orders fill from the recorded book (marketable limits take the recorded levels; resting limits fill when \
            a recorded trade prints through them) after --entry-latency-us and answer after --ack-latency-us of \
            replay time. The recorded session's own order notices are skipped. The same file and settings give a \
            byte-identical summary; --json prints it on stdout with no wall-clock figure in it.
            """
    )

    @Argument(help: "The capture file.") var file: String
    @OptionGroup var replay: ReplayOptions
    @Option(help: "Pace: a factor of the recorded time, or 'max'. Changes how long it takes, never the result.")
    var speed = "max"
    @Flag(help: "Print the summary as JSON on stdout.") var json = false

    func validate() throws {
        guard self.speed == "max" || (Double(self.speed).map { $0 > 0 && $0.isFinite } ?? false) else {
            throw ValidationError("--speed takes a positive number or 'max'")
        }
        try self.replay.validate()
    }

    func run() throws {
        let reader = try CaptureReader(path: self.file)
        let settings = try self.replay.settings(header: reader.header, file: self.file)
        let engine = try ReplayEngine(settings: settings)
        let span = try CaptureSpan(reader: reader)
        var progress = ProgressBar(total: span.messages)
        let pace = Double(self.speed)
        let wallStart = WallClock().now()
        let end = reader.read { message in
            if let pace {
                let due = wallStart + Int64(Double(message.localNs - span.firstNs) / pace)
                let wait = due - WallClock().now()
                if wait > 0 { WallClock().sleep(nanoseconds: wait) }
            }
            switch message.kind {
            case .message: engine.message(message.bytes, localNs: message.localNs)
            case .disconnected: engine.disconnected(localNs: message.localNs)
            case .connected: break
            }
            progress.advance()
        }
        progress.finish()
        if case .truncated(let why) = end { FileHandle.standardError.write(Data("kistick: \(why)\n".utf8)) }
        _ = CaptureText.warn(reader.damage)
        let summary = engine.finish()
        print(self.json ? summary.json() : summary.table().joined(separator: "\n"))
    }
}

/// What `replay` and `bench` share: the strategy settings, the codes, the market speed and the order latencies.
struct ReplayOptions: ParsableArguments {
    @Option(help: "Strategy and risk settings (flat key: value YAML, as paper --settings).") var settings: String?
    @Option(help: "Comma-separated codes to trade (default: every code the capture subscribed).") var codes: String?
    @Option(
        help: """
            Market seconds per recorded second: the simulator's --speed the capture was recorded at, 1 for KIS \
            (default: the 'speed N' of the capture's note, else 1).
            """
    )
    var marketSpeed: Double?
    @Option(help: "Decision to exchange, microseconds of replay time.") var entryLatencyUs: Int64 = 1_000
    @Option(help: "Exchange to engine (REST answer and notices), microseconds of replay time.") var ackLatencyUs:
        Int64 = 1_000

    func validate() throws {
        // An hour is far beyond any order path, and in nanoseconds it stays far from overflowing replay time.
        for (name, value) in [("--entry-latency-us", self.entryLatencyUs), ("--ack-latency-us", self.ackLatencyUs)]
        where !(0...3_600_000_000).contains(value) {
            throw ValidationError("\(name) takes 0 to 3600000000 microseconds")
        }
        if let speed = self.marketSpeed, !(speed > 0 && speed.isFinite) {
            throw ValidationError("--market-speed takes a positive number")
        }
        if let codes = self.codes { try EngineOptions().validate(codes: codes) }
    }

    func settings(header: CaptureHeader, file: String) throws -> ReplaySettings {
        let codes = self.codes.map(EngineOptions.list) ?? header.codes
        guard !codes.isEmpty else { throw ValidationError("\(file) names no codes: pass --codes") }
        var settings = ReplaySettings(codes: codes.compactMap(SymbolCode.init))
        if let path = self.settings {
            settings.parameters = try SettingsFile.load(path: path, keys: PipelineSettings.knownKeys)
            settings.settingsPath = path
        }
        settings.marketSpeed = self.marketSpeed ?? Self.recordedSpeed(note: header.note) ?? 1
        settings.latency = ReplayLatency(entry: self.entryLatencyUs * 1_000, ack: self.ackLatencyUs * 1_000)
        return settings
    }

    /// The number after "speed " in a capture's note ("kistick sim seed 7, speed 60").
    static func recordedSpeed(note: String) -> Double? {
        guard let range = note.range(of: "speed ") else { return nil }
        let number = note[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        return Double(number).flatMap { $0 > 0 ? $0 : nil }
    }
}

/// How many messages a capture holds and when the first was received, for pacing and the progress bar.
struct CaptureSpan {
    var messages = 0
    var firstNs: Int64 = 0
    var lastNs: Int64 = 0
    var bytes = 0

    init(reader: CaptureReader) throws {
        _ = reader.read { message in
            if self.messages == 0 { self.firstNs = message.localNs }
            self.lastNs = message.localNs
            self.messages += 1
            self.bytes += message.bytes.count
        }
    }
}

/// A one-line progress bar on stderr, redrawn at each whole percent.
struct ProgressBar {
    let total: Int
    private var done = 0
    private var shown = -1

    init(total: Int) { self.total = max(1, total) }

    mutating func advance() {
        self.done += 1
        let percent = self.done * 100 / self.total
        guard percent != self.shown else { return }
        self.shown = percent
        let filled = percent / 2
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: 50 - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(percent)% \(self.done)/\(self.total) messages".utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
