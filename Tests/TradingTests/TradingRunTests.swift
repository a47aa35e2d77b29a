import Capture
import Engine
import Foundation
import KIS
import PaperMarket
import Screener
import Simulator
import Testing
import TickCore
import Trading

/// The loop `paper` and `live` run around a started engine, against the in-process paper server.
@Suite(.serialized) struct TradingRunTests {
    /// Four codes, two live, none core: each rotation moves every rotating slot but the one the account holds. The
    /// holding is bought before the engine starts, so the engine's reconciliation takes it from KIS's balance.
    /// About 5 s: the rotation period is 60 market seconds, a second of wall time at 60x.
    @Test func theUniverseRotatesButACodeTheAccountHoldsStaysLive() async throws {
        let codes = Catalog.knownCodes.prefix(4).compactMap(SymbolCode.init)
        let market = try await PaperMarket(speed: 60, codes: codes)
        defer { market.remove() }
        let client = try market.client()
        defer { client.tokens.stop() }
        let held = codes[1]
        var lane = try client.makeOrderLane()
        // At the upper limit a buy takes the asks at once.
        let limit = try client.price(held.description).upperLimit
        _ = try lane.place(OrderTicket(side: .buy, code: held, quantity: 3, price: limit))

        var screen = ScreenSettings()
        (screen.liveCodes, screen.coreCodes, screen.rotationSeconds) = (2, 0, 60)
        let plan = TradingPlan(passing: codes, settings: screen)
        var settings = EngineSettings(codes: plan.codes, journalPath: market.directory + "/journal.sqlite")
        settings.subscribed = plan.live
        settings.speed = 60
        let engine = try Engine(client: client, settings: settings)
        try engine.start()
        var run = TradingRun(engine: engine, plan: plan, speed: 60, mode: "paper", environment: "paper")
        var seen: [[String]] = []
        let report = try await run.run(
            until: Date().addingTimeInterval(4.5),
            stopRequested: { false },
            killRequested: { false },
            console: TradingRun.Console(
                show: { _, _ in seen.append(market.simulator.tradeRegistrations()) },
                warn: { Issue.record("warned: \($0)") }
            )
        )
        try await market.simulator.stop()
        #expect(report.status.positions.contains { $0.code == held.description && $0.quantity == 3 })
        // Registrations change within a second of a rotation; samples taken mid-change are left out.
        let settled = seen.filter { $0.count == 2 }
        #expect(settled.count >= 3, "\(seen)")
        #expect(settled.allSatisfy { $0.contains(held.description) }, "\(seen)")
        #expect(Set(settled.flatMap { $0 }).count >= 3, "no rotation: \(seen)")
    }

    /// A report path that cannot be written costs neither the capture nor the run's other output.
    @Test func aReportThatCannotBeWrittenLeavesTheCaptureFinished() async throws {
        let market = try await PaperMarket(speed: 60, codes: Array(PaperMarket.defaultCodes.prefix(1)))
        defer { market.remove() }
        let client = try market.client()
        defer { client.tokens.stop() }
        let plan = TradingPlan(codes: ["005930"])
        let capturePath = market.directory + "/run.kcap"
        var settings = EngineSettings(codes: plan.codes, journalPath: market.directory + "/journal.sqlite")
        settings.capture = try CaptureWriter(
            path: capturePath,
            header: CaptureHeader(environment: "paper", codes: ["005930"], trIDs: ["H0STCNT0"], startNs: 0, note: "")
        )
        settings.speed = 60
        let engine = try Engine(client: client, settings: settings)
        try engine.start()
        var run = TradingRun(
            engine: engine,
            plan: plan,
            speed: 60,
            mode: "paper",
            environment: "paper",
            capture: settings.capture
        )
        let report = try await run.run(
            until: Date().addingTimeInterval(1.5),
            stopRequested: { false },
            killRequested: { false },
            console: TradingRun.Console(show: { _, _ in }, warn: { _ in })
        )
        try await market.simulator.stop()
        let outputs = run.finish(report, reportPath: market.directory + "/no such folder/report.json")
        #expect(outputs.problems.count == 1 && outputs.problems[0].hasPrefix("the report was not written"))
        #expect((outputs.captureStats?.messages ?? 0) > 0)
        #expect(FileManager.default.fileExists(atPath: capturePath))
    }
}
