import Foundation
import KIS
import Simulator
import Testing
import TickCore

@testable import Screener

/// The whole screen against the in-process simulator: candidates from both rankings, ≥ 250 daily bars paged 100 at
/// a time, the averages as KIS's own bars give them, KIS's marks excluded, and a cache that spares the calls.
@Suite struct ScreenTests {
    @Test func screensTheRankedUniverseAndCachesTheBars() async throws {
        let market = try await ScreenMarket()
        defer { market.finish() }
        let client = try market.client()
        let cache = try BarCache(path: market.directory + "/bars.sqlite")
        let settings = ScreenSettings()
        var seen: [ScreenProgress] = []
        let report = try Screener(client: client, settings: settings, cache: cache).run(asOf: market.today) {
            seen.append($0)
        }

        #expect(Set(report.results.map(\.code)) == Set(ScreenMarket.codes))
        #expect(seen.map(\.done) == Array(1...ScreenMarket.codes.count))
        #expect(seen.allSatisfy { $0.total == ScreenMarket.codes.count })
        // 250 bars per code, newest first on the wire: 100 + 100 + the rest, three calls each.
        #expect(report.results.allSatisfy { $0.bars == 250 })
        #expect(market.simulator.answeredCount(trID: "FHKST03010100") == 3 * ScreenMarket.codes.count)
        #expect(market.simulator.answeredCount(trID: "FHKST01010100") == ScreenMarket.codes.count)
        #expect(market.simulator.answeredCount(trID: "FHPST01710000") == 1)
        #expect(market.simulator.answeredCount(trID: "FHPST01740000") == 1)

        // Some pass, some fail on the averages, some on KIS's marks; passing codes come first, most active first.
        let passing = report.passing
        #expect(!passing.isEmpty)
        #expect(report.failing.contains { $0.reasons.contains { $0.hasPrefix("MA50") } })
        #expect(report.failing.contains { !$0.designations.isEmpty && $0.reasons.contains($0.designations[0]) })
        #expect(report.results.prefix(passing.count).allSatisfy { $0.passed })
        #expect(passing.map(\.averageTradedValue) == passing.map(\.averageTradedValue).sorted(by: >))
        for result in passing {
            #expect(result.crossDaysAgo.map { $0 <= settings.crossWithinDays } == true)
            #expect(result.fastAverage! > result.slowAverage!)
            #expect(result.designations.isEmpty)
            #expect(result.marketCap >= settings.minMarketCap)
        }

        // The averages are those of KIS's bars before the screen date, as the client reads them.
        let checked = try #require(passing.first)
        let from = KST.date(epochSeconds: KST.epochSeconds(date: market.today, time: 0)! - 400 * 86_400)
        let closes = try client.dailyBars(checked.code, from: from, to: market.today).filter {
            UInt32($0.date)! < market.today
        }
        .map(\.close)
        #expect(checked.fastAverage == Double(closes.suffix(50).reduce(0, +)) / 50)
        #expect(checked.slowAverage == Double(closes.suffix(200).reduce(0, +)) / 200)
        let daily = market.simulator.answeredCount(trID: "FHKST03010100")

        // The same day again, in a new screen: prices and rankings only, no bar is asked for twice.
        let again = try Screener(client: client, settings: settings, cache: try BarCache(path: cache.path)).run(
            asOf: market.today
        )
        #expect(again.results.map(\.code) == report.results.map(\.code))
        #expect(again.results.map(\.slowAverage) == report.results.map(\.slowAverage))
        #expect(market.simulator.answeredCount(trID: "FHKST03010100") == daily)
        #expect(market.simulator.answeredCount(trID: "FHKST01010100") == 2 * ScreenMarket.codes.count)

        // As if KIS had since adjusted the first code's past closes (a split): its cached newest close differs.
        let adjusted = try #require(report.results.first?.code)
        let newest = try #require(try cache.entry(adjusted, before: market.today).bars.last)
        try cache.store(
            adjusted,
            bars: [DailyClose(date: newest.date, close: newest.close + 1, tradedValue: newest.tradedValue)],
            oldest: newest.date,
            checked: market.today,
            replacing: false
        )

        // The next trading day: one top-up call per code, from the newest cached bar on; the adjusted code's
        // top-up does not match its cache, so its bars are fetched whole again (three more calls).
        let next = KRX.nextTradingDay(after: market.today)
        let later = try Screener(client: client, settings: settings, cache: cache).run(asOf: next)
        #expect(market.simulator.answeredCount(trID: "FHKST03010100") == daily + ScreenMarket.codes.count + 3)
        #expect(later.results.allSatisfy { $0.bars == 250 })
        #expect(try cache.entry(adjusted, before: market.today).bars.last == newest)
    }

    @Test func marksAreReasonsOnlyWhenExcluded() async throws {
        let market = try await ScreenMarket()
        defer { market.finish() }
        var settings = ScreenSettings()
        settings.excludeDesignated = false
        let directory = market.directory
        let report = try Screener(
            client: try market.client(),
            settings: settings,
            cache: try BarCache(path: directory + "/bars.sqlite")
        ).run(asOf: market.today)
        let marked = report.results.filter { !$0.designations.isEmpty }
        #expect(!marked.isEmpty)
        #expect(marked.allSatisfy { result in !result.reasons.contains { result.designations.contains($0) } })
    }
}

extension ScreenTests {
    @Test func aScreenDateThatIsNoDateIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kistick-screen-\(getpid())")
                .path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let client = try KISClient.make(
                settings: .madeUp(environment: .real, restURL: "http://127.0.0.1:1", webSocketURL: "ws://127.0.0.1:1"),
                cache: try TokenCache(directory: directory)
            )
            _ = try Screener(
                client: client,
                settings: ScreenSettings(),
                cache: BarCache(path: directory + "/bars.sqlite")
            )
            .run(asOf: 20_261_399)
        }
    }
}

/// A simulator (real server, market at wall speed: a manual clock would also stop the per-second rate window, so
/// the 21st call would be refused for good) trading `codes`, and a folder for token caches and the bar cache.
final class ScreenMarket: Sendable {
    /// Twelve of the catalogue's large caps: both rankings return all of them.
    static let codes = Array(Catalog.knownCodes.prefix(12))
    let simulator: Simulator
    let rest: String
    let webSocket: String
    let directory: String
    /// The screen date: the simulated day (today, or the next trading day), so every history bar is before it.
    let today: UInt32

    init() async throws {
        var config = SimConfig()
        config.clock = .realtime(speed: 1)
        config.symbols = Self.codes
        config.servers = [.real: SimConfig.Ports()]
        self.simulator = Simulator(config: config)
        let endpoints = try await self.simulator.start()
        let real = try #require(endpoints[.real])
        (self.rest, self.webSocket) = (real.rest, real.webSocket)
        self.directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("kistick-screen-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        let date = KST.date(epochSeconds: Int64(Date().timeIntervalSince1970))
        self.today = KRX.isTradingDay(date) ? date : KRX.nextTradingDay(after: date)
    }

    func client() throws -> KISClient {
        let settings = ClientSettings.madeUp(environment: .real, restURL: self.rest, webSocketURL: self.webSocket)
        return try KISClient.make(settings: settings, cache: try TokenCache(directory: self.directory + "/tokens"))
    }

    func finish() {
        let (simulator, directory) = (self.simulator, self.directory)
        try? FileManager.default.removeItem(atPath: directory)
        Task { try? await simulator.stop() }
    }
}
