import Feed
import Risk
import TestVectors
import Testing
import TickCore

@Suite struct MarketBoardTests {
    /// Collects what the decoder produces from the real frames.
    struct Records: FeedSink {
        var trades: [Trade] = []
        var books: [Book] = []
        mutating func trade(_ trade: Trade) { self.trades.append(trade) }
        mutating func book(_ book: Book) { self.books.append(book) }
        mutating func notice(_ notice: Notice) {}
    }

    static func decode(_ file: String) throws -> Records {
        var decoder = try FeedDecoder()
        var records = Records()
        for line in try Vectors.lines(file) {
            var bytes = Array(line.utf8)
            _ = try bytes.withUnsafeMutableBytes { try decoder.decode($0, localTs: 0, into: &records) }
        }
        return records
    }

    @Test func realTradesDeriveLimitsFromThePreviousClose() throws {
        let records = try Self.decode(Vectors.trades)
        var board = MarketBoard(codes: [samsung])
        for trade in records.trades { board.apply(trade, at: 0) }
        let state = board[0]
        // 005930 on 2026-06-08 traded at 314,000, down 15,000: the base is 329,000; 30 % of it cut to its 500-won
        // tick is 98,500, so the band is 230,500–427,500.
        #expect(state.previousClose == 329_000)
        #expect(state.lowerLimit == 230_500)
        #expect(state.upperLimit == 427_500)
        #expect(state.lastPrice == records.trades.last!.price)
        #expect(state.viBasePrice == 302_000)
        #expect(!state.halted)
        #expect(!state.volatilityInterruption)
        #expect(!state.limitsAreExplicit)
        // The last print's exchange time (11:48:28 KST) drives the clock.
        #expect(board.secondOfDay == clock(11, 48, 28))
        #expect(board.phase == .continuous)
    }

    @Test func realBooksOfTheContinuousSessionAreNoInterruption() throws {
        let records = try Self.decode(Vectors.books)
        var board = MarketBoard(codes: [samsung])
        board.setVolatilityInterruption(at: 0, true)
        for book in records.books { board.apply(book, at: 0) }
        #expect(!board[0].volatilityInterruption)
        #expect(board[0].bestBid == 313_500)
        #expect(board[0].bestAsk == 314_000)
        #expect(board.phase == .continuous)
    }

    @Test func explicitLimitsWinOverTrades() throws {
        var board = MarketBoard(codes: [samsung], secondOfDay: clock(10, 0))
        try board.setLimits(at: 0, lower: 46_200, upper: 85_800, previousClose: 66_000)
        board.apply(trade(samsung, price: 50_000, change: 0), at: 0)
        #expect(board[0].lowerLimit == 46_200)
        #expect(board[0].upperLimit == 85_800)
        #expect(board[0].previousClose == 66_000)
        #expect(board[0].limitsAreExplicit)
    }

    @Test func previousCloseGivesTheRealAPIsLimits() throws {
        var board = MarketBoard(codes: [samsung])
        // vectors/real_inquire_price_005930_20250725.json: stck_sdpr 66000, stck_mxpr 85800, stck_llam 46200.
        try board.setPreviousClose(at: 0, 66_000)
        #expect(board[0].lowerLimit == 46_200)
        #expect(board[0].upperLimit == 85_800)
        board.apply(trade(samsung, price: 70_000, change: 10_000), at: 0)
        #expect(board[0].upperLimit == 85_800)
    }

    @Test func impossibleLimitsAreTypedErrors() {
        var board = MarketBoard(codes: [samsung])
        #expect(throws: InvalidLimits(lower: 85_800, upper: 46_200)) {
            try board.setLimits(at: 0, lower: 85_800, upper: 46_200)
        }
        #expect(throws: InvalidLimits(lower: 46_201, upper: 85_800)) {
            try board.setLimits(at: 0, lower: 46_201, upper: 85_800)
        }
        #expect(throws: InvalidLimits.self) { try board.setPreviousClose(at: 0, 0) }
        #expect(!board[0].hasLimits)
    }

    @Test func haltFollowsTheTradesFlag() throws {
        var board = try board()
        var halted = trade(samsung, price: 50_000, change: 0)
        halted.halted = true
        board.apply(halted, at: 0)
        #expect(board[0].halted)
        board.apply(trade(samsung, price: 50_000, change: 0), at: 0)
        #expect(!board[0].halted)
        board.setHalted(at: 0, true)
        #expect(board[0].halted)
    }

    @Test func volatilityInterruptionFromTheHourClassAndTheExpectedPrice() throws {
        var board = try board()
        board.apply(book(samsung, bid: 49_950, ask: 50_000, hourClass: "C", expectedPrice: 52_000), at: 0)
        #expect(board[0].volatilityInterruption)
        board.apply(book(samsung, bid: 51_900, ask: 52_000), at: 0)
        #expect(!board[0].volatilityInterruption)
        // Expected-auction fields during continuous hours are a single-price call, whatever the code says.
        board.apply(book(samsung, bid: 49_950, ask: 50_000, expectedPrice: 50_000), at: 0)
        #expect(board[0].volatilityInterruption)
        board.apply(book(samsung, bid: 49_950, ask: 50_000), at: 0)
        var print = trade(samsung, price: 50_000, change: 0)
        print.hourClass = UInt8(ascii: "C")
        board.apply(print, at: 0)
        #expect(board[0].volatilityInterruption)
        // An empty code on a print says nothing.
        print.hourClass = 0
        board.apply(print, at: 0)
        #expect(board[0].volatilityInterruption)
        print.hourClass = UInt8(ascii: "0")
        board.apply(print, at: 0)
        #expect(!board[0].volatilityInterruption)
    }

    @Test func scheduledAuctionsAreNotInterruptions() throws {
        var board = try board(at: clock(8, 45))
        #expect(board.phase == .preOpen)
        board.apply(book(samsung, bid: 50_000, ask: 50_000, hourClass: "B", expectedPrice: 50_000), at: 0)
        #expect(!board[0].volatilityInterruption)
    }

    @Test func theClockOnlyMovesForward() {
        var board = MarketBoard(codes: [samsung], secondOfDay: clock(8, 0))
        #expect(board.phase == .closed)
        board.advance(secondOfDay: clock(8, 30))
        #expect(board.phase == .preOpen)
        board.advance(secondOfDay: clock(9, 0))
        #expect(board.phase == .continuous)
        board.advance(secondOfDay: clock(8, 59))
        #expect(board.secondOfDay == clock(9, 0))
        board.advance(secondOfDay: clock(15, 20))
        #expect(board.phase == .closingAuction)
        // A record's exchange time moves it too.
        var print = trade(samsung, price: 50_000, change: 0)
        print.exchangeTime = UInt32(KST.epochSeconds(date: 20_260_608, time: 153_000)!)
        board.apply(print, at: 0)
        #expect(board.phase == .closed)
    }

    @Test func anIndexOffTheBoardIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            let board = MarketBoard(codes: [samsung])
            _ = board[1]
        }
    }

    @Test func aRecordAtAnotherCodesIndexIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            var board = MarketBoard(codes: [samsung, hynix])
            board.apply(trade(samsung, price: 50_000, change: 0), at: 1)
        }
    }
}
