import EventLog
import KIS
import Orders
import Pipeline
import Recovery
import Synchronization
import TickCore

#if canImport(Glibc)
import Glibc
#endif

/// The REST side of a run, on its own thread so no query ever delays a stage: today's orders for the order
/// book's reconciliation (periodically, and at once when a notice looked wrong or notices may have been missed
/// during a reconnect), the buying power, and the books of codes whose stream came back from a gap without one.
struct Housekeeper {
    /// How long a code may wait for the feed's own book after its stream came back before KIS's REST snapshot is
    /// asked for: a liquid code's next book comes within a fraction of a second at no cost, while a snapshot
    /// takes a slot of the app key's budget, which orders need (2 a second on paper).
    static let bookResyncDelay: Int64 = 500_000_000

    let client: KISClient
    let news: FeedNews
    let orders: OrderPorts
    let feed: FeedPorts
    let symbols: SymbolTable
    /// A code to ask the buying power with (KIS answers per code and price; the cash figure is the account's).
    let probe: SymbolCode
    /// The client whose app key streams a code, which its book snapshot is asked with: a feed key's budget, not
    /// the account's, which orders need.
    let streamingClient: @Sendable (SymbolCode) -> KISClient
    /// When a code was first seen waiting for its book after a gap; nil while none waits.
    private var booksWantedSince: Int64?
    /// Where each reconciliation, or its failure, is logged.
    var log: LogProducer? = nil

    init(
        client: KISClient,
        news: FeedNews,
        orders: OrderPorts,
        feed: FeedPorts,
        symbols: SymbolTable,
        streamingClient: (@Sendable (SymbolCode) -> KISClient)? = nil
    ) {
        self.client = client
        self.streamingClient = streamingClient ?? { _ in client }
        self.news = news
        self.orders = orders
        self.feed = feed
        self.symbols = symbols
        self.probe = symbols[SymbolIndex(0)]
    }

    mutating func run(running: borrowing Atomic<Bool>, reconcileEvery: Double, buyingPowerEvery: Double) {
        var lastReconcile = WallClock().now()
        var lastBuyingPower = WallClock().now()
        var retry = false
        while running.load(ordering: .relaxed) {
            usleep(100_000)
            let now = WallClock().now()
            let asked =
                self.orders.wantsReconciliation.exchange(false, ordering: .relaxed)
                || self.news.noticesMayHaveBeenMissed.exchange(false, ordering: .acquiring)
            let due = Double(now - lastReconcile) >= (retry ? 1 : reconcileEvery) * 1e9
            if asked || due {
                lastReconcile = now
                retry = !self.reconcile()
            } else if !self.check() {
                retry = true
            }
            if Double(now - lastBuyingPower) >= buyingPowerEvery * 1e9 {
                lastBuyingPower = now
                if let buyable = try? self.client.buyable(self.probe.description, price: 0) {
                    self.orders.tell(.buyingPower(buyable.cash))
                }
            }
            self.resyncBooks(now: now)
            self.orders.publishNews()
        }
    }

    /// KIS's REST snapshot of each code still waiting for its book `bookResyncDelay` after the first gap was seen.
    /// A code that cannot be asked keeps waiting for the feed's book; the strategy enters on neither meanwhile.
    mutating func resyncBooks(now: Int64) {
        guard self.feed.booksAreWanted else {
            self.booksWantedSince = nil
            return
        }
        let since = self.booksWantedSince ?? now
        guard now - since >= Self.bookResyncDelay else {
            self.booksWantedSince = since
            return
        }
        self.booksWantedSince = nil
        for symbol in self.feed.takeBooksWanted() {
            let code = self.symbols[symbol]
            do {
                let book = try self.streamingClient(code).bookSnapshot(code.description, localTs: WallClock().now())
                self.orders.tell(.book(book))
            } catch {
                self.news.note("the book of \(code) was not resynchronised after the reconnect: \(error)")
            }
        }
    }

    /// Sends every row of today's orders to the order book, which corrects what notices got wrong or missed.
    /// - Returns: false when KIS could not be asked (the caller tries again a second later).
    private func reconcile() -> Bool {
        // The whole day answers the checks asked for too.
        while self.orders.takeCheck() != nil {}
        guard let rows = self.send(orderNumber: nil) else { return false }
        self.log?.record(.reconciled, value: Int64(rows))
        self.orders.reconciliations.add(1, ordering: .releasing)
        return true
    }

    /// Asks KIS for each order holding a doubtful fill, one query per order, and sends its row to the order book.
    /// - Returns: false when KIS could not be asked (a full reconciliation follows a second later).
    func check() -> Bool {
        guard let first = self.orders.takeCheck() else { return true }
        var numbers: Set<UInt64> = [first]
        while let number = self.orders.takeCheck() { numbers.insert(number) }
        for number in numbers.sorted() where self.send(orderNumber: number) == nil { return false }
        return true
    }

    /// Today's orders (or the one numbered `orderNumber`) into the order book.
    /// - Returns: how many rows KIS listed, or nil when it could not be asked.
    private func send(orderNumber: UInt64?) -> Int? {
        let today = KST.date(epochSeconds: WallClock().now() / 1_000_000_000)
        let orders: [OrderRecord]
        do {
            orders = try self.client.dailyOrders(from: today, to: today, orderNumber: orderNumber)
        } catch {
            self.news.note("reconciliation failed, retrying: \(error)")
            self.log?.record(.reconciliationFailed, message: LogProducer.code(error))
            return nil
        }
        for record in orders {
            if let row = BrokerOrder(record) { self.orders.tell(.reconciled(row)) }
        }
        self.orders.publishNews()
        return orders.count
    }
}
