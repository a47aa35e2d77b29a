import Foundation
import TestVectors
import Testing
import TickCore

@testable import Pipeline

/// NXT books and market-status messages through the feed ports into the market stage's board.
@Suite struct VenueFeedStageTests {
    static let samsung = SymbolCode(ascii: "005930")

    static func feed(_ lines: [String], into feeder: inout MessageFeeder) {
        for line in lines {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { feeder.feed($0, localTs: MarketStageTests.received) }
        }
    }

    /// A KRX book and an NXT book of one code, both unread when the stage looks: neither replaces the other.
    @Test func eachVenuesBookHasItsOwnSlot() throws {
        let clock = TestClock(MarketStageTests.received)
        let pipeline = try Pipeline(settings: PipelineSettings(codes: [Self.samsung]), clock: clock)
        var stage = pipeline.stage(opening: .empty(buyingPower: 10_000_000))
        var feeder = try MessageFeeder(router: pipeline.router())
        let krx = try Vectors.lines(Vectors.books)[0]
        Self.feed([krx, krx.replacingOccurrences(of: "H0STASP0", with: "H0NXASP0")], into: &feeder)
        while stage.poll() > 0 {}
        #expect(pipeline.feed.booksConflated == 0)
        let board = stage.broker.board
        #expect(board[0, venue: .krx].bestAsk > 0 && board[0, venue: .nxt].bestAsk == board[0, venue: .krx].bestAsk)
        #expect(board[0, venue: .nxt].bestBid == board[0, venue: .krx].bestBid)
        #expect(board[0, venue: .combined].bestAsk == 0)
        #expect(pipeline.feed.isDrained)
    }

    /// A halt on NXT, then its end, reach the NXT slot of the risk board in order; KRX's stays trading.
    @Test func marketStatusReachesTheBoard() throws {
        let clock = TestClock(MarketStageTests.received)
        let pipeline = try Pipeline(settings: PipelineSettings(codes: [Self.samsung]), clock: clock)
        var stage = pipeline.stage(opening: .empty(buyingPower: 10_000_000))
        var feeder = try MessageFeeder(router: pipeline.router())
        Self.feed(["0|H0NXMKO0|001|005930^Y^^112^^^^58^^N^K"], into: &feeder)
        while stage.poll() > 0 {}
        #expect(stage.broker.board[0, venue: .nxt].halted && !stage.broker.board[0].halted)
        Self.feed(
            ["0|H0NXMKO0|001|005930^N^^112^^^^55^^N^K", "0|H0STMKO0|001|000660^Y^^112^^^^58^^N^K"],
            into: &feeder
        )
        while stage.poll() > 0 {}
        #expect(!stage.broker.board[0, venue: .nxt].halted)
        #expect(pipeline.feed.foreign == 1, "a code outside the table is counted, not applied")
    }
}

/// `candle_venue` keeps one venue's prints out of the bars: a print older than the bar in progress is counted late
/// only by a builder that saw it.
@Suite struct CandleVenueTests {
    /// The first real trade frame with every record's time moved back to 11:40:00, titled `tr`.
    static func earlier(_ tr: String) throws -> String {
        let line = try Vectors.lines(Vectors.trades)[0]
        let parts = line.split(separator: "|", maxSplits: 3).map(String.init)
        var fields = parts[3].split(separator: "^", omittingEmptySubsequences: false).map(String.init)
        for record in 0..<(fields.count / 46) { fields[record * 46 + 1] = "114000" }
        return "0|\(tr)|\(parts[2])|" + fields.joined(separator: "^")
    }

    static func lateTrades(candleVenue: String) throws -> Int {
        let clock = TestClock(MarketStageTests.received)
        var settings = PipelineSettings(codes: [VenueFeedStageTests.samsung])
        settings.parameters = ["candle_venue": candleVenue]
        let pipeline = try Pipeline(settings: settings, clock: clock)
        var stage = pipeline.stage(opening: .empty(buyingPower: 10_000_000))
        var feeder = try MessageFeeder(router: pipeline.router())
        VenueFeedStageTests.feed(try Vectors.lines(Vectors.trades), into: &feeder)
        VenueFeedStageTests.feed([try Self.earlier("H0NXCNT0")], into: &feeder)
        while stage.poll() > 0 {}
        stage.finish()
        pipeline.monitor.finish()
        return try #require(pipeline.monitor.snapshot()).lateTrades
    }

    @Test func barsTakeTheChosenVenuesPrints() throws {
        // Combined (the default) and NXT bars took the NXT prints, late behind KRX's or not; KRX bars never saw them.
        #expect(try Self.lateTrades(candleVenue: "combined") > 0)
        #expect(try Self.lateTrades(candleVenue: "krx") == 0)
        #expect(try Self.lateTrades(candleVenue: "nxt") == 0)
    }
}
