import ArgumentParser
import Capture
import Dashboard
import Engine
import EventLog
import Foundation
import KIS
import Screener
import Simulator
import Telegram
import TickCore
import Trading

/// `kistick paper`: the engine trading an embedded simulator at an accelerated clock, the product's main job.
struct Paper: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Trade the embedded KIS simulator with the default scalping strategy.",
        discussion: """
            Starts a simulator on loopback (paper environment, seeded market), runs the full engine against it \
            (feed, candles, strategy, risk, orders, journal) at --speed times real time, shows a live status, and \
            ends with a summary. SIGUSR1 or `kistick kill` arms the kill switch (cancel everything, flatten). With \
            --telegram the run is reported to, and commanded from, a Telegram chat (docs/operations.md §3). With \
            --market FILE the simulator's market is a capture, played again (`kistick sim --capture`), and the \
            engine trades its codes. With --app-keys N the engine streams over N made-up app keys, 20 codes each \
            (docs/operations.md, "More codes than one app key"). With --venue nxt, sor or combined the engine trades \
            the simulator's real server with a made-up real account, because KIS's paper server takes KRX orders \
            only and serves no combined feed (docs/venues.md).
            """
    )

    /// Said in the configuration line, the status and the summary when `paper` trades a simulated real account.
    static let simulatedRealAccount = "simulated real account: KIS's paper server takes KRX orders only"

    @OptionGroup var engine: EngineOptions
    @OptionGroup var log: LogOptions
    @Option(help: "Wall-clock seconds to run.") var duration = 60.0
    @Option(help: "Market speed: simulated seconds per real second.") var speed = 60.0
    @Option(
        help: """
            Comma-separated KRX codes (at most 20 per app key); default: screen the simulated market and schedule \
            what passes.
            """
    )
    var codes: String?
    @Option(help: "App keys to stream over, 1 to 4: each gives one WebSocket session of 20 codes.") var appKeys = 1
    @Option(help: "Seed of the simulated market.") var seed: UInt64 = 1
    @Option(help: "Market time of day to start at, HHMMSS (KST).") var start: UInt32 = 90_000
    @Option(help: "A capture (.kcap) to trade again as the market instead of the seeded one.") var market: String?
    @Option(
        help: """
            Write the embedded simulator's ledger (GET /sim/ledger: its orders with each one's route and venue, \
            its holdings) here as JSON when the run ends, to check the journal against the exchange's own books.
            """
    )
    var simLedger: String?

    func validate() throws {
        guard (1...FeedKeys.maximumCount + 1).contains(self.appKeys) else {
            throw ValidationError("--app-keys takes 1 to \(FeedKeys.maximumCount + 1)")
        }
        if let codes = self.codes { try self.engine.validate(codes: codes, appKeys: self.appKeys) }
        guard self.duration > 0, self.duration.isFinite else { throw ValidationError("--duration must be positive") }
        guard self.speed > 0, self.speed <= 600 else { throw ValidationError("--speed takes a number in (0, 600]") }
        do {
            try self.config.validate()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The embedded simulator's settings, but for a recorded market, which is read when it runs.
    private var config: SimConfig {
        var config = SimConfig()
        config.seed = self.seed
        // Without codes the simulator trades the whole catalogue and the screen picks from it.
        config.symbols = self.codes.map(EngineOptions.list) ?? Catalog.knownCodes
        config.clock = .realtime(speed: self.speed)
        config.startTime = self.start
        // Paper clients read quotes from the real host, so both environments run.
        config.servers = [.paper: SimConfig.Ports(), .real: SimConfig.Ports()]
        return config
    }

    func run() async throws {
        try await self.log.around { log in try await self.run(log: log) }
    }

    private func run(log: EventLog) async throws {
        var config = self.config
        if let path = self.market {
            let recorded = try RecordedMarket(path: path)
            config.market = recorded
            // --speed is market speed; the capture already runs at the speed it was recorded at.
            config.clock = .realtime(speed: self.speed / (ReplayOptions.recordedSpeed(note: recorded.note) ?? 1))
        }
        let venue = try self.engine.venueMode()
        let simulatedReal = Self.tradesSimulatedReal(venue)
        let simulator = Simulator(config: config)
        try await simulator.start()
        log.logger(label: "kistick.config", console: false).notice(
            "configuration: the embedded simulator, made-up credentials",
            metadata: [
                "seed": "\(self.seed)", "speed": "\(self.speed)", "start": "\(self.start)",
                "market": "\(self.market ?? "seeded")", "venue": "\(venue)",
                "account": "\(simulatedReal ? Self.simulatedRealAccount : "paper")",
            ]
        )
        let cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("kistick-paper-\(getpid())")
            .path
        defer { try? FileManager.default.removeItem(atPath: cacheDirectory) }
        let settings = Self.account(of: simulator, real: simulatedReal)
        let real = simulator.endpoints[.real]!
        let client = try KISClient.make(
            settings: settings,
            cache: try TokenCache(directory: cacheDirectory),
            refreshEvery: .seconds(60)
        )
        defer { client.tokens.stop() }
        // Further made-up keys of the same account: the simulator takes any key of KIS's lengths.
        let feedKeys = (1..<self.appKeys).map { _ in
            ClientSettings.madeUp(environment: settings.environment, restURL: "", webSocketURL: "").credentials
        }
        let feedClients = try EngineOptions.feedClients(
            of: client,
            keys: feedKeys,
            cache: try TokenCache(directory: cacheDirectory)
        )
        defer { for feed in feedClients { feed.tokens.stop() } }
        // The simulator's account is new on every run, so yesterday's journal would describe someone else's orders.
        let journal = self.engine.journal ?? (cacheDirectory + "/journal.sqlite")
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        do {
            let plan: TradingPlan
            if let codes = self.codes {
                plan = TradingPlan(codes: EngineOptions.list(codes))
            } else if let recorded = config.market {
                plan = TradingPlan(codes: recorded.codes)
            } else {
                // The rankings are real-host quotations (and its 20 calls a second screen in seconds, not minutes).
                let quotes = try KISClient.make(
                    settings: .madeUp(environment: .real, restURL: real.rest, webSocketURL: real.webSocket),
                    cache: try TokenCache(directory: cacheDirectory + "/real")
                )
                defer { quotes.tokens.stop() }
                plan = try TradingPlan.screened(
                    client: quotes,
                    settings: try ScreenOptions.load(self.engine.settings, appKeys: self.appKeys).screen,
                    cachePath: cacheDirectory + "/daily-bars.sqlite"
                )
            }
            try await self.engine.run(
                client: client,
                feedClients: feedClients,
                plan: plan,
                speed: self.speed,
                journal: journal,
                duration: self.duration,
                log: log,
                mode: "paper",
                account: simulatedReal ? Self.simulatedRealAccount : nil,
                captureLabel: (
                    "sim",
                    "kistick paper: embedded simulator, seed \(self.seed), speed \(self.speed), start \(self.start)"
                )
            )
        } catch {
            try? await simulator.stop()
            throw error
        }
        if let path = self.simLedger { try PrivateFile.write(simulator.ledger(), to: path) }
        try await simulator.stop()
    }

    /// Whether `venue` needs the simulator's real server. KIS's paper server takes KRX orders only (the simulator's
    /// refuses NXT and SOR, KSIM0001) and serves no combined feed (OPSP0007), so every venue but KRX trades the real
    /// server: NXT's hours, SOR routing, the combined tape, with no money anywhere to lose.
    static func tradesSimulatedReal(_ venue: VenueMode) -> Bool {
        venue != .krx
    }

    /// The made-up account `paper` trades with, on the servers of `simulator` (started, bound to loopback by this
    /// process) and nowhere else: the only way `paper` builds a client. A real-environment account (`real`, for NXT
    /// and SOR) can thus reach no one's money, which is why `paper` never asks for --yes-real-money.
    static func account(of simulator: Simulator, real: Bool) -> ClientSettings {
        let endpoints = simulator.endpoints
        let realServer = endpoints[.real]!
        guard !real else {
            return .madeUp(environment: .real, restURL: realServer.rest, webSocketURL: realServer.webSocket)
        }
        var settings = ClientSettings.madeUp(
            environment: .paper,
            restURL: endpoints[.paper]!.rest,
            webSocketURL: endpoints[.paper]!.webSocket
        )
        // The quotations KIS serves on the real host only go there, as a paper account with its real app key in
        // kis_devlp.yaml does.
        settings.quotations = QuotationHost(
            restURL: realServer.rest,
            credentials: ClientSettings.madeUp(
                environment: .real,
                restURL: realServer.rest,
                webSocketURL: realServer.webSocket
            ).credentials
        )
        return settings
    }
}

/// `kistick live`: the same engine against KIS (or any KIS-compatible server named by KIS_REST_URL/KIS_WS_URL).
struct Live: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the engine against KIS with the account in kis_devlp.yaml.",
        discussion: """
            Paper (모의투자) unless --env real, which trades real money and needs --yes-real-money. The journal \
            survives restarts: after a crash the next run rebuilds its state from it and reconciles with KIS before \
            sending anything. SIGUSR1 or `kistick kill` arms the kill switch. With --telegram the run is reported \
            to, and commanded from, a Telegram chat (docs/operations.md §3). With --feed-keys FILE the quotes \
            stream over the further app keys FILE lists too, 20 codes each; orders stay on kis_devlp.yaml's key \
            (docs/operations.md, "More codes than one app key").
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var engine: EngineOptions
    @Option(
        help: """
            Comma-separated KRX codes (at most 20 per app key); default: screen (real-host rankings) and schedule \
            what passes.
            """
    )
    var codes: String?
    @Option(help: "Further app keys for quotes (feed_app_N/feed_sec_N, N = 1 to 3), one WebSocket session each.")
    var feedKeys: String?
    @Option(help: "SQLite cache of daily bars for the screen (default: ~/.cache/kistick/daily-bars.sqlite).")
    var cache: String?
    @Option(help: "Wall-clock seconds to run (default: until SIGINT/SIGTERM).") var duration: Double?
    @Flag(help: "Required with --env real: the engine trades real money.") var yesRealMoney = false

    func validate() throws {
        // The keys file is read when the run starts: here only the count the file may hold bounds the codes.
        let appKeys = self.feedKeys == nil ? 1 : FeedKeys.maximumCount + 1
        if let codes = self.codes { try self.engine.validate(codes: codes, appKeys: appKeys) }
        guard self.feedKeys == nil || !self.connection.sim else {
            throw ValidationError("--feed-keys reads real keys: with --sim, use `kistick paper --app-keys`")
        }
        if let duration = self.duration, !(duration > 0 && duration.isFinite) {
            throw ValidationError("--duration must be positive")
        }
        guard self.connection.env == .paper || self.yesRealMoney else {
            throw ValidationError("--env real trades real money: add --yes-real-money if that is what you want")
        }
    }

    func run() async throws {
        try await self.connection.withClient(longRunning: true) { client, log in
            var feedClients: [KISClient] = []
            if let path = self.feedKeys {
                let keys = try FeedKeys.load(path: path, account: client.settings.credentials)
                let cache = try TokenCache(environmentVariables: ProcessInfo.processInfo.environment)
                feedClients = try EngineOptions.feedClients(of: client, keys: keys, cache: cache)
            }
            defer { for feed in feedClients { feed.tokens.stop() } }
            let journal = try self.engine.journal ?? EngineOptions.defaultJournal(client.settings)
            let plan =
                try self.codes.map { TradingPlan(codes: EngineOptions.list($0)) }
                ?? TradingPlan.screened(
                    client: client,
                    settings: try ScreenOptions.load(self.engine.settings, appKeys: 1 + feedClients.count).screen,
                    cachePath: try self.cache ?? ScreenOptions.defaultCache()
                )
            try await self.engine.run(
                client: client,
                feedClients: feedClients,
                plan: plan,
                speed: 1,
                journal: journal,
                duration: self.duration,
                log: log,
                mode: "live"
            )
        }
    }
}

/// `kistick kill`: arms the kill switch of every engine running on this machine under this user.
struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Arm the kill switch of every running `kistick paper` and `kistick live`: cancel all, flatten.",
        discussion: """
            Each engine holds a lock on a pid file of its own in ~/.cache/kistick/engines while it runs; a file \
            whose lock nobody holds is left over from an engine that died and is removed, never signalled.
            """
    )

    func run() throws {
        let registry = try EngineOptions.registry()
        let signalled = registry.signalAll(SIGUSR1)
        guard !signalled.isEmpty else {
            throw ValidationError("no running engine (none registered in \(registry.directory))")
        }
        for (pid, error) in signalled {
            if error == 0 {
                print("kill switch armed in engine process \(pid)")
            } else {
                print("engine process \(pid) could not be signalled: \(String(cString: strerror(error)))")
            }
        }
        if signalled.contains(where: { $0.errno != 0 }) { throw ExitCode.failure }
    }
}

/// `--venue`: the `VenueMode` named on the command line.
enum VenueOption: String, ExpressibleByArgument, CaseIterable {
    case krx, nxt, sor, combined

    var mode: VenueMode { VenueMode(rawValue: self.rawValue)! }
}

/// What `paper` and `live` share: the settings file, the report, the journal.
struct EngineOptions: ParsableArguments {
    @Option(
        help:
            "Strategy and risk settings (flat key: value YAML; docs/strategy.md §4 and docs/risk-and-orders.md §1 list the keys)."
    )
    var settings: String?
    @Option(help: "Write the end-of-run report as JSON here.") var report: String?
    @Option(help: "SQLite journal of orders, fills and positions.") var journal: String?
    @Option(help: "Telegram bot settings (telegram_bot_token, telegram_chat_ids, …): notifications and commands.")
    var telegram: String?
    @Option(help: "Record the raw feed into this capture file while trading (see `kistick record`).")
    var capture: String?
    @Option(
        help:
            "zstd level of --capture: 9 makes trade frames ~7.5x smaller at ~55 MB/s of the writer's core; 19 ~8% smaller at 2 MB/s."
    )
    var captureLevel = CaptureWriter.Options.defaultCompressionLevel
    @Option(
        help: """
            Serve the live page and /metrics at ADDR:PORT (port 0: any free one), or 'off'; the address with its \
            access token is printed at start. Any address but loopback lets other machines reach the page.
            """
    )
    var http = "127.0.0.1:0"
    @Flag(
        help: """
            The feed thread polls its socket and the market thread spins instead of sleeping, pinned to CPUs 0 and 1: \
            lower latency for two cores given up; the default sleeps until woken, which suits shared machines.
            """
    )
    var busyPoll = false
    @Option(
        help: """
            Venues to watch and trade (docs/venues.md): krx (default), nxt (NXT before and after KRX's session), \
            sor (KIS routes each order), combined (the combined feed only). Overrides the settings file's `venue`.
            """
    )
    var venue: VenueOption?

    static func list(_ codes: String) -> [String] {
        codes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The venues the engine will trade: `--venue`, else the settings file's `venue`, else KRX. A value that names
    /// no venue reads as KRX here; the engine then refuses it, naming the key and the file.
    func venueMode() throws -> VenueMode {
        if let venue = self.venue { return venue.mode }
        return try ScreenOptions.load(self.settings).engine["venue"].flatMap(VenueMode.init(rawValue:)) ?? .krx
    }

    func validate() throws {
        guard (1...22).contains(self.captureLevel) else { throw ValidationError("--capture-level takes 1 to 22") }
        guard self.http == "off" || DashboardServer.address(self.http) != nil else {
            throw ValidationError("--http takes ADDR:PORT (127.0.0.1:8080, [::1]:0) or off, not \(self.http)")
        }
    }

    /// The live page, unless `--http off`: its address and token are printed for the operator, never logged.
    func startPage(engine: Engine) async throws -> DashboardServer? {
        guard let (host, port) = DashboardServer.address(self.http) else { return nil }
        let controls = DashboardControls(
            pauseEntries: { engine.pauseEntries() },
            resumeEntries: { engine.resumeEntries() },
            armKillSwitch: { engine.armKillSwitch() }
        )
        let server = try await DashboardServer(host: host, port: port, controls: controls)
        print("page: \(server.url.reveal)")
        if !DashboardServer.isLoopback(host) {
            let warning = "kistick: the page listens on \(host), beyond this machine; its token is all that guards it\n"
            FileHandle.standardError.write(Data(warning.utf8))
        }
        return server
    }

    /// - Parameter appKeys: the keys the codes stream over, one session each.
    func validate(codes: String, appKeys: Int = 1) throws {
        let list = Self.list(codes)
        guard !list.isEmpty else { throw ValidationError("name at least one code") }
        // Each code takes a trade and a book registration per venue watched, and the notices one more, of KIS's 41
        // per session.
        let perCode = 2 * (self.venue ?? .krx).mode.feeds.count
        let most = 40 / perCode * appKeys
        guard list.count <= most else {
            let keys = appKeys == 1 ? "" : " with \(appKeys) app keys"
            let venue = perCode == 2 ? "" : " with --venue \(self.venue ?? .krx)"
            throw ValidationError("at most \(most) codes\(keys)\(venue): KIS allows 41 registrations per session")
        }
        for code in list where !Catalog.isValidCode(code) {
            throw ValidationError("not a KRX code: \(code)")
        }
    }

    /// One journal per environment and account, where the next run after a crash finds it.
    static func defaultJournal(_ settings: ClientSettings) throws -> String {
        let directory = try LocalFolders.makePrivate(LocalFolders.data(LocalFolders.environment))
        return "\(directory)/journal-\(settings.environment)-\(settings.account.cano).sqlite"
    }

    /// A writer for the engine's feed: the TRs it subscribes (trades, books, the account's notices), credentials
    /// redacted.
    static func captureWriter(
        path: String,
        client: KISClient,
        codes: [String],
        label: (environment: String, note: String),
        level: Int32,
        venues: [Venue] = [.krx]
    ) throws -> CaptureWriter {
        let notices = Subscription.notices(htsID: client.settings.htsID, environment: client.settings.environment)
        let header = Self.captureHeader(codes: codes, notices: notices, label: label, venues: venues)
        return try CaptureWriter(path: path, header: header, options: Self.captureOptions(client: client, level: level))
    }

    /// The header of a capture of `codes`' trades and books, and of `notices` when they are subscribed too.
    static func captureHeader(
        codes: [String],
        notices: Subscription?,
        label: (environment: String, note: String),
        venues: [Venue] = [.krx]
    )
        -> CaptureHeader
    {
        var trIDs = Subscription.marketData(codes[0], venues: venues).map { "\($0.tr)" }
        if let notices { trIDs.append("\(notices.tr)") }
        return CaptureHeader(
            environment: label.environment,
            codes: codes,
            trIDs: trIDs,
            startNs: WallClock().now(),
            note: label.note
        )
    }

    /// The writer's options for recording `client`'s feed: its credentials redacted, zstd at `level`.
    static func captureOptions(client: KISClient, level: Int32) -> CaptureWriter.Options {
        var options = CaptureWriter.Options()
        options.compressionLevel = level
        // `reveal` here: the credentials go only into the capture's redactor, which overwrites them.
        options.secrets = [client.settings.credentials.appKey.reveal, client.settings.credentials.appSecret.reveal]
        if let token = try? client.tokens.current() { options.secrets.append(token.token.reveal) }
        return options
    }

    /// Clients of `keys`, app keys of `client`'s environment for quotes only: each with its own token cache entry
    /// and rate limiter (the WebSocket approval key takes a slot of its own key's budget), none reaching the real
    /// host for quotations.
    static func feedClients(of client: KISClient, keys: [Credentials], cache: TokenCache) throws -> [KISClient] {
        try keys.map { key in
            var settings = client.settings
            settings.credentials = key
            settings.quotations = nil
            return try KISClient.make(settings: settings, cache: cache)
        }
    }

    /// Where running engines register for `kistick kill`.
    static func registry() throws -> EngineRegistry {
        try EngineRegistry(directory: LocalFolders.engines(LocalFolders.environment))
    }

    /// - Parameters:
    ///   - account: what the account is when the environment alone would mislead (a simulated real account),
    ///     said in the status, the summary and the page.
    ///   - captureLabel: the capture header's environment and note, if `--capture` records.
    func run(
        client: KISClient,
        feedClients: [KISClient] = [],
        plan: TradingPlan,
        speed: Double,
        journal: String,
        duration: Double?,
        log: EventLog,
        mode: String,
        account: String? = nil,
        captureLabel: (environment: String, note: String)? = nil
    ) async throws {
        var settings = EngineSettings(codes: plan.codes, journalPath: journal)
        settings.log = log
        settings.subscribed = plan.scheduler?.live
        settings.speed = speed
        if self.busyPoll {
            settings.waiting = .busyPoll(
                feedCPU: 0,
                marketCPU: min(1, ProcessInfo.processInfo.activeProcessorCount - 1)
            )
        }
        if let path = self.capture {
            settings.capture = try Self.captureWriter(
                path: path,
                client: client,
                codes: plan.codes.map(\.description),
                label: captureLabel ?? ("\(client.settings.environment)", "kistick live"),
                level: self.captureLevel,
                venues: (self.venue ?? .krx).mode.feeds
            )
        }
        if let path = self.settings {
            settings.parameters = try ScreenOptions.load(path).engine
            settings.settingsPath = path
        }
        if let venue = self.venue { settings.parameters["venue"] = venue.rawValue }
        // Read before anything starts, so a bad Telegram file stops the run before it trades.
        let telegram = try self.telegram.map { path in try TelegramSettings.load(path: path) }
        let engine = try Engine(client: client, settings: settings, feedClients: feedClients)
        // A restart often meets KIS saying "not now" (over budget, a failing backend): each wait is said.
        try engine.start { line in FileHandle.standardError.write(Data("kistick: start: \(line)\n".utf8)) }
        let bot = telegram.map { telegram in
            let link = EngineLink(engine: engine, client: client)
            return TelegramBot(settings: telegram, remote: link, dailyLossLimit: link.dailyLossLimit) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
        do {
            try bot?.start(codes: plan.live.map(\.description))
        } catch {
            _ = engine.stop()
            throw error
        }
        let page: DashboardServer?
        do {
            page = try await self.startPage(engine: engine)
        } catch {
            bot?.stop(final: engine.stop().status)
            throw error
        }
        let controls = try EngineControls(registry: Self.registry())
        defer { controls.close() }
        var run = TradingRun(
            engine: engine,
            plan: plan,
            speed: speed,
            mode: mode,
            environment: "\(account == nil ? "" : "simulated ")\(client.settings.environment)",
            page: page,
            bot: bot,
            capture: settings.capture
        )
        var display = StatusDisplay(account: account)
        let report = try await run.run(
            until: duration.map { Date().addingTimeInterval($0) },
            stopRequested: { controls.stopRequested },
            killRequested: { controls.takeKillRequest() },
            console: TradingRun.Console(
                show: { status, telegram in
                    display.render(status)
                    if let counters = telegram {
                        print(
                            "telegram: \(counters.sent) sent, \(counters.commands) commands, "
                                + "\(counters.dropped) dropped, \(counters.failed) failed, \(counters.ignored) ignored"
                        )
                    }
                },
                // Said on stderr as well: the status redraws and a log of stdout may not be read.
                warn: { line in FileHandle.standardError.write(Data("kistick: \(line)\n".utf8)) }
            )
        )
        display.summary(report)
        let outputs = run.finish(report, reportPath: self.report)
        if let writer = settings.capture {
            print("capture: " + writer.paths.joined(separator: ", "))
        }
        if let stats = outputs.captureStats {
            print(Record.status(stats, counters: WebSocketCounters()).components(separatedBy: "  reconnects")[0])
        }
        for problem in outputs.problems {
            FileHandle.standardError.write(Data("kistick: \(problem)\n".utf8))
        }
        if !outputs.problems.isEmpty { throw ExitCode.failure }
    }
}
