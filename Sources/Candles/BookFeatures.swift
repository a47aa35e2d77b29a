public import TickCore

/// What a signal reads from a 10-level book: best prices, the spread on the KRX tick ladder, and the quantity
/// imbalance over all ten levels and over the top few. A pure function of one `Book`; one cache line.
///
/// Imbalance is (bid − ask) ÷ (bid + ask) quantity in units of 1/10 000 (`scale`), from −10 000 (only asks) to
/// +10 000 (only bids), truncated toward zero; 0 when both sides are empty.
public struct BookFeatures: BitwiseCopyable, Sendable, Equatable {
    /// Fixed-point unit of the imbalances: 10 000 is 1.
    public static let scale: Int32 = 10_000
    /// `spreadTicks` when the spread is undefined: a side is empty, or the book is locked or crossed (call
    /// auctions).
    public static let noSpread = Int32.max
    /// Spreads are counted up to this many ladder steps; wider ones report this value.
    public static let maxSpreadSteps: Int32 = 100

    public var code: SymbolCode = SymbolCode(rawValue: 0)
    /// Local receive time of the book, nanoseconds since the Unix epoch.
    public var localTs: Int64 = 0
    /// Exchange time of the book, seconds since the Unix epoch.
    public var exchangeTime: UInt32 = 0
    /// Level-1 prices; 0 for an empty side.
    public var bestBid: Int32 = 0
    public var bestAsk: Int32 = 0
    /// Ladder steps from the best bid to the best ask (1 at the tightest), or `noSpread`.
    public var spreadTicks: Int32 = Self.noSpread
    /// Quantity on the ten levels of each side.
    public var bidQuantity: Int64 = 0
    public var askQuantity: Int64 = 0
    /// Imbalance over the ten levels and over the top `topLevels`, in 1/`scale`.
    public var imbalance: Int32 = 0
    public var topImbalance: Int32 = 0
    public var topLevels: UInt8 = 0
    /// The book shows an expected auction (HOUR_CLS_CODE other than `0`): pre-open, closing or VI auction.
    public var isAuction: Bool = false
    @usableFromInline var reserved: UInt16 = 0

    @inlinable
    public init() {}

    /// The features of `book`, with `topImbalance` over its first `topLevels` levels (1…10).
    /// - Complexity: O(10) plus O(spread steps, ≤ `maxSpreadSteps`), no allocation.
    public init(book: Book, topLevels: Int) {
        precondition((1...10).contains(topLevels), "topLevels \(topLevels) outside 1...10")
        self.code = book.code
        self.localTs = book.localTs
        self.exchangeTime = book.exchangeTime
        self.bestBid = book.bidPrices[0]
        self.bestAsk = book.askPrices[0]
        self.spreadTicks = Self.spreadSteps(bid: Int64(self.bestBid), ask: Int64(self.bestAsk))
        var topBid: Int64 = 0
        var topAsk: Int64 = 0
        for level in 0..<10 {
            self.bidQuantity += Int64(book.bidQuantities[level])
            self.askQuantity += Int64(book.askQuantities[level])
            if level == topLevels - 1 {
                topBid = self.bidQuantity
                topAsk = self.askQuantity
            }
        }
        self.imbalance = Self.imbalance(bid: self.bidQuantity, ask: self.askQuantity)
        self.topImbalance = Self.imbalance(bid: topBid, ask: topAsk)
        self.topLevels = UInt8(topLevels)
        // HOUR_CLS_CODE is `0` in continuous trading; KIS has also been seen to leave it empty.
        self.isAuction = book.hourClass != 0 && book.hourClass != UInt8(ascii: "0")
    }

    /// (bid − ask) ÷ (bid + ask) in 1/`scale`, truncated toward zero; 0 when both are 0.
    @inlinable
    public static func imbalance(bid: Int64, ask: Int64) -> Int32 {
        let total = bid + ask
        guard total > 0 else { return 0 }
        return Int32((bid - ask) * Int64(Self.scale) / total)
    }

    /// Ladder steps from `bid` up to `ask`, `noSpread` when either is missing or `ask` ≤ `bid`.
    public static func spreadSteps(bid: Int64, ask: Int64) -> Int32 {
        guard bid > 0, ask > bid else { return Self.noSpread }
        var steps: Int32 = 0
        var price = bid
        while price < ask && steps < Self.maxSpreadSteps {
            price = KRX.up(price)
            steps += 1
        }
        return steps
    }
}
