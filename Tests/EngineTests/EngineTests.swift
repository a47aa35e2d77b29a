import Candles
import Foundation
import Journal
import PaperMarket
import Simulator
import Testing
import TickCore

@testable import Engine
@testable import KIS

/// The engine end to end against the in-process simulator on loopback: what `kistick paper` runs.
@Suite(.serialized)
struct EngineTests {
    /// The same settings with a minimum entry price no stock has: risk refuses every entry, exits still go.
    static let noEntries: [String: String] = PaperMarket.eager.merging(["min_price_krw": "100000000"]) { $1 }

    @Test func aPaperSessionTradesAndEndsMatchingTheBroker() async throws {
        let market = try await PaperMarket(speed: 120)
        defer { market.remove() }
        let journal = market.directory + "/journal.sqlite"
        let client = try market.client()
        var settings = EngineSettings(codes: market.codes, journalPath: journal)
        settings.parameters = PaperMarket.eager
        settings.speed = 120
        let engine = try Engine(client: client, settings: settings)
        try engine.start()
        try await Self.waitFor(seconds: 45) { engine.status().orders.fills >= 2 }
        // What the live page shows besides the status line: the session up, and the 1-minute bars completed so far.
        #expect(engine.status().connectedSessions == 1)
        var bars: [Candle] = []
        engine.takeBars { bars.append($0) }
        #expect(!bars.isEmpty && bars.allSatisfy { $0.seconds == 60 && market.codes.contains($0.code) })
        // The account's orders and fills are nobody else's to read: the journal and, while it runs, its WAL are 0600.
        for file in [journal, journal + "-wal"] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file)")
        }
        let report = engine.stop()
        client.tokens.stop()

        #expect(report.status.records > 1_000)
        #expect(report.status.orders.sent >= 2)
        #expect(report.status.orders.fills >= 2)
        #expect(report.status.drops.lost == 0)
        #expect(report.status.latency.contains { $0.stage == "read→decision" && $0.summary.count > 0 })
        #expect(report.status.latency.contains { $0.stage == "decision→written" && $0.summary.count >= 2 })

        // Positions as KIS holds them, and every order KIS has is one the journal knows, once.
        let check = try market.client()
        defer { check.tokens.stop() }
        try await Self.expectMatches(check, journal: journal, positions: report.status.positions)
        await market.stop()
    }

    @Test func afterKill9TheRestartRebuildsFromTheJournalAndSendsNothingTwice() async throws {
        let market = try await PaperMarket(speed: 120)
        defer { market.remove() }
        let journal = market.directory + "/journal.sqlite"
        let (rest, ws, cache) = (market.rest, market.webSocket, market.directory)
        // A child process trades until it has fills and an order in flight, then dies without any cleanup.
        await #expect(processExitsWith: .signal(SIGKILL)) {
            [rest = rest as String, ws = ws as String, cache = cache as String, journal = journal as String] in
            let settings = ClientSettings.madeUp(environment: .paper, restURL: rest, webSocketURL: ws)
            let client = try KISClient.make(settings: settings, cache: try TokenCache(directory: cache + "/child"))
            var engineSettings = EngineSettings(codes: PaperMarket.defaultCodes, journalPath: journal)
            engineSettings.parameters = PaperMarket.eager
            engineSettings.speed = 120
            let engine = try Engine(client: client, settings: engineSettings)
            try engine.start()
            let deadline = Date().addingTimeInterval(40)
            while Date() < deadline, engine.status().orders.fills < 2 { usleep(20_000) }
            // Preferably with an order working, so the restart has one to adopt.
            let working = Date().addingTimeInterval(5)
            while Date() < working, engine.status().orders.open == 0 { usleep(5_000) }
            kill(getpid(), SIGKILL)
        }
        let atKIS = try market.client()
        defer { atKIS.tokens.stop() }
        let before = try atKIS.dailyOrders(from: market.today, to: market.today)
        #expect(!before.isEmpty, "the child placed orders before it died")

        // The restart: the journal is reconciled with KIS; entries are off so anything sent would be a resend.
        let client = try market.client()
        var settings = EngineSettings(codes: market.codes, journalPath: journal)
        settings.parameters = Self.noEntries
        settings.speed = 120
        let engine = try Engine(client: client, settings: settings)
        try engine.start()
        try await Task.sleep(for: .seconds(3))
        let report = engine.stop()
        client.tokens.stop()

        let after = try atKIS.dailyOrders(from: market.today, to: market.today)
        let placedAfter = after.filter { row in !before.contains { $0.orderNumber == row.orderNumber } }
        // Exits may still be sent for positions the child left; a new buy would be a resend or an entry.
        #expect(placedAfter.allSatisfy { $0.sideCode == "01" }, "no buy was sent after the restart")
        try await Self.expectMatches(atKIS, journal: journal, positions: report.status.positions)
        await market.stop()
    }

    @Test func theKillSwitchCancelsEverythingAndFlattens() async throws {
        let market = try await PaperMarket(speed: 120)
        defer { market.remove() }
        let client = try market.client()
        var settings = EngineSettings(codes: market.codes, journalPath: market.directory + "/journal.sqlite")
        settings.parameters = PaperMarket.eager
        settings.speed = 120
        let engine = try Engine(client: client, settings: settings)
        try engine.start()
        try await Self.waitFor(seconds: 45) { !engine.status().positions.isEmpty }
        engine.armKillSwitch()
        try await Self.waitFor(seconds: 45) {
            let status = engine.status()
            return status.killSwitch && status.positions.isEmpty && status.orders.open == 0
        }
        let report = engine.stop()
        client.tokens.stop()
        #expect(report.status.positions.isEmpty)
        let check = try market.client()
        defer { check.tokens.stop() }
        #expect(try check.balance().holdings.allSatisfy { $0.quantity == 0 })
        await market.stop()
    }

    /// With `min_relative_volume` the strategy learns the previous day's minute bars at start: through the real
    /// host for a paper account (paper does not serve them), and without a real key the start says so by name.
    @Test func thePreviousDaysMinuteBarsAreAskedOfTheRealHostAtStart() async throws {
        let market = try await PaperMarket(speed: 1)
        defer { market.remove() }
        var settings = EngineSettings(codes: market.codes, journalPath: market.directory + "/journal.sqlite")
        settings.parameters = ["min_relative_volume": "150"]
        let paperOnly = try market.client()
        defer { paperOnly.tokens.stop() }
        let refused = try Engine(client: paperOnly, settings: settings)
        #expect {
            try refused.start()
        } throws: { error in
            let text = "\(error)"
            return text.contains("min_relative_volume") && text.contains("my_app") && text.contains("FHKST03010230")
        }
        let answeredBefore = market.simulator.answeredCount(trID: "FHKST03010230")

        let client = try market.client(realQuotations: true)
        defer { client.tokens.stop() }
        settings.journalPath = market.directory + "/journal-2.sqlite"
        let engine = try Engine(client: client, settings: settings)
        try engine.start()
        _ = engine.stop(grace: 0)
        // 380 minutes and the closing print, 120 rows a call: four calls a code.
        #expect(market.simulator.answeredCount(trID: "FHKST03010230") - answeredBefore == 4 * market.codes.count)
        await market.stop()
    }

    /// A KIS minute bar becomes the one-minute candle of its code; a row that does not fit is dropped, not trapped.
    @Test func aMinuteBarBecomesAOneMinuteCandle() throws {
        let code = SymbolCode("005930")!
        let bar = Bar(
            date: "20260608",
            time: "091500",
            open: 65_800,
            high: 66_000,
            low: 65_700,
            close: 65_900,
            volume: 12_345,
            tradedValue: 812_000_000
        )
        let candle = try #require(Engine.candle(minute: bar, code: code))
        #expect(candle.code == code && candle.seconds == 60 && candle.volume == 12_345 && candle.high == 66_000)
        #expect(Int64(candle.start) == KST.epochSeconds(date: 20_260_608, time: 91_500))
        var huge = bar
        huge.volume = Int64(Int32.max) + 1
        #expect(Engine.candle(minute: huge, code: code) == nil)
        huge = bar
        huge.time = ""
        #expect(Engine.candle(minute: huge, code: code) == nil)
    }

    @Test func aBadSettingNamesTheKeyAndTheFile() async throws {
        let market = try await PaperMarket(speed: 1)
        defer { market.remove() }
        let client = try market.client()
        defer { client.tokens.stop() }
        var settings = EngineSettings(codes: market.codes, journalPath: market.directory + "/journal.sqlite")
        settings.parameters = ["max_order_krw": "lots"]
        settings.settingsPath = "/etc/kistick.yaml"
        #expect {
            _ = try Engine(client: client, settings: settings)
        } throws: { error in
            let text = "\(error)"
            return text.contains("/etc/kistick.yaml") && text.contains("max_order_krw")
        }
        // A valid length the candle stage does not build would leave the strategy with no breakout level.
        settings.parameters = ["entry_interval_seconds": "120"]
        #expect {
            _ = try Engine(client: client, settings: settings)
        } throws: { error in
            let text = "\(error)"
            return text.contains("/etc/kistick.yaml") && text.contains("entry_interval_seconds")
        }
        await market.stop()
    }

    @Test func fortyCodesStreamOverTwoAppKeysWithinFortyOneRegistrationsEach() async throws {
        // The catalogue's codes, then synthetic listings, which the simulator trades as small caps.
        let known = Catalog.knownCodes.prefix(40)
        let synthetic = (0..<(40 - known.count)).map { String(format: "%06d", 900_000 + 10 * $0) }
        let codes = (known + synthetic).compactMap(SymbolCode.init)
        #expect(codes.count == 40)
        let market = try await PaperMarket(speed: 120, codes: codes)
        defer { market.remove() }
        // Two made-up keys of the same account: the account's, and one for quotes only.
        let (client, feed) = (try market.client(), try market.client())
        var settings = EngineSettings(codes: codes, journalPath: market.directory + "/journal.sqlite")
        settings.parameters = Self.noEntries
        settings.speed = 120
        let engine = try Engine(client: client, settings: settings, feedClients: [feed])
        try engine.start()
        try await Self.waitFor(seconds: 30) {
            let status = engine.status()
            return status.codesTraded == 40 && status.subscribedCodes == 40
        }
        let status = engine.status()
        // From the exchange's side: one session per key, 40 codes' trades and books and the notices between them,
        // none ever past 41 and none refused.
        let sessions = market.simulator.sessionRegistrations()
        let report = engine.stop()
        client.tokens.stop()
        feed.tokens.stop()
        #expect(status.codesTraded == 40, "every code's trades reached the market stage")
        #expect(status.subscribedCodes == 40)
        #expect(status.sessions == 2)
        #expect(sessions.map(\.held).sorted() == [40, 41], "\(sessions)")
        #expect(sessions.allSatisfy { $0.peak <= 41 && $0.refusals == 0 }, "\(sessions)")
        #expect(report.status.drops.lost == 0)
        await market.stop()
    }

    @Test func oneKeyStreamsTwentyCodesAndTwoKeysForty() async throws {
        let market = try await PaperMarket(speed: 1)
        defer { market.remove() }
        let client = try market.client()
        defer { client.tokens.stop() }
        let codes = (0..<41).compactMap { SymbolCode(String(format: "%06d", 900_000 + 10 * $0)) }
        let tooMany: [(codes: Int, keys: Int, error: String)] = [
            (21, 1, "--codes: at most 20 codes: KIS allows 41 registrations per session"),
            (41, 2, "--codes: at most 40 codes with 2 app keys: KIS allows 41 registrations per session"),
        ]
        for (count, keys, error) in tooMany {
            let settings = EngineSettings(codes: Array(codes.prefix(count)), journalPath: market.directory + "/j")
            let feeds = try (1..<keys).map { _ in try market.client() }
            #expect {
                _ = try Engine(client: client, settings: settings, feedClients: feeds)
            } throws: { thrown in
                "\(thrown)" == error
            }
            for feed in feeds { feed.tokens.stop() }
        }
        await market.stop()
    }

    /// Issue 19's done-when: with `venue: nxt` the engine (a made-up real account on the simulator's real server,
    /// as `kistick paper --venue nxt` runs it) enters in NXT's pre-market, in KRX's session and in NXT's
    /// after-market, and the venue of every fill (the notice's ORD_EXG_GB, `Fill.venue`) is the one the
    /// simulator's ledger says the order worked in. Three short windows of one simulated day, each a simulator of
    /// its own started there.
    @Test func withNXTTheEngineTradesEachVenueSessionAndEveryFillsVenueIsTheExchanges() async throws {
        let codes = Array(PaperMarket.defaultCodes.prefix(4))
        for (start, venue) in [(UInt32(80_000), Venue.nxt), (100_000, .krx), (153_500, .nxt)] {
            let market = try await PaperMarket(speed: Self.nxtSpeed, codes: codes) { $0.startTime = start }
            defer { market.remove() }
            let client = try market.realClient()
            var settings = EngineSettings(codes: codes, journalPath: market.directory + "/journal.sqlite")
            settings.parameters = PaperMarket.eager.merging(["venue": "nxt"]) { $1 }
            settings.speed = Self.nxtSpeed
            let engine = try Engine(client: client, settings: settings)
            try engine.start()
            var fills: [FillReport] = []
            try await Self.waitFor(seconds: 20) {
                engine.takeFills { fills.append($0) }
                return !fills.isEmpty
            }
            let report = engine.stop()
            engine.takeFills { fills.append($0) }
            client.tokens.stop()
            let ledger = try JSONSerialization.jsonObject(with: Data(market.simulator.ledger())) as? [String: Any]
            let orders = ledger?["orders"] as? [[String: Any]] ?? []
            let venues = Dictionary(
                orders.map { (UInt64("\($0["number"] ?? "")") ?? 0, $0["venue"] as? String ?? "") }
            ) { first, _ in first }
            #expect(!fills.isEmpty && engine.droppedFillReports == 0, "fills from \(start)")
            for fill in fills {
                #expect(fill.venue == venue, "a fill from \(start) on \(fill.venue), not \(venue)")
                #expect(venues[fill.orderNumber] == (fill.venue == .nxt ? "NXT" : "KRX"), "order \(fill.orderNumber)")
            }
            #expect(report.status.drops.lost == 0)
            await market.stop()
        }
    }

    /// Market speed of the NXT test: a few market minutes to a window, each in a second or two of wall time.
    static let nxtSpeed = 300.0

    // MARK: Support

    static func waitFor(seconds: Double, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else {
                Issue.record("condition not met within \(seconds) s")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The engine's positions are KIS's holdings, and KIS has no order the journal does not hold.
    static func expectMatches(_ client: KISClient, journal: String, positions: [EngineStatus.PositionLine]) async throws
    {
        let holdings = try client.balance().holdings.filter { $0.quantity != 0 }
        let held = Dictionary(uniqueKeysWithValues: holdings.map { ($0.code, $0.quantity) })
        let engine = Dictionary(uniqueKeysWithValues: positions.map { ($0.code, $0.quantity) })
        #expect(held == engine)
        let today = KST.date(epochSeconds: Int64(Date().timeIntervalSince1970))
        let atKIS = try client.dailyOrders(from: today, to: today).map(\.orderNumber).compactMap { UInt64($0) }
        let journaled = try Journal.open(journal, day: today).recover().orders.map(\.orderNumber).filter { $0 != 0 }
        #expect(Set(atKIS).isSubset(of: Set(journaled)), "every order at KIS is in the journal")
        #expect(journaled.count == Set(journaled).count, "no order number twice in the journal")
    }
}
