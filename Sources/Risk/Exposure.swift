public import TickCore

/// One code's position and working orders, as the caller (the order state machine) keeps them for the gate.
public struct SymbolExposure: BitwiseCopyable, Sendable, Equatable {
    /// Shares held now; a fill counts at once, settled or not.
    public var held: Int32 = 0
    /// Shares in working sell orders: committed, so not sellable again until cancelled.
    public var workingSellQuantity: Int32 = 0
    /// Shares in working buy orders.
    public var workingBuyQuantity: Int32 = 0
    /// KRW of working buy orders: limit price × remaining, market buys at the upper limit.
    public var workingBuyValue: Int64 = 0
    /// Working orders of this code, either side.
    public var openOrders: Int32 = 0

    public init(
        held: Int32 = 0,
        workingSellQuantity: Int32 = 0,
        workingBuyQuantity: Int32 = 0,
        workingBuyValue: Int64 = 0,
        openOrders: Int32 = 0
    ) {
        self.held = held
        self.workingSellQuantity = workingSellQuantity
        self.workingBuyQuantity = workingBuyQuantity
        self.workingBuyValue = workingBuyValue
        self.openOrders = openOrders
    }

    /// Shares a new sell may still take: held and not committed to a working sell.
    public var sellable: Int32 { self.held - self.workingSellQuantity }
}

/// The account's totals, as the caller keeps them for the gate.
public struct AccountExposure: BitwiseCopyable, Sendable, Equatable {
    /// KRW of every position at its last price.
    public var positionValue: Int64 = 0
    /// KRW of every working buy order (as `SymbolExposure.workingBuyValue`, summed).
    public var workingBuyValue: Int64 = 0
    /// Working orders in all.
    public var openOrders: Int32 = 0
    /// Today's realised PnL after fees and tax, KRW.
    public var realisedPnL: Int64 = 0
    /// PnL of the open positions at their last prices, after the fee and tax of closing them, KRW.
    public var unrealisedPnL: Int64 = 0
    /// Cash for new buys.
    public var buyingPower: BuyingPower = BuyingPower(reported: 0)

    public init(
        positionValue: Int64 = 0,
        workingBuyValue: Int64 = 0,
        openOrders: Int32 = 0,
        realisedPnL: Int64 = 0,
        unrealisedPnL: Int64 = 0,
        buyingPower: BuyingPower = BuyingPower(reported: 0)
    ) {
        self.positionValue = positionValue
        self.workingBuyValue = workingBuyValue
        self.openOrders = openOrders
        self.realisedPnL = realisedPnL
        self.unrealisedPnL = unrealisedPnL
        self.buyingPower = buyingPower
    }

    /// Today's PnL, realised plus unrealised, after costs.
    public var dayPnL: Int64 { self.realisedPnL + self.unrealisedPnL }
}

/// Cash available for new buys: KIS's figure from REST `inquire-psbl-order` (`nrcvb_buy_amt`, buying without
/// credit), kept current between refreshes by the engine's own orders.
///
/// The accounting, per buy order, with `r(q)` = `RiskGate.reservation(quantity: q, price:market:)` for `q` shares
/// still to buy (limit price, or the upper limit for a market buy, × q, plus the fee):
///
///     gate accepts q        reserve(r(q))                       available −= r(q)
///     KIS rejects it        release(r(q))                       available += r(q)
///     cancelled, q left     release(r(q))                       available += r(q)
///     fill of f, q left     fill(reserved: r(q) − r(q − f),     available += reserved − cost
///                                cost: fill value + fee)        (a better price gives cash back)
///     modified              the change `RiskGate.reservation(for:market:replacing:)` gives: reserve it if
///                           positive, release its negation if negative
///     REST refresh          refresh(reported:inFlight:)         available = reported − inFlight
///
/// Taking a fill's share as the difference of two reservations makes the shares of one order add up to what was
/// reserved for it, to the won, whatever the fee's rounding.
///
/// KIS's figure already holds back cash for every order it has acknowledged, so a refresh keeps only the
/// reservations of buys accepted but not yet acknowledged when the inquiry was sent (`inFlight`); the orders it
/// counted are later released or filled against the new figure, as KIS itself does.
public struct BuyingPower: BitwiseCopyable, Sendable, Equatable {
    /// KRW a new buy may still reserve; negative after fills that cost more than KIS's figure allowed for.
    public private(set) var available: Int64

    public init(reported: Int64) { self.available = reported }

    /// Holds back `value` for a buy the gate accepted.
    public mutating func reserve(_ value: Int64) {
        assert(value >= 0, "a reservation is not negative")
        self.available -= value
    }

    /// Gives back `value` of a reservation whose order was rejected, cancelled or made smaller.
    public mutating func release(_ value: Int64) {
        assert(value >= 0, "a release is not negative")
        self.available += value
    }

    /// Turns `reserved` of a reservation into the fill's actual `cost` (value plus fee).
    public mutating func fill(reserved: Int64, cost: Int64) {
        self.available += reserved - cost
    }

    /// Starts again from KIS's figure, keeping the reservations of buys KIS had not yet acknowledged.
    public mutating func refresh(reported: Int64, inFlight: Int64) {
        self.available = reported - inFlight
    }
}

/// A working order the gate or the kill switch needs to know: the target of a modify, or an order to cancel.
public struct WorkingOrder: BitwiseCopyable, Sendable, Equatable {
    public var id: OrderID
    public var code: SymbolCode
    public var side: OrderSide
    /// Shares not yet filled.
    public var remaining: Int32
    /// Whole KRW; 0 is a market order.
    public var price: Int32
    public var purpose: OrderIntent.Purpose

    public init(
        id: OrderID,
        code: SymbolCode,
        side: OrderSide,
        remaining: Int32,
        price: Int32,
        purpose: OrderIntent.Purpose
    ) {
        self.id = id
        self.code = code
        self.side = side
        self.remaining = remaining
        self.price = price
        self.purpose = purpose
    }
}
