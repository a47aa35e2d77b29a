import Candles
import TickCore

/// Collects emitted bars in order.
struct CollectedBars: CandleSink {
    var bars: [Candle] = []
    var symbols: [SymbolIndex] = []

    mutating func candle(_ candle: Candle, symbol: SymbolIndex) {
        self.bars.append(candle)
        self.symbols.append(symbol)
    }

    /// Bars emitted since the last call.
    mutating func take() -> [Candle] {
        defer {
            self.bars.removeAll()
            self.symbols.removeAll()
        }
        return self.bars
    }
}

extension CandleBuilder {
    /// `update` with a trade as the tests build it, for the code at `symbol`.
    @discardableResult
    mutating func update<Sink: CandleSink>(_ trade: Trade, symbol: SymbolIndex, into sink: inout Sink) -> TradeResult {
        self.update(Tick(trade, symbol: symbol), into: &sink)
    }
}

let samsung = SymbolCode(ascii: "005930")
let hynix = SymbolCode(ascii: "000660")

/// Exchange time of `time` (HHMMSS) on 2026-06-08, the day of the real vectors.
func at(_ time: UInt32) -> UInt32 {
    UInt32(KST.epochSeconds(date: 20_260_608, time: time)!)
}

/// A synthetic print of `code`.
func trade(
    _ time: UInt32,
    _ price: Int32,
    _ volume: Int32,
    _ side: TradeSide = .buy,
    code: SymbolCode = samsung,
    strength: Int32 = 12_500
) -> Trade {
    var trade = Trade()
    trade.code = code
    trade.exchangeTime = at(time)
    trade.price = price
    trade.volume = volume
    trade.sideCode = side.rawValue
    trade.strength = strength
    return trade
}
