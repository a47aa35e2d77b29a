import Foundation
import Pipeline
import Testing
import TestVectors
import TickCore

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
        Self.feed(["0|H0NXMKO0|001|005930^N^^112^^^^55^^N^K", "0|H0STMKO0|001|000660^Y^^112^^^^58^^N^K"], into: &feeder)
        while stage.poll() > 0 {}
        #expect(!stage.broker.board[0, venue: .nxt].halted)
        #expect(pipeline.feed.foreign == 1, "a code outside the table is counted, not applied")
    }
}
