import Foundation
import GRDB
import Journal
import Orders
import Testing
import TickCore

/// A journal file of its own per test, removed (with its WAL) afterwards.
struct TemporaryJournal: ~Copyable {
    let path: String

    init() {
        self.path =
            FileManager.default.temporaryDirectory.appendingPathComponent("kistick-journal-\(UUID()).sqlite")
            .path
    }

    deinit {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: self.path + suffix) }
    }
}

enum Sample {
    static let code = SymbolCode(ascii: "005930")
    /// The trading day the tests journal, and the one before it.
    static let day: UInt32 = 20_260_608
    static let yesterday: UInt32 = 20_260_605

    static func intent(
        _ id: UInt32,
        quantity: Int32 = 10,
        price: Int32 = 70_000,
        side: OrderSide = .buy
    )
        -> OrderIntent
    {
        OrderIntent(
            id: OrderID(rawValue: id),
            code: Self.code,
            side: side,
            quantity: quantity,
            price: price,
            purpose: .entry,
            decidedAt: 1_000
        )
    }

    /// What the engine does with the book's output: a position update and a journal event for each.
    struct Sink: OrderSink {
        var positions = Positions(capacity: 4)
        var events: [JournalEvent] = []

        mutating func orderChanged(_ change: OrderChange) { self.events.append(.change(change, at: 2_000)) }

        mutating func filled(_ fill: Fill) {
            self.events.append(.fill(fill))
            try? self.positions.apply(fill)
            if let position = self.positions.position(fill.code) { self.events.append(.position(position, at: 2_000)) }
        }
    }

    /// Runs the intents through a book as the engine would, journaling every update and fill, and a position
    /// snapshot after each fill.
    struct Engine {
        var book = OrderBook(capacity: 16)
        var sink = Sink()

        var positions: Positions { self.sink.positions }

        mutating func submit(_ intent: OrderIntent) throws {
            _ = try self.book.submit(intent, into: &self.sink)
        }

        mutating func apply(_ event: OrderEvent) {
            _ = self.book.apply(event, into: &self.sink)
        }

        mutating func drain(into journal: Journal) {
            for event in self.sink.events { journal.append(event) }
            self.sink.events.removeAll()
        }
    }

    static func fill(_ number: UInt64, _ quantity: Int32, at price: Int32, time: UInt32) -> Notice {
        var notice = Notice()
        notice.code = Self.code
        notice.orderNumber = number
        notice.isFill = true
        notice.quantity = quantity
        notice.price = price
        notice.exchangeTime = time
        return notice
    }

    static func acknowledged(_ id: UInt32, _ number: UInt64) -> OrderEvent {
        .acknowledged(OrderID(rawValue: id), orderNumber: number, organization: 6590)
    }
}

@Suite struct JournalTests {
    @Test func roundTrip() throws {
        let file = TemporaryJournal()
        let journal = try Journal.open(file.path, day: Sample.day)
        let recorder = try journal.pendingRecorder()
        var engine = Sample.Engine()
        for id: UInt32 in [1, 2] {
            let intent = Sample.intent(id, price: 70_000 + Int32(id))
            try engine.submit(intent)
            try recorder.recordPending(intent, at: 1_500)
            engine.apply(.written(intent.id, at: 1_600))
        }
        engine.apply(Sample.acknowledged(1, 6555))
        engine.apply(.notice(Sample.fill(6555, 4, at: 70_000, time: 1)))
        engine.apply(Sample.acknowledged(2, 6556))
        engine.apply(.notice(Sample.fill(6556, 10, at: 70_002, time: 2)))
        engine.drain(into: journal)
        try journal.flush()
        #expect(journal.bufferedCount == 0)

        let recovered = try journal.recover()
        #expect(
            recovered.orders
                == engine.book.orders().map { order in
                    var order = order
                    order.purpose = .entry
                    return order
                }
        )
        #expect(recovered.orders.map(\.price) == [70_001, 70_002])
        #expect(recovered.positions == engine.positions.all)
        #expect(recovered.totals == engine.positions.totals)
        #expect(recovered.nextOrderID == OrderID(rawValue: 3))

        let (book, positions) = try recovered.rebuild(orderCapacity: 16, positionCapacity: 4)
        #expect(book.openOrders() == engine.book.openOrders())
        #expect(positions.totals == engine.positions.totals)
    }

    @Test func pendingWithoutNumberComesBackUnknownAndUnsentComesBackNotPlaced() throws {
        let file = TemporaryJournal()
        let journal = try Journal.open(file.path, day: Sample.day)
        var engine = Sample.Engine()
        try engine.submit(Sample.intent(1))
        try engine.submit(Sample.intent(2))
        // Only the first reached recordPending (and so may have been sent).
        try journal.pendingRecorder(durability: .processCrash).recordPending(Sample.intent(1), at: 1_500)
        engine.drain(into: journal)
        try journal.flush()
        let orders = try journal.recover().orders
        #expect(orders.map(\.state) == [.unknown, .notPlaced])
        #expect(orders.map(\.needsReconciliation) == [true, false])
    }

    @Test func positionsReplayTheFillsAfterTheirLastSnapshot() throws {
        let file = TemporaryJournal()
        let journal = try Journal.open(file.path, day: Sample.day)
        var positions = Positions(capacity: 4)
        let buy = Fill(id: OrderID(rawValue: 1), code: Sample.code, side: .buy, quantity: 10, price: 70_000)
        try positions.apply(buy)
        journal.append(.fill(buy))
        journal.append(.position(try #require(positions.position(Sample.code)), at: 1))
        // A fill journaled without the snapshot that would have followed it.
        let sell = Fill(id: OrderID(rawValue: 2), code: Sample.code, side: .sell, quantity: 4, price: 71_000)
        try positions.apply(sell)
        journal.append(.fill(sell))
        try journal.flush()
        let recovered = try journal.recover()
        #expect(recovered.positions == positions.all)
        #expect(recovered.totals == positions.totals)
    }

    /// A process journals, part of it unflushed, and is killed with SIGKILL: what it committed comes back.
    @Test func recoversAfterKill() async throws {
        let file = TemporaryJournal()
        let path = file.path
        await #expect(processExitsWith: .signal(SIGKILL)) { [path = path as String] in
            let journal = try Journal.open(path, day: Sample.day)
            let recorder = try journal.pendingRecorder()
            var engine = Sample.Engine()
            for id: UInt32 in [1, 2] {
                try engine.submit(Sample.intent(id))
                try recorder.recordPending(Sample.intent(id), at: 1_500)
                engine.apply(.written(OrderID(rawValue: id), at: 1_600))
            }
            engine.apply(Sample.acknowledged(1, 6555))
            engine.apply(.notice(Sample.fill(6555, 6, at: 70_000, time: 1)))
            engine.drain(into: journal)
            try journal.flush()
            // Never flushed: the ack of order 2 and a second fill of order 1.
            engine.apply(Sample.acknowledged(2, 6556))
            engine.apply(.notice(Sample.fill(6555, 4, at: 70_000, time: 2)))
            engine.drain(into: journal)
            // Journaled pending, then the process dies before it could send it.
            try engine.submit(Sample.intent(3))
            try recorder.recordPending(Sample.intent(3), at: 1_700)
            kill(getpid(), SIGKILL)
        }
        let recovered = try Journal.open(path, day: Sample.day).recover()
        #expect(recovered.orders.map(\.state) == [.partiallyFilled, .unknown, .unknown])
        #expect(recovered.orders.map(\.orderNumber) == [6555, 0, 0])
        #expect(recovered.orders[0].filled == 6)
        #expect(recovered.positions.map(\.quantity) == [6])
        #expect(recovered.totals.turnover == 420_000)
        #expect(recovered.nextOrderID == OrderID(rawValue: 4))
    }

    /// After a restart: recover, reconcile with KIS (which found fills the journal lacked), journal the result;
    /// a second restart recovers exactly the reconciled state, without counting the found fills twice.
    @Test func reconciledStateIsJournaled() throws {
        let file = TemporaryJournal()
        let journal = try Journal.open(file.path, day: Sample.day)
        var engine = Sample.Engine()
        try engine.submit(Sample.intent(1))
        try journal.pendingRecorder().recordPending(Sample.intent(1), at: 1_500)
        engine.apply(Sample.acknowledged(1, 6555))
        engine.apply(.notice(Sample.fill(6555, 4, at: 70_000, time: 1)))
        engine.drain(into: journal)
        try journal.flush()

        let record = BrokerOrder(
            orderNumber: 6555,
            code: Sample.code,
            side: .buy,
            quantity: 10,
            price: 70_000,
            filled: 10,
            filledValue: 700_000,
            remaining: 0,
            organization: 6590
        )
        let reconciliation = Reconciler().reconcile(
            try journal.recover(),
            holdings: [BrokerHolding(code: Sample.code, quantity: 10, cost: 700_000)],
            orders: [record]
        )
        #expect(reconciliation.discrepancies == [.fillsFound(OrderID(rawValue: 1), quantity: 6)])
        journal.append(reconciliation, at: 3_000)
        try journal.flush()

        let again = try Journal.open(file.path, day: Sample.day).recover()
        #expect(again.orders == reconciliation.state.orders)
        #expect(again.positions == reconciliation.state.positions)
        #expect(again.positions.map(\.quantity) == [10])
        #expect(again.totals == reconciliation.state.totals)
    }

    /// One journal file holds every day, and KIS numbers orders anew each day: yesterday's order 1 must not be
    /// taken for today's. Once, recovery loaded every order ever journaled; today's KIS order 1 was matched to
    /// yesterday's order 1 (another price), and today's pending order, which KIS had accepted, was declared not
    /// placed.
    @Test func recoveryIsBoundedToItsDay() throws {
        let file = TemporaryJournal()
        let yesterday = try Journal.open(file.path, day: Sample.yesterday)
        var before = Sample.Engine()
        try before.submit(Sample.intent(1, price: 70_000))
        try yesterday.pendingRecorder().recordPending(Sample.intent(1, price: 70_000), at: 1_500)
        before.apply(Sample.acknowledged(1, 1))
        before.apply(.notice(Sample.fill(1, 10, at: 70_000, time: 93_000)))
        before.drain(into: yesterday)
        try yesterday.flush()

        // Today: one order sent, its answer lost.
        let today = try Journal.open(file.path, day: Sample.day)
        let start = try today.recover()
        #expect(start.orders.isEmpty)
        #expect(start.nextOrderID == OrderID(rawValue: 2), "ids stay unique across the days of the file")
        let intent = Sample.intent(start.nextOrderID.rawValue, price: 71_000)
        try today.pendingRecorder().recordPending(intent, at: 2_500)

        let recovered = try today.recover()
        #expect(recovered.orders.map(\.id) == [intent.id] && recovered.orders.map(\.state) == [.unknown])
        // The shares bought yesterday are held; the day's figures start from zero.
        let held = try #require(recovered.positions.first)
        #expect(held.quantity == 10 && held.cost == 700_000)
        #expect(held.realised == 0 && held.fees == 0 && held.turnover == 0)
        #expect(recovered.totals.turnover == 0)

        let kisToday = BrokerOrder(
            orderNumber: 1,
            code: Sample.code,
            side: .buy,
            quantity: 10,
            price: 71_000,
            filled: 0,
            filledValue: 0,
            remaining: 10,
            organization: 6590
        )
        let reconciled = Reconciler().reconcile(
            recovered,
            holdings: [BrokerHolding(code: Sample.code, quantity: 10, cost: 700_000)],
            orders: [kisToday]
        )
        #expect(reconciled.discrepancies == [.pendingFound(intent.id, orderNumber: 1)])
        #expect(reconciled.state.orders.map(\.state) == [.accepted])
    }

    /// A journal written before rows carried their day gets the column, each row dated by its own wall-clock stamp.
    @Test func aJournalWithoutDaysIsDatedFromItsStamps() throws {
        let file = TemporaryJournal()
        let nanoseconds = { (date: UInt32) in KST.epochSeconds(date: date, time: 100_000)! * 1_000_000_000 }
        let queue = try DatabaseQueue(path: file.path)
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE orders (id INTEGER PRIMARY KEY, target INTEGER NOT NULL, code INTEGER NOT NULL,
                        side INTEGER NOT NULL, action INTEGER NOT NULL, purpose INTEGER NOT NULL DEFAULT 0,
                        quantity INTEGER NOT NULL, price INTEGER NOT NULL DEFAULT 0, state INTEGER NOT NULL,
                        order_number INTEGER NOT NULL DEFAULT 0, organization INTEGER NOT NULL DEFAULT 0,
                        filled INTEGER NOT NULL DEFAULT 0, fill_value INTEGER NOT NULL DEFAULT 0,
                        remaining INTEGER NOT NULL DEFAULT 0, needs_reconciliation INTEGER NOT NULL DEFAULT 0,
                        decided_at INTEGER NOT NULL DEFAULT 0, pending_at INTEGER,
                        updated_at INTEGER NOT NULL DEFAULT 0);
                    CREATE TABLE fills (seq INTEGER PRIMARY KEY, id INTEGER NOT NULL, order_number INTEGER NOT NULL,
                        code INTEGER NOT NULL, side INTEGER NOT NULL, quantity INTEGER NOT NULL, price INTEGER NOT NULL,
                        exchange_time INTEGER NOT NULL, local_ts INTEGER NOT NULL);
                    """
            )
            let code = Int64(bitPattern: Sample.code.rawValue)
            for (id, date) in [(1, Sample.yesterday), (2, Sample.day)] {
                try db.execute(
                    sql: """
                        INSERT INTO orders (id, target, code, side, action, quantity, price, state, remaining,
                            pending_at, updated_at) VALUES (?, ?, ?, 2, 0, 10, 70000, 0, 10, ?, ?)
                        """,
                    arguments: [id, id, code, nanoseconds(date), nanoseconds(date)]
                )
            }
            try db.execute(
                sql: "INSERT INTO fills (id, order_number, code, side, quantity, price, exchange_time, local_ts) "
                    + "VALUES (1, 1, ?, 2, 10, 70000, 93000, ?)",
                arguments: [code, nanoseconds(Sample.yesterday)]
            )
        }
        try queue.close()
        let recovered = try Journal.open(file.path, day: Sample.day).recover()
        #expect(recovered.orders.map(\.id) == [OrderID(rawValue: 2)])
        // Written before kistick traded NXT: every order went to KRX.
        #expect(recovered.orders.map(\.route) == [.krx])
        #expect(recovered.positions.map(\.quantity) == [10] && recovered.totals.turnover == 0)
        #expect(recovered.nextOrderID == OrderID(rawValue: 3))
    }

    /// An NXT order and a SOR order come back from the journal on their routes, with their fills' venues, so the
    /// restarted book sends a cancel of the NXT order to NXT (a KRX cancel would not find it at KIS).
    @Test func routesAndFillVenuesSurviveARestart() throws {
        let file = TemporaryJournal()
        let journal = try Journal.open(file.path, day: Sample.day)
        let recorder = try journal.pendingRecorder()
        var engine = Sample.Engine()
        for (id, route) in [(1, OrderRoute.nxt), (2, .sor)] as [(UInt32, OrderRoute)] {
            var intent = Sample.intent(id)
            intent.route = route
            try engine.submit(intent)
            try recorder.recordPending(intent, at: 1_500)
            engine.apply(.written(OrderID(rawValue: id), at: 1_600))
            engine.apply(Sample.acknowledged(id, 6_554 + UInt64(id)))
        }
        var nxtFill = Sample.fill(6_555, 4, at: 70_000, time: 1)
        nxtFill.exchangeCode = 2
        var sorFill = Sample.fill(6_556, 10, at: 70_100, time: 2)
        sorFill.exchangeCode = 4
        engine.apply(.notice(nxtFill))
        engine.apply(.notice(sorFill))
        engine.drain(into: journal)
        try journal.flush()

        let recovered = try Journal.open(file.path, day: Sample.day).recover()
        #expect(recovered.orders.map(\.route) == [.nxt, .sor])
        #expect(recovered.orders.map(\.filled) == [4, 10])
        let venues = try DatabaseQueue(path: file.path).read { db in
            try Int.fetchAll(db, sql: "SELECT venue FROM fills ORDER BY seq")
        }
        #expect(venues == [Int(Venue.nxt.rawValue), Int(Venue.nxt.rawValue)])
        var book = OrderBook(capacity: 4)
        for order in recovered.orders { try book.restore(order) }
        var sink = Sample.Sink()
        var cancel = Sample.intent(3, quantity: 0)
        cancel.action = .cancel
        cancel.target = OrderID(rawValue: 1)
        #expect(try book.submit(cancel, into: &sink).intent.route == .nxt)
    }

    @Test func openFailsWithATypedError() {
        #expect(throws: JournalError.self) {
            try Journal.open("/nonexistent-directory/journal.sqlite", day: Sample.day)
        }
    }
}
