public import TickCore

/// Why the gate refused an order.
public enum RiskRejection: UInt8, BitwiseCopyable, Sendable {
    /// The kill switch is armed: only exits and flattening go out.
    case killSwitch
    /// Today's loss passed `RiskLimits.dailyLossLimit`: only exits and flattening go out.
    case dailyLossLimit
    /// Outside 08:30–15:30.
    case sessionClosed
    /// A call auction (pre-open, closing) is running and the intent did not set `auction`.
    case auctionNotRequested
    /// Trading in the code is halted.
    case halted
    /// A volatility interruption's single-price call is running and the intent did not set `auction`.
    case volatilityInterruption
    /// Today's limits are not known yet, so a limit price (or a market buy's reservation) cannot be checked.
    case limitsUnknown
    /// The price is not on the KRX tick ladder.
    case offTickLadder
    /// The price is outside today's limits.
    case outsideDailyLimits
    /// An entry below `RiskLimits.minimumPrice`.
    case belowMinimumPrice
    /// A new order for no shares, or a negative quantity.
    case invalidQuantity
    /// A modify whose target is not the working order given, or changes its side or code.
    case unknownTarget
    /// A sell of more than is held and not already committed to working sells (no short selling).
    case sellMoreThanHeld
    /// A buy of more shares than `RiskLimits.maxOrderQuantity`.
    case orderQuantityCap
    /// A buy worth more than `RiskLimits.maxOrderValue`.
    case orderValueCap
    /// The code's held plus working buy shares would pass `RiskLimits.maxPositionShares`.
    case positionSharesCap
    /// The code's held plus working buy value would pass `RiskLimits.maxPositionValue`.
    case positionValueCap
    /// Every position plus working buy would pass `RiskLimits.maxGrossExposure`.
    case exposureCap
    /// The code already has `RiskLimits.maxOpenOrdersPerCode` working orders.
    case openOrdersPerCodeCap
    /// The account already has `RiskLimits.maxOpenOrders` working orders.
    case openOrdersCap
    /// The buy's reservation is more than the buying power left.
    case exceedsBuyable
    /// The operator paused entries (`KillSwitch.pauseEntries`): only exits and flattening go out.
    case entriesPaused
}

extension RiskRejection: CaseIterable, CustomStringConvertible {
    /// In words, for the status line and the report.
    public var description: String {
        switch self {
        case .killSwitch: "kill switch armed"
        case .dailyLossLimit: "daily loss limit reached"
        case .sessionClosed: "market closed"
        case .auctionNotRequested: "call auction running"
        case .halted: "trading halted"
        case .volatilityInterruption: "volatility interruption"
        case .limitsUnknown: "today's price limits not known yet"
        case .offTickLadder: "price off the tick ladder"
        case .outsideDailyLimits: "price outside today's limits"
        case .belowMinimumPrice: "price below min_price_krw"
        case .invalidQuantity: "no shares"
        case .unknownTarget: "amends an order that is not working"
        case .sellMoreThanHeld: "sells more than held"
        case .orderQuantityCap: "over max_order_shares"
        case .orderValueCap: "over max_order_krw"
        case .positionSharesCap: "over max_position_shares"
        case .positionValueCap: "over max_position_krw"
        case .exposureCap: "over max_gross_exposure_krw"
        case .openOrdersPerCodeCap: "over max_open_orders_per_code"
        case .openOrdersCap: "over max_open_orders"
        case .exceedsBuyable: "more than the buying power"
        case .entriesPaused: "entries paused"
        }
    }
}

/// How many intents the gate refused, by reason: a fixed table the strategy thread adds to without allocating.
public struct RiskRejectionCounts: BitwiseCopyable, Sendable {
    /// Room for every `RiskRejection` (a test holds the enum to it).
    public static let capacity = 32
    private var counts: InlineArray<32, Int32> = .init(repeating: 0)

    public init() {}

    /// - Complexity: O(1); no allocation.
    public mutating func add(_ reason: RiskRejection) {
        self.counts[Int(reason.rawValue)] &+= 1
    }

    public subscript(reason: RiskRejection) -> Int { Int(self.counts[Int(reason.rawValue)]) }
}

/// The gate's answer for one intent.
public enum RiskDecision: BitwiseCopyable, Sendable, Equatable {
    case accept
    case reject(RiskRejection)
}

/// Pre-trade risk: every intent passes here, on the strategy thread, before it is published to the dispatcher.
///
/// The rules, in the order they are checked:
/// - a cancel always passes;
/// - an order that grows exposure (any buy, or purpose `.entry`) stops while the kill switch is armed, entries are
///   paused or today's loss is past the limit; exits and flattening go on;
/// - nothing outside the session; nothing during a call auction (pre-open, closing, a VI's) unless the intent
///   asked for one; nothing in a halted code;
/// - a limit price on the tick ladder and inside today's limits;
/// - a sell no larger than the shares held and not committed to other working sells;
/// - a buy within the order, position, gross exposure, open-order and buying-power limits.
///
/// A modify is checked as the order it would become (the new price, and the new quantity or what remains), with
/// the target's own shares, value and reservation taken out of the position and the account first; it adds no
/// working order. The gate is pure: the caller reserves buying power (`reservation(for:market:replacing:)`) and
/// updates its exposure when it publishes an accepted intent.
public struct RiskGate {
    public var limits: RiskLimits
    /// Fees for the buying-power reservation.
    public var costs: Costs
    public let killSwitch: KillSwitch

    public init(limits: RiskLimits = RiskLimits(), costs: Costs = Costs(), killSwitch: KillSwitch) {
        self.limits = limits
        self.costs = costs
        self.killSwitch = killSwitch
    }

    /// Decides on `intent`.
    ///
    /// - Parameters:
    ///   - market: the state of `intent.code` (`MarketBoard[index]`).
    ///   - phase: the session phase (`MarketBoard.phase`).
    ///   - position: the caller's exposure in `intent.code`.
    ///   - account: the caller's account totals.
    ///   - target: for a modify, the working order it changes.
    /// - Complexity: O(1), no allocation.
    public func check(
        _ intent: OrderIntent,
        market: SymbolMarket,
        phase: KRX.Phase,
        position: SymbolExposure,
        account: AccountExposure,
        replacing target: WorkingOrder? = nil
    ) -> RiskDecision {
        precondition(intent.code == market.code, "intent for \(intent.code) checked against \(market.code)'s market")
        switch intent.action {
        case .cancel:
            return .accept
        case .new:
            guard intent.quantity > 0 else { return .reject(.invalidQuantity) }
            return self.checkOrder(
                intent,
                quantity: intent.quantity,
                market: market,
                phase: phase,
                position: position,
                account: account,
                replacing: nil
            )
        case .modify:
            guard let target, target.id == intent.target, target.code == intent.code, target.side == intent.side
            else { return .reject(.unknownTarget) }
            guard intent.quantity >= 0 else { return .reject(.invalidQuantity) }
            let quantity = Self.quantity(of: intent, replacing: target)
            guard quantity > 0 else { return .reject(.invalidQuantity) }
            return self.checkOrder(
                intent,
                quantity: quantity,
                market: market,
                phase: phase,
                position: position,
                account: account,
                replacing: target
            )
        }
    }

    /// The buying power an accepted intent takes (positive) or gives back (negative): for a new buy its
    /// reservation, for a modified buy the new reservation less the target's; 0 for sells and cancels.
    ///
    /// - Complexity: O(1).
    public func reservation(
        for intent: OrderIntent,
        market: SymbolMarket,
        replacing target: WorkingOrder? = nil
    )
        -> Int64
    {
        guard intent.side == .buy else { return 0 }
        switch intent.action {
        case .cancel:
            return 0
        case .new:
            return self.reservation(quantity: intent.quantity, price: intent.price, market: market)
        case .modify:
            guard let target else { return 0 }
            let quantity = Self.quantity(of: intent, replacing: target)
            let new = self.reservation(quantity: quantity, price: intent.price, market: market)
            return new - self.reservation(quantity: target.remaining, price: target.price, market: market)
        }
    }

    /// The cash a buy of `quantity` at `price` holds back with its fee; a market buy (price 0) counts at the upper
    /// limit, as KIS reserves it.
    public func reservation(quantity: Int32, price: Int32, market: SymbolMarket) -> Int64 {
        self.costs.withFee(Self.value(quantity: quantity, price: price, market: market))
    }

    /// What a modify leaves working: its quantity if that is below what remains, else what remains.
    private static func quantity(of intent: OrderIntent, replacing target: WorkingOrder) -> Int32 {
        intent.quantity > 0 && intent.quantity < target.remaining ? intent.quantity : target.remaining
    }

    private static func value(quantity: Int32, price: Int32, market: SymbolMarket) -> Int64 {
        Int64(quantity) * Int64(price == 0 ? market.upperLimit : price)
    }

    private func checkOrder(
        _ intent: OrderIntent,
        quantity: Int32,
        market: SymbolMarket,
        phase: KRX.Phase,
        position: SymbolExposure,
        account: AccountExposure,
        replacing target: WorkingOrder?
    ) -> RiskDecision {
        let buy = intent.side == .buy
        if buy || intent.purpose == .entry {
            if self.killSwitch.isArmed { return .reject(.killSwitch) }
            if self.killSwitch.entriesPaused { return .reject(.entriesPaused) }
            if account.dayPnL < -self.limits.dailyLossLimit { return .reject(.dailyLossLimit) }
        }

        switch phase {
        case .closed: return .reject(.sessionClosed)
        case .preOpen, .closingAuction: if !intent.auction { return .reject(.auctionNotRequested) }
        case .continuous: break
        }
        if market.halted { return .reject(.halted) }
        if market.volatilityInterruption && !intent.auction { return .reject(.volatilityInterruption) }

        if intent.isMarket {
            if buy && !market.hasLimits { return .reject(.limitsUnknown) }
        } else {
            guard KRX.isOnTick(Int64(intent.price)) else { return .reject(.offTickLadder) }
            guard market.hasLimits else { return .reject(.limitsUnknown) }
            guard market.isWithinLimits(Int64(intent.price)) else { return .reject(.outsideDailyLimits) }
        }

        guard buy else {
            // The target's own shares come back to the sellable pool when it is replaced.
            let freed = target?.remaining ?? 0
            return quantity <= position.sellable + freed ? .accept : .reject(.sellMoreThanHeld)
        }
        return self.checkBuy(
            intent,
            quantity: quantity,
            market: market,
            position: position,
            account: account,
            replacing: target
        )
    }

    private func checkBuy(
        _ intent: OrderIntent,
        quantity: Int32,
        market: SymbolMarket,
        position: SymbolExposure,
        account: AccountExposure,
        replacing target: WorkingOrder?
    ) -> RiskDecision {
        let limits = self.limits
        let price = intent.isMarket ? Int64(market.lastPrice) : Int64(intent.price)
        if intent.purpose == .entry && price < limits.minimumPrice { return .reject(.belowMinimumPrice) }

        let value = Self.value(quantity: quantity, price: intent.price, market: market)
        guard Int64(quantity) <= limits.maxOrderQuantity else { return .reject(.orderQuantityCap) }
        guard value <= limits.maxOrderValue else { return .reject(.orderValueCap) }

        let replacedShares = Int64(target?.remaining ?? 0)
        let replacedValue = target.map { Self.value(quantity: $0.remaining, price: $0.price, market: market) } ?? 0
        let shares = Int64(position.held) + Int64(position.workingBuyQuantity) - replacedShares + Int64(quantity)
        guard shares <= limits.maxPositionShares else { return .reject(.positionSharesCap) }
        let mark = market.lastPrice > 0 ? Int64(market.lastPrice) : price
        let positionValue = Int64(position.held) * mark + position.workingBuyValue - replacedValue + value
        guard positionValue <= limits.maxPositionValue else { return .reject(.positionValueCap) }
        let gross = account.positionValue + account.workingBuyValue - replacedValue + value
        guard gross <= limits.maxGrossExposure else { return .reject(.exposureCap) }

        if target == nil {
            guard Int64(position.openOrders) < limits.maxOpenOrdersPerCode else {
                return .reject(.openOrdersPerCodeCap)
            }
            guard Int64(account.openOrders) < limits.maxOpenOrders else { return .reject(.openOrdersCap) }
        }

        let reservation = self.reservation(for: intent, market: market, replacing: target)
        return reservation <= account.buyingPower.available ? .accept : .reject(.exceedsBuyable)
    }
}

@available(*, unavailable)
extension RiskGate: Sendable {}
