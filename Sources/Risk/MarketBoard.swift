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

/// The market state of every traded code on each venue, and the session clock.
///
/// Each code has a slot per venue (KRX, NXT, combined), written by the records of that venue's TRs, so an NXT
/// print never moves KRX's last price or halt. Daily limits are one set per code on the same basis (KRX's previous
/// close, which NXT uses too), written to every venue's slot at once. Sessions come from a `VenueCalendar`: `phase`
/// is KRX's, `phase(for:)` an order route's.
///
/// Preallocated at start: updates write in place and never allocate. Thread-confined to the strategy thread,
/// which applies the feed's records and asks the gate.
///
/// Volatility interruptions are read from the feed as follows (docs/kis-protocol.md §6, "Common codes",
/// and §6.2): HOUR_CLS_CODE (`Tick.hourClass`, `Book.hourClass`) is `C` ("expected price after 09:00 / VI") while a
/// VI's two-minute single-price call runs, and `0` in continuous trading; a book of the continuous session whose
/// expected auction price (ANTC_CNPR, `Book.expectedPrice`) is set also means a single-price call, since the
/// expected-auction fields are filled only during call auctions (real continuous books carry 0 there). The
/// scheduled call auctions (`A`, `B`) are told by the clock through the calendar, not by the code.
/// NEW_MKOP_CLS_CODE (`Trade.sessionCode`) is not relied on: §6 shows it `20` through the regular session and says
/// nothing of its value during a VI. The market-status TRs (`MarketStatus`, §6.4) set the halt and VI of their
/// venue's slot when they come; the REST quote's `vi_cls_code` and `temp_stop_yn` through `setVolatilityInterruption`
/// and `setHalted`.
public struct MarketBoard {
    /// Three slots per code, in `Venue` order: `3 * index + venue.rawValue - 1`.
    private var symbols: [SymbolMarket]
    public let calendar: VenueCalendar
    /// The slot risk reads for each order route (`OrderRoute.rawValue`): the route's own venue, or the combined
    /// market's when that is the only feed.
    private let riskSlots: (krx: Venue, nxt: Venue, sor: Venue)
    /// Seconds since KST midnight, never moving backwards.
    public private(set) var secondOfDay: Int64
    /// KRX's session phase at `secondOfDay`.
    public private(set) var phase: KRX.Phase

    /// A board for `codes`: index `i` is `codes[i]`.
    ///
    /// - Parameters:
    ///   - combinedFeed: the engine subscribes to the combined TRs alone, so every route's risk reads their slot.
    public init(
        codes: [SymbolCode],
        secondOfDay: Int64 = 0,
        calendar: VenueCalendar = .standard,
        combinedFeed: Bool = false
    ) {
        self.symbols = codes.flatMap { [SymbolMarket(code: $0), SymbolMarket(code: $0), SymbolMarket(code: $0)] }
        self.calendar = calendar
        self.riskSlots = combinedFeed ? (.combined, .combined, .combined) : (.krx, .nxt, .krx)
        self.secondOfDay = secondOfDay
        self.phase = calendar.phase(.krx, secondOfDay: secondOfDay)
    }

    /// Number of codes.
    public var count: Int { self.symbols.count / 3 }

    /// The KRX state of the code at dense index `index`.
    public subscript(index: SymbolIndex) -> SymbolMarket {
        self.symbols[self.checked(index, .krx)]
    }

    /// The state of the code at `index` on `venue`.
    public subscript(index: SymbolIndex, venue venue: Venue) -> SymbolMarket {
        self.symbols[self.checked(index, venue)]
    }

    /// The state risk checks an order on `route` against: its venue's (a SOR order is limited by KRX's halt and VI,
    /// whose prices set both venues' limits).
    public subscript(index: SymbolIndex, route route: OrderRoute) -> SymbolMarket {
        let venue =
            switch route {
            case .krx: self.riskSlots.krx
            case .nxt: self.riskSlots.nxt
            case .sor: self.riskSlots.sor
            }
        return self.symbols[self.checked(index, venue)]
    }

    /// The session phase an order on `route` meets now.
    public func phase(for route: OrderRoute) -> KRX.Phase {
        route == .krx ? self.phase : self.calendar.phase(route: route, secondOfDay: self.secondOfDay)
    }

    /// Applies a trade print of its code (`trade.symbol`) to its venue's slot.
    ///
    /// - Complexity: O(1), no allocation.
    public mutating func apply(_ trade: Tick) {
        let slot = self.checked(trade.symbol, trade.venue, code: trade.code)
        self.advance(exchangeTime: trade.exchangeTime)
        let continuous = self.calendar.phase(trade.venue, secondOfDay: self.secondOfDay) == .continuous
        let derives = !self.symbols[slot].limitsAreExplicit && !self.symbols[slot].hasLimits
        self.symbols[slot].apply(trade, continuous: continuous)
        if derives && self.symbols[slot].hasLimits { self.shareLimits(from: slot) }
    }

    /// Applies an order book of the code at `index` to its venue's slot.
    ///
    /// - Complexity: O(1), no allocation.
    public mutating func apply(_ book: Book, at symbol: SymbolIndex) {
        let slot = self.checked(symbol, book.venue, code: book.code)
        self.advance(exchangeTime: book.exchangeTime)
        let continuous = self.calendar.phase(book.venue, secondOfDay: self.secondOfDay) == .continuous
        self.symbols[slot].apply(book, continuous: continuous)
    }

    /// Applies a market-status message: its venue's halt and volatility interruption.
    ///
    /// - Complexity: O(1), no allocation.
    public mutating func apply(_ status: MarketStatus, at symbol: SymbolIndex) {
        let slot = self.checked(symbol, status.venue, code: status.code)
        self.symbols[slot].halted = status.halted
        self.symbols[slot].volatilityInterruption = status.volatilityInterruption
    }

    /// Moves the session clock to `secondOfDay` (seconds since KST midnight) if that is later; the engine calls
    /// this from its own clock so the phase changes even when a code is quiet.
    ///
    /// - Complexity: O(windows).
    public mutating func advance(secondOfDay: Int64) {
        guard secondOfDay > self.secondOfDay else { return }
        self.secondOfDay = secondOfDay
        self.phase = self.calendar.phase(.krx, secondOfDay: secondOfDay)
    }

    /// Sets today's limits from a REST quote (`stck_llam`, `stck_mxpr`, and `stck_sdpr` as `previousClose` if
    /// known) on every venue; trades no longer derive them.
    public mutating func setLimits(
        at symbol: SymbolIndex,
        lower: Int64,
        upper: Int64,
        previousClose: Int64 = 0
    )
        throws(InvalidLimits)
    {
        let slot = self.checked(symbol, .krx)
        guard KRX.isOnTick(lower), KRX.isOnTick(upper), lower <= upper, upper <= Int64(Int32.max),
            previousClose >= 0, previousClose <= upper
        else { throw InvalidLimits(lower: lower, upper: upper) }
        self.symbols[slot].lowerLimit = Int32(lower)
        self.symbols[slot].upperLimit = Int32(upper)
        self.symbols[slot].previousClose = Int32(previousClose)
        self.symbols[slot].limitsAreExplicit = true
        self.shareLimits(from: slot)
    }

    /// Sets today's limits from the previous close (`stck_sdpr`) through `KRX.limits(base:)` on every venue; trades
    /// no longer derive them.
    public mutating func setPreviousClose(at symbol: SymbolIndex, _ close: Int64) throws(InvalidLimits) {
        let slot = self.checked(symbol, .krx)
        let limits = KRX.limits(base: close)
        guard close > 0, limits.upper <= Int64(Int32.max), limits.lower > 0 else {
            throw InvalidLimits(lower: limits.lower, upper: limits.upper)
        }
        self.symbols[slot].setLimits(base: close)
        self.symbols[slot].limitsAreExplicit = true
        self.shareLimits(from: slot)
    }

    /// Marks the code halted or trading on `venue`, from a REST quote (`temp_stop_yn`, `iscd_stat_cls_code` 58);
    /// the next trade's TRHT_YN or market-status message of that venue overrides it.
    public mutating func setHalted(at symbol: SymbolIndex, _ halted: Bool, venue: Venue = .krx) {
        self.symbols[self.checked(symbol, venue)].halted = halted
    }

    /// Marks a volatility interruption running or over on `venue`, from a REST quote (`vi_cls_code`); the next
    /// book or market-status message of that venue overrides it.
    public mutating func setVolatilityInterruption(at symbol: SymbolIndex, _ active: Bool, venue: Venue = .krx) {
        self.symbols[self.checked(symbol, venue)].volatilityInterruption = active
    }

    /// Copies the limits of `slot` to its code's other venues: both venues' limits have KRX's previous close as
    /// their base.
    private mutating func shareLimits(from slot: Int) {
        let source = self.symbols[slot]
        for other in (slot - slot % 3)..<(slot - slot % 3 + 3) where other != slot {
            self.symbols[other].previousClose = source.previousClose
            self.symbols[other].lowerLimit = source.lowerLimit
            self.symbols[other].upperLimit = source.upperLimit
            self.symbols[other].limitsAreExplicit = source.limitsAreExplicit
        }
    }

    private mutating func advance(exchangeTime: UInt32) {
        // 0 is a record without a time, which would read as 09:00 KST.
        guard exchangeTime != 0 else { return }
        let seconds = Int64(exchangeTime)
        self.advance(secondOfDay: seconds - KST.midnight(containing: seconds))
    }

    private func checked(_ symbol: SymbolIndex, _ venue: Venue) -> Int {
        precondition(symbol.offset < self.count, "symbol index \(symbol.offset) is not on the board")
        return 3 * symbol.offset + Int(venue.rawValue) - 1
    }

    private func checked(_ symbol: SymbolIndex, _ venue: Venue, code: SymbolCode) -> Int {
        let slot = self.checked(symbol, venue)
        precondition(self.symbols[slot].code == code, "record of \(code) applied at the index of another code")
        return slot
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
