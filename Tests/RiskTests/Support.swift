import Risk
import TickCore

let samsung = SymbolCode(ascii: "005930")
let hynix = SymbolCode(ascii: "000660")
let kakao = SymbolCode(ascii: "035720")
let naver = SymbolCode(ascii: "035420")

/// Seconds since KST midnight.
func clock(_ hour: Int64, _ minute: Int64, _ second: Int64 = 0) -> Int64 { hour * 3600 + minute * 60 + second }

/// A board of `codes` at 10:00 whose first code has limits from a previous close of 50,000 (35,000–65,000) and last
/// traded at 50,000.
func board(codes: [SymbolCode] = [samsung], at secondOfDay: Int64 = clock(10, 0)) throws -> MarketBoard {
    var board = MarketBoard(codes: codes, secondOfDay: secondOfDay)
    try board.setPreviousClose(at: 0, 50_000)
    board.apply(trade(codes[0], price: 50_000, change: 0), at: 0)
    return board
}

extension MarketBoard {
    /// `apply` with a trade as the tests build or decode it, for the code at `symbol`.
    mutating func apply(_ trade: Trade, at symbol: SymbolIndex) {
        self.apply(Tick(trade, symbol: symbol))
    }
}

/// A trade print without an exchange time (so it leaves the board's clock alone).
func trade(_ code: SymbolCode, price: Int32, change: Int32, bid: Int32 = 0, ask: Int32 = 0) -> Trade {
    var trade = Trade()
    trade.code = code
    trade.price = price
    trade.change = change
    trade.bidPrice = bid
    trade.askPrice = ask
    trade.hourClass = UInt8(ascii: "0")
    return trade
}

func book(_ code: SymbolCode, bid: Int32, ask: Int32, hourClass: Character = "0", expectedPrice: Int32 = 0) -> Book {
    var book = Book()
    book.code = code
    book.bidPrices[0] = bid
    book.askPrices[0] = ask
    book.hourClass = hourClass.asciiValue!
    book.expectedPrice = expectedPrice
    return book
}

func buy(
    _ quantity: Int32,
    at price: Int32,
    purpose: OrderIntent.Purpose = .entry,
    code: SymbolCode = samsung,
    id: UInt32 = 1
) -> OrderIntent {
    OrderIntent(id: OrderID(rawValue: id), code: code, side: .buy, quantity: quantity, price: price, purpose: purpose)
}

func sell(
    _ quantity: Int32,
    at price: Int32,
    purpose: OrderIntent.Purpose = .exit,
    code: SymbolCode = samsung,
    id: UInt32 = 1
) -> OrderIntent {
    OrderIntent(id: OrderID(rawValue: id), code: code, side: .sell, quantity: quantity, price: price, purpose: purpose)
}

func cancel(_ target: WorkingOrder, id: UInt32 = 99) -> OrderIntent {
    OrderIntent(
        id: OrderID(rawValue: id),
        code: target.code,
        side: target.side,
        quantity: 0,
        price: 0,
        purpose: target.purpose,
        action: .cancel,
        target: target.id
    )
}

func modify(_ target: WorkingOrder, price: Int32, quantity: Int32 = 0, id: UInt32 = 98) -> OrderIntent {
    OrderIntent(
        id: OrderID(rawValue: id),
        code: target.code,
        side: target.side,
        quantity: quantity,
        price: price,
        purpose: target.purpose,
        action: .modify,
        target: target.id
    )
}

func working(
    _ id: UInt32,
    _ side: OrderSide,
    _ remaining: Int32,
    at price: Int32,
    purpose: OrderIntent.Purpose = .entry,
    code: SymbolCode = samsung
) -> WorkingOrder {
    WorkingOrder(
        id: OrderID(rawValue: id),
        code: code,
        side: side,
        remaining: remaining,
        price: price,
        purpose: purpose
    )
}

/// Limits loose enough that no rule but the one a test tightens can fire.
func loose() -> RiskLimits {
    var limits = RiskLimits()
    limits.maxPositionShares = 1_000_000
    limits.maxPositionValue = 1_000_000_000_000
    limits.maxGrossExposure = 1_000_000_000_000
    limits.maxOpenOrdersPerCode = 1_000
    limits.maxOpenOrders = 1_000
    limits.maxOrderValue = 1_000_000_000_000
    limits.maxOrderQuantity = 1_000_000
    limits.dailyLossLimit = 1_000_000_000
    return limits
}

/// An account with plenty of cash and nothing else.
func richAccount() -> AccountExposure {
    AccountExposure(buyingPower: BuyingPower(reported: 1_000_000_000_000))
}

/// Checks `intent` against `board`'s first code.
func decide(
    _ intent: OrderIntent,
    gate: RiskGate,
    board: MarketBoard,
    position: SymbolExposure = SymbolExposure(),
    account: AccountExposure = richAccount(),
    replacing target: WorkingOrder? = nil
) -> RiskDecision {
    gate.check(
        intent,
        market: board[0, route: intent.route],
        phase: board.phase(for: intent.route),
        position: position,
        account: account,
        replacing: target
    )
}
