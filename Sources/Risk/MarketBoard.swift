public import TickCore

/// What risk knows about one code's market: last price, daily limits, halt and volatility interruption.
///
/// Limits are 0 until known. They come from the first trade (previous close = price − change, through
/// `KRX.limits(base:)`) unless the caller gave them explicitly from a REST quote, which then wins.
public struct SymbolMarket: BitwiseCopyable, Sendable, Equatable {
    public var code: SymbolCode
    /// Last trade price, KRW; 0 before the first trade.
    public var lastPrice: Int32 = 0
    /// Best bid and ask from the latest trade or book, KRW; 0 when a side is empty or unknown.
    public var bestBid: Int32 = 0
    public var bestAsk: Int32 = 0
    /// The base of today's limits (the previous close, `stck_sdpr`); 0 until known.
    public var previousClose: Int32 = 0
    /// Today's lower and upper price limits (`stck_llam`, `stck_mxpr`); 0 until known.
    public var lowerLimit: Int32 = 0
    public var upperLimit: Int32 = 0
    /// Static-VI base price (VI_STND_PRC) as last printed.
    public var viBasePrice: Int32 = 0
    /// The limits came from a REST quote or the caller, so trades no longer derive them.
    public var limitsAreExplicit: Bool = false
    /// TRHT_YN on the last trade, or what the caller set from a quote or market-status message.
    public var halted: Bool = false
    /// A volatility interruption's single-price call is running: the feed's HOUR_CLS_CODE is `C`.
    public var volatilityInterruption: Bool = false

    public init(code: SymbolCode) { self.code = code }

    /// Whether the daily limits are known.
    public var hasLimits: Bool { self.upperLimit > 0 }

    /// Whether `price` lies inside today's limits, ends included; false while they are unknown.
    public func isWithinLimits(_ price: Int64) -> Bool {
        self.hasLimits && price >= Int64(self.lowerLimit) && price <= Int64(self.upperLimit)
    }
}

/// Limits from a quote that cannot be today's limits.
public struct InvalidLimits: Error, Equatable, CustomStringConvertible {
    public var lower: Int64
    public var upper: Int64

    public init(lower: Int64, upper: Int64) {
        self.lower = lower
        self.upper = upper
    }

    public var description: String {
        "invalid daily limits \(self.lower)–\(self.upper): both must be positive ladder prices, lower ≤ upper"
    }
}

/// The market state of every traded code, one slot per dense symbol index, and the session clock.
///
/// Preallocated at start: updates write in place and never allocate. Thread-confined to the strategy thread,
/// which applies the feed's records and asks the gate.
///
/// Volatility interruptions are read from the feed as follows (docs/kis-protocol.md §6, "Common codes",
/// and §6.2): HOUR_CLS_CODE (`Tick.hourClass`, `Book.hourClass`) is `C` ("expected price after 09:00 / VI") while a
/// VI's two-minute single-price call runs, and `0` in continuous trading; a book of the continuous session whose
/// expected auction price (ANTC_CNPR, `Book.expectedPrice`) is set also means a single-price call, since the
/// expected-auction fields are filled only during call auctions (real continuous books carry 0 there). The
/// scheduled call auctions (`A`, `B`) are told by the clock through `KRX.phase(secondOfDay:)`, not by the code.
/// NEW_MKOP_CLS_CODE (`Trade.sessionCode`) is not relied on: §6 shows it `20` through the regular session and says
/// nothing of its value during a VI.
/// KIS's market-status TR (H0STMKO0, `vi_cls_code`, §6.4) is not decoded yet; whoever reads it, or the REST quote's
/// `vi_cls_code` and `temp_stop_yn`, sets the flags with `setVolatilityInterruption` and `setHalted`.
public struct MarketBoard {
    private var symbols: [SymbolMarket]
    /// Seconds since KST midnight, never moving backwards.
    public private(set) var secondOfDay: Int64
    /// The session phase at `secondOfDay`.
    public private(set) var phase: KRX.Phase

    /// A board for `codes`: index `i` is `codes[i]`.
    public init(codes: [SymbolCode], secondOfDay: Int64 = 0) {
        self.symbols = codes.map { SymbolMarket(code: $0) }
        self.secondOfDay = secondOfDay
        self.phase = KRX.phase(secondOfDay: secondOfDay)
    }

    /// Number of codes.
    public var count: Int { self.symbols.count }

    /// The state of the code at dense index `index`.
    public subscript(index: SymbolIndex) -> SymbolMarket {
        self.symbols[self.checked(index)]
    }

    /// Applies a trade print of its code (`trade.symbol`).
    ///
    /// - Complexity: O(1), no allocation.
    public mutating func apply(_ trade: Tick) {
        let index = self.checked(trade.symbol, code: trade.code)
        self.advance(exchangeTime: trade.exchangeTime)
        self.symbols[index].apply(trade, continuous: self.phase == .continuous)
    }

    /// Applies an order book of the code at `index`.
    ///
    /// - Complexity: O(1), no allocation.
    public mutating func apply(_ book: Book, at symbol: SymbolIndex) {
        let index = self.checked(symbol, code: book.code)
        self.advance(exchangeTime: book.exchangeTime)
        self.symbols[index].apply(book, continuous: self.phase == .continuous)
    }

    /// Moves the session clock to `secondOfDay` (seconds since KST midnight) if that is later; the engine calls
    /// this from its own clock so the phase changes even when a code is quiet.
    ///
    /// - Complexity: O(1).
    public mutating func advance(secondOfDay: Int64) {
        guard secondOfDay > self.secondOfDay else { return }
        self.secondOfDay = secondOfDay
        self.phase = KRX.phase(secondOfDay: secondOfDay)
    }

    /// Sets today's limits from a REST quote (`stck_llam`, `stck_mxpr`, and `stck_sdpr` as `previousClose` if
    /// known); trades no longer derive them.
    public mutating func setLimits(
        at symbol: SymbolIndex,
        lower: Int64,
        upper: Int64,
        previousClose: Int64 = 0
    )
        throws(InvalidLimits)
    {
        let index = self.checked(symbol)
        guard KRX.isOnTick(lower), KRX.isOnTick(upper), lower <= upper, upper <= Int64(Int32.max),
            previousClose >= 0, previousClose <= upper
        else { throw InvalidLimits(lower: lower, upper: upper) }
        self.symbols[index].lowerLimit = Int32(lower)
        self.symbols[index].upperLimit = Int32(upper)
        self.symbols[index].previousClose = Int32(previousClose)
        self.symbols[index].limitsAreExplicit = true
    }

    /// Sets today's limits from the previous close (`stck_sdpr`) through `KRX.limits(base:)`; trades no longer
    /// derive them.
    public mutating func setPreviousClose(at symbol: SymbolIndex, _ close: Int64) throws(InvalidLimits) {
        let index = self.checked(symbol)
        let limits = KRX.limits(base: close)
        guard close > 0, limits.upper <= Int64(Int32.max), limits.lower > 0 else {
            throw InvalidLimits(lower: limits.lower, upper: limits.upper)
        }
        self.symbols[index].setLimits(base: close)
        self.symbols[index].limitsAreExplicit = true
    }

    /// Marks the code halted or trading, from a REST quote (`temp_stop_yn`, `iscd_stat_cls_code` 58) or a
    /// market-status message; the next trade's TRHT_YN overrides it.
    public mutating func setHalted(at symbol: SymbolIndex, _ halted: Bool) {
        let index = self.checked(symbol)
        self.symbols[index].halted = halted
    }

    /// Marks a volatility interruption running or over, from a market-status message or a REST quote
    /// (`vi_cls_code`); the next book overrides it.
    public mutating func setVolatilityInterruption(at symbol: SymbolIndex, _ active: Bool) {
        let index = self.checked(symbol)
        self.symbols[index].volatilityInterruption = active
    }

    private mutating func advance(exchangeTime: UInt32) {
        // 0 is a record without a time, which would read as 09:00 KST.
        guard exchangeTime != 0 else { return }
        let seconds = Int64(exchangeTime)
        self.advance(secondOfDay: seconds - KST.midnight(containing: seconds))
    }

    private func checked(_ symbol: SymbolIndex) -> Int {
        precondition(symbol.offset < self.symbols.count, "symbol index \(symbol.offset) is not on the board")
        return symbol.offset
    }

    private func checked(_ symbol: SymbolIndex, code: SymbolCode) -> Int {
        let index = self.checked(symbol)
        precondition(self.symbols[index].code == code, "record of \(code) applied at the index of another code")
        return index
    }
}

@available(*, unavailable)
extension MarketBoard: Sendable {}

extension SymbolMarket {
    fileprivate mutating func apply(_ trade: Tick, continuous: Bool) {
        if trade.price > 0 {
            self.lastPrice = trade.price
            if !self.limitsAreExplicit && !self.hasLimits {
                self.setLimits(base: Int64(trade.price) - Int64(trade.change))
            }
        }
        if trade.bidPrice > 0 { self.bestBid = trade.bidPrice }
        if trade.askPrice > 0 { self.bestAsk = trade.askPrice }
        self.halted = trade.halted
        self.viBasePrice = trade.viBasePrice
        // An empty HOUR_CLS_CODE says nothing; a filled one tells the same as the books'.
        if trade.hourClass != 0 {
            self.volatilityInterruption = continuous && trade.hourClass == UInt8(ascii: "C")
        }
    }

    fileprivate mutating func apply(_ book: Book, continuous: Bool) {
        self.bestBid = book.bidPrices[0]
        self.bestAsk = book.askPrices[0]
        self.volatilityInterruption = continuous && (book.hourClass == UInt8(ascii: "C") || book.expectedPrice > 0)
    }

    /// Leaves the limits unknown for a base no real quote has (a malformed print), so limit orders stay refused.
    fileprivate mutating func setLimits(base: Int64) {
        guard base > 0 else { return }
        let limits = KRX.limits(base: base)
        guard limits.upper <= Int64(Int32.max), limits.lower > 0 else { return }
        self.previousClose = Int32(base)
        self.lowerLimit = Int32(limits.lower)
        self.upperLimit = Int32(limits.upper)
    }
}
