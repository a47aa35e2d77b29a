import ArgumentParser
import Engine
import Foundation
import KIS
import Pipeline
import Screener
import Simulator
import TickCore
import Trading

/// `kistick screen`: the TIER 1 universe screen, a table of the passing codes and why the others failed.
struct Screen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Screen the traded-value and market-cap rankings for the codes to scalp (TIER 1).",
        discussion: """
            Candidates come from volume-rank (by traded value) and the market-cap ranking; each gets its current \
            price and at least 250 completed daily bars (cached in SQLite, so a second run the same day fetches no \
            bars). KIS serves the rankings on the real host only: with --env paper they go there with the real \
            app key of kis_devlp.yaml (my_app, my_sec), and without one the codes of screen_candidates in \
            --settings are screened instead (no order is ever sent). Criteria \
            are the screen_* keys of --settings (docs/operations.md §4 lists them).
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Settings file with screen_* keys (flat key: value YAML).") var settings: String?
    @Option(help: "SQLite cache of daily bars (default: ~/.cache/kistick/daily-bars.sqlite).") var cache: String?

    func run() async throws {
        let settings = try ScreenOptions.load(self.settings).screen
        var connection = self.connection
        // The embedded simulator serves the rankings on its real host, as KIS does.
        if connection.sim { connection.env = .real }
        // A simulator's bars are its own: they never go into (or come from) the cache of KIS's.
        let simulatorCache = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kistick-screen-\(getpid()).sqlite"
        ).path
        defer { if connection.sim { try? FileManager.default.removeItem(atPath: simulatorCache) } }
        let cachePath = try self.cache ?? (connection.sim ? simulatorCache : ScreenOptions.defaultCache())
        let report = try await connection.withClient(simSymbols: Catalog.knownCodes) { client in
            try ScreenOptions.screen(client: client, settings: settings, cachePath: cachePath)
        }
        try emit(report, json: self.connection.json) { ScreenOptions.printReport(report) }
    }
}

/// What `screen`, `paper` and `live` share: the settings split between screen and engine, the screen with its
/// progress bar, the report table.
enum ScreenOptions {
    /// The settings file's entries: the screen's keys read into `ScreenSettings`, the rest left for the engine.
    /// - Parameter appKeys: the keys the engine streams over, 20 live codes each.
    static func load(_ path: String?, appKeys: Int = 1) throws -> (screen: ScreenSettings, engine: [String: String]) {
        guard let path else { return (ScreenSettings(appKeys: appKeys), [:]) }
        let entries = try SettingsFile.load(path: path, keys: PipelineSettings.knownKeys.union(ScreenSettings.keys))
        let screen = try ScreenSettings(parameters: entries, path: path, appKeys: appKeys)
        return (screen, entries.filter { !ScreenSettings.keys.contains($0.key) })
    }

    static func defaultCache() throws -> String {
        try LocalFolders.makePrivate(LocalFolders.cache(LocalFolders.environment)) + "/daily-bars.sqlite"
    }

    /// Runs the screen with a progress bar on stderr.
    static func screen(client: KISClient, settings: ScreenSettings, cachePath: String) throws -> ScreenReport {
        let screener = Screener(client: client, settings: settings, cache: try BarCache(path: cachePath))
        // A bar redrawn in place on a terminal; nothing in a log file.
        let terminal = isatty(STDERR_FILENO) != 0
        if terminal { FileHandle.standardError.write(Data("screening: rankings…".utf8)) }
        let report = try screener.run { progress in
            guard terminal else { return }
            let width = 30
            let filled = width * progress.done / max(progress.total, 1)
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            FileHandle.standardError.write(
                Data("\r\u{1B}[2Kscreening [\(bar)] \(progress.done)/\(progress.total) \(progress.code)".utf8)
            )
        }
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        return report
    }

    static func printReport(_ report: ScreenReport) {
        let s = report.settings
        print(
            "screen of \(report.asOf): market cap ≥ \(s.minMarketCap)억, \(s.tradedValueDays)-day traded value ≥ "
                + "\(s.minTradedValue / 100_000_000)억, price \(s.minPrice)…\(s.maxPrice), MA\(s.fastPeriod) > MA\(s.slowPeriod) "
                + "crossed within \(s.crossWithinDays) days\(s.excludeDesignated ? ", no halted/warned/administrative" : "")"
        )
        var table = [
            [
                "code", "name", "price", "cap (억)", "value/day (억)", "today (억)", "MA\(s.fastPeriod)",
                "MA\(s.slowPeriod)", "cross",
            ]
        ]
        for r in report.passing {
            table.append([
                r.code, r.name, "\(r.price)", "\(r.marketCap)", "\(r.averageTradedValue / 100_000_000)",
                "\(r.tradedValueToday / 100_000_000)", Self.format(r.fastAverage), Self.format(r.slowAverage),
                r.crossDaysAgo.map { "\($0)d ago" } ?? "-",
            ])
        }
        print("candidates: \(report.candidateSource)")
        print("\(report.passing.count) of \(report.results.count) pass")
        if report.passing.isEmpty { print("(none)") } else { printTable(table) }
        let failing = report.failing
        guard !failing.isEmpty else { return }
        print("")
        printTable(
            [["code", "name", "failed because"]]
                + failing.map { [$0.code, $0.name, $0.reasons.joined(separator: "; ")] }
        )
    }

    private static func format(_ value: Double?) -> String {
        value.map { String(format: "%.0f", $0) } ?? "-"
    }
}

extension TradingPlan {
    /// The passing codes of a screen, most active first, the scheduler over them.
    static func screened(client: KISClient, settings: ScreenSettings, cachePath: String) throws -> TradingPlan {
        let report = try ScreenOptions.screen(client: client, settings: settings, cachePath: cachePath)
        let passing = report.passing.compactMap { SymbolCode($0.code) }
        guard !passing.isEmpty else {
            throw ValidationError(
                "no code passed the screen of \(report.results.count) candidates (`kistick screen` says why); name --codes instead"
            )
        }
        let plan = TradingPlan(passing: passing, settings: settings)
        let live = plan.scheduler?.live.count ?? 0
        FileHandle.standardError.write(
            Data(
                ("screen of \(report.candidateSource): \(passing.count) of \(report.results.count) codes pass; "
                    + "\(live) live, \(passing.count - live) rotating\n").utf8
            )
        )
        return plan
    }
}
