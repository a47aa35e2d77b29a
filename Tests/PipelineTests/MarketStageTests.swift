import Feed
import Foundation
import Metrics
import Orders
import Synchronization
import TestVectors
import Testing
import TickCore

@testable import Pipeline

/// A clock the test sets: the stage's "now".
final class TestClock: NanoClock {
    private let time = Atomic<Int64>(0)

    init(_ start: Int64) { self.time.store(start, ordering: .relaxed) }

    func now() -> Int64 { self.time.load(ordering: .relaxed) }
    func sleep(nanoseconds: Int64) { self.time.add(max(0, nanoseconds), ordering: .relaxed) }
    func set(_ nanoseconds: Int64) { self.time.store(nanoseconds, ordering: .relaxed) }
}

/// The market stage run inline on the real KIS frames of 2026-06-08 (005930 at 11:48:27): what reaches it, what it
/// stamps, and what it publishes.
@Suite struct MarketStageTests {
    static let samsung = SymbolCode(ascii: "005930")
    /// 11:48:30 KST on the vectors' day, just after their prints: the receive time the test stamps them with.
    static let received = KST.epochSeconds(date: 20_260_608, time: 114_830)! * 1_000_000_000

    static func pipeline(_ clock: TestClock) throws -> Pipeline<TestClock> {
        try Pipeline(settings: PipelineSettings(codes: [Self.samsung, SymbolCode(ascii: "000660")]), clock: clock)
    }

    /// Each frame of `file` fed as one message stamped `localTs`.
    static func feed(_ file: String, into feeder: inout MessageFeeder, localTs: Int64) throws {
        for line in try Vectors.lines(file) {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { feeder.feed($0, localTs: localTs) }
        }
    }

    @Test func everyTickAndTheLatestBookReachTheStageStampedOnceAPass() throws {
        let clock = TestClock(Self.received)
        let pipeline = try Self.pipeline(clock)
        var stage = pipeline.stage(opening: .empty(buyingPower: 10_000_000))
        var feeder = try MessageFeeder(router: pipeline.router())
        try Self.feed(Vectors.trades, into: &feeder, localTs: Self.received)
        try Self.feed(Vectors.books, into: &feeder, localTs: Self.received)
        #expect(feeder.records == 16 + 5 && feeder.malformed == 0)
        // The decision comes 2 µs after the read, on the stage's clock.
        clock.set(Self.received + 2_000)
        while stage.poll() > 0 {}
        stage.finish()
        pipeline.monitor.finish()
        // Five books of one code came before the stage looked: it read the latest, once.
        #expect(pipeline.feed.booksConflated == 4)
        let latency = pipeline.monitor.withLatency { copy $0 }
        #expect(latency[.readToDecision].count == 16 + 1)
        #expect(latency[.readToDecision].summary().max == 2_000)
        let snapshot = try #require(pipeline.monitor.snapshot())
        #expect(snapshot.lateTrades == 0 && snapshot.orders.sent == 0 && snapshot.positionCount == 0)
        #expect(stage.broker.board[0].lastPrice > 0, "the prints reached the risk board")
        #expect(pipeline.feed.isDrained)
    }

    /// After a reconnect the code's book is not trusted until a new one comes: the feed's, or KIS's REST snapshot
    /// when that was asked after the feed's latest book.
    @Test func aGapForgetsTheBookUntilTheFeedOrASnapshotBringsOne() throws {
        let clock = TestClock(Self.received)
        let pipeline = try Self.pipeline(clock)
        var stage = pipeline.stage(opening: .empty(buyingPower: 10_000_000))
        var feeder = try MessageFeeder(router: pipeline.router())
        try Self.feed(Vectors.books, into: &feeder, localTs: Self.received)
        while stage.poll() > 0 {}
        let samsung = SymbolIndex(0)
        let fed = stage.strategy.book(of: samsung)
        #expect(fed.bestAsk > 0 && fed.bestBid > 0)

        var router = pipeline.router()
        router.markGap(Self.samsung)
        router.endOfBatch()
        while stage.poll() > 0 {}
        #expect(stage.strategy.book(of: samsung).bestAsk == 0, "the book from before the gap is forgotten")
        #expect(pipeline.feed.booksAreWanted)

        var snapshot = Book()
        snapshot.code = Self.samsung
        snapshot.askPrices[0] = fed.bestAsk + 100
        snapshot.bidPrices[0] = fed.bestBid + 100
        snapshot.askQuantities[0] = 10
        snapshot.bidQuantities[0] = 10
        snapshot.localTs = Self.received + 1_000
        pipeline.orders.tell(.book(snapshot))
        pipeline.orders.publishNews()
        while stage.poll() > 0 {}
        #expect(stage.strategy.book(of: samsung).bestAsk == fed.bestAsk + 100, "the snapshot is the book now")

        // A snapshot asked before the latest book the stage holds is older than it, and dropped.
        var older = snapshot
        older.askPrices[0] = fed.bestAsk + 200
        older.localTs = Self.received + 500
        pipeline.orders.tell(.book(older))
        pipeline.orders.publishNews()
        while stage.poll() > 0 {}
        #expect(stage.strategy.book(of: samsung).bestAsk == fed.bestAsk + 100)

        // The feed's own book ends the wait without any snapshot.
        #expect(pipeline.feed.takeBooksWanted() == [samsung])
        router.markGap(Self.samsung)
        router.endOfBatch()
        try Self.feed(Vectors.books, into: &feeder, localTs: Self.received + 2_000)
        #expect(!pipeline.feed.booksAreWanted)
        while stage.poll() > 0 {}
        let refed = stage.strategy.book(of: samsung)
        #expect(refed.bestAsk == fed.bestAsk && refed.localTs == Self.received + 2_000)
    }

    /// A record of a code outside the table is counted and skipped, never routed at another code's index.
    @Test func foreignCodesAreCountedNotRouted() throws {
        let clock = TestClock(Self.received)
        let pipeline = try Pipeline(
            settings: PipelineSettings(codes: [SymbolCode(ascii: "000660")]),
            clock: clock
        )
        var stage = pipeline.stage(opening: .empty(buyingPower: 0))
        var feeder = try MessageFeeder(router: pipeline.router())
        try Self.feed(Vectors.trades, into: &feeder, localTs: Self.received)
        while stage.poll() > 0 {}
        pipeline.monitor.finish()
        #expect(pipeline.feed.foreign == 16)
        #expect(pipeline.monitor.withLatency { $0[.readToDecision].count } == 0)
    }

    /// Bad settings name the key and where they came from.
    @Test func aBadSettingNamesTheKeyAndTheFile() {
        var settings = PipelineSettings(codes: [Self.samsung])
        settings.parameters = ["entry_interval_seconds": "120"]
        settings.settingsPath = "/etc/kistick.yaml"
        #expect {
            _ = try Pipeline(settings: settings, clock: TestClock(0))
        } throws: { error in
            "\(error)".contains("/etc/kistick.yaml") && "\(error)".contains("entry_interval_seconds")
        }
        #expect(throws: PipelineError.self) {
            _ = try Pipeline(settings: PipelineSettings(codes: [Self.samsung, Self.samsung]), clock: TestClock(0))
        }
    }

    /// On its own thread the stage sleeps on its doorbell when the feed is quiet and wakes for the next batch.
    @Test func theThreadParksAndTheFeedWakesIt() throws {
        let pipeline = try Pipeline(settings: PipelineSettings(codes: [Self.samsung]), clock: WallClock())
        let thread = try pipeline.start(
            pipeline.stage(opening: .empty(buyingPower: 0)),
            waiting: .spinThenPark(spinNanoseconds: 0)
        )
        var feeder = try MessageFeeder(router: pipeline.router())
        for round in 0..<3 {
            // Long enough for the stage to have parked.
            usleep(20_000)
            try Self.feed(Vectors.trades, into: &feeder, localTs: WallClock().now())
            let deadline = ContinuousClock.now + .seconds(5)
            while !pipeline.feed.isDrained, ContinuousClock.now < deadline { usleep(1_000) }
            #expect(pipeline.feed.isDrained, "round \(round): the stage never woke")
        }
        thread.stop()
        #expect(pipeline.doorbell.wakeUps >= 1)
        #expect(pipeline.monitor.withLatency { $0[.readToDecision].count } == 3 * 16)
    }
}
