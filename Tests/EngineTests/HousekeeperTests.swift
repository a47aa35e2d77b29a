import Foundation
import KIS
import Orders
import PaperMarket
import Ring
import Synchronization
import Testing
import TickCore

@testable import Engine
@testable import Pipeline

/// The housekeeper's side of a doubtful fill: the order it names is asked for by itself, at once.
@Suite struct HousekeeperTests {
    @Test func anOrderHoldingADoubtfulFillIsAskedForAlone() async throws {
        let market = try await PaperMarket(speed: 1)
        defer { market.remove() }
        let client = try market.client()
        defer { client.tokens.stop() }
        var lane = try client.makeOrderLane()
        let quote = try client.price("005930")
        let ticket = OrderTicket(
            side: .buy,
            code: SymbolCode("005930")!,
            quantity: 1,
            price: quote.price - 10 * quote.tickSize
        )
        let first = try lane.place(ticket)
        let second = try lane.place(ticket)

        let pipeline = try Pipeline(settings: PipelineSettings(codes: [ticket.code]), clock: WallClock())
        let orders = pipeline.orders
        let house = Housekeeper(
            client: client,
            news: FeedNews(),
            orders: orders,
            feed: pipeline.feed,
            symbols: pipeline.symbols
        )
        #expect(orders.checks.tryPush(second.orderNumber))
        #expect(house.check())
        var rows: [BrokerOrder] = []
        _ = orders.house.ring.drain(max: 16) { event in
            if case .reconciled(let row) = event { rows.append(row) }
        }
        #expect(rows.map(\.orderNumber) == [second.orderNumber], "only that order, not \(first.orderNumber)")
        #expect(orders.reconciliations.load(ordering: .relaxed) == 0, "a check is not a reconciliation pass")
        await market.stop()
    }

    /// A code whose stream came back from a gap and whose feed sent no book for `bookResyncDelay` gets KIS's REST
    /// snapshot; one whose feed book came in time costs no query.
    @Test func aCodeStillWithoutItsBookAfterAGapIsAskedOverREST() async throws {
        let market = try await PaperMarket(speed: 1)
        defer { market.remove() }
        let client = try market.client()
        defer { client.tokens.stop() }
        let (samsung, hynix) = (SymbolCode("005930")!, SymbolCode("000660")!)
        let pipeline = try Pipeline(settings: PipelineSettings(codes: [samsung, hynix]), clock: WallClock())
        let news = FeedNews()
        // The snapshot goes on the key that streams the code (a feed key's budget, not the account's).
        let streamed = Mutex<[SymbolCode]>([])
        var house = Housekeeper(
            client: client,
            news: news,
            orders: pipeline.orders,
            feed: pipeline.feed,
            symbols: pipeline.symbols,
            streamingClient: { code in
                streamed.withLock { $0.append(code) }
                return client
            }
        )
        var router = pipeline.router()
        router.markGap(samsung)
        router.markGap(hynix)
        var fresh = Book()
        fresh.code = hynix
        router.book(fresh)

        let asked = WallClock().now()
        house.resyncBooks(now: asked)
        #expect(pipeline.feed.booksAreWanted, "nothing asked before the feed had its chance")
        house.resyncBooks(now: asked + Housekeeper.bookResyncDelay)
        #expect(!pipeline.feed.booksAreWanted)
        #expect(news.notes.withLock { $0 }.isEmpty)
        pipeline.orders.publishNews()
        var books: [Book] = []
        _ = pipeline.orders.house.ring.drain(max: 16) { event in
            if case .book(let book) = event { books.append(book) }
        }
        #expect(books.map(\.code) == [samsung], "only the code the feed left without a book")
        #expect(streamed.withLock { $0 } == [samsung])
        let book = try #require(books.first)
        let tick = KRX.tick(at: Int64(book.askPrices[0]))
        #expect(book.askPrices[0] > book.bidPrices[0] && book.bidPrices[0] > 0)
        #expect(Int64(book.askPrices[0]) % tick == 0, "a price on the ladder")
        #expect(book.localTs >= asked, "stamped when it was asked")
        await market.stop()
    }
}
