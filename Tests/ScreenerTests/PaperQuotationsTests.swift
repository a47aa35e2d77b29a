import Foundation
import KIS
import Screener
import Simulator
import Testing
import TickCore

/// `kistick screen --env paper` against a simulator run as `kistick sim --paper` runs it: the paper server, and the
/// real one beside it. KIS serves the rankings on the real host only (the paper server answers MCA00124).
@Suite(.serialized) struct PaperQuotationsTests {
    /// The official file's keys, both environments filled in unless `paperOnly`, hosts pointing at the simulator's
    /// servers; `prod` is a host nobody listens on, so the real server is reached only through `KIS_REAL_REST_URL`.
    static func configuration(_ market: PaperScreenMarket, paperOnly: Bool) throws -> KISConfig {
        func text(_ count: Int) -> String {
            String((0..<count).map { _ in "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789".randomElement()! })
        }
        let yaml = """
            my_app: "\(paperOnly ? "앱키" : text(36))"
            my_sec: "\(paperOnly ? "앱키 시크릿" : text(180))"
            paper_app: "\(text(36))"
            paper_sec: "\(text(180))"
            my_htsid: "simuser"
            my_acct_stock: "12345678"
            my_paper_stock: "50000000"
            my_prod: "01"
            prod: "http://127.0.0.1:1"
            ops: "ws://127.0.0.1:1"
            vps: "\(market.paper.rest)"
            vops: "\(market.paper.webSocket)"
            my_agent: "kistick-tests"
            """
        let path = market.directory + "/kis_devlp.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try KISConfig.load(
            path: path,
            environment: .paper,
            environmentVariables: ["KIS_REAL_REST_URL": market.real.rest]
        )
    }

    /// Short averages, so each code takes one call for its bars: the test is about where calls go.
    static let brief: [String: String] = [
        "screen_ma_fast": "2", "screen_ma_slow": "5", "screen_cross_within_days": "2", "screen_history_days": "10",
        "screen_traded_value_days": "5",
    ]

    @Test func withRealKeysTheRankingsComeFromTheRealHost() async throws {
        let market = try await PaperScreenMarket()
        defer { market.finish() }
        let config = try Self.configuration(market, paperOnly: false)
        let client = try KISClient.make(
            settings: ClientSettings(config: config, environmentVariables: [:]),
            cache: try TokenCache(directory: market.directory + "/tokens")
        )
        #expect(client.servesRankings)
        let report = try Screener(
            client: client,
            settings: try ScreenSettings(parameters: Self.brief, path: "settings.yaml"),
            cache: try BarCache(path: market.directory + "/bars.sqlite")
        ).run(asOf: market.today)
        #expect(Set(report.results.map(\.code)) == Set(PaperScreenMarket.codes))
        #expect(report.candidateSource.contains("real host"))
        #expect(market.simulator.answeredCount(trID: "FHPST01740000") == 1)
        // Every call of the screen went to the real host: the paper key's budget, which its orders need, is whole.
        #expect(client.limiter.grantCount == 0)
        #expect(try #require(client.quotations).limiter.grantCount >= 2 + 2 * PaperScreenMarket.codes.count)
        // Orders and balances stay on paper.
        #expect(try client.balance().cash > 0)
        #expect(client.limiter.grantCount == 1)
    }

    @Test func withoutRealKeysTheScreenTakesTheSettingsListAndSaysSo() async throws {
        let market = try await PaperScreenMarket()
        defer { market.finish() }
        let config = try Self.configuration(market, paperOnly: true)
        #expect(config.realQuotations == nil)
        let client = try KISClient.make(
            settings: ClientSettings(config: config, environmentVariables: [:]),
            cache: try TokenCache(directory: market.directory + "/tokens")
        )
        #expect(!client.servesRankings)
        let cache = try BarCache(path: market.directory + "/bars.sqlite")
        #expect(throws: ScreenError.noRankings) {
            try Screener(client: client, settings: ScreenSettings(), cache: cache).run(asOf: market.today)
        }
        // One code: the paper key's queries get one call a second (the other is left for orders).
        let listed = Array(PaperScreenMarket.codes.prefix(1))
        let settings = try ScreenSettings(
            parameters: Self.brief.merging(["screen_candidates": listed.joined(separator: ", ")]) { $1 },
            path: "settings.yaml"
        )
        let report = try Screener(client: client, settings: settings, cache: cache).run(asOf: market.today)
        #expect(report.results.map(\.code).sorted() == listed.sorted())
        #expect(report.candidateSource.hasPrefix("screen_candidates (1 code)"))
        #expect(report.candidateSource.contains("no real app key"))
        #expect(market.simulator.answeredCount(trID: "FHPST01740000") == 0)
        #expect(market.simulator.answeredCount(trID: "FHPST01710000") == 0)
        #expect(ScreenError.noRankings.description.contains("screen_candidates"))
        #expect(throws: ScreenError.self) {
            try ScreenSettings(parameters: ["screen_candidates": "005930,XYZ"], path: "settings.yaml")
        }
    }
}

/// A simulator serving paper on its ports and the real environment beside it (`kistick sim --paper`), at wall speed
/// so the per-second rate windows move, with a folder for the configuration and caches.
final class PaperScreenMarket: Sendable {
    static let codes = Array(Catalog.knownCodes.prefix(4))
    let simulator: Simulator
    let paper: Simulator.Endpoints
    let real: Simulator.Endpoints
    let directory: String
    let today: UInt32

    init() async throws {
        var config = SimConfig()
        config.clock = .realtime(speed: 1)
        config.symbols = Self.codes
        config.servers = [.paper: SimConfig.Ports(), .real: SimConfig.Ports()]
        self.simulator = Simulator(config: config)
        let endpoints = try await self.simulator.start()
        self.paper = try #require(endpoints[.paper])
        self.real = try #require(endpoints[.real])
        self.directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("kistick-paperscreen-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        let date = KST.date(epochSeconds: Int64(Date().timeIntervalSince1970))
        self.today = KRX.isTradingDay(date) ? date : KRX.nextTradingDay(after: date)
    }

    func finish() {
        let (simulator, directory) = (self.simulator, self.directory)
        try? FileManager.default.removeItem(atPath: directory)
        Task { try? await simulator.stop() }
    }
}
