import TickCore

/// Who owns a slice of resting quantity: the background crowd the model simulates, or a client order.
typealias Owner = Int32

extension Owner {
    /// The simulated crowd.
    static let background: Owner = 0
}

enum Side: Sendable, Equatable {
    case buy, sell

    var opposite: Side { self == .buy ? .sell : .buy }

    /// KIS's SELN_BYOV_CLS / SLL_BUY_DVSN_CD text.
    var kisCode: String { self == .sell ? "01" : "02" }
}

/// One price-time-priority queue entry.
struct Lot {
    var owner: Owner
    var quantity: Int64
}

/// All resting quantity at one price, in time priority.
struct Level {
    var price: Int64
    var lots: [Lot]
    /// Sum of `lots` quantities, kept in step so book totals stay O(levels).
    var total: Int64
}

/// One match of an aggressor against the head of the opposite queue.
struct Match {
    var price: Int64
    var quantity: Int64
    var passive: Owner
}

/// A limit order book on the KRX ladder. Each side is sorted best first (bids descending, asks ascending), and
/// client orders queue behind whatever quantity was already resting at their price, so a resting order fills only
/// when the market trades through the quantity ahead of it.
///
///     asks  [0] 314000 ─ lots: bg 5876 │ #7 100 │ bg 40      best ask first
///           [1] 314500 ─ …
///     bids  [0] 313500 ─ lots: bg 37599                      best bid first
///
/// During a call auction the sides may cross; `uncross` clears them at one price.
struct MatchingBook {
    var bids: [Level] = []
    var asks: [Level] = []

    func levels(_ side: Side) -> [Level] { side == .buy ? self.bids : self.asks }

    var bestBid: Level? { self.bids.first }
    var bestAsk: Level? { self.asks.first }

    func total(_ side: Side, depth: Int = 10) -> Int64 {
        self.levels(side).prefix(depth).reduce(0) { $0 + $1.total }
    }

    /// Whether `price` is at least as aggressive as `other` for `side` (higher for bids, lower for asks).
    static func better(_ side: Side, _ price: Int64, than other: Int64) -> Bool {
        side == .buy ? price > other : price < other
    }

    /// Whether a resting `price` is out of reach for an aggressor of `side` limited to `limit`.
    static func beyond(_ side: Side, _ price: Int64, _ limit: Int64) -> Bool {
        side == .buy ? price > limit : price < limit
    }

    /// Queues `quantity` for `owner` at `price`, behind everything already there. Every price the market shows
    /// enters the book here, so an off-ladder one stops the simulator at its source.
    mutating func add(_ side: Side, price: Int64, owner: Owner, quantity: Int64) {
        precondition(quantity > 0 && KRX.isOnTick(price), "\(quantity) at \(price): not an order on the KRX ladder")
        self.modify(side) { levels in
            let index = levels.firstIndex { !Self.better(side, $0.price, than: price) } ?? levels.count
            if index < levels.count, levels[index].price == price {
                if owner == .background, let last = levels[index].lots.last, last.owner == .background {
                    levels[index].lots[levels[index].lots.count - 1].quantity += quantity
                } else {
                    levels[index].lots.append(Lot(owner: owner, quantity: quantity))
                }
                levels[index].total += quantity
            } else {
                levels.insert(
                    Level(price: price, lots: [Lot(owner: owner, quantity: quantity)], total: quantity),
                    at: index
                )
            }
        }
    }

    /// Withdraws up to `quantity` of background interest from level `index`, newest first, and drops the level
    /// when nothing is left. Returns how much was withdrawn.
    @discardableResult
    mutating func cancelBackground(_ side: Side, level index: Int, quantity: Int64) -> Int64 {
        var removed: Int64 = 0
        self.modify(side) { levels in
            guard index < levels.count else { return }
            var lots = levels[index].lots
            var i = lots.count - 1
            while i >= 0, removed < quantity {
                if lots[i].owner == .background {
                    let take = min(lots[i].quantity, quantity - removed)
                    lots[i].quantity -= take
                    removed += take
                    if lots[i].quantity == 0 { lots.remove(at: i) }
                }
                i -= 1
            }
            levels[index].lots = lots
            levels[index].total -= removed
            if lots.isEmpty { levels.remove(at: index) }
        }
        return removed
    }

    /// Removes what is left of client order `owner` at `price`; returns the quantity removed.
    mutating func remove(_ side: Side, owner: Owner, price: Int64) -> Int64 {
        var removed: Int64 = 0
        self.modify(side) { levels in
            guard let index = levels.firstIndex(where: { $0.price == price }) else { return }
            levels[index].lots.removeAll { lot in
                guard lot.owner == owner else { return false }
                removed += lot.quantity
                return true
            }
            levels[index].total -= removed
            if levels[index].lots.isEmpty { levels.remove(at: index) }
        }
        return removed
    }

    /// Takes `quantity` off client order `owner` at `price` without moving it in the queue (a partial cancel).
    mutating func reduce(_ side: Side, owner: Owner, price: Int64, by quantity: Int64) {
        self.modify(side) { levels in
            guard let index = levels.firstIndex(where: { $0.price == price }),
                let lot = levels[index].lots.firstIndex(where: { $0.owner == owner })
            else { return }
            let take = min(quantity, levels[index].lots[lot].quantity)
            levels[index].lots[lot].quantity -= take
            levels[index].total -= take
            if levels[index].lots[lot].quantity == 0 { levels[index].lots.remove(at: lot) }
            if levels[index].lots.isEmpty { levels.remove(at: index) }
        }
    }

    /// Matches an aggressor of `side` against the head lot of the opposite best level, for at most `quantity`
    /// and only at prices no worse than `limit` (nil: any price). Returns nil when nothing can match.
    mutating func matchHead(_ side: Side, limit: Int64?, quantity: Int64) -> Match? {
        let passive = side.opposite
        guard let best = self.levels(passive).first else { return nil }
        if let limit, Self.beyond(side, best.price, limit) { return nil }
        var match: Match?
        self.modify(passive) { levels in
            let take = min(quantity, levels[0].lots[0].quantity)
            match = Match(price: levels[0].price, quantity: take, passive: levels[0].lots[0].owner)
            levels[0].lots[0].quantity -= take
            levels[0].total -= take
            if levels[0].lots[0].quantity == 0 { levels[0].lots.removeFirst() }
            if levels[0].lots.isEmpty { levels.removeFirst() }
        }
        return match
    }

    /// Quantity an aggressor of `side` could fill at prices no worse than `limit` (FOK checks).
    func available(to side: Side, limit: Int64?) -> Int64 {
        var sum: Int64 = 0
        for level in self.levels(side.opposite) {
            if let limit, Self.beyond(side, level.price, limit) { break }
            sum += level.total
        }
        return sum
    }

    // MARK: Call auction

    /// The single price a call auction would clear at now: the one that executes the most, then leaves the
    /// smallest imbalance, then lies closest to `reference` (KRX's rule order). Nil when nothing crosses.
    func auctionPrice(reference: Int64) -> (price: Int64, volume: Int64)? {
        guard let topBid = self.bids.first?.price, let topAsk = self.asks.first?.price, topBid >= topAsk else {
            return nil
        }
        let candidates = Set(self.bids.map(\.price) + self.asks.map(\.price)).filter { $0 >= topAsk && $0 <= topBid }
        var best: (price: Int64, volume: Int64, imbalance: Int64)?
        for price in candidates.sorted() {
            let demand = self.bids.lazy.filter { $0.price >= price }.reduce(0) { $0 + $1.total }
            let supply = self.asks.lazy.filter { $0.price <= price }.reduce(0) { $0 + $1.total }
            let volume = min(demand, supply)
            let imbalance = abs(demand - supply)
            if let b = best {
                if volume < b.volume { continue }
                if volume == b.volume && imbalance > b.imbalance { continue }
                if volume == b.volume && imbalance == b.imbalance && abs(price - reference) >= abs(b.price - reference)
                {
                    continue
                }
            }
            best = (price, volume, imbalance)
        }
        return best.map { ($0.price, $0.volume) }
    }

    /// Executes the auction at `price`: pairs the queues of bids at or above it and asks at or below it in
    /// price-time priority. Returns each side's matched lots (owner, quantity) in execution order.
    mutating func uncross(at price: Int64, volume: Int64) -> (buys: [Lot], sells: [Lot]) {
        var buys: [Lot] = []
        var sells: [Lot] = []
        var remaining = volume
        while remaining > 0, let bid = self.bids.first, bid.price >= price, let ask = self.asks.first,
            ask.price <= price
        {
            let take = min(remaining, bid.lots[0].quantity, ask.lots[0].quantity)
            buys.append(Lot(owner: bid.lots[0].owner, quantity: take))
            sells.append(Lot(owner: ask.lots[0].owner, quantity: take))
            remaining -= take
            for side in [Side.buy, .sell] {
                self.modify(side) { levels in
                    levels[0].lots[0].quantity -= take
                    levels[0].total -= take
                    if levels[0].lots[0].quantity == 0 { levels[0].lots.removeFirst() }
                    if levels[0].lots.isEmpty { levels.removeFirst() }
                }
            }
        }
        return (buys, sells)
    }

    private mutating func modify(_ side: Side, _ body: (inout [Level]) -> Void) {
        if side == .buy { body(&self.bids) } else { body(&self.asks) }
    }
}
