import Risk
import Testing
import TickCore

/// The board's state per venue and the gate's sessions per order route.
@Suite struct VenueBoardTests {
    let gate = RiskGate(killSwitch: KillSwitch())

    func on(_ venue: Venue, _ trade: Trade) -> Trade {
        var copy = trade
        copy.venue = venue
        return copy
    }

    @Test func eachVenueKeepsItsOwnPricesAndHaltWhileLimitsAreShared() throws {
        var board = MarketBoard(codes: [samsung, hynix], secondOfDay: clock(10, 0))
        board.apply(self.on(.krx, trade(samsung, price: 50_000, change: 0, bid: 49_950, ask: 50_000)), at: 0)
        var nxt = self.on(.nxt, trade(samsung, price: 50_100, change: 100, bid: 50_050, ask: 50_100))
        nxt.halted = true
        board.apply(nxt, at: 0)
        #expect(board[0].lastPrice == 50_000 && board[0, venue: .krx].bestAsk == 50_000 && !board[0].halted)
        #expect(board[0, venue: .nxt].lastPrice == 50_100 && board[0, venue: .nxt].bestBid == 50_050)
        #expect(board[0, venue: .nxt].halted)
        #expect(board[0, venue: .combined].lastPrice == 0)
        // The first print (KRX's) set both venues' limits from one previous close.
        for venue in [Venue.krx, .nxt, .combined] {
            #expect(board[0, venue: venue].previousClose == 50_000)
            #expect(board[0, venue: venue].lowerLimit == 35_000 && board[0, venue: venue].upperLimit == 65_000)
        }
        // The other code is untouched.
        #expect(board[1, venue: .nxt].lastPrice == 0 && !board[1, venue: .nxt].hasLimits)
        try board.setPreviousClose(at: 1, 100_000)
        #expect(board[1, venue: .nxt].upperLimit == 130_000 && board[1, venue: .nxt].limitsAreExplicit)
    }

    @Test func marketStatusSetsItsVenuesHaltAndInterruption() {
        var board = MarketBoard(codes: [samsung], secondOfDay: clock(10, 0))
        var status = MarketStatus()
        status.code = samsung
        status.venue = .nxt
        status.halted = true
        status.viClass = UInt8(ascii: "1")
        board.apply(status, at: 0)
        #expect(board[0, venue: .nxt].halted && board[0, venue: .nxt].volatilityInterruption)
        #expect(!board[0].halted && !board[0].volatilityInterruption)
        status.halted = false
        status.viClass = UInt8(ascii: "N")
        board.apply(status, at: 0)
        #expect(!board[0, venue: .nxt].halted && !board[0, venue: .nxt].volatilityInterruption)
    }

    func entry(_ route: OrderRoute) -> OrderIntent {
        var intent = buy(1, at: 50_000)
        intent.route = route
        return intent
    }

    /// Risk refuses an entry outside its route's session: NXT trades before and after KRX, not in KRX's auctions.
    @Test(arguments: [
        (clock(8, 10), RiskDecision.reject(.sessionClosed), RiskDecision.accept),
        (clock(8, 55), .reject(.auctionNotRequested), .reject(.sessionClosed)),
        (clock(9, 0, 10), .accept, .reject(.sessionClosed)),
        (clock(12, 0), .accept, .accept),
        (clock(15, 25), .reject(.auctionNotRequested), .reject(.sessionClosed)),
        (clock(17, 0), .reject(.sessionClosed), .accept),
        (clock(20, 0), .reject(.sessionClosed), .reject(.sessionClosed)),
    ])
    func entriesFollowTheirVenuesSession(second: Int64, krx: RiskDecision, nxt: RiskDecision) throws {
        var board = MarketBoard(codes: [samsung], secondOfDay: second)
        try board.setPreviousClose(at: 0, 50_000)
        board.apply(self.on(.krx, trade(samsung, price: 50_000, change: 0)), at: 0)
        board.apply(self.on(.nxt, trade(samsung, price: 50_000, change: 0)), at: 0)
        #expect(decide(self.entry(.krx), gate: self.gate, board: board) == krx)
        #expect(decide(self.entry(.nxt), gate: self.gate, board: board) == nxt)
    }

    /// An NXT halt stops NXT orders only.
    @Test func aHaltStopsItsVenueOnly() throws {
        var board = MarketBoard(codes: [samsung], secondOfDay: clock(12, 0))
        try board.setPreviousClose(at: 0, 50_000)
        board.setHalted(at: 0, true, venue: .nxt)
        #expect(decide(self.entry(.krx), gate: self.gate, board: board) == .accept)
        #expect(decide(self.entry(.nxt), gate: self.gate, board: board) == .reject(.halted))
    }

    /// With the combined feed alone, every route reads the combined market's state.
    @Test func aCombinedFeedIsWhatEveryRouteReads() {
        var board = MarketBoard(codes: [samsung], secondOfDay: clock(12, 0), combinedFeed: true)
        board.apply(self.on(.combined, trade(samsung, price: 50_000, change: 0)), at: 0)
        for route in OrderRoute.allCases {
            #expect(board[0, route: route].lastPrice == 50_000)
        }
        #expect(board[0].lastPrice == 0)
    }

    /// A custom timetable from the settings moves the gate with it.
    @Test func aCustomCalendarMovesTheSessions() throws {
        let calendar = try VenueCalendar(
            krx: VenueCalendar.windows(parsing: "07:00-08:00, 09:00-15:20", venue: .krx),
            nxt: VenueCalendar.standard.nxt
        )
        var board = MarketBoard(codes: [samsung], secondOfDay: clock(7, 30), calendar: calendar)
        try board.setPreviousClose(at: 0, 50_000)
        #expect(board.phase == .continuous)
        #expect(decide(self.entry(.krx), gate: self.gate, board: board) == .accept)
        board.advance(secondOfDay: clock(8, 10))
        #expect(board.phase == .closed && board.phase(for: .nxt) == .continuous)
    }
}
