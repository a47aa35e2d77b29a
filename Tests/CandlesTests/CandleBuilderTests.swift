import Candles
import Testing
import TickCore

/// Bar boundaries on synthetic sequences: rollover, alignment, quiet codes, sessions, gaps, late prints.
@Suite struct CandleBuilderTests {
    @Test func minuteRolloverEmitsOnTheFirstPrintOfTheNextMinute() throws {
        var builder = try CandleBuilder(symbols: 1)
        var sink = CollectedBars()
        builder.update(trade(100_010, 50_000, 10), symbol: 0, into: &sink)
        builder.update(trade(100_030, 50_200, 5, .sell), symbol: 0, into: &sink)
        builder.update(trade(100_059, 49_900, 7), symbol: 0, into: &sink)
        #expect(sink.bars.isEmpty)
        builder.update(trade(100_100, 50_100, 1), symbol: 0, into: &sink)
        let bar = try #require(sink.take().only)
        #expect(bar.start == at(100_000))
        #expect(bar.end == at(100_100))
        #expect([bar.open, bar.high, bar.low, bar.close] == [50_000, 50_200, 49_900, 49_900])
        #expect([bar.volume, bar.buyVolume, bar.sellVolume, bar.trades] == [22, 17, 5, 3])
        #expect(bar.value == 500_000 + 251_000 + 349_300)
        #expect(builder.current(symbol: 0, interval: 0)?.start == at(100_100))
        #expect(builder.current(symbol: 0, interval: 0)?.open == 50_100)
        #expect(builder.current(symbol: 0, interval: 1)?.trades == 4)
    }

    @Test func fiveMinuteBarsAlignToKSTFiveMinutes() throws {
        var builder = try CandleBuilder(symbols: 1)
        var sink = CollectedBars()
        builder.update(trade(100_459, 50_000, 1), symbol: 0, into: &sink)
        builder.update(trade(100_500, 50_100, 1), symbol: 0, into: &sink)
        let closed = sink.take()
        #expect(closed.map(\.seconds) == [60, 300])
        #expect(closed.map(\.start) == [at(100_400), at(100_000)])
        builder.update(trade(100_959, 50_200, 1), symbol: 0, into: &sink)
        #expect(sink.take().map(\.seconds) == [60])
        #expect(builder.current(symbol: 0, interval: 1)?.start == at(100_500))
        #expect(builder.current(symbol: 0, interval: 1)?.high == 50_200)
    }

    @Test func advanceClosesQuietCodesOnce() throws {
        var builder = try CandleBuilder(symbols: 2)
        var sink = CollectedBars()
        builder.update(trade(100_030, 50_000, 1), symbol: 0, into: &sink)
        builder.update(trade(100_210, 80_000, 1, code: hynix), symbol: 1, into: &sink)
        builder.advance(to: at(100_059), into: &sink)
        #expect(sink.bars.isEmpty)
        builder.advance(to: at(100_100), into: &sink)
        #expect(sink.symbols == [0])
        #expect(sink.take().map(\.start) == [at(100_000)])
        builder.advance(to: at(100_500), into: &sink)
        #expect(sink.symbols == [0, 1, 1])
        #expect(sink.take().map(\.seconds) == [300, 60, 300])
        builder.advance(to: at(110_000), into: &sink)
        #expect(sink.bars.isEmpty)
        #expect(builder.current(symbol: 0, interval: 0) == nil)
    }

    @Test func theOpeningPrintIsABarOfItsOwn() throws {
        var builder = try CandleBuilder(symbols: 1)
        var sink = CollectedBars()
        builder.update(trade(83_500, 49_000, 100, .preMarket), symbol: 0, into: &sink)
        builder.update(trade(90_000, 50_000, 9_000), symbol: 0, into: &sink)
        #expect(sink.take().map(\.flags) == [.preMarket, .preMarket])
        builder.update(trade(90_000, 50_100, 3), symbol: 0, into: &sink)
        let opening = sink.take()
        #expect(opening.map(\.flags) == [.openingAuction, .openingAuction])
        #expect(opening.map(\.volume) == [9_000, 9_000])
        #expect(opening.map(\.start) == [at(90_000), at(90_000)])
        let continuous = try #require(builder.current(symbol: 0, interval: 0))
        #expect(continuous.start == at(90_000))
        #expect(continuous.flags == [])
        #expect(continuous.volume == 3)
        // Later 09:00:00 prints are continuous trading.
        builder.update(trade(90_000, 50_000, 2), symbol: 0, into: &sink)
        #expect(sink.bars.isEmpty)
    }

    /// NXT's pre- and after-market prints make continuous bars, and KRX's opening print after them is still the
    /// opening auction's.
    @Test func nxtPrintsAreContinuousAtAnyHour() throws {
        var builder = try CandleBuilder(symbols: 1, intervals: [60])
        var sink = CollectedBars()
        var nxt = trade(80_510, 50_000, 10)
        nxt.venue = .nxt
        builder.update(nxt, symbol: 0, into: &sink)
        #expect(builder.current(symbol: 0, interval: 0)?.flags == [])
        builder.update(trade(90_000, 50_100, 9_000), symbol: 0, into: &sink)
        #expect(sink.take().map(\.flags) == [[]])
        builder.update(trade(90_001, 50_100, 3), symbol: 0, into: &sink)
        #expect(sink.take().map(\.flags) == [.openingAuction])
        nxt.exchangeTime = at(170_000)
        builder.update(nxt, symbol: 0, into: &sink)
        #expect(builder.current(symbol: 0, interval: 0)?.flags == [])
    }

    @Test func aCodeThatDoesNotCrossAtTheOpenHasNoOpeningBar() throws {
        var builder = try CandleBuilder(symbols: 1)
        var sink = CollectedBars()
        builder.update(trade(90_004, 50_000, 10), symbol: 0, into: &sink)
        #expect(builder.current(symbol: 0, interval: 0)?.flags == [])
    }

    /// A 60-minute bar 15:00–16:00 spans the continuous close and the closing auction; the class rule splits it.
    @Test func theClosingPrintNeverJoinsAContinuousBar() throws {
        var builder = try CandleBuilder(symbols: 1, intervals: [60, 300, 3600])
        var sink = CollectedBars()
        builder.update(trade(151_930, 50_000, 10), symbol: 0, into: &sink)
        builder.update(trade(153_000, 50_500, 40_000), symbol: 0, into: &sink)
        let continuous = sink.take()
        #expect(continuous.map(\.start) == [at(151_900), at(151_500), at(150_000)])
        #expect(continuous.allSatisfy { $0.flags == [] && $0.volume == 10 })
        let auction = try #require(builder.current(symbol: 0, interval: 2))
        #expect(auction.start == at(150_000))
        #expect(auction.flags == .closingAuction)
        #expect(auction.volume == 40_000)
        #expect(builder.current(symbol: 0, interval: 1)?.start == at(153_000))
        builder.update(trade(154_000, 50_500, 5), symbol: 0, into: &sink)
        #expect(sink.take().map(\.flags) == [.closingAuction, .closingAuction, .closingAuction])
        #expect(builder.current(symbol: 0, interval: 0)?.flags == .afterHours)
    }

    @Test func aGapClosesTheBarInProgressAndMarksTheBarItResumesIn() throws {
        var builder = try CandleBuilder(symbols: 1)
        var sink = CollectedBars()
        builder.update(trade(100_010, 50_000, 10), symbol: 0, into: &sink)
        builder.markGap(symbol: 0, at: at(100_320), into: &sink)
        let cut = sink.take()
        #expect(cut.map(\.start) == [at(100_000), at(100_000)])
        #expect(cut.allSatisfy { $0.flags == .gap && $0.volume == 10 })

        builder.update(trade(100_330, 50_100, 3), symbol: 0, into: &sink)
        #expect(sink.bars.isEmpty)
        #expect(builder.current(symbol: 0, interval: 0)?.flags == .gap)
        let resumed = try #require(builder.current(symbol: 0, interval: 1))
        #expect(resumed.start == at(100_000))
        #expect(resumed.flags == .gap)
        #expect(resumed.volume == 3)

        builder.update(trade(100_400, 50_200, 1), symbol: 0, into: &sink)
        #expect(sink.take().map(\.flags) == [.gap])
        #expect(builder.current(symbol: 0, interval: 0)?.flags == [])
        builder.advance(to: at(100_500), into: &sink)
        #expect(sink.take().map(\.flags) == [[], .gap])
    }

    @Test func latePrintsChangeNothingAndAreCounted() throws {
        var builder = try CandleBuilder(symbols: 1)
        var sink = CollectedBars()
        builder.update(trade(100_105, 50_000, 10), symbol: 0, into: &sink)
        let before = builder.current(symbol: 0, interval: 1)
        #expect(builder.update(trade(100_050, 60_000, 5), symbol: 0, into: &sink) == .late)
        #expect(builder.lateTrades == 1)
        #expect(builder.current(symbol: 0, interval: 1) == before)
        // Once advance has closed 10:01, a 10:01:59 print is late although its 5-minute bar is still open.
        builder.advance(to: at(100_200), into: &sink)
        #expect(builder.update(trade(100_159, 60_000, 5), symbol: 0, into: &sink) == .late)
        #expect(builder.lateTrades == 2)
        #expect(builder.current(symbol: 0, interval: 1) == before)
        #expect(builder.update(trade(100_200, 50_000, 1), symbol: 0, into: &sink) == .applied)
    }

    @Test func volumesSaturateInsteadOfTrapping() throws {
        var builder = try CandleBuilder(symbols: 1)
        var sink = CollectedBars()
        builder.update(trade(100_000, 1_000, .max), symbol: 0, into: &sink)
        builder.update(trade(100_001, 1_000, .max), symbol: 0, into: &sink)
        let bar = try #require(builder.current(symbol: 0, interval: 0))
        #expect(bar.volume == .max)
        #expect(bar.buyVolume == .max)
        #expect(bar.value == 2 * 1_000 * Int64(Int32.max))
    }

    @Test func configurationErrorsAreTyped() {
        #expect(throws: CandleBuilder.ConfigurationError.noIntervals) { try CandleBuilder(symbols: 1, intervals: []) }
        #expect(throws: CandleBuilder.ConfigurationError.tooManyIntervals(5)) {
            try CandleBuilder(symbols: 1, intervals: [60, 120, 300, 600, 900])
        }
        #expect(throws: CandleBuilder.ConfigurationError.invalidInterval(7)) {
            try CandleBuilder(symbols: 1, intervals: [7])
        }
        #expect(throws: CandleBuilder.ConfigurationError.invalidInterval(7_200)) {
            try CandleBuilder(symbols: 1, intervals: [7_200])
        }
        #expect(throws: CandleBuilder.ConfigurationError.notAscending) {
            try CandleBuilder(symbols: 1, intervals: [300, 60])
        }
        #expect(throws: CandleBuilder.ConfigurationError.invalidSymbolCount(0)) { try CandleBuilder(symbols: 0) }
        #expect(throws: CandleBuilder.ConfigurationError.invalidSymbolCount(65)) { try CandleBuilder(symbols: 65) }
    }

    @Test func symbolIndexOutsideTheTableIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            var builder = try CandleBuilder(symbols: 1)
            var sink = CollectedBars()
            builder.update(trade(100_000, 1_000, 1), symbol: 1, into: &sink)
        }
        await #expect(processExitsWith: .failure) {
            var builder = try CandleBuilder(symbols: 1)
            var sink = CollectedBars()
            builder.markGap(symbol: 1, at: 0, into: &sink)
        }
        await #expect(processExitsWith: .failure) {
            _ = try CandleBuilder(symbols: 1).current(symbol: 0, interval: 2)
        }
    }
}

@Suite struct BookFeatureTests {
    @Test func spreadCountsLadderStepsAcrossBands() {
        #expect(BookFeatures.spreadSteps(bid: 50_000, ask: 50_100) == 1)
        #expect(BookFeatures.spreadSteps(bid: 50_000, ask: 50_300) == 3)
        // 1,998 → 1,999 → 2,000 (1 KRW steps), → 2,005 (5 KRW).
        #expect(BookFeatures.spreadSteps(bid: 1_998, ask: 2_005) == 3)
        #expect(BookFeatures.spreadSteps(bid: 0, ask: 2_005) == BookFeatures.noSpread)
        #expect(BookFeatures.spreadSteps(bid: 2_005, ask: 0) == BookFeatures.noSpread)
        #expect(BookFeatures.spreadSteps(bid: 2_005, ask: 2_005) == BookFeatures.noSpread)
        #expect(BookFeatures.spreadSteps(bid: 1_000, ask: 9_000) == BookFeatures.maxSpreadSteps)
    }

    @Test func imbalanceSignAndEmptyBook() {
        #expect(BookFeatures.imbalance(bid: 0, ask: 0) == 0)
        #expect(BookFeatures.imbalance(bid: 10, ask: 0) == 10_000)
        #expect(BookFeatures.imbalance(bid: 0, ask: 10) == -10_000)
        #expect(BookFeatures.imbalance(bid: 1, ask: 2) == -3_333)
        var book = Book()
        book.hourClass = UInt8(ascii: "B")
        let features = BookFeatures(book: book, topLevels: 5)
        #expect(features.isAuction)
        #expect(features.spreadTicks == BookFeatures.noSpread)
        #expect(features.imbalance == 0)
    }

    @Test func topLevelsOutsideTheBookIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) { _ = BookFeatures(book: Book(), topLevels: 11) }
        await #expect(processExitsWith: .failure) { _ = BookFeatures(book: Book(), topLevels: 0) }
    }
}
