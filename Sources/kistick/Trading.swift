import ArgumentParser
import Capture
import Engine
import Foundation
import KIS
import Simulator
import TickCore

/// `kistick paper`: the engine trading an embedded simulator at an accelerated clock, the product's main job.
struct Paper: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Trade the embedded KIS simulator with the default scalping strategy.",
        discussion: """
            Starts a simulator on loopback (paper environment, seeded market), runs the full engine against it \
            (feed, candles, strategy, risk, orders, journal) at --speed times real time, shows a live status, and \
            ends with a summary. SIGUSR1 or `kistick kill` arms the kill switch (cancel everything, flatten).
            """)

    @OptionGroup var engine: EngineOptions
    @Option(help: "Wall-clock seconds to run.") var duration = 60.0
    @Option(help: "Market speed: simulated seconds per real second.") var speed = 60.0
    @Option(help: "Comma-separated KRX codes (at most 20).")
    var codes = Catalog.knownCodes.prefix(10).joined(separator: ",")
    @Option(help: "Seed of the simulated market.") var seed: UInt64 = 1
    @Option(help: "Market time of day to start at, HHMMSS (KST).") var start: UInt32 = 90_000

    func validate() throws {
        try self.engine.validate(codes: self.codes)
        guard self.duration > 0 else { throw ValidationError("--duration must be positive") }
        guard self.speed > 0, self.speed <= 600 else { throw ValidationError("--speed takes a number in (0, 600]") }
    }

    func run() async throws {
        var config = SimConfig()
        config.seed = self.seed
        config.symbols = EngineOptions.list(self.codes)
        config.clock = .realtime(speed: self.speed)
        config.startTime = self.start
        // Paper clients read quotes from the real host, so both environments run.
        config.servers = [.paper: SimConfig.Ports(), .real: SimConfig.Ports()]
        let simulator = Simulator(config: config)
        let endpoints = try await simulator.start()
        let cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("kistick-paper-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: cacheDirectory) }
        let settings = ClientSettings.madeUp(
            environment: .paper, restURL: endpoints[.paper]!.rest, webSocketURL: endpoints[.paper]!.webSocket)
        let client = KISClient.make(settings: settings, cache: try TokenCache(directory: cacheDirectory), refreshEvery: .seconds(60))
        defer { client.tokens.stop() }
        // The simulator's account is new on every run, so yesterday's journal would describe someone else's orders.
        let journal = self.engine.journal ?? (cacheDirectory + "/journal.sqlite")
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        do {
            try await self.engine.run(
                client: client, codes: self.codes, speed: self.speed, journal: journal, duration: self.duration,
                captureLabel: ("sim", "kistick paper: embedded simulator, seed \(self.seed), speed \(self.speed), start \(self.start)"))
        } catch {
            try? await simulator.stop()
            throw error
        }
        try await simulator.stop()
    }
}

/// `kistick live`: the same engine against KIS (or any KIS-compatible server named by KIS_REST_URL/KIS_WS_URL).
struct Live: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the engine against KIS with the account in kis_devlp.yaml.",
        discussion: """
            Paper (모의투자) unless --env real, which trades real money and needs --yes-real-money. The journal \
            survives restarts: after a crash the next run rebuilds its state from it and reconciles with KIS before \
            sending anything. SIGUSR1 or `kistick kill` arms the kill switch.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var engine: EngineOptions
    @Option(help: "Comma-separated KRX codes (at most 20).") var codes: String
    @Option(help: "Wall-clock seconds to run (default: until SIGINT/SIGTERM).") var duration: Double?
    @Flag(help: "Required with --env real: the engine trades real money.") var yesRealMoney = false

    func validate() throws {
        try self.engine.validate(codes: self.codes)
        guard self.connection.env == .paper || self.yesRealMoney else {
            throw ValidationError("--env real trades real money: add --yes-real-money if that is what you want")
        }
    }

    func run() async throws {
        try await self.connection.withClient(longRunning: true) { client in
            let journal = try self.engine.journal ?? EngineOptions.defaultJournal(client.settings)
            try await self.engine.run(
                client: client, codes: self.codes, speed: 1, journal: journal, duration: self.duration)
        }
    }
}

/// `kistick kill`: arms the kill switch of the engine running on this machine.
struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Arm the kill switch of a running `kistick paper` or `kistick live`: cancel all, flatten, no entries.")

    func run() throws {
        let path = EngineOptions.pidFile
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ValidationError("no running engine: \(path) is missing")
        }
        guard kill(pid, SIGUSR1) == 0 else { throw ValidationError("engine process \(pid) is gone (\(String(cString: strerror(errno))))") }
        print("kill switch armed in process \(pid)")
    }
}

/// What `paper` and `live` share: the settings file, the report, the journal.
struct EngineOptions: ParsableArguments {
    @Option(help: "Strategy and risk settings (flat key: value YAML; README lists the keys).") var settings: String?
    @Option(help: "Write the end-of-run report as JSON here.") var report: String?
    @Option(help: "SQLite journal of orders, fills and positions.") var journal: String?
    @Option(help: "Record the raw feed into this capture file while trading (see `kistick record`).")
    var capture: String?

    static func list(_ codes: String) -> [String] {
        codes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func validate(codes: String) throws {
        let list = Self.list(codes)
        guard !list.isEmpty else { throw ValidationError("name at least one code") }
        // Each code takes a trade and a book registration, and the notices one more, of KIS's 41.
        guard list.count <= 20 else { throw ValidationError("at most 20 codes: KIS allows 41 registrations per session") }
        for code in list where !Catalog.isValidCode(code) {
            throw ValidationError("not a KRX code: \(code)")
        }
    }

    /// One journal per environment and account, where the next run after a crash finds it.
    static func defaultJournal(_ settings: ClientSettings) throws -> String {
        let directory = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/kistick").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return "\(directory)/journal-\(settings.environment)-\(settings.account.cano).sqlite"
    }

    /// A writer for the engine's feed: the TRs it subscribes (trades, books, the account's notices), credentials
    /// redacted.
    static func captureWriter(
        path: String, client: KISClient, codes: [String], label: (environment: String, note: String)
    ) throws -> CaptureWriter {
        let notices = Subscription.notices(htsID: client.settings.htsID, environment: client.settings.environment)
        let header = CaptureHeader(
            environment: label.environment, codes: codes,
            trIDs: ["\(Subscription.trades(codes[0]).tr)", "\(Subscription.book(codes[0]).tr)", "\(notices.tr)"],
            startNs: WallClock().now(), note: label.note)
        var options = CaptureWriter.Options()
        // `reveal` here: the credentials go only into the capture's redactor, which overwrites them.
        options.secrets = [client.settings.credentials.appKey.reveal, client.settings.credentials.appSecret.reveal]
        if let token = try? client.tokens.current() { options.secrets.append(token.token.reveal) }
        return try CaptureWriter(path: path, header: header, options: options)
    }

    /// Where a running engine leaves its process id for `kistick kill`.
    static var pidFile: String {
        FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/kistick/engine.pid").path
    }

    /// - Parameter captureLabel: the capture header's environment and note, if `--capture` records.
    func run(
        client: KISClient, codes: String, speed: Double, journal: String, duration: Double?,
        captureLabel: (environment: String, note: String)? = nil
    ) async throws {
        var settings = EngineSettings(codes: Self.list(codes).compactMap(SymbolCode.init), journalPath: journal)
        settings.speed = speed
        if let path = self.capture {
            settings.capture = try Self.captureWriter(
                path: path, client: client, codes: Self.list(codes),
                label: captureLabel ?? ("\(client.settings.environment)", "kistick live"))
        }
        if let path = self.settings {
            settings.parameters = try SettingsFile.load(path: path, keys: EngineSettings.knownKeys)
            settings.settingsPath = path
        }
        let engine = try Engine(client: client, settings: settings)
        try engine.start()
        let controls = EngineControls(pidFile: Self.pidFile)
        defer { controls.close() }
        let stopAt = duration.map { Date().addingTimeInterval($0) }
        var display = StatusDisplay()
        while !controls.stopRequested, stopAt.map({ Date() < $0 }) ?? true {
            try await Task.sleep(for: .seconds(1))
            if controls.takeKillRequest() { engine.armKillSwitch() }
            display.render(engine.status())
        }
        let report = engine.stop()
        display.summary(report)
        if let writer = settings.capture {
            let stats = try writer.finish()
            print(Record.status(stats, counters: WebSocketCounters()).components(separatedBy: "  reconnects")[0])
            print("capture: " + writer.paths.joined(separator: ", "))
        }
        if let path = self.report {
            try report.json().write(to: URL(fileURLWithPath: path))
        }
    }
}
