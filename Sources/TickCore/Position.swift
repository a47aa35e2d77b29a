/// One symbol's holding and what it has earned today. Whole KRW throughout, so sums are exact.
public struct Position: BitwiseCopyable, Sendable, Equatable {
    /// `averagePrice` is in 1/10 000 KRW: the one unit of a fractional price in Orders, Strategy and Risk.
    public static let priceScale: Int64 = 10_000

    public var code: SymbolCode
    /// Shares; negative only when more was sold than the engine knew was held (the balance then puts it right).
    public var quantity: Int64 = 0
    /// What the shares held cost at their average price, KRW, fees excluded (as KIS's `pchs_amt`); signed like
    /// `quantity`.
    public var cost: Int64 = 0
    /// Fees (and a short's tax) paid opening the shares held; they move into `realised` as the shares close.
    public var entryFees: Int64 = 0
    /// Closed today, after every fee and tax of the shares closed.
    public var realised: Int64 = 0
    public var fees: Int64 = 0
    public var taxes: Int64 = 0
    /// Traded value, buys and sells.
    public var turnover: Int64 = 0
    /// The last trade (or fill) price, KRW.
    public var lastPrice: Int64 = 0

    public init(code: SymbolCode) { self.code = code }

    /// Average cost per share in 1/10 000 KRW (fixed point), truncated toward zero.
    public var averagePrice: Int64 { self.quantity == 0 ? 0 : self.cost * Self.priceScale / self.quantity }

    /// What closing at `lastPrice` would add to `realised`, before the closing trade's own fee and tax.
    public var unrealised: Int64 {
        self.quantity == 0 ? 0 : self.quantity * self.lastPrice - self.cost - self.entryFees
    }
}
