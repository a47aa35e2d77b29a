import Benchmark
import BenchmarkSupport
import Risk
import TickCore

/// Pre-trade risk runs on the strategy thread before every order and on every record: none of it may allocate.
/// The committed thresholds (Thresholds/) hold mallocCountTotal at 0. Setup happens before `startMeasurement`;
/// prices vary per iteration so the optimiser cannot hoist a decision out of the loop.
let benchmarks: @Sendable () -> Void = {
    configureAllocationFreeBenchmarks()

    let code = SymbolCode(ascii: "005930")
    let codes = (0..<40).map { SymbolCode("\(100_000 + $0)")! } + [code]
    let index = SymbolIndex(codes.count - 1)

    /// A board at 10:00 whose last code trades at 50,000 with limits 35,000–65,000.
    func market() -> MarketBoard {
        var board = MarketBoard(codes: codes, secondOfDay: 36_000)
        try! board.setPreviousClose(at: index, 50_000)
        return board
    }

    func buy(_ quantity: Int32, at price: Int32) -> OrderIntent {
        OrderIntent(id: OrderID(rawValue: 1), code: code, side: .buy, quantity: quantity, price: price, purpose: .entry)
    }

    let position = SymbolExposure(held: 10, workingBuyQuantity: 10, workingBuyValue: 500_000, openOrders: 1)
    let account = AccountExposure(
        positionValue: 2_000_000,
        workingBuyValue: 500_000,
        openOrders: 3,
        realisedPnL: -10_000,
        unrealisedPnL: 5_000,
        buyingPower: BuyingPower(reported: 10_000_000)
    )

    // Every rule runs: a buy inside every limit.
    Benchmark("check-accepted-buy") { benchmark in
        let gate = RiskGate(killSwitch: KillSwitch())
        let board = market()
        var accepted = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let intent = buy(10, at: 50_000 + Int32(i & 7) * 100)
            let decision = gate.check(
                intent,
                market: board[index],
                phase: board.phase,
                position: position,
                account: account
            )
            if decision == .accept { accepted &+= 1 }
        }
        benchmark.stopMeasurement()
        precondition(accepted > 0, "the accepted benchmark's intents were rejected")
        blackHole(accepted)
    }

    // Rejected by the last rule, so the whole way is walked: more than the buying power left.
    Benchmark("check-rejected-buy") { benchmark in
        let gate = RiskGate(killSwitch: KillSwitch())
        let board = market()
        var poor = account
        poor.buyingPower = BuyingPower(reported: 100_000)
        var rejected = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let intent = buy(10, at: 50_000 + Int32(i & 7) * 100)
            let decision = gate.check(
                intent,
                market: board[index],
                phase: board.phase,
                position: position,
                account: poor
            )
            if decision == .reject(.exceedsBuyable) { rejected &+= 1 }
        }
        benchmark.stopMeasurement()
        precondition(rejected > 0, "the rejected benchmark's intents were accepted")
        blackHole(rejected)
    }

    // One trade print and one book applied to the board, as the feed delivers them.
    Benchmark("market-update-trade-and-book") { benchmark in
        var board = market()
        var trade = Tick()
        trade.code = code
        trade.symbol = index
        trade.hourClass = UInt8(ascii: "0")
        trade.exchangeTime = 1_780_886_907
        var book = Book()
        book.code = code
        book.hourClass = UInt8(ascii: "0")
        book.exchangeTime = 1_780_886_907
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            trade.price = 50_000 + Int32(i & 7) * 100
            board.apply(trade)
            book.bidPrices[0] = trade.price
            book.askPrices[0] = trade.price + 100
            board.apply(book, at: index)
        }
        benchmark.stopMeasurement()
        blackHole(board[index].lastPrice)
    }
}
