public import Candles
public import TickCore

/// A trading strategy: the strategy stage calls one entry point per event, in event order, on one thread.
///
/// Generic over its broker and clock (hftbacktest's `Bot` pattern), so live, simulation and replay run the same
/// code, specialised: the engine passes its own broker and clock to every call. `symbol` is the event code's index
/// in the `SymbolTable` the candle stage used.
///
/// Not named `Strategy`: a type named like its module hides the module, so `Strategy.OrderUpdate` could no longer
/// be spelled in full.
public protocol TradingStrategy {
    associatedtype OrderBroker: Broker
    associatedtype TimeSource: EngineClock

    /// A trade print of the code at `trade.symbol`.
    mutating func onTrade(_ trade: Tick, broker: inout OrderBroker, clock: TimeSource)
    /// The code's book changed.
    mutating func onBook(_ book: BookFeatures, symbol: SymbolIndex, broker: inout OrderBroker, clock: TimeSource)
    /// The code's stream was cut and is back: what came before about its book is stale until the next `onBook`.
    mutating func onGap(symbol: SymbolIndex, broker: inout OrderBroker, clock: TimeSource)
    /// A bar of the code completed (or closed early: read its flags).
    mutating func onCandle(_ candle: Candle, symbol: SymbolIndex, broker: inout OrderBroker, clock: TimeSource)
    /// One of the strategy's orders changed state.
    mutating func onOrderUpdate(_ update: OrderUpdate, broker: inout OrderBroker, clock: TimeSource)
    /// One minute of the previous trading day, oldest first, before any live event (only when the strategy's
    /// parameters ask for them).
    mutating func onPastMinute(_ bar: Candle, symbol: SymbolIndex)
    /// Periodic call with no market event, so time-based rules fire on quiet codes.
    mutating func onTimer(broker: inout OrderBroker, clock: TimeSource)
}
