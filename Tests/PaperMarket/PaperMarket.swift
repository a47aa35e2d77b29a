import Foundation
public import KIS
public import Simulator
public import TickCore

/// A simulator serving the paper environment (and the real one beside it) on loopback, with its market running
/// `speed` times real time, and a folder for token caches and journals: what the engine's end-to-end tests, the
/// Telegram bot's and the screener's run against.
public final class PaperMarket: Sendable {
    public static let defaultCodes = Catalog.knownCodes.prefix(10).compactMap(SymbolCode.init)
    public let simulator: Simulator
    public let rest: String
    public let webSocket: String
    public let directory: String
    public let codes: [SymbolCode]
    /// The KST date the simulator trades, YYYYMMDD.
    public let today: UInt32

    struct NoPaperServer: Error {}

    public init(speed: Double, codes: [SymbolCode] = PaperMarket.defaultCodes) async throws {
        self.codes = codes
        var config = SimConfig()
        config.clock = .realtime(speed: speed)
        config.symbols = codes.map(\.description)
        config.servers = [.paper: SimConfig.Ports(), .real: SimConfig.Ports()]
        self.simulator = Simulator(config: config)
        guard let paper = try await self.simulator.start()[.paper] else { throw NoPaperServer() }
        (self.rest, self.webSocket) = (paper.rest, paper.webSocket)
        self.directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kistick-paper-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        self.today = KST.date(epochSeconds: Int64(Date().timeIntervalSince1970))
    }

    /// A client of the paper server with made-up credentials and its own token cache.
    public func client() throws -> KISClient {
        let settings = ClientSettings.madeUp(environment: .paper, restURL: self.rest, webSocketURL: self.webSocket)
        return KISClient.make(settings: settings, cache: try TokenCache(directory: self.directory + "/tokens"))
    }

    public func stop() async {
        try? await self.simulator.stop()
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}
