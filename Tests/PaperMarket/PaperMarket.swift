import Foundation
public import KIS
import Net
public import Simulator
public import TickCore

/// A simulator serving the paper environment (and the real one beside it) on loopback, with its market running
/// `speed` times real time, and a folder for token caches and journals: what the engine's end-to-end tests, the
/// Telegram bot's and the screener's run against.
public final class PaperMarket: Sendable {
    /// Settings that make the scalper trade within seconds of an accelerated market: 1-minute breakouts, no
    /// opening quiet period, and confirmations any rising market gives.
    public static let eager: [String: String] = [
        "entry_interval_seconds": "60", "no_entry_after_open_seconds": "0", "min_strength": "0",
        "min_imbalance": "-1", "max_spread_ticks": "5", "budget_krw": "300000", "cooldown_seconds": "30",
        "time_stop_seconds": "120",
    ]
    public static let defaultCodes = Catalog.knownCodes.prefix(10).compactMap(SymbolCode.init)
    public let simulator: Simulator
    public let rest: String
    /// The real server beside it, where a paper account's real-host quotations go and NXT and SOR trade.
    public let realREST: String
    public let realWebSocket: String
    public let webSocket: String
    public let directory: String
    public let codes: [SymbolCode]
    /// The KST date the simulator trades, YYYYMMDD.
    public let today: UInt32

    struct NoPaperServer: Error {}

    /// - Parameter configure: changes to the simulator's settings beyond these (a manual clock, a start time).
    public init(
        speed: Double,
        codes: [SymbolCode] = PaperMarket.defaultCodes,
        configure: (inout SimConfig) -> Void = { _ in }
    ) async throws {
        self.codes = codes
        var config = SimConfig()
        config.clock = .realtime(speed: speed)
        config.symbols = codes.map(\.description)
        config.servers = [.paper: SimConfig.Ports(), .real: SimConfig.Ports()]
        configure(&config)
        self.simulator = Simulator(config: config)
        let servers = try await self.simulator.start()
        guard let paper = servers[.paper], let real = servers[.real] else { throw NoPaperServer() }
        (self.rest, self.webSocket) = (paper.rest, paper.webSocket)
        (self.realREST, self.realWebSocket) = (real.rest, real.webSocket)
        self.directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("kistick-paper-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        self.today = KST.date(epochSeconds: Int64(Date().timeIntervalSince1970))
    }

    /// A client of the paper server with made-up credentials and its own token cache; with `realQuotations`, the
    /// real-host quotations go to the real server with a made-up real key, as with a real key in kis_devlp.yaml.
    public func client(realQuotations: Bool = false) throws -> KISClient {
        var settings = ClientSettings.madeUp(environment: .paper, restURL: self.rest, webSocketURL: self.webSocket)
        if realQuotations {
            let real = ClientSettings.madeUp(environment: .real, restURL: self.realREST, webSocketURL: self.webSocket)
            settings.quotations = QuotationHost(restURL: self.realREST, credentials: real.credentials)
        }
        return try KISClient.make(settings: settings, cache: try TokenCache(directory: self.directory + "/tokens"))
    }

    /// A client of the real server with a made-up real account (what `kistick paper --venue nxt` trades): NXT and
    /// SOR orders, which the paper server refuses.
    public func realClient() throws -> KISClient {
        let settings = ClientSettings.madeUp(
            environment: .real,
            restURL: self.realREST,
            webSocketURL: self.realWebSocket
        )
        return try KISClient.make(settings: settings, cache: try TokenCache(directory: self.directory + "/real-tokens"))
    }

    /// Arms one of the simulator's faults (`POST /sim/fault`, `Simulator.control`), such as
    /// `{"fault":"server_error","count":3}`.
    public func fault(_ json: String) throws {
        let request =
            "POST /sim/fault HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
            + "content-length: \(json.utf8.count)\r\n\r\n\(json)"
        var connection = HTTPConnection(baseURL: self.rest, maxResponseSize: 1 << 16)
        let status = try connection.exchange(Array(request.utf8), timeoutMilliseconds: 5_000).head.status
        guard status == 200 else { throw FaultRefused(status: status) }
    }

    struct FaultRefused: Error {
        var status: Int
    }

    public func stop() async {
        try? await self.simulator.stop()
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}
