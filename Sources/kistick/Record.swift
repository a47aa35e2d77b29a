import ArgumentParser
import Capture
import Engine
import Feed
import Foundation
import KIS
import Simulator
import Synchronization
import TickCore

/// `kistick record`: raw KIS WebSocket traffic into a capture file, for `capture`, `replay` and `bench`.
struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record the raw KIS feed of some codes into a capture file.",
        discussion: """
            Subscribes trades and books (and with --notices the account's fill notices) and writes every message \
            exactly as received, with its local receive time, into zstd blocks flushed at least every second \
            (captures/README.md has the format). Records from KIS with kis_devlp.yaml, from any KIS-compatible \
            server named by KIS_REST_URL/KIS_WS_URL, or, with --sim or when no configuration is found, from an \
            embedded simulator. Credentials never reach the file. A status line shows messages, bytes and the \
            compression ratio; Ctrl-C or --duration ends the recording and writes the index.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "The capture file (rotated files insert .001, .002 … before the extension).") var out: String
    @Option(help: "Comma-separated KRX codes (at most 20).")
    var codes = Catalog.knownCodes.prefix(5).joined(separator: ",")
    @Option(help: "Wall-clock seconds to record (default: until interrupted).") var duration: Double?
    @Flag(help: "Also subscribe the account's order and fill notices.") var notices = false
    @Option(help: "Feeds to record: krx (default), nxt or sor (KRX's and NXT's), combined (the combined market).")
    var venue: VenueOption = .krx
    @Option(
        help:
            "zstd level: 9 makes trade frames ~7.5x smaller at ~55 MB/s of the writer's core; 19 ~8% smaller at 2 MB/s."
    )
    var level = CaptureWriter.Options.defaultCompressionLevel
    @Option(help: "Start a new file after this many MB (default: only at each KST midnight).") var rotateMb: Int?
    @Option(help: "Simulator only: seed of the simulated market.") var seed: UInt64 = 1
    @Option(help: "Simulator only: simulated seconds per real second.") var speed = 1.0
    @Option(help: "Simulator only: market time of day to start at, HHMMSS (KST).") var start: UInt32 = 90_000

    func validate() throws {
        let list = EngineOptions.list(self.codes)
        // A trade and a book registration per code and venue, and the notices one more, of KIS's 41.
        let most = 40 / (2 * self.venue.mode.feeds.count)
        guard !list.isEmpty, list.count <= most else {
            throw ValidationError("name 1 to \(most) codes with --venue \(self.venue)")
        }
        for code in list where !Catalog.isValidCode(code) {
            throw ValidationError("not a KRX code: \(code)")
        }
        guard self.duration.map({ $0 > 0 && $0.isFinite }) ?? true else {
            throw ValidationError("--duration must be positive")
        }
        // In bytes it must fit an Int64 with room to spare.
        guard self.rotateMb.map({ (1...(1 << 30)).contains($0) }) ?? true else {
            throw ValidationError("--rotate-mb takes 1 to 1073741824")
        }
        guard (1...22).contains(self.level) else { throw ValidationError("--level takes 1 to 22") }
        guard self.speed > 0, self.speed <= 600 else { throw ValidationError("--speed takes a number in (0, 600]") }
        do {
            try self.simulatorConfig.validate()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The embedded simulator's settings, when there is no KIS to record.
    private var simulatorConfig: SimConfig {
        var config = SimConfig()
        config.seed = self.seed
        config.symbols = EngineOptions.list(self.codes)
        config.clock = .realtime(speed: self.speed)
        config.startTime = self.start
        config.servers = [.paper: SimConfig.Ports(), .real: SimConfig.Ports()]
        return config
    }

    func run() async throws {
        if !self.connection.sim, let client = try self.configuredClient() {
            defer { client.tokens.stop() }
            try await self.record(client: client, environment: "\(client.settings.environment)", note: "kistick record")
            return
        }
        let simulator = Simulator(config: self.simulatorConfig)
        let endpoints = try await simulator.start()
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kistick-record-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let settings = ClientSettings.madeUp(
            environment: .paper,
            restURL: endpoints[.paper]!.rest,
            webSocketURL: endpoints[.paper]!.webSocket
        )
        let client = try KISClient.make(settings: settings, cache: try TokenCache(directory: cache))
        defer { client.tokens.stop() }
        let note = "kistick record: embedded simulator, seed \(self.seed), speed \(self.speed), start \(self.start)"
        do {
            try await self.record(client: client, environment: "sim", note: note)
        } catch {
            try? await simulator.stop()
            throw error
        }
        try await simulator.stop()
    }

    /// The client `kis_devlp.yaml` (or KIS_REST_URL/KIS_WS_URL) describes; nil, after saying so, when there is no
    /// configuration and none was named, so the recording falls back to the simulator.
    private func configuredClient() throws -> KISClient? {
        let variables = ProcessInfo.processInfo.environment
        let config: KISConfig
        do {
            config = try KISConfig.load(
                path: self.connection.config,
                environment: self.connection.env.environment,
                environmentVariables: variables
            )
        } catch {
            guard self.connection.config == nil, variables[KISConfig.webSocketURLVariable] == nil else { throw error }
            FileHandle.standardError.write(
                Data("no KIS configuration (\(error)): recording the embedded simulator\n".utf8)
            )
            return nil
        }
        let settings = ClientSettings(config: config, environmentVariables: variables)
        let client = try KISClient.make(
            settings: settings,
            cache: try TokenCache(environmentVariables: variables),
            refreshEvery: .seconds(60)
        )
        ConnectionOptions.announceTokenWaits(client)
        return client
    }

    private func record(client: KISClient, environment: String, note: String) async throws {
        let codes = EngineOptions.list(self.codes)
        let session = WebSocketSession(configuration: .init(url: client.settings.webSocketURL))
        for code in codes {
            for subscription in Subscription.marketData(code, venues: self.venue.mode.feeds) {
                try session.subscribe(subscription)
            }
        }
        let notices =
            self.notices
            ? Subscription.notices(htsID: client.settings.htsID, environment: client.settings.environment) : nil
        if let notices { try session.subscribe(notices) }
        let options = EngineOptions.captureOptions(client: client, level: self.level)
        let header = EngineOptions.captureHeader(
            codes: codes,
            notices: notices,
            label: (environment, note),
            venues: self.venue.mode.feeds
        )
        let rotation = CaptureRotation(daily: true, maxBytes: self.rotateMb.map { Int64($0) << 20 })
        let writer = try CaptureWriter(path: self.out, header: header, rotation: rotation, options: options)

        let state = RecordingState()
        let feed = Thread {
            var keys = CapturingApprovalKeys(client, writer: writer)
            var sink = DiscardingSink()
            var observer = CapturingObserver(NoteObserver(state: state), writer: writer)
            do {
                try session.run(approvalKeys: &keys, sink: &sink, observer: &observer)
            } catch {
                state.note("cannot start the notice cipher: \(error)")
            }
            state.done.store(true, ordering: .releasing)
        }
        feed.name = "kistick-record"
        feed.start()
        let stopAt = self.duration.map { Date().addingTimeInterval($0) }
        let interrupt = InterruptFlag()
        let tty = isatty(STDERR_FILENO) != 0
        var failureSaid = false
        while !interrupt.isRaised, stopAt.map({ Date() < $0 }) ?? true, !state.done.load(ordering: .acquiring) {
            try await Task.sleep(for: .seconds(1))
            let line = Self.status(writer.stats, counters: session.counters)
            FileHandle.standardError.write(Data((tty ? "\r\u{1B}[2K" + line : line + "\n").utf8))
            var notes = state.takeNotes()
            if !failureSaid, let failure = writer.failure {
                failureSaid = true
                notes.append("the recording stopped: \(failure)")
            }
            for note in notes {
                FileHandle.standardError.write(Data(((tty ? "\n" : "") + note + "\n").utf8))
            }
        }
        session.stop()
        while !state.done.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(10)) }
        let stats = try writer.finish()
        if tty { FileHandle.standardError.write(Data("\n".utf8)) }
        print(Self.status(stats, counters: session.counters))
        print("wrote " + writer.paths.joined(separator: ", "))
    }

    static func status(_ stats: CaptureStats, counters: WebSocketCounters) -> String {
        let mb = { (bytes: Int) in String(format: "%.2f MB", Double(bytes) / 1_048_576) }
        return "messages \(stats.messages)  raw \(mb(stats.rawBytes))  written \(mb(stats.compressedBytes))"
            + "  ratio \(String(format: "%.1fx", stats.compressionRatio))  dropped \(stats.dropped)"
            + "  files \(stats.files)  reconnects \(counters.reconnects)"
    }
}

/// What the recording's feed thread tells the command's loop.
private final class RecordingState: Sendable {
    let done = Atomic<Bool>(false)
    private let notes = Mutex<[String]>([])

    func note(_ text: String) { self.notes.withLock { $0.append(text) } }
    func takeNotes() -> [String] {
        self.notes.withLock { notes in
            defer { notes = [] }
            return notes
        }
    }
}

private struct DiscardingSink: FeedSink {
    mutating func trade(_ trade: Trade) {}
    mutating func book(_ book: Book) {}
    mutating func notice(_ notice: Notice) {}
}

/// Keeps what a person recording should hear about: disconnects and refusals.
private struct NoteObserver: WebSocketObserver {
    let state: RecordingState

    mutating func event(_ event: WebSocketEvent) {
        switch event {
        case .disconnected(.stopped): break
        case .disconnected(let reason): self.state.note("disconnected: \(reason)")
        case .subscribeFailed(let subscription, let error): self.state.note("\(subscription): \(error)")
        case .serverError(let code, let message): self.state.note("KIS \(code): \(message)")
        case .approvalKeyUnavailable(let error): self.state.note("approval key: \(error)")
        default: break
        }
    }
}
