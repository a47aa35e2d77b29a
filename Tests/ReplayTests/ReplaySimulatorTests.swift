import Capture
import Engine
import Foundation
import KIS
import Simulator
import Testing
import TickCore

/// Issue 6's acceptance: the replay of the sample matches the trades of a live run against the simulator fed by
/// the same capture (`kistick sim --capture`).
@Suite(.serialized)
struct ReplaySimulatorTests {
    /// The simulator plays the capture this many times faster than it was recorded (the sample: 60× market time,
    /// so the live engine runs at 60 × this).
    static let speed = 5.0

    /// "Matches" is `ReplaySampleTests.matchesLive`'s definition, for the same reason: the live engine's
    /// filled orders, in the order they filled, and the replay's first as many are the same code, side and total
    /// shares at volume-weighted prices at most one ladder step apart, and the replay fills at most two orders
    /// more (a round trip the live run had not finished when the recorded day ended). The exchange rules are the
    /// same on both sides (the simulator matches the recorded market as `ReplayExchange` does); what differs is
    /// only when the live strategy decided: after its pipeline's delay, against the book of that later moment,
    /// where the replay decides at the recorded receive time.
    @Test func theReplayFillsTheOrdersALiveRunAgainstTheCaptureFedSimulatorFills() async throws {
        var config = SimConfig()
        let market = try RecordedMarket(path: ReplaySampleTests.sample)
        config.market = market
        config.clock = .realtime(speed: Self.speed)
        config.servers = [.paper: SimConfig.Ports(), .real: SimConfig.Ports()]
        let simulator = Simulator(config: config)
        let paper = try #require(try await simulator.start()[.paper])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kistick-simcap-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let client = KISClient.make(
            settings: ClientSettings.madeUp(environment: .paper, restURL: paper.rest, webSocketURL: paper.webSocket),
            cache: try TokenCache(directory: directory + "/tokens"))
        var settings = EngineSettings(codes: market.codes.compactMap(SymbolCode.init), journalPath: directory + "/journal.sqlite")
        settings.parameters = try SettingsFile.load(path: ReplaySampleTests.settingsFile, keys: EngineSettings.knownKeys)
        settings.speed = 60 * Self.speed
        // The live run's feed, recorded: its notices are the live fills, read as the sample's are.
        let livePath = directory + "/live.kcap"
        let writer = try CaptureWriter(
            path: livePath,
            header: CaptureHeader(
                environment: "paper", codes: market.codes, trIDs: ["H0STCNT0", "H0STASP0", "H0STCNI9"],
                startNs: Int64(Date().timeIntervalSince1970 * 1e9), note: "sim --capture sample.kcap"))
        settings.capture = writer
        let engine = try Engine(client: client, settings: settings)
        try engine.start()
        let deadline = Date().addingTimeInterval(45 / Self.speed + 30)
        while simulator.recordedFramesLeft() != 0, Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(simulator.recordedFramesLeft() == 0, "the recorded day did not end in time")
        let report = engine.stop()
        client.tokens.stop()
        _ = try writer.finish()
        try await simulator.stop()
        #expect(report.status.drops.lost == 0)

        let live = ReplaySampleTests.byOrder(
            try ReplaySampleTests.recordedFills(path: livePath).map {
                ($0.orderNumber, $0.code.description, $0.side == .buy ? "buy" : "sell", Int64($0.quantity), Int64($0.price))
            })
        let replay = ReplaySampleTests.byOrder(
            try ReplaySampleTests.shared.get().fills.map { ($0.id, $0.code, $0.side, Int64($0.quantity), Int64($0.price)) })
        #expect(live.count >= 6, "the live run has \(live.count) filled orders")
        #expect(replay.count >= live.count && replay.count <= live.count + 2, "live \(live), replay \(replay)")
        for (live, replay) in zip(live, replay) {
            #expect(live.code == replay.code && live.side == replay.side && live.quantity == replay.quantity, "live \(live), replay \(replay)")
            #expect(abs(live.price - replay.price) <= KRX.tick(at: live.price), "live \(live), replay \(replay)")
        }
    }
}
