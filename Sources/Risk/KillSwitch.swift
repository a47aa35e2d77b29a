import Synchronization
public import TickCore

/// The operator's switches: the kill switch, and its mild sibling the entry pause. Set from any thread (a CLI
/// command, a signal handler's thread, Telegram), read by the gate on the strategy thread.
///
/// Relaxed ordering is enough: the flags publish nothing else, and the strategy thread only has to see them soon,
/// which every load of an atomic guarantees.
public final class KillSwitch: Sendable {
    private let armed = Atomic<Bool>(false)
    private let paused = Atomic<Bool>(false)

    public init() {}

    /// Arms the switch; true if this call armed it, so exactly one trigger starts the flattening.
    @discardableResult
    public func arm() -> Bool {
        !self.armed.exchange(true, ordering: .relaxed)
    }

    /// Disarms the switch: an operator's decision after the account has been checked, never automatic.
    public func reset() {
        self.armed.store(false, ordering: .relaxed)
    }

    /// Whether entries are refused.
    ///
    /// - Complexity: O(1), one relaxed load.
    public var isArmed: Bool { self.armed.load(ordering: .relaxed) }

    /// Stops new entries; exits, flattening and cancels still go, and working orders stay.
    public func pauseEntries() {
        self.paused.store(true, ordering: .relaxed)
    }

    /// Lets entries go again after `pauseEntries`.
    public func resumeEntries() {
        self.paused.store(false, ordering: .relaxed)
    }

    /// Whether entries are paused.
    ///
    /// - Complexity: O(1), one relaxed load.
    public var entriesPaused: Bool { self.paused.load(ordering: .relaxed) }
}

/// How the kill switch prices the sells that close positions.
public enum FlattenPricing: BitwiseCopyable, Sendable, Equatable {
    /// Market orders.
    case market
    /// Limit orders `ticks` ladder steps below the best bid (the last price when no bid is known), never below the
    /// lower limit: marketable, with a bound on how far a thin book can take the price. A code with no known price
    /// or limits gets a market order.
    case marketableLimit(ticks: Int)
}

/// A position the kill switch closes.
public struct HeldPosition: BitwiseCopyable, Sendable, Equatable {
    public var code: SymbolCode
    /// The code's dense index on the `MarketBoard`.
    public var index: SymbolIndex
    /// Shares held.
    public var quantity: Int32

    public init(code: SymbolCode, index: SymbolIndex, quantity: Int32) {
        self.code = code
        self.index = index
        self.quantity = quantity
    }
}

/// The kill switch's plan: cancel every working order, then sell every position.
///
/// Pure, and meant to be run again on every change while the switch is armed (each cancel confirmed, each fill),
/// until there is nothing left to do:
/// - every working order but the plan's own flattening sells is cancelled, and so is a flattening sell the market
///   has fallen through (priced above the best bid in the continuous session): it would never fill, and the run
///   after its cancel is confirmed sells its shares at the new price;
/// - a position sells what is held and not committed to a working sell; shares in a working sell wait until its
///   cancel is confirmed (KIS refuses to sell them twice), and the next run sells them;
/// - cancels come before sells.
///
/// Every intent has purpose `.flatten`, so the gate lets it through the kill switch and the daily loss stop; sells
/// during a call auction or a VI ask for it (`auction`).
public struct KillSwitchPlanner: Sendable, Equatable {
    public var pricing: FlattenPricing

    public init(pricing: FlattenPricing = .marketableLimit(ticks: 5)) {
        self.pricing = pricing
    }

    /// Emits the plan's intents, cancels first.
    ///
    /// - Parameters:
    ///   - openOrders: working orders with no cancel in flight.
    ///   - positions: the account's positions.
    ///   - market: prices, limits and the session phase.
    ///   - nextID: the next free order id; moved past every id the plan uses.
    ///   - decidedAt: the engine clock now, nanoseconds.
    ///   - emit: receives each intent, in order.
    /// - Complexity: O(orders × positions), no allocation.
    public func plan<Orders: Collection<WorkingOrder>, Positions: Collection<HeldPosition>>(
        openOrders: Orders,
        positions: Positions,
        market: borrowing MarketBoard,
        nextID: inout OrderID,
        decidedAt: Int64,
        emit: (OrderIntent) -> Void
    ) {
        func cancel(_ order: WorkingOrder) {
            emit(
                OrderIntent(
                    id: Self.take(&nextID),
                    code: order.code,
                    side: order.side,
                    quantity: order.remaining,
                    price: order.price,
                    purpose: .flatten,
                    action: .cancel,
                    target: order.id,
                    decidedAt: decidedAt
                )
            )
        }
        for order in openOrders where order.purpose != .flatten { cancel(order) }
        for position in positions {
            let state = market[position.index]
            precondition(state.code == position.code, "position in \(position.code) at another code's index")
            guard market.phase == .continuous, !state.volatilityInterruption, state.bestBid > 0 else { continue }
            for order in openOrders
            where order.purpose == .flatten && order.code == position.code && order.side == .sell
                && order.price > state.bestBid
            {
                cancel(order)
            }
        }
        for position in positions {
            var committed: Int32 = 0
            for order in openOrders where order.code == position.code && order.side == .sell {
                committed += order.remaining
            }
            let quantity = position.quantity - committed
            guard quantity > 0 else { continue }
            let state = market[position.index]
            var sell = OrderIntent(
                id: Self.take(&nextID),
                code: position.code,
                side: .sell,
                quantity: quantity,
                price: self.price(state),
                purpose: .flatten,
                decidedAt: decidedAt
            )
            sell.auction = market.phase != .continuous || state.volatilityInterruption
            emit(sell)
        }
    }

    /// The sell price for `state` under `pricing`; 0 for a market order.
    private func price(_ state: SymbolMarket) -> Int32 {
        guard case .marketableLimit(let ticks) = self.pricing else { return 0 }
        let reference = Int64(state.bestBid > 0 ? state.bestBid : state.lastPrice)
        guard state.hasLimits, reference > 0 else { return 0 }
        let lower = Int64(state.lowerLimit)
        var price = min(KRX.floorToTick(reference), Int64(state.upperLimit))
        var step = 0
        while step < ticks && price > lower {
            price = KRX.down(price)
            step += 1
        }
        return Int32(max(price, lower))
    }

    private static func take(_ id: inout OrderID) -> OrderID {
        defer { id.rawValue &+= 1 }
        return id
    }
}
