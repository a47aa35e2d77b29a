import Orders
import Ring
import Risk
import Testing
import TickCore

@testable import Pipeline

/// The broker picks a new order's venue from the venue setting and the two venues' sessions; an amendment goes
/// where its order went.
@Suite struct VenueRoutingTests {
    static let code = SymbolCode("005930")!

    static func broker(mode: VenueMode, at second: Int64, orders: OrderPorts) throws -> PipelineBroker {
        var board = MarketBoard(codes: [Self.code])
        board.advance(secondOfDay: second)
        try board.setPreviousClose(at: 0, 50_000)
        for venue in [Venue.krx, .nxt] {
            var trade = Tick()
            trade.code = Self.code
            trade.price = 50_000
            trade.venue = venue
            board.apply(trade)
        }
        return PipelineBroker(
            symbols: try SymbolTable([Self.code]),
            gate: RiskGate(killSwitch: KillSwitch()),
            board: board,
            venueMode: mode,
            opening: .empty(buyingPower: 10_000_000),
            orders: orders
        )
    }

    static func buy(_ broker: inout PipelineBroker) -> OrderIntent {
        OrderIntent(id: broker.nextOrderID(), code: Self.code, side: .buy, quantity: 1, price: 50_000, purpose: .entry)
    }

    static func sent(_ orders: OrderPorts) -> [OrderDispatch] {
        var sent: [OrderDispatch] = []
        _ = orders.takeOrders(max: 16) { sent.append($0.dispatch) }
        return sent
    }

    /// Mode, second of the day, the route taken (nil: refused, no venue in session).
    static let cases: [(VenueMode, Int64, OrderRoute?)] = [
        (.krx, 10 * 3600, .krx), (.krx, 17 * 3600, nil),
        (.nxt, 10 * 3600, .krx), (.nxt, 8 * 3600 + 600, .nxt), (.nxt, 17 * 3600, .nxt), (.nxt, 8 * 3600 + 3300, nil),
        (.combined, 17 * 3600, .nxt), (.sor, 17 * 3600, .sor), (.sor, 21 * 3600, nil),
    ]

    @Test(arguments: Self.cases)
    func newOrdersGoToTheVenueTheSettingAndTheHourChoose(mode: VenueMode, second: Int64, route: OrderRoute?) throws {
        let orders = OrderPorts(doorbell: Doorbell())
        var broker = try Self.broker(mode: mode, at: second, orders: orders)
        let result = broker.submit(Self.buy(&broker))
        let sent = Self.sent(orders)
        if let route {
            #expect(result == .accepted)
            #expect(sent.map(\.intent.route) == [route])
        } else {
            #expect(result != .accepted)
            #expect(sent.isEmpty)
        }
    }

    /// An NXT order placed at 17:00 is cancelled on NXT, whatever the intent said.
    @Test func anAmendmentGoesWhereItsOrderWent() throws {
        let orders = OrderPorts(doorbell: Doorbell())
        var broker = try Self.broker(mode: .nxt, at: 17 * 3600, orders: orders)
        let buy = Self.buy(&broker)
        #expect(broker.submit(buy) == .accepted)
        PipelineBrokerTests.settle(&broker, .written(buy.id, at: 1))
        PipelineBrokerTests.settle(&broker, .acknowledged(buy.id, orderNumber: 7, organization: 950))
        #expect(broker.book.order(buy.id)?.route == .nxt)
        #expect(broker.cancel(buy.id, decidedAt: 2) == .accepted)
        let sent = Self.sent(orders)
        #expect(sent.map(\.intent.action) == [.new, .cancel])
        #expect(sent.map(\.intent.route) == [.nxt, .nxt])
    }
}

@Suite struct VenueSettingsTests {
    @Test func theDefaultsAreKRXAsBefore() throws {
        let settings = try VenueSettings(parameters: [:])
        #expect(settings.mode == .krx && settings.calendar == .standard && settings.candleVenue == nil)
        #expect(!settings.marketStatus)
    }

    @Test func everyKeyIsRead() throws {
        let settings = try VenueSettings(parameters: [
            "venue": "nxt", "candle_venue": "krx", "market_status": "yes",
            "krx_sessions": "07:00-08:00, 08:30-09:00 opening-auction, 09:00-15:20, 15:20-15:30 closing-auction",
            "nxt_sessions": "08:00-08:50, 09:00:30-15:20",
        ])
        #expect(settings.mode == .nxt && settings.candleVenue == .krx && settings.marketStatus)
        #expect(settings.calendar.phase(.krx, secondOfDay: 7 * 3600) == .continuous)
        #expect(settings.calendar.phase(.nxt, secondOfDay: 17 * 3600) == .closed)
    }

    @Test(arguments: [
        ("venue", "nyse"), ("candle_venue", "sor"), ("market_status", "on"),
        ("krx_sessions", "9-15"), ("nxt_sessions", "20:00-08:00"),
    ])
    func aBadValueNamesItsKey(key: String, value: String) {
        #expect {
            try VenueSettings(parameters: [key: value])
        } throws: { error in
            guard case .badValue(let named, _) = error as? VenueSettingsError else { return false }
            return named == key
        }
    }

    /// Through the pipeline, a bad venue setting names the file.
    @Test func thePipelineNamesTheFile() {
        var settings = PipelineSettings(codes: [SymbolCode("005930")!])
        settings.parameters = ["nxt_sessions": "soon"]
        settings.settingsPath = "/tmp/kistick.yaml"
        #expect(PipelineSettings.knownKeys.isSuperset(of: VenueSettings.keys))
        #expect(throws: PipelineError.self) { try settings.venues() }
        do {
            _ = try settings.venues()
        } catch {
            #expect("\(error)".hasPrefix("/tmp/kistick.yaml: nxt_sessions:"))
        }
    }
}
