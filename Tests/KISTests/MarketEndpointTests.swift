import Foundation
import KIS
import Simulator
import Testing
import TickCore

/// The client's typed calls for the REST book, the latest prints, the sellable quantity, earlier days' minute bars,
/// daily prices, members and the listing, against the in-process simulator.
@Suite struct MarketEndpointTests {
    @Test func theBookSnapshotIsAFeedShapedBook() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        let client = try kis.client()
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let book = try client.bookSnapshot("005930", localTs: now)
        #expect(book.code == SymbolCode("005930")! && book.localTs == now)
        let asks = (0..<10).map { book.askPrices[$0] }
        let bids = (0..<10).map { book.bidPrices[$0] }
        #expect(asks == asks.sorted() && bids == bids.sorted(by: >) && bids[0] < asks[0] && bids[9] > 0)
        #expect(book.totalAskQuantity == (0..<10).reduce(0) { $0 + book.askQuantities[$1] })
        #expect(book.hourClass == UInt8(ascii: "0") && book.expectedPrice == 0)
        // Exchange time: the answer's HHMMSS on today's KST date.
        let market = try kis.marketTime()
        #expect(KST.time(epochSeconds: Int64(book.exchangeTime)) == market)
        #expect(KST.date(epochSeconds: Int64(book.exchangeTime)) == kis.today)
    }

    @Test func latestPrintsDailyPricesMembersAndTheListing() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        kis.simulator.advance(seconds: 60)
        let client = try kis.client()
        let prints = try client.recentTrades("005930")
        #expect(prints.count == 30 && prints.allSatisfy { $0.price > 0 && $0.volume > 0 && $0.strength > 0 })
        #expect(prints.map(\.time) == prints.map(\.time).sorted(by: >))
        let days = try client.dailyPrices("005930")
        #expect(days.count == 30 && days[0].date == String(kis.today) && days[1].close == 65_800)
        let weeks = try client.dailyPrices("005930", period: .week)
        #expect(weeks.count == 30 && weeks[0].volume >= days[0].volume)
        let flow = try client.memberFlow("005930")
        #expect(flow.sellers.count == 5 && flow.buyers.count == 5)
        #expect(flow.sellers.map(\.quantity) == flow.sellers.map(\.quantity).sorted(by: >))
        let info = try client.stockInfo("005930")
        #expect(info.isin == "KR7005930003" && info.name == "삼성전자" && info.par == 100 && info.kospi200)
        #expect(info.previousClose == 65_800 && !info.halted)
    }

    @Test func sellableOnARealAccountAndOnPaper() async throws {
        for environment in [KIS.Environment.real, .paper] {
            let kis = try await SimulatedKIS(environment: environment)
            defer { kis.finish() }
            let client = try kis.client()
            var lane = try client.makeOrderLane()
            // A buy at the upper limit takes the asks at once (two calls: the paper budget is 2 a second).
            _ = try lane.place(OrderTicket(side: .buy, code: SymbolCode("005930")!, quantity: 12, price: 85_500))
            let sellable = try client.sellable("005930")
            #expect(sellable.code == "005930" && sellable.held == 12 && sellable.sellable == 12, "\(environment)")
            #expect(sellable.averagePrice > 60_000, "\(environment)")
        }
    }

    @Test func anEarlierDaysMinuteBarsPageBackToTheOpen() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        let client = try kis.client()
        let yesterday = KRX.previousTradingDay(before: kis.today)
        let bars = try client.pastMinuteBars("005930", date: yesterday)
        // 380 minutes of continuous trading and the 15:30 closing print, oldest first, in four calls.
        #expect(bars.count == 381)
        #expect(bars.first?.time == "090000" && bars.last?.time == "153000")
        #expect(bars.map(\.time) == bars.map(\.time).sorted() && Set(bars.map(\.time)).count == 381)
        #expect(bars.allSatisfy { $0.date == String(yesterday) && $0.low <= $0.open && $0.open <= $0.high })
        #expect(bars.last?.close == 65_800)
        #expect(kis.simulator.answeredCount(trID: "FHKST03010230") == 4)
        // Only what the caller asks for: up to 10:00.
        let morning = try client.pastMinuteBars("005930", date: yesterday, until: 100_000)
        #expect(morning.count == 61 && morning.last?.time == "100000")
    }
}
