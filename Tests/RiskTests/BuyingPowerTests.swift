import Risk
import Testing
import TickCore

@Suite struct BuyingPowerTests {
    let gate = RiskGate(limits: loose(), killSwitch: KillSwitch())

    /// Accepts `intent` as the engine would: ask the gate, then reserve what it takes.
    func submit(_ intent: OrderIntent, board: MarketBoard, account: inout AccountExposure) -> RiskDecision {
        let decision = decide(intent, gate: self.gate, board: board, account: account)
        if decision == .accept {
            account.buyingPower.reserve(self.gate.reservation(for: intent, market: board[0]))
        }
        return decision
    }

    @Test func reservedOnAcceptReleasedOnCancelConsumedOnFill() throws {
        let board = try board()
        let market = board[0]
        var account = AccountExposure(buyingPower: BuyingPower(reported: 1_000_000))

        #expect(self.submit(buy(10, at: 50_000), board: board, account: &account) == .accept)
        #expect(account.buyingPower.available == 1_000_000 - 500_076)
        #expect(self.submit(buy(10, at: 50_000), board: board, account: &account) == .reject(.exceedsBuyable))
        #expect(account.buyingPower.available == 1_000_000 - 500_076)

        // Cancelled unfilled: all of it comes back.
        account.buyingPower.release(self.gate.reservation(quantity: 10, price: 50_000, market: market))
        #expect(account.buyingPower.available == 1_000_000)

        // Filled 4 at a better price, the other 6 cancelled. The filled share of the reservation is the reservation
        // of what remained before less that of what remains after, so the shares add up to the whole to the won.
        #expect(self.submit(buy(10, at: 50_000), board: board, account: &account) == .accept)
        let before = self.gate.reservation(quantity: 10, price: 50_000, market: market)
        let after = self.gate.reservation(quantity: 6, price: 50_000, market: market)
        let cost = 4 * 49_900 + Costs().fee(4 * 49_900)
        account.buyingPower.fill(reserved: before - after, cost: cost)
        #expect(account.buyingPower.available == 1_000_000 - 500_076 + (before - after) - cost)
        account.buyingPower.release(after)
        #expect(account.buyingPower.available == 1_000_000 - cost)
        #expect(cost == 199_629)
    }

    @Test func refreshKeepsWhatKISHasNotSeen() throws {
        let board = try board()
        var account = AccountExposure(buyingPower: BuyingPower(reported: 800_000))
        #expect(self.submit(buy(2, at: 50_000), board: board, account: &account) == .accept)
        #expect(account.buyingPower.available == 800_000 - 100_016)
        // KIS answered before that order reached it: its figure still counts the cash.
        account.buyingPower.refresh(reported: 800_000, inFlight: 100_016)
        #expect(account.buyingPower.available == 800_000 - 100_016)
        // Later KIS holds the order's cash itself, which it counts at its own rounding.
        account.buyingPower.refresh(reported: 699_990, inFlight: 0)
        #expect(account.buyingPower.available == 699_990)
    }

    @Test func modifyMovesTheReservation() throws {
        let board = try board()
        let order = working(1, .buy, 10, at: 50_000)
        var account = AccountExposure(buyingPower: BuyingPower(reported: 600_000))
        account.buyingPower.reserve(self.gate.reservation(quantity: 10, price: 50_000, market: board[0]))
        let position = SymbolExposure(workingBuyQuantity: 10, workingBuyValue: 500_000, openOrders: 1)
        let higher = modify(order, price: 59_000)
        #expect(
            decide(higher, gate: self.gate, board: board, position: position, account: account, replacing: order)
                == .accept
        )
        let change = self.gate.reservation(for: higher, market: board[0], replacing: order)
        #expect(change == 590_089 - 500_076)
        // 99,924 left: a modify to 60,000 (+100,015) is too much.
        let tooHigh = modify(order, price: 60_000)
        #expect(
            decide(tooHigh, gate: self.gate, board: board, position: position, account: account, replacing: order)
                == .reject(.exceedsBuyable)
        )
    }
}
