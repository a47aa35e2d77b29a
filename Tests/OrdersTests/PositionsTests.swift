import Orders
import Testing
import TickCore

@Suite struct PositionsTests {
    static func fill(_ side: OrderSide, _ quantity: Int32, at price: Int32, code: SymbolCode = Make.code) -> Fill {
        Fill(id: OrderID(rawValue: 1), code: code, side: side, quantity: quantity, price: price)
    }

    /// Fee 0.015 % and tax 0.20 % (the `Costs` defaults), every figure worked by hand.
    @Test func roundTripWithFeesAndTax() throws {
        var positions = Positions(capacity: 4)
        // Buy 10 @ 70 000: 700 000, fee 105. Buy 10 @ 71 000: 710 000, fee 106 (106.5 cut).
        try positions.apply(Self.fill(.buy, 10, at: 70_000))
        try positions.apply(Self.fill(.buy, 10, at: 71_000))
        var p = try #require(positions.position(Make.code))
        #expect(p.quantity == 20 && p.cost == 1_410_000 && p.entryFees == 211)
        #expect(p.averagePrice == 70_500 * Position.priceScale)
        // Marked at the last fill, 71 000: 1 420 000 − 1 410 000 − 211.
        #expect(p.unrealised == 9_789)

        // Sell 15 @ 72 000: 1 080 000, fee 162, tax 2 160. Cost closed 1 057 500, entry fees closed 158 (158.25).
        // Realised: 1 080 000 − 1 057 500 − 158 − 162 − 2 160 = 20 020.
        try positions.apply(Self.fill(.sell, 15, at: 72_000))
        p = try #require(positions.position(Make.code))
        #expect(p.quantity == 5 && p.cost == 352_500 && p.entryFees == 53)
        #expect(p.realised == 20_020)
        positions.mark(Make.code, price: 73_000)
        // 5 × 73 000 − 352 500 − 53.
        #expect(positions.position(Make.code)?.unrealised == 12_447)
        #expect(positions.totals.unrealised == 12_447)

        // Sell 5 @ 69 000: 345 000, fee 51 (51.75), tax 690. Realised: 345 000 − 352 500 − 53 − 51 − 690 = −8 294.
        try positions.apply(Self.fill(.sell, 5, at: 69_000))
        p = try #require(positions.position(Make.code))
        #expect(p.quantity == 0 && p.cost == 0 && p.entryFees == 0 && p.unrealised == 0)
        #expect(p.realised == 11_726)
        let totals = positions.totals
        #expect(totals == DayTotals(realised: 11_726, unrealised: 0, fees: 424, taxes: 2_850, turnover: 2_835_000))
        // Flat, the day's PnL is the cash: 1 425 000 sold − 1 410 000 bought − 424 fees − 2 850 tax.
        #expect(totals.pnl == 1_425_000 - 1_410_000 - 424 - 2_850)
    }

    @Test func averagePriceIsFixedPoint() throws {
        var positions = Positions(capacity: 4)
        try positions.apply(Self.fill(.buy, 3, at: 1_000))
        try positions.apply(Self.fill(.buy, 1, at: 1_001))
        // 4 001 / 4 = 1 000.25 KRW.
        #expect(positions.position(Make.code)?.averagePrice == 10_002_500)
    }

    @Test func sellingMoreThanHeldOpensTheOtherWay() throws {
        var positions = Positions(capacity: 4, costs: Costs(feePPM: 0, sellTaxPPM: 0))
        try positions.apply(Self.fill(.buy, 5, at: 1_000))
        try positions.apply(Self.fill(.sell, 8, at: 1_100))
        var p = try #require(positions.position(Make.code))
        #expect(p.realised == 500 && p.quantity == -3 && p.cost == -3_300)
        try positions.apply(Self.fill(.buy, 3, at: 1_000))
        p = try #require(positions.position(Make.code))
        #expect(p.realised == 800 && p.quantity == 0)
    }

    @Test func symbolsAreSeparateAndTotalsSumThem() throws {
        var positions = Positions(capacity: 2, costs: Costs(feePPM: 0, sellTaxPPM: 0))
        let other = SymbolCode(ascii: "000660")
        try positions.apply(Self.fill(.buy, 1, at: 100))
        try positions.apply(Self.fill(.buy, 2, at: 50, code: other))
        positions.mark(Make.code, price: 110)
        positions.mark(other, price: 40)
        positions.mark(SymbolCode(ascii: "035720"), price: 1)
        #expect(positions.totals.unrealised == 10 - 20)
        #expect(positions.all.map(\.code) == [Make.code, other])
        #expect(throws: PositionsRefusal.full) {
            try positions.apply(Self.fill(.buy, 1, at: 1, code: SymbolCode(ascii: "035720")))
        }
    }

    @Test func capacityZeroIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            _ = Positions(capacity: 0)
        }
    }

    @Test func restoreReplacesTheHolding() throws {
        var positions = Positions(capacity: 2, costs: Costs(feePPM: 0, sellTaxPPM: 0))
        try positions.apply(Self.fill(.buy, 1, at: 100))
        var broker = try #require(positions.position(Make.code))
        broker.quantity = 3
        broker.cost = 330
        try positions.restore(broker)
        #expect(positions.position(Make.code)?.averagePrice == 110 * Position.priceScale)
        #expect(positions.totals.unrealised == 3 * 100 - 330)
    }
}
