import Candles
import Strategy
import TickCore

let samsung = SymbolCode(ascii: "005930")
let hynix = SymbolCode(ascii: "000660")

/// A broker that accepts (or refuses) everything and records what it was asked.
struct TestBroker: Broker {
    var nextID: UInt32 = 1
    var intents: [OrderIntent] = []
    var cancels: [OrderID] = []
    var refuse = false
    var positions: [SymbolCode: Position] = [:]
    var working: [SymbolCode: OpenOrders] = [:]

    mutating func nextOrderID() -> OrderID {
        defer { self.nextID += 1 }
        return OrderID(rawValue: self.nextID)
    }

    mutating func submit(_ intent: OrderIntent) -> SubmitResult {
        self.intents.append(intent)
        return self.refuse ? .refused : .accepted
    }

    mutating func cancel(_ id: OrderID, decidedAt: Int64) -> SubmitResult {
        self.cancels.append(id)
        return self.refuse ? .refused : .accepted
    }

    func position(of code: SymbolCode) -> Position { self.positions[code] ?? Position(code: code) }

    func openOrders(of code: SymbolCode) -> OpenOrders { self.working[code] ?? OpenOrders() }
}

struct ManualClock: EngineClock {
    var now: Int64 = 0
}

/// Engine time of `time` (HHMMSS) plus `milliseconds` on 2026-06-08.
func engineTime(_ time: UInt32, milliseconds: Int64 = 0) -> Int64 {
    KST.epochSeconds(date: 20_260_608, time: time)! * 1_000_000_000 + milliseconds * 1_000_000
}

/// A strategy over 005930 and 000660 with its broker and clock, driven event by event.
struct Session {
    var strategy: ScalpingStrategy<TestBroker, ManualClock>
    var broker = TestBroker()
    var clock = ManualClock()

    /// - Parameter venue: the venues traded, whose continuous windows the strategy enters in.
    init(_ parameters: ScalpingParameters = ScalpingParameters(), venue: VenueMode = .krx) throws {
        self.strategy = ScalpingStrategy(
            parameters: parameters,
            symbols: try SymbolTable([samsung, hynix]),
            windows: VenueCalendar.standard.continuousWindows(venue)
        )
    }

    mutating func at(_ time: UInt32, milliseconds: Int64 = 0) {
        self.clock.now = engineTime(time, milliseconds: milliseconds)
    }

    /// A completed bar of `seconds` starting at `start` (HHMMSS) with high `high`.
    mutating func bar(
        _ start: UInt32,
        high: Int32,
        seconds: UInt16 = 300,
        flags: CandleFlags = [],
        volume: Int32 = 0,
        code: SymbolCode = samsung
    ) {
        var candle = Candle()
        candle.code = code
        candle.start = UInt32(KST.epochSeconds(date: 20_260_608, time: start)!)
        candle.seconds = seconds
        candle.open = high - 200
        candle.high = high
        candle.low = high - 300
        candle.close = high - 100
        candle.flags = flags
        candle.volume = volume
        self.strategy.onCandle(candle, symbol: self.index(code), broker: &self.broker, clock: self.clock)
    }

    /// A book with best bid `bid` and ask `ask` (ten levels one step apart), `bidQuantity` and `askQuantity` on
    /// every level.
    mutating func book(
        bid: Int32,
        ask: Int32,
        bidQuantity: Int32 = 3_000,
        askQuantity: Int32 = 1_000,
        code: SymbolCode = samsung
    ) {
        var book = Book()
        book.code = code
        book.exchangeTime = UInt32(self.clock.now / 1_000_000_000)
        book.hourClass = UInt8(ascii: "0")
        var bidPrice = Int64(bid)
        var askPrice = Int64(ask)
        for level in 0..<10 {
            book.bidPrices[level] = Int32(bidPrice)
            book.askPrices[level] = Int32(askPrice)
            book.bidQuantities[level] = bidQuantity
            book.askQuantities[level] = askQuantity
            bidPrice = KRX.down(bidPrice)
            askPrice = KRX.up(askPrice)
        }
        let features = BookFeatures(book: book, topLevels: 5)
        self.strategy.onBook(features, symbol: self.index(code), broker: &self.broker, clock: self.clock)
    }

    /// A buy-initiated print at the clock's time.
    mutating func trade(_ price: Int32, strength: Int32 = 13_000, code: SymbolCode = samsung) {
        var trade = Trade()
        trade.code = code
        trade.exchangeTime = UInt32(self.clock.now / 1_000_000_000)
        trade.price = price
        trade.volume = 10
        trade.sideCode = TradeSide.buy.rawValue
        trade.strength = strength
        self.strategy.onTrade(Tick(trade, symbol: self.index(code)), broker: &self.broker, clock: self.clock)
    }

    /// `kind` of the last intent's order, with the broker's position following fills.
    mutating func update(_ kind: OrderUpdate.Kind, quantity: Int32 = 0, price: Int32 = 0, remaining: Int32 = 0) {
        let intent = self.broker.intents.last!
        if quantity > 0 {
            var position = self.broker.position(of: intent.code)
            position.quantity += Int64(intent.side == .buy ? quantity : -quantity)
            self.broker.positions[intent.code] = position
        }
        let update = OrderUpdate(
            id: intent.id,
            code: intent.code,
            kind: kind,
            side: intent.side,
            fillQuantity: quantity,
            fillPrice: price,
            remainingQuantity: remaining
        )
        self.strategy.onOrderUpdate(update, broker: &self.broker, clock: self.clock)
    }

    mutating func timer() {
        self.strategy.onTimer(broker: &self.broker, clock: self.clock)
    }

    /// The standard setup at 10:00:05: the 09:55 bar topped at 60,000, the book is 60,000 / 60,100 with three times
    /// as much bid, and a print at 60,100 with strength 130 breaks out.
    mutating func breakout() {
        self.at(100_000)
        self.bar(95_500, high: 60_000)
        self.at(100_004)
        self.book(bid: 60_000, ask: 60_100)
        self.at(100_005)
        self.trade(60_100)
    }

    /// `breakout()`, then the entry fills completely at 60,100.
    mutating func long() {
        self.breakout()
        self.at(100_005, milliseconds: 300)
        self.update(.accepted, remaining: 16)
        self.update(.filled, quantity: 16, price: 60_100)
    }

    func index(_ code: SymbolCode) -> SymbolIndex { self.strategy.symbols.index(of: code)! }
}
