import Risk
import Testing
import TickCore

@Suite struct KillSwitchTests {
    static let codes = [samsung, hynix, kakao, naver]

    /// Samsung bid 49,950 (limits 35,000–65,000); Hynix bid 200,000 (140,000–260,000); Kakao bid 28,100, two ticks
    /// above its lower limit 28,000; Naver with no price or limits known.
    static func market(at secondOfDay: Int64 = clock(10, 0)) throws -> MarketBoard {
        var board = try board(codes: Self.codes, at: secondOfDay)
        board.apply(book(samsung, bid: 49_950, ask: 50_000), at: 0)
        try board.setPreviousClose(at: 1, 200_000)
        board.apply(trade(hynix, price: 200_000, change: 0, bid: 200_000, ask: 200_500), at: 1)
        try board.setPreviousClose(at: 2, 40_000)
        board.apply(book(kakao, bid: 28_100, ask: 28_150), at: 2)
        return board
    }

    static let openOrders = [
        working(1, .buy, 10, at: 49_900),
        working(2, .sell, 3, at: 50_500, purpose: .exit),
        working(3, .buy, 5, at: 199_000, code: hynix),
        // A flattening sell from an earlier run: kept working, not cancelled.
        working(4, .sell, 5, at: 28_000, purpose: .flatten, code: kakao),
    ]

    static let positions = [
        HeldPosition(code: samsung, index: 0, quantity: 10),
        HeldPosition(code: hynix, index: 1, quantity: 4),
        HeldPosition(code: kakao, index: 2, quantity: 8),
        HeldPosition(code: naver, index: 3, quantity: 7),
    ]

    static func plan(
        _ planner: KillSwitchPlanner = KillSwitchPlanner(),
        orders: [WorkingOrder] = Self.openOrders,
        board: MarketBoard,
        nextID: inout OrderID
    ) -> [OrderIntent] {
        var intents: [OrderIntent] = []
        planner.plan(
            openOrders: orders,
            positions: Self.positions,
            market: board,
            nextID: &nextID,
            decidedAt: 7,
            emit: { intents.append($0) }
        )
        return intents
    }

    static func cancelIntent(_ id: UInt32, of order: WorkingOrder) -> OrderIntent {
        OrderIntent(
            id: OrderID(rawValue: id),
            code: order.code,
            side: order.side,
            quantity: order.remaining,
            price: order.price,
            purpose: .flatten,
            action: .cancel,
            target: order.id,
            decidedAt: 7
        )
    }

    static func sellIntent(_ id: UInt32, _ code: SymbolCode, _ quantity: Int32, at price: Int32) -> OrderIntent {
        OrderIntent(
            id: OrderID(rawValue: id),
            code: code,
            side: .sell,
            quantity: quantity,
            price: price,
            purpose: .flatten,
            decidedAt: 7
        )
    }

    @Test func cancelsEveryOrderThenSellsWhatIsNotCommitted() throws {
        var nextID = OrderID(rawValue: 100)
        let intents = Self.plan(board: try Self.market(), nextID: &nextID)
        #expect(
            intents == [
                Self.cancelIntent(100, of: Self.openOrders[0]),
                Self.cancelIntent(101, of: Self.openOrders[1]),
                Self.cancelIntent(102, of: Self.openOrders[2]),
                // 10 held, 3 in the exit sell being cancelled; 5 ticks below the bid 49,950.
                Self.sellIntent(103, samsung, 7, at: 49_700),
                // Five ticks down from 200,000 cross into the 100-won band.
                Self.sellIntent(104, hynix, 4, at: 199_500),
                // 8 held, 5 in the earlier flattening sell; the lower limit stops the price.
                Self.sellIntent(105, kakao, 3, at: 28_000),
                // No price or limits known: a market order.
                Self.sellIntent(106, naver, 7, at: 0),
            ]
        )
        #expect(nextID == OrderID(rawValue: 107))
    }

    @Test func theNextRunSellsTheSharesTheCancelsFreed() throws {
        let board = try Self.market()
        var nextID = OrderID(rawValue: 100)
        let first = Self.plan(board: board, nextID: &nextID)
        // The cancels are confirmed: only the flattening sells still work.
        let working =
            [Self.openOrders[3]]
            + first.filter { $0.action == .new }.map {
                WorkingOrder(
                    id: $0.id,
                    code: $0.code,
                    side: $0.side,
                    remaining: $0.quantity,
                    price: $0.price,
                    purpose: .flatten
                )
            }
        let second = Self.plan(orders: working, board: board, nextID: &nextID)
        #expect(second == [Self.sellIntent(107, samsung, 3, at: 49_700)])
        // Once everything is working, there is nothing left to do.
        let all =
            working + [
                WorkingOrder(
                    id: OrderID(rawValue: 107),
                    code: samsung,
                    side: .sell,
                    remaining: 3,
                    price: 49_700,
                    purpose: .flatten
                )
            ]
        #expect(Self.plan(orders: all, board: board, nextID: &nextID).isEmpty)
    }

    /// A flattening sell priced five ticks under a bid the market then fell through would never fill: one CI run
    /// of the engine's kill switch test sat 45 s with one share in such a sell.
    @Test func aFlatteningSellTheMarketFellThroughIsCancelledAndItsSharesSoldAgainAfter() throws {
        var board = try Self.market()
        let stale = working(7, .sell, 4, at: 50_100, purpose: .flatten)
        var nextID = OrderID(rawValue: 100)
        let first = Self.plan(orders: [stale, Self.openOrders[3]], board: board, nextID: &nextID)
        #expect(
            first == [
                Self.cancelIntent(100, of: stale),
                // The stale sell's 4 shares stay committed until its cancel is confirmed.
                Self.sellIntent(101, samsung, 6, at: 49_700),
                Self.sellIntent(102, hynix, 4, at: 199_500),
                Self.sellIntent(103, kakao, 3, at: 28_000),
                Self.sellIntent(104, naver, 7, at: 0),
            ]
        )
        // The cancel confirmed and the market fell further: the freed shares go at the new bid.
        board.apply(book(samsung, bid: 49_500, ask: 49_550), at: 0)
        let working =
            [Self.openOrders[3]]
            + first.dropFirst().map {
                WorkingOrder(
                    id: $0.id,
                    code: $0.code,
                    side: .sell,
                    remaining: $0.quantity,
                    price: $0.price,
                    purpose: .flatten
                )
            }
        let second = Self.plan(orders: working.filter { $0.code != samsung }, board: board, nextID: &nextID)
        #expect(second == [Self.sellIntent(105, samsung, 10, at: 49_250)])
        // Had the run's own sell still been working above the new bid, it is cancelled too, and only the shares no
        // working sell holds are sold.
        let third = Self.plan(orders: working, board: board, nextID: &nextID)
        #expect(third == [Self.cancelIntent(106, of: working[1]), Self.sellIntent(107, samsung, 4, at: 49_250)])
    }

    @Test func theGateLetsThePlanThroughWhileArmed() throws {
        let board = try Self.market()
        let gate = RiskGate(killSwitch: KillSwitch())
        gate.killSwitch.arm()
        var account = AccountExposure(realisedPnL: -10_000_000)
        account.openOrders = 100
        var nextID = OrderID(rawValue: 100)
        let committed: [SymbolCode: Int32] = [samsung: 3, kakao: 5]
        for intent in Self.plan(board: board, nextID: &nextID) {
            let index = Self.codes.firstIndex(of: intent.code)!
            let position = SymbolExposure(
                held: Self.positions[index].quantity,
                workingSellQuantity: committed[intent.code] ?? 0
            )
            let decision = gate.check(
                intent,
                market: board[SymbolIndex(index)],
                phase: board.phase,
                position: position,
                account: account
            )
            #expect(decision == .accept, "\(intent.code) \(intent.action)")
        }
    }

    @Test func marketPricing() throws {
        var nextID = OrderID(rawValue: 1)
        let sells = Self.plan(KillSwitchPlanner(pricing: .market), board: try Self.market(), nextID: &nextID)
            .filter { $0.action == .new }
        #expect(sells.count == 4)
        #expect(sells.allSatisfy { $0.price == 0 && $0.isMarket })
    }

    @Test func sellsInACallAuctionOrAVolatilityInterruptionAskForIt() throws {
        var nextID = OrderID(rawValue: 1)
        let closing = Self.plan(board: try Self.market(at: clock(15, 25)), nextID: &nextID).filter { $0.action == .new }
        #expect(closing.allSatisfy { $0.auction })
        var board = try Self.market()
        board.setVolatilityInterruption(at: 1, true)
        let sells = Self.plan(board: board, nextID: &nextID).filter { $0.action == .new }
        #expect(sells.map(\.auction) == [false, true, false, false])
    }

    @Test func aPositionAtAnotherCodesIndexIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            let board = MarketBoard(codes: [samsung, hynix])
            var nextID = OrderID(rawValue: 1)
            KillSwitchPlanner().plan(
                openOrders: [WorkingOrder](),
                positions: [HeldPosition(code: samsung, index: 1, quantity: 1)],
                market: board,
                nextID: &nextID,
                decidedAt: 0,
                emit: { _ in }
            )
        }
    }
}
