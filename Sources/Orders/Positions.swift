public import TickCore

/// The day's sums over every position.
public struct DayTotals: BitwiseCopyable, Sendable, Equatable {
    public var realised: Int64 = 0
    public var unrealised: Int64 = 0
    public var fees: Int64 = 0
    public var taxes: Int64 = 0
    public var turnover: Int64 = 0

    public init(realised: Int64 = 0, unrealised: Int64 = 0, fees: Int64 = 0, taxes: Int64 = 0, turnover: Int64 = 0) {
        self.realised = realised
        self.unrealised = unrealised
        self.fees = fees
        self.taxes = taxes
        self.turnover = turnover
    }

    /// Realised plus unrealised.
    public var pnl: Int64 { self.realised + self.unrealised }
}

/// Why `Positions` refused a fill.
public enum PositionsRefusal: Error, Equatable, Sendable, BitwiseCopyable {
    /// Every row holds a symbol already.
    case full
}

/// Positions per symbol at average cost, realised PnL after the buy and sell fees and the sell tax (`Costs`),
/// unrealised PnL at the last price, and the day's totals, kept current on every fill and mark.
///
/// Thread-confined; preallocated; no update allocates.
public struct Positions {
    private var rows: [Position]
    private var index: IndexTable
    public let costs: Costs
    /// Kept current, so reading the day's figures costs nothing.
    public private(set) var totals = DayTotals()

    public init(capacity: Int, costs: Costs = Costs()) {
        precondition(capacity > 0 && capacity <= 1 << 20, "Positions capacity \(capacity) is out of 1...1M")
        self.rows = []
        self.rows.reserveCapacity(capacity)
        self.index = IndexTable(capacity: capacity)
        self.costs = costs
    }

    /// The position in `code`, if it ever traded.
    public func position(_ code: SymbolCode) -> Position? { self.index.find(Self.key(code)).map { self.rows[$0] } }

    /// Every symbol that traded, in first-trade order.
    public var all: [Position] { self.rows }

    /// Applies a fill: average cost on the side that opens, realised PnL on the side that closes.
    /// - Throws: `.full` when `fill.code` is new and every row is taken.
    /// - Complexity: O(1); no allocation.
    public mutating func apply(_ fill: Fill) throws(PositionsRefusal) {
        let r = try self.row(fill.code)
        let before = self.rows[r]
        var p = before
        let shares = Int64(fill.quantity)
        let price = Int64(fill.price)
        let value = shares * price
        let fee = self.costs.fee(value)
        let tax = fill.side == .sell ? self.costs.tax(value) : 0
        p.fees += fee
        p.taxes += tax
        p.turnover += value
        p.lastPrice = price
        let direction: Int64 = fill.side == .buy ? 1 : -1
        // The part of the fill that closes shares held the other way; the rest opens.
        let closing = p.quantity * direction < 0 ? min(shares, abs(p.quantity)) : 0
        if closing > 0 {
            let held = abs(p.quantity)
            let costClosed = p.cost * closing / held
            let feesClosed = p.entryFees * closing / held
            let ownCosts = (fee + tax) * closing / shares
            p.realised += -direction * closing * price - costClosed - feesClosed - ownCosts
            p.quantity += direction * closing
            p.cost -= costClosed
            p.entryFees -= feesClosed
        }
        let opening = shares - closing
        if opening > 0 {
            p.quantity += direction * opening
            p.cost += direction * opening * price
            p.entryFees += fee + tax - (fee + tax) * closing / shares
        }
        self.replace(r, before, with: p)
    }

    /// Marks `code` at a trade price; a symbol never traded is ignored.
    /// - Complexity: O(1); no allocation.
    public mutating func mark(_ code: SymbolCode, price: Int64) {
        guard let r = self.index.find(Self.key(code)) else { return }
        let before = self.rows[r]
        var p = before
        p.lastPrice = price
        self.replace(r, before, with: p)
    }

    /// Puts a position back as it was journaled, or as the broker holds it (the broker wins): its quantity,
    /// cost and entry fees are replaced; the day's realised figures are kept.
    /// - Throws: `.full` when `position.code` is new and every row is taken.
    public mutating func restore(_ position: Position) throws(PositionsRefusal) {
        let r = try self.row(position.code)
        self.replace(r, self.rows[r], with: position)
    }

    /// Codes are ASCII, so bit 63 is free to make even an empty code a nonzero key.
    private static func key(_ code: SymbolCode) -> UInt64 { code.rawValue | 1 << 63 }

    private mutating func row(_ code: SymbolCode) throws(PositionsRefusal) -> Int {
        if let r = self.index.find(Self.key(code)) { return Int(r) }
        guard self.rows.count < self.index.capacity else { throw .full }
        self.rows.append(Position(code: code))
        _ = self.index.insert(Self.key(code), self.rows.count - 1)
        return self.rows.count - 1
    }

    private mutating func replace(_ r: Int, _ before: Position, with after: Position) {
        self.totals.realised += after.realised - before.realised
        self.totals.unrealised += after.unrealised - before.unrealised
        self.totals.fees += after.fees - before.fees
        self.totals.taxes += after.taxes - before.taxes
        self.totals.turnover += after.turnover - before.turnover
        self.rows[r] = after
    }
}

@available(*, unavailable)
extension Positions: Sendable {}
