import ArgumentParser
import Foundation
import KIS
import Simulator
import Testing
import TickCore

@testable import kistick

/// `--venue` on order, watch, record, paper and live.
@Suite struct VenueOptionTests {
    /// The message a command's parse gives for `arguments`, or nil when they are accepted.
    func refusal<C: ParsableCommand>(_ command: C.Type, _ arguments: [String]) -> String? {
        OptionTests().refusal(command, arguments)
    }

    @Test func anOrderGoesToTheVenueNamed() throws {
        #expect(try Order.parse(["buy", "005930", "1"]).route == .krx)
        #expect(try Order.parse(["buy", "005930", "1", "--venue", "nxt"]).route == .nxt)
        #expect(try Order.parse(["buy", "005930", "1", "--venue", "sor"]).route == .sor)
        let message = try #require(self.refusal(Order.self, ["buy", "005930", "1", "--venue", "combined"]))
        #expect(message.contains("--venue"))
        #expect(self.refusal(Order.self, ["buy", "005930", "1", "--venue", "nyse"]) != nil)
    }

    /// Watching a second venue doubles each code's registrations, so fewer codes fit KIS's 41.
    @Test func theCodeCapFollowsTheVenues() {
        let ten = (0..<10).map { String(format: "%06d", 5930 + $0) }
        let eleven = ten + ["000660"]
        #expect(self.refusal(Watch.self, ten + ["--venue", "nxt"]) == nil)
        #expect(self.refusal(Watch.self, eleven + ["--venue", "nxt"])?.contains("at most 10 codes") == true)
        #expect(self.refusal(Watch.self, eleven + ["--venue", "combined"]) == nil)
        let codes = eleven.joined(separator: ",")
        #expect(self.refusal(Record.self, ["--out", "x.kcap", "--codes", codes, "--venue", "sor"]) != nil)
        #expect(self.refusal(Record.self, ["--out", "x.kcap", "--codes", codes]) == nil)
        #expect(self.refusal(Paper.self, ["--codes", codes, "--venue", "nxt"])?.contains("at most 10 codes") == true)
        #expect(self.refusal(Paper.self, ["--codes", codes, "--venue", "krx"]) == nil)
    }

    /// `paper` trades NXT and SOR on the embedded simulator's real server (KIS's paper server takes KRX orders
    /// only): its real account is built from that simulator's endpoints alone.
    @Test func paperTradesNXTWithARealAccountOfItsOwnSimulatorOnly() async throws {
        var config = SimConfig()
        config.clock = .manual
        config.symbols = ["005930"]
        config.servers = [.paper: SimConfig.Ports(), .real: SimConfig.Ports()]
        let simulator = Simulator(config: config)
        let endpoints = try await simulator.start()
        let real = Paper.account(of: simulator, real: true)
        #expect(real.environment == .real)
        #expect(real.restURL == endpoints[.real]!.rest && real.webSocketURL == endpoints[.real]!.webSocket)
        #expect(real.restURL.hasPrefix("http://127.0.0.1:"))
        #expect(real.quotations == nil)
        let paper = Paper.account(of: simulator, real: false)
        #expect(paper.environment == .paper && paper.restURL == endpoints[.paper]!.rest)
        #expect(paper.quotations?.restURL == endpoints[.real]!.rest)
        try await simulator.stop()

        // The venue comes from --venue, else the settings file's `venue`.
        let settings = FileManager.default.temporaryDirectory.appendingPathComponent("venue-\(getpid()).yaml").path
        try "venue: sor\n".write(toFile: settings, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: settings) }
        #expect(try Paper.parse([]).engine.venueMode() == .krx)
        #expect(try Paper.parse(["--settings", settings]).engine.venueMode() == .sor)
        #expect(try Paper.parse(["--settings", settings, "--venue", "combined"]).engine.venueMode() == .combined)
        // Only KRX is on the paper server: it refuses NXT and SOR orders and serves no combined feed.
        #expect(VenueMode.allCases.filter { !Paper.tradesSimulatedReal($0) } == [.krx])
    }

    @Test func aCaptureHeaderListsTheVenuesTRs() {
        let header = EngineOptions.captureHeader(
            codes: ["005930"],
            notices: nil,
            label: ("paper", "test"),
            venues: VenueOption.nxt.mode.feeds
        )
        #expect(header.trIDs == ["H0STCNT0", "H0STASP0", "H0NXCNT0", "H0NXASP0"])
        #expect(VenueOption.allCases.map(\.mode) == VenueMode.allCases)
    }
}
