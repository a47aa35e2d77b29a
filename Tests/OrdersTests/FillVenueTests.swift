import Orders
import Testing
import TickCore

/// Each fill carries the venue that executed it: the notice's ORD_EXG_GB, else the order's route.
@Suite struct FillVenueTests {
    static func intent(_ id: UInt32, route: OrderRoute) -> OrderIntent {
        var intent = Make.intent(id)
        intent.route = route
        return intent
    }

    static func fill(_ number: UInt64, exchange: UInt8, time: UInt32) -> Notice {
        var notice = Make.fill(number, 1, time: time)
        notice.exchangeCode = exchange
        return notice
    }

    @Test(arguments: [
        (OrderRoute.krx, UInt8(1), Venue.krx), (.nxt, 2, .nxt), (.sor, 3, .krx), (.sor, 4, .nxt),
        // A notice without the field: the route says, as far as it can.
        (.krx, 0, .krx), (.nxt, 0, .nxt), (.sor, 0, .combined),
    ])
    func aFillsVenueIsTheNoticesElseTheRoutes(route: OrderRoute, exchange: UInt8, venue: Venue) throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Self.intent(1, route: route), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        #expect(book.apply(.notice(Self.fill(7, exchange: exchange, time: 1_800_000_005)), into: &sink) == .applied)
        #expect(sink.fills.map(\.venue) == [venue])
        #expect(book.order(OrderID(rawValue: 1))?.route == route)
    }

    /// A SOR order split across the venues: each fill names its own.
    @Test func aSOROrderFillsOnBothVenues() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Self.intent(1, route: .sor), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        _ = book.apply(.notice(Self.fill(7, exchange: 3, time: 1_800_000_005)), into: &sink)
        _ = book.apply(.notice(Self.fill(7, exchange: 4, time: 1_800_000_006)), into: &sink)
        #expect(sink.fills.map(\.venue) == [.krx, .nxt])
    }

    /// An amendment goes to its target's venue even when the intent named another.
    @Test func anAmendmentTakesItsTargetsRoute() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Self.intent(1, route: .nxt), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        var cancel = Make.intent(2, quantity: 0, action: .cancel, target: 1)
        cancel.route = .krx
        let dispatch = try book.submit(cancel, into: &sink)
        #expect(dispatch.intent.route == .nxt)
        #expect(book.order(OrderID(rawValue: 2))?.route == .nxt)
    }
}
