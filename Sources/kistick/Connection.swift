import ArgumentParser
import EventLog
import Foundation
import KIS
import Logging
import Simulator

/// Where a command's KIS session goes, shared by every command that talks to KIS.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "kis_devlp.yaml to read (default: ~/KIS/config/kis_devlp.yaml, then ./kis_devlp.yaml).")
    var config: String?

    @Option(help: "paper (모의투자, the default) or real.")
    var env: EnvironmentOption = .paper

    @Flag(help: "Run against an embedded simulator on loopback instead of KIS (no kis_devlp.yaml needed).")
    var sim = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var log: LogOptions

    /// Runs `body` with a client; an embedded simulator, if any, is stopped afterwards.
    /// - Parameters:
    ///   - longRunning: renew the token in the background, ahead of expiry, for commands that run for hours.
    ///   - simSymbols: the codes an embedded simulator trades (default: its own few).
    func withClient<T>(
        longRunning: Bool = false,
        simSymbols: [String]? = nil,
        _ body: (KISClient) async throws -> T
    ) async throws -> T {
        try await self.withClient(longRunning: longRunning, simSymbols: simSymbols) { client, _ in
            try await body(client)
        }
    }

    /// `withClient` with the command's log, which the engine's stages write to.
    func withClient<T>(
        longRunning: Bool = false,
        simSymbols: [String]? = nil,
        _ body: (KISClient, EventLog) async throws -> T
    ) async throws -> T {
        try await self.log.around { log in
            let (client, simulator) = try await self.connect(
                refreshEvery: longRunning ? .seconds(60) : nil,
                simSymbols: simSymbols
            )
            defer { client.tokens.stop() }
            do {
                let result = try await body(client, log)
                try await self.finish(simulator)
                return result
            } catch {
                try? await self.finish(simulator)
                throw error
            }
        }
    }

    /// Stops the embedded simulator and removes its made-up key's token cache.
    private func finish(_ simulator: Simulator?) async throws {
        guard let simulator else { return }
        try? FileManager.default.removeItem(atPath: Self.simulatorCache)
        try await simulator.stop()
    }

    /// Tokens of the embedded simulator's made-up key: this process's own, gone when it ends.
    static let simulatorCache = FileManager.default.temporaryDirectory
        .appendingPathComponent("kistick-sim-\(getpid())").path

    /// A client, and the embedded simulator when `--sim` asked for one.
    private func connect(refreshEvery: Duration?, simSymbols: [String]?) async throws -> (KISClient, Simulator?) {
        if self.sim {
            return try await Self.simulated(self.env.environment, refreshEvery: refreshEvery, symbols: simSymbols)
        }
        let variables = ProcessInfo.processInfo.environment
        let config = try KISConfig.load(
            path: self.config,
            environment: self.env.environment,
            environmentVariables: variables
        )
        Logger(label: "kistick.config").notice(
            "configuration loaded",
            metadata: [
                "file": "\(config.sourcePath)", "environment": "\(config.environment)",
                "quotations": "\(config.realQuotations == nil ? "same host" : "real host, real app key")",
            ]
        )
        let settings = ClientSettings(config: config, environmentVariables: variables)
        let cache = try TokenCache(environmentVariables: variables)
        let client = try KISClient.make(settings: settings, cache: cache, refreshEvery: refreshEvery)
        Self.announceTokenWaits(client)
        return (client, nil)
    }

    /// Says why a command is about to sit still for up to a minute.
    static func announceTokenWaits(_ client: KISClient) {
        client.tokens.announceWaits { wait in
            let seconds = wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0)
            let line = "waiting \(seconds) s for an access token: KIS issues one a minute per app key (EGW00133)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// A simulator serving both environments, and a client holding made-up credentials of KIS's lengths.
    private static func simulated(
        _ environment: KIS.Environment,
        refreshEvery: Duration?,
        symbols: [String]?
    ) async throws
        -> (KISClient, Simulator)
    {
        var config = SimConfig()
        if let symbols { config.symbols = symbols }
        config.servers = [.real: SimConfig.Ports(), .paper: SimConfig.Ports()]
        let simulator = Simulator(config: config)
        let endpoints = try await simulator.start()
        let served = endpoints[environment == .real ? .real : .paper]!
        let settings = ClientSettings.madeUp(
            environment: environment,
            restURL: served.rest,
            webSocketURL: served.webSocket
        )
        let cache = try TokenCache(directory: Self.simulatorCache)
        let client = try KISClient.make(settings: settings, cache: cache, refreshEvery: refreshEvery)
        return (client, simulator)
    }
}

/// `--env`: an argument type of the CLI's own, so the library's `Environment` needs no ArgumentParser conformance.
enum EnvironmentOption: String, ExpressibleByArgument {
    case paper
    case real

    var environment: KIS.Environment { self == .real ? .real : .paper }
}

/// Prints `value` as JSON (for scripts) or runs `table` (for people).
func emit<T: Encodable>(_ value: T, json: Bool, table: () -> Void) throws {
    guard json else { return table() }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Left-aligned columns, each as wide as its widest cell.
func printTable(_ rows: [[String]]) {
    guard let header = rows.first else { return }
    let widths = header.indices.map { column in rows.map { $0.count > column ? $0[column].count : 0 }.max() ?? 0 }
    for row in rows {
        print(
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                separator: "  "
            )
        )
    }
}
