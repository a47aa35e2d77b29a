import Risk
import Testing
import TickCore

@Suite struct RiskGateTests {
    let gate = RiskGate(limits: loose(), killSwitch: KillSwitch())

    /// Refusals are counted by reason in a fixed table, and each reason reads as words on the status line.
    @Test func everyReasonHasACounterAndWords() {
        var counts = RiskRejectionCounts()
        for (n, reason) in RiskRejection.allCases.enumerated() {
            #expect(Int(reason.rawValue) < RiskRejectionCounts.capacity)
            for _ in 0...n { counts.add(reason) }
        }
        #expect(RiskRejection.allCases.enumerated().allSatisfy { counts[$0.element] == $0.offset + 1 })
        let words = RiskRejection.allCases.map(\.description)
        #expect(Set(words).count == words.count && words.allSatisfy { !$0.isEmpty })
    }

    // MARK: Prices

    /// Each band's edges on the ladder, and one won past a tick inside it.
    @Test(arguments: [
        (Int32(1_999), true), (2_000, true), (2_001, false), (2_005, true),
        (4_995, true), (4_996, false), (5_000, true), (5_005, false), (5_010, true),
        (49_950, true), (49_960, false), (50_000, true), (50_050, false), (50_100, true),
        (199_900, true), (199_950, false), (200_000, true), (200_100, false), (200_500, true),
        (499_500, true), (499_600, false), (500_000, true), (500_500, false), (501_000, true),
    ])
    func tickLadder(price: Int32, onLadder: Bool) throws {
        var board = MarketBoard(codes: [samsung], secondOfDay: clock(10, 0))
        try board.setLimits(at: 0, lower: 1, upper: 1_000_000)
        let expected: RiskDecision = onLadder ? .accept : .reject(.offTickLadder)
        #expect(decide(buy(1, at: price), gate: self.gate, board: board) == expected)
        #expect(
            decide(sell(1, at: price), gate: self.gate, board: board, position: SymbolExposure(held: 1)) == expected
        )
    }

    @Test func dailyLimits() throws {
        let board = try board()
        let held = SymbolExposure(held: 10)
        #expect(decide(buy(1, at: 65_000), gate: self.gate, board: board) == .accept)
        #expect(decide(buy(1, at: 65_100), gate: self.gate, board: board) == .reject(.outsideDailyLimits))
        #expect(decide(sell(1, at: 35_000), gate: self.gate, board: board, position: held) == .accept)
        #expect(
            decide(sell(1, at: 34_950), gate: self.gate, board: board, position: held) == .reject(.outsideDailyLimits)
        )
    }

    @Test func unknownLimitsRefuseLimitOrdersAndMarketBuysButNotMarketSells() {
        let board = MarketBoard(codes: [samsung], secondOfDay: clock(10, 0))
        #expect(decide(buy(1, at: 50_000), gate: self.gate, board: board) == .reject(.limitsUnknown))
        #expect(decide(buy(1, at: 0), gate: self.gate, board: board) == .reject(.limitsUnknown))
        #expect(decide(sell(1, at: 0), gate: self.gate, board: board, position: SymbolExposure(held: 1)) == .accept)
    }

    @Test func minimumPriceStopsEntriesOnly() throws {
        var limits = loose()
        limits.minimumPrice = 1_000
        let gate = RiskGate(limits: limits, killSwitch: KillSwitch())
        var board = MarketBoard(codes: [samsung], secondOfDay: clock(10, 0))
        try board.setPreviousClose(at: 0, 1_000)
        #expect(decide(buy(1, at: 1_000), gate: gate, board: board) == .accept)
        #expect(decide(buy(1, at: 999), gate: gate, board: board) == .reject(.belowMinimumPrice))
        #expect(decide(sell(1, at: 999), gate: gate, board: board, position: SymbolExposure(held: 1)) == .accept)
        // A market buy is judged by the last price.
        board.apply(trade(samsung, price: 999, change: -1), at: 0)
        #expect(decide(buy(1, at: 0), gate: gate, board: board) == .reject(.belowMinimumPrice))
    }

    // MARK: Session, halts, VI

    @Test(arguments: [
        (clock(8, 29, 59), RiskRejection.sessionClosed),
        (clock(8, 30), .auctionNotRequested),
        (clock(8, 59, 59), .auctionNotRequested),
        (clock(15, 20), .auctionNotRequested),
        (clock(15, 29, 59), .auctionNotRequested),
        (clock(15, 30), .sessionClosed),
    ])
    func outsideContinuousTrading(at secondOfDay: Int64, rejection: RiskRejection) throws {
        let board = try board(at: secondOfDay)
        #expect(decide(buy(1, at: 50_000), gate: self.gate, board: board) == .reject(rejection))
        var auction = buy(1, at: 50_000)
        auction.auction = true
        let expected: RiskDecision = rejection == .sessionClosed ? .reject(.sessionClosed) : .accept
        #expect(decide(auction, gate: self.gate, board: board) == expected)
    }

    @Test func continuousTradingEdges() throws {
        #expect(decide(buy(1, at: 50_000), gate: self.gate, board: try board(at: clock(9, 0))) == .accept)
        #expect(decide(buy(1, at: 50_000), gate: self.gate, board: try board(at: clock(15, 19, 59))) == .accept)
    }

    @Test func haltsRefuseEvenAuctionOrders() throws {
        var board = try board()
        board.setHalted(at: 0, true)
        var order = buy(1, at: 50_000)
        #expect(decide(order, gate: self.gate, board: board) == .reject(.halted))
        order.auction = true
        #expect(decide(order, gate: self.gate, board: board) == .reject(.halted))
        let flatten = sell(1, at: 50_000, purpose: .flatten)
        #expect(decide(flatten, gate: self.gate, board: board, position: SymbolExposure(held: 1)) == .reject(.halted))
    }

    @Test func volatilityInterruptionNeedsAnAuctionOrder() throws {
        var board = try board()
        board.apply(book(samsung, bid: 50_000, ask: 50_100, hourClass: "C", expectedPrice: 50_000), at: 0)
        var order = buy(1, at: 50_000)
        #expect(decide(order, gate: self.gate, board: board) == .reject(.volatilityInterruption))
        order.auction = true
        #expect(decide(order, gate: self.gate, board: board) == .accept)
        board.apply(book(samsung, bid: 50_000, ask: 50_100), at: 0)
        #expect(decide(buy(1, at: 50_000), gate: self.gate, board: board) == .accept)
    }

    // MARK: Caps, each at its boundary and one past it

    func gate(_ change: (inout RiskLimits) -> Void) -> RiskGate {
        var limits = loose()
        change(&limits)
        return RiskGate(limits: limits, killSwitch: KillSwitch())
    }

    @Test func orderQuantityCap() throws {
        let gate = self.gate { $0.maxOrderQuantity = 10 }
        let board = try board()
        #expect(decide(buy(10, at: 50_000), gate: gate, board: board) == .accept)
        #expect(decide(buy(11, at: 50_000), gate: gate, board: board) == .reject(.orderQuantityCap))
    }

    @Test func orderValueCap() throws {
        let gate = self.gate { $0.maxOrderValue = 500_000 }
        let board = try board()
        #expect(decide(buy(10, at: 50_000), gate: gate, board: board) == .accept)
        #expect(decide(buy(10, at: 50_100), gate: gate, board: board) == .reject(.orderValueCap))
        // A market buy is valued at the upper limit (65,000).
        #expect(decide(buy(7, at: 0), gate: gate, board: board) == .accept)
        #expect(decide(buy(8, at: 0), gate: gate, board: board) == .reject(.orderValueCap))
    }

    @Test func positionSharesCap() throws {
        let gate = self.gate { $0.maxPositionShares = 100 }
        let board = try board()
        let position = SymbolExposure(held: 60, workingBuyQuantity: 30, workingBuyValue: 1_500_000, openOrders: 1)
        #expect(decide(buy(10, at: 50_000), gate: gate, board: board, position: position) == .accept)
        #expect(
            decide(buy(11, at: 50_000), gate: gate, board: board, position: position) == .reject(.positionSharesCap)
        )
    }

    @Test func positionValueCap() throws {
        let gate = self.gate { $0.maxPositionValue = 1_000_000 }
        let board = try board()
        // 10 held at the last price (50,000) and 250,000 working: 250,000 left.
        let position = SymbolExposure(held: 10, workingBuyQuantity: 5, workingBuyValue: 250_000, openOrders: 1)
        #expect(decide(buy(5, at: 50_000), gate: gate, board: board, position: position) == .accept)
        #expect(decide(buy(5, at: 50_100), gate: gate, board: board, position: position) == .reject(.positionValueCap))
    }

    @Test func grossExposureCap() throws {
        let gate = self.gate { $0.maxGrossExposure = 10_000_000 }
        let board = try board()
        var account = richAccount()
        account.positionValue = 7_000_000
        account.workingBuyValue = 2_500_000
        #expect(decide(buy(10, at: 50_000), gate: gate, board: board, account: account) == .accept)
        #expect(decide(buy(10, at: 50_100), gate: gate, board: board, account: account) == .reject(.exposureCap))
    }

    @Test func openOrderCaps() throws {
        let gate = self.gate {
            $0.maxOpenOrdersPerCode = 4
            $0.maxOpenOrders = 10
        }
        let board = try board()
        var account = richAccount()
        account.openOrders = 9
        #expect(
            decide(
                buy(1, at: 50_000),
                gate: gate,
                board: board,
                position: SymbolExposure(openOrders: 3),
                account: account
            ) == .accept
        )
        #expect(
            decide(
                buy(1, at: 50_000),
                gate: gate,
                board: board,
                position: SymbolExposure(openOrders: 4),
                account: account
            )
                == .reject(.openOrdersPerCodeCap)
        )
        account.openOrders = 10
        #expect(
            decide(
                buy(1, at: 50_000),
                gate: gate,
                board: board,
                position: SymbolExposure(openOrders: 3),
                account: account
            )
                == .reject(.openOrdersCap)
        )
    }

    @Test func buyableAmountIncludesTheFee() throws {
        let board = try board()
        // 500,000 plus the 0.015 % fee (75) plus the won Costs.withFee rounds up by.
        #expect(self.gate.reservation(for: buy(10, at: 50_000), market: board[0]) == 500_076)
        var account = richAccount()
        account.buyingPower = BuyingPower(reported: 500_076)
        #expect(decide(buy(10, at: 50_000), gate: self.gate, board: board, account: account) == .accept)
        account.buyingPower = BuyingPower(reported: 500_075)
        #expect(
            decide(buy(10, at: 50_000), gate: self.gate, board: board, account: account) == .reject(.exceedsBuyable)
        )
    }

    @Test func marketBuysReserveAtTheUpperLimit() throws {
        let board = try board()
        #expect(self.gate.reservation(for: buy(10, at: 0), market: board[0]) == 650_098)
        #expect(self.gate.reservation(for: sell(10, at: 0), market: board[0]) == 0)
    }

    @Test func noShortSelling() throws {
        let board = try board()
        let position = SymbolExposure(held: 10, workingSellQuantity: 3, openOrders: 1)
        #expect(decide(sell(7, at: 50_000), gate: self.gate, board: board, position: position) == .accept)
        #expect(
            decide(sell(8, at: 50_000), gate: self.gate, board: board, position: position) == .reject(.sellMoreThanHeld)
        )
        #expect(decide(sell(1, at: 50_000), gate: self.gate, board: board) == .reject(.sellMoreThanHeld))
    }

    @Test func emptyOrdersAreRefused() throws {
        let board = try board()
        #expect(decide(buy(0, at: 50_000), gate: self.gate, board: board) == .reject(.invalidQuantity))
        #expect(decide(buy(-1, at: 50_000), gate: self.gate, board: board) == .reject(.invalidQuantity))
        #expect(decide(buy(1, at: -50_000), gate: self.gate, board: board) == .reject(.offTickLadder))
    }

    // MARK: Daily loss and the kill switch

    @Test func dailyLossStopsEntriesButNotExits() throws {
        let gate = self.gate { $0.dailyLossLimit = 300_000 }
        let board = try board()
        var account = richAccount()
        account.realisedPnL = -200_000
        account.unrealisedPnL = -100_000
        let held = SymbolExposure(held: 10)
        #expect(decide(buy(1, at: 50_000), gate: gate, board: board, account: account) == .accept)
        account.unrealisedPnL = -100_001
        #expect(decide(buy(1, at: 50_000), gate: gate, board: board, account: account) == .reject(.dailyLossLimit))
        // A buy grows exposure whatever purpose it claims.
        #expect(
            decide(buy(1, at: 50_000, purpose: .exit), gate: gate, board: board, account: account)
                == .reject(.dailyLossLimit)
        )
        #expect(decide(sell(10, at: 50_000), gate: gate, board: board, position: held, account: account) == .accept)
        #expect(
            decide(sell(10, at: 0, purpose: .flatten), gate: gate, board: board, position: held, account: account)
                == .accept
        )
    }

    @Test func killSwitchRefusesEveryEntry() throws {
        let board = try board()
        let held = SymbolExposure(held: 10)
        #expect(self.gate.killSwitch.arm())
        #expect(!self.gate.killSwitch.arm())
        #expect(decide(buy(1, at: 50_000), gate: self.gate, board: board) == .reject(.killSwitch))
        #expect(decide(buy(1, at: 50_000, purpose: .flatten), gate: self.gate, board: board) == .reject(.killSwitch))
        #expect(decide(sell(10, at: 50_000), gate: self.gate, board: board, position: held) == .accept)
        #expect(
            decide(sell(10, at: 50_000, purpose: .flatten), gate: self.gate, board: board, position: held) == .accept
        )
        // Nor may a working entry be moved; the planner cancels it instead.
        let entry = working(1, .buy, 10, at: 49_900)
        let position = SymbolExposure(workingBuyQuantity: 10, workingBuyValue: 499_000, openOrders: 1)
        #expect(
            decide(modify(entry, price: 50_000), gate: self.gate, board: board, position: position, replacing: entry)
                == .reject(.killSwitch)
        )
        #expect(decide(cancel(entry), gate: self.gate, board: board, position: position) == .accept)
        self.gate.killSwitch.reset()
        #expect(decide(buy(1, at: 50_000), gate: self.gate, board: board) == .accept)
    }

    @Test func killSwitchArmedFromAnotherThread() async throws {
        let board = try board()
        let killSwitch = self.gate.killSwitch
        let armedHere = await Task.detached { killSwitch.arm() }.value
        #expect(armedHere)
        #expect(decide(buy(1, at: 50_000), gate: self.gate, board: board) == .reject(.killSwitch))
    }

    // MARK: Cancels and modifies

    @Test func cancelsAlwaysPass() throws {
        let gate = self.gate {
            $0.maxOpenOrders = 1
            $0.dailyLossLimit = 1
        }
        gate.killSwitch.arm()
        var board = MarketBoard(codes: [samsung], secondOfDay: clock(20, 0))
        board.setHalted(at: 0, true)
        board.setVolatilityInterruption(at: 0, true)
        var account = AccountExposure(openOrders: 5, realisedPnL: -1_000_000)
        account.buyingPower = BuyingPower(reported: -1)
        let order = working(1, .buy, 10, at: 12_345)
        #expect(decide(cancel(order), gate: gate, board: board, account: account) == .accept)
        #expect(decide(cancel(working(2, .sell, 10, at: 0, purpose: .exit)), gate: gate, board: board) == .accept)
    }

    @Test func modifyIsCheckedAtTheNewPrice() throws {
        let board = try board()
        let order = working(1, .buy, 10, at: 50_000)
        let position = SymbolExposure(workingBuyQuantity: 10, workingBuyValue: 500_000, openOrders: 1)
        #expect(
            decide(modify(order, price: 50_100), gate: self.gate, board: board, position: position, replacing: order)
                == .accept
        )
        #expect(
            decide(modify(order, price: 50_050), gate: self.gate, board: board, position: position, replacing: order)
                == .reject(.offTickLadder)
        )
        #expect(
            decide(modify(order, price: 65_100), gate: self.gate, board: board, position: position, replacing: order)
                == .reject(.outsideDailyLimits)
        )
        #expect(
            decide(modify(order, price: 50_100), gate: self.gate, board: board, position: position)
                == .reject(.unknownTarget)
        )
        var wrongSide = modify(order, price: 50_100)
        wrongSide.side = .sell
        #expect(
            decide(wrongSide, gate: self.gate, board: board, position: position, replacing: order)
                == .reject(.unknownTarget)
        )
    }

    @Test func modifyReplacesTheTargetsExposure() throws {
        let gate = self.gate {
            $0.maxPositionValue = 1_000_000
            $0.maxOpenOrdersPerCode = 1
        }
        let board = try board()
        let order = working(1, .buy, 10, at: 50_000)
        // The position is at its value cap and its open-order cap through the very order being modified.
        let position = SymbolExposure(held: 10, workingBuyQuantity: 10, workingBuyValue: 500_000, openOrders: 1)
        var account = richAccount()
        account.buyingPower = BuyingPower(reported: 0)
        #expect(
            decide(
                modify(order, price: 49_950),
                gate: gate,
                board: board,
                position: position,
                account: account,
                replacing: order
            ) == .accept
        )
        #expect(
            decide(
                modify(order, price: 50_100),
                gate: gate,
                board: board,
                position: position,
                account: account,
                replacing: order
            )
                == .reject(.positionValueCap)
        )
        // A smaller quantity at a higher price fits: 9 × 50,100 < 10 × 50,000.
        let smaller = modify(order, price: 50_100, quantity: 9)
        #expect(
            decide(smaller, gate: gate, board: board, position: position, account: account, replacing: order) == .accept
        )
        #expect(gate.reservation(for: smaller, market: board[0], replacing: order) == 450_968 - 500_076)
    }

    @Test func modifyOfASellFreesItsOwnShares() throws {
        let board = try board()
        let order = working(1, .sell, 10, at: 50_500, purpose: .exit)
        let position = SymbolExposure(held: 10, workingSellQuantity: 10, openOrders: 1)
        #expect(
            decide(modify(order, price: 50_000), gate: self.gate, board: board, position: position, replacing: order)
                == .accept
        )
    }

    @Test func anIntentCheckedAgainstAnotherCodeIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            let gate = RiskGate(killSwitch: KillSwitch())
            let board = MarketBoard(codes: [samsung])
            _ = gate.check(
                buy(1, at: 50_000, code: hynix),
                market: board[0],
                phase: .continuous,
                position: SymbolExposure(),
                account: AccountExposure()
            )
        }
    }
}
