import Orders
import Testing
import TickCore

/// The book's list of open orders, which the broker reads for exposure, the kill switch and the status.
@Suite struct OpenOrdersTests {
    static func open(_ book: OrderBook) -> [UInt32] {
        var ids: [UInt32] = []
        book.forEachOpen { ids.append($0.id.rawValue) }
        return ids.sorted()
    }

    @Test func ordersLeaveTheListWhenTheyEndAndSlotsAreReused() throws {
        var book = OrderBook(capacity: 3)
        var sink = Recorder()
        for id: UInt32 in 1...3 { try book.send(Make.intent(id), into: &sink) }
        #expect(Self.open(book) == [1, 2, 3] && book.openCount == 3)
        _ = book.apply(Make.acknowledged(2, 8), into: &sink)
        _ = book.apply(.notice(Make.fill(8, 10)), into: &sink)
        _ = book.apply(.refused(OrderID(rawValue: 3), messageCode: PackedASCII(ascii: "APBK0952")), into: &sink)
        #expect(Self.open(book) == [1])
        // Full of orders, two of them terminal: new ones take the terminal slots and join the list.
        try book.send(Make.intent(4), into: &sink)
        try book.send(Make.intent(5), into: &sink)
        #expect(Self.open(book) == [1, 4, 5])
        #expect(throws: OrderRefusal.full) { try book.send(Make.intent(6), into: &sink) }
    }

    /// A cancel KIS accepted and then rejected (its notice says so) gives its target back: the order works again
    /// and is listed again.
    @Test func aTerminalOrderBroughtBackIsListedAgain() throws {
        var book = OrderBook(capacity: 8)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        try book.send(Make.intent(2, quantity: 0, action: .cancel, target: 1), into: &sink)
        _ = book.apply(Make.acknowledged(2, 8), into: &sink)
        #expect(book.state(1) == .cancelled && Self.open(book).isEmpty)
        _ = book.apply(.notice(Make.ack(8, original: 7, amend: 2, rejected: true)), into: &sink)
        #expect(book.state(1) == .accepted && book.state(2) == .rejected)
        #expect(Self.open(book) == [1])
    }

    @Test func restoredOrdersAreListedByTheirState() throws {
        var book = OrderBook(capacity: 8)
        try book.restore(
            OrderSnapshot(
                id: OrderID(rawValue: 1),
                target: OrderID(rawValue: 1),
                code: Make.code,
                side: .buy,
                action: .new,
                purpose: .entry,
                quantity: 10,
                price: 70_000,
                state: .accepted,
                orderNumber: 7,
                remaining: 10
            )
        )
        try book.restore(
            OrderSnapshot(
                id: OrderID(rawValue: 2),
                target: OrderID(rawValue: 2),
                code: Make.code,
                side: .buy,
                action: .new,
                purpose: .entry,
                quantity: 10,
                price: 70_000,
                state: .filled,
                orderNumber: 8,
                filled: 10,
                fillValue: 700_000,
                remaining: 0
            )
        )
        #expect(Self.open(book) == [1])
    }
}
