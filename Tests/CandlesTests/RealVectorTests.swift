import Candles
import Feed
import TestVectors
import Testing
import TickCore

/// Bars and book features from the real 2026-06-08 H0STCNT0/H0STASP0 frames of 005930, checked against figures
/// worked out by hand from the raw text.
@Suite struct RealVectorTests {
    /// 2026-06-08 11:48:30 KST, just after the vectors were captured.
    static let localTs: Int64 = 1_780_886_910 * 1_000_000_000

    static func decode(_ name: String) throws -> RecordCollector {
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        for line in try Vectors.lines(name) {
            var bytes = Array(line.utf8)
            _ = try bytes.withUnsafeMutableBytes { try decoder.decode($0, localTs: Self.localTs, into: &sink) }
        }
        return sink
    }

    @Test func layout() {
        #expect(MemoryLayout<Candle>.size == 64)
        #expect(MemoryLayout<Candle>.stride == 64)
        #expect(MemoryLayout<BookFeatures>.stride <= 64)
    }

    /// The 16 prints, 11:48:27–11:48:28: 13 buy-initiated at 314,000 (740 shares), 3 sell-initiated at 313,500
    /// (40 shares).
    @Test func oneMinuteAndFiveMinuteBarsFromRealTrades() throws {
        let trades = try Self.decode(Vectors.trades).trades
        try #require(trades.count == 16)
        var builder = try CandleBuilder(symbols: 1)
        var sink = CollectedBars()
        for t in trades {
            #expect(builder.update(t, symbol: 0, into: &sink) == .applied)
        }
        #expect(sink.bars.isEmpty)

        builder.advance(to: at(114_859), into: &sink)
        #expect(sink.bars.isEmpty)
        builder.advance(to: at(114_900), into: &sink)
        let minute = try #require(sink.take().only)
        #expect(minute.code == samsung)
        #expect(minute.start == at(114_800))
        #expect(minute.seconds == 60)
        #expect([minute.open, minute.high, minute.low, minute.close] == [314_000, 314_000, 313_500, 314_000])
        #expect(minute.volume == 780)
        #expect(minute.buyVolume == 740)
        #expect(minute.sellVolume == 40)
        #expect(minute.trades == 16)
        // 740 × 314,000 + 40 × 313,500
        #expect(minute.value == 244_900_000)
        // 244,900,000 / 780 = 313,974.358…
        #expect(minute.vwap == 31_397_436)
        // 740 / 40 × 100 = 1850.00
        #expect(minute.strength == 185_000)
        // KIS's CTTR on the last print: 113.70
        #expect(minute.sessionStrength == 11_370)
        #expect(minute.flags == [])

        builder.advance(to: at(115_000), into: &sink)
        let five = try #require(sink.take().only)
        #expect(five.start == at(114_500))
        #expect(five.seconds == 300)
        var same = five
        same.start = minute.start
        same.seconds = minute.seconds
        #expect(same == minute)
        builder.advance(to: at(120_000), into: &sink)
        #expect(sink.bars.isEmpty)
    }

    /// The bar strength rule is KIS's: applied to each print's cumulative buy and sell volume it gives the CTTR
    /// KIS sent with it.
    @Test func strengthRoundsAsKISDoes() throws {
        for t in try Self.decode(Vectors.trades).trades {
            #expect(Candle.strength(buy: t.buyInitiatedVolume, sell: t.sellInitiatedVolume) == t.strength)
        }
        #expect(Candle.strength(buy: 5, sell: 0) == nil)
    }

    @Test func bookFeaturesFromRealBooks() throws {
        let books = try Self.decode(Vectors.books).books
        try #require(books.count == 5)
        let first = BookFeatures(book: books[0], topLevels: 3)
        #expect(first.code == samsung)
        #expect(first.bestAsk == 314_000)
        #expect(first.bestBid == 313_500)
        // 500 KRW is one step at this price.
        #expect(first.spreadTicks == 1)
        #expect(first.askQuantity == 245_385)
        #expect(first.bidQuantity == 182_540)
        // (182,540 − 245,385) / 427,925 = −0.14686…
        #expect(first.imbalance == -1_468)
        // asks 5,876 + 14,949 + 20,782; bids 37,599 + 17,795 + 10,335: 24,122 / 107,336 = 0.22473…
        #expect(first.topImbalance == 2_247)
        #expect(first.topLevels == 3)
        #expect(!first.isAuction)
        // 37,599 against 5,876: 31,723 / 43,475 = 0.72968…
        #expect(BookFeatures(book: books[0], topLevels: 1).topImbalance == 7_296)
        for book in books {
            let features = BookFeatures(book: book, topLevels: 10)
            #expect(features.askQuantity == Int64(book.totalAskQuantity))
            #expect(features.bidQuantity == Int64(book.totalBidQuantity))
            #expect(features.topImbalance == features.imbalance)
            #expect(features.exchangeTime == book.exchangeTime)
        }
    }
}

extension Array {
    /// The single element, or nil when there are none or several.
    var only: Element? { self.count == 1 ? self[0] : nil }
}
