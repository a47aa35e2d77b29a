public import TickCore

/// Receives completed bars. Generic, so calls specialise and inline.
public protocol CandleSink {
    /// `candle` of the code at `symbol` (a `SymbolTable` index) is complete, or closed early (see its flags).
    mutating func candle(_ candle: Candle, symbol: SymbolIndex)
}

/// Builds bars of every code over a small fixed set of intervals from trade prints, by exchange time
/// (`Tick.exchangeTime`).
///
/// Thread-confined: one candle stage owns it. All tables are allocated by `init`, indexed by a dense symbol index
/// (from a `SymbolTable` the engine builds at start, so the stage that looks a code up once passes the index on);
/// updating, advancing and gap marking never allocate.
///
/// Rules:
/// - **Alignment.** A bar of an interval of `n` seconds starts at a multiple of `n` in Unix time. Intervals divide
///   3600, and KST is UTC+9, so bars also align to KST minutes and hours (09:00, 09:05, …).
/// - **Completion.** A bar is emitted when a trade of a later bar arrives, when `advance(to:into:)` passes its end
///   (so a quiet code still closes its bars; call it from a timer with the latest exchange time), or early, when
///   the session class changes or a gap is marked.
/// - **Session classes** (KRX timetable, exchange time in KST); a bar never mixes two, so a class change closes
///   the bar in progress and the next bar may share its start:
///   - `preMarket`: CCLD_DVSN 3, or any print before 09:00;
///   - `openingAuction`: the code's first print of the day, when it is stamped exactly 09:00:00 (the opening call
///     auction's single print; a code that does not cross at the open has none);
///   - continuous (no flag): 09:00–15:20;
///   - `closingAuction`: prints stamped 15:20:00–15:39:59, which holds the single closing print at 15:30 (15:20
///     is not a multiple of 15, 30 or 60 minutes, so the class rule is what keeps it out of a continuous bar);
///   - `afterHours`: 15:40 onwards.
///   Volatility-interruption auctions during the day are not told apart: their prints are continuous. NXT's
///   prints (`Tick.venue` `.nxt`) are continuous at any hour, its 08:00 pre-market and 15:30–20:00 after-market
///   included: NXT holds no call auctions. (The combined feed's prints are classed by the KRX timetable.)
/// - **Gaps.** After a feed gap the caller calls `markGap(symbol:at:into:)`: the code's bars in progress are
///   emitted at once, flagged `gap`; a later bar that starts at or before the gap time is flagged `gap` too, since
///   it lacks the trades before the reconnect. Pre-gap and post-gap trades never share a bar.
/// - **Late trades.** A trade older than the start of a bar in progress of the code, or older than the end of the
///   code's last bar closed by `advance`, changes nothing and is counted in `lateTrades`.
/// - **Sides.** `buyVolume` and `sellVolume` sum CCLD_DVSN 1 and 5; pre-market prints count in `volume` only.
public struct CandleBuilder {
    public static let maxIntervals = 4
    /// 15:40, when the after-hours closing-price session starts, seconds after KST midnight.
    public static let afterHoursStart: Int64 = 15 * 3600 + 40 * 60

    public enum ConfigurationError: Error, Equatable, Sendable {
        case noIntervals
        case tooManyIntervals(Int)
        /// Not a positive divisor of 3600.
        case invalidInterval(Int)
        /// Intervals must be listed shortest first, each once.
        case notAscending
        case invalidSymbolCount(Int)
    }

    public enum TradeResult: Equatable, Sendable {
        case applied
        /// Older than a bar in progress or already closed: nothing changed.
        case late
    }

    /// Interval lengths in seconds, shortest first.
    public let intervals: [UInt32]
    public let symbolCount: Int
    /// Trades refused as late since `init`.
    public private(set) var lateTrades: Int = 0

    /// The bar in progress at `symbol * intervals.count + interval`; `trades == 0` means none.
    private var bars: [Candle]
    /// The earliest start the next bar at the same index may have.
    private var floors: [UInt32]
    /// Per symbol: the exchange time of the last marked gap, 0 for none.
    private var gapTimes: [UInt32]
    /// Per symbol: the KST day number of the last print at or after 09:00, to recognise the day's opening print.
    private var openedDays: [UInt32]

    /// A builder for `symbols` codes (indices `0..<symbols`) over `intervals` seconds (default 1 and 5 minutes).
    public init(symbols: Int, intervals: [Int] = [60, 300]) throws(ConfigurationError) {
        guard (1...SymbolTable.capacity).contains(symbols) else { throw .invalidSymbolCount(symbols) }
        guard !intervals.isEmpty else { throw .noIntervals }
        guard intervals.count <= Self.maxIntervals else { throw .tooManyIntervals(intervals.count) }
        for interval in intervals where interval <= 0 || 3600 % interval != 0 {
            throw .invalidInterval(interval)
        }
        guard zip(intervals, intervals.dropFirst()).allSatisfy({ $0 < $1 }) else { throw .notAscending }
        self.intervals = intervals.map { UInt32($0) }
        self.symbolCount = symbols
        self.bars = Array(repeating: Candle(), count: symbols * intervals.count)
        self.floors = Array(repeating: 0, count: symbols * intervals.count)
        self.gapTimes = Array(repeating: 0, count: symbols)
        self.openedDays = Array(repeating: 0, count: symbols)
    }

    /// Adds `trade` to its code's bars (`trade.symbol`), emitting into `sink` every bar it completes.
    /// - Complexity: O(intervals), no allocation.
    @discardableResult
    public mutating func update<Sink: CandleSink>(_ trade: Tick, into sink: inout Sink) -> TradeResult {
        let symbol = self.checked(trade.symbol)
        let time = trade.exchangeTime
        let base = symbol * self.intervals.count
        for k in base..<(base + self.intervals.count) {
            let earliest = self.bars[k].trades > 0 ? self.bars[k].start : self.floors[k]
            if time < earliest {
                self.lateTrades += 1
                return .late
            }
        }
        let session = self.sessionClass(of: trade, symbol: symbol)
        for i in self.intervals.indices {
            let k = base + i
            let start = time - time % self.intervals[i]
            if self.bars[k].trades > 0,
                self.bars[k].start != start || self.bars[k].flags.intersection(CandleFlags.sessionClasses) != session
            {
                self.emit(k, symbol: trade.symbol, nextFloor: start, into: &sink)
            }
            if self.bars[k].trades == 0 {
                self.open(k, trade: trade, start: start, seconds: self.intervals[i], session: session, symbol: symbol)
            }
            Self.add(trade, to: &self.bars[k])
        }
        return .applied
    }

    /// Emits every bar of every code that ends at or before `time` (exchange time, epoch seconds), in symbol and
    /// then interval order.
    ///
    /// Exchange times are whole seconds and codes interleave, so a timer should pass a second or two less than the
    /// latest exchange time seen: a print of another code stamped just before `time` that arrives afterwards would
    /// otherwise be late for a bar this call closed.
    /// - Complexity: O(symbols × intervals), no allocation.
    public mutating func advance<Sink: CandleSink>(to time: UInt32, into sink: inout Sink) {
        for k in self.bars.indices where self.bars[k].trades > 0 && self.bars[k].end <= time {
            self.emit(k, symbol: SymbolIndex(k / self.intervals.count), nextFloor: self.bars[k].end, into: &sink)
        }
    }

    /// Records a feed gap of the code at `symbol` that ended at exchange time `time`: its bars in progress are
    /// emitted now, flagged `gap`, and its next bars that start at or before `time` will be flagged `gap`.
    /// - Complexity: O(intervals), no allocation.
    public mutating func markGap<Sink: CandleSink>(symbol index: SymbolIndex, at time: UInt32, into sink: inout Sink) {
        let symbol = self.checked(index)
        let base = symbol * self.intervals.count
        for k in base..<(base + self.intervals.count) where self.bars[k].trades > 0 {
            self.bars[k].flags.insert(.gap)
            self.emit(k, symbol: index, nextFloor: self.bars[k].start, into: &sink)
        }
        self.gapTimes[symbol] = max(self.gapTimes[symbol], time)
    }

    /// The bar in progress of the code at `symbol` over `intervals[interval]`, or nil when it has none.
    public func current(symbol index: SymbolIndex, interval: Int) -> Candle? {
        let symbol = self.checked(index)
        precondition(
            self.intervals.indices.contains(interval),
            "interval index \(interval) outside 0..<\(self.intervals.count)"
        )
        let bar = self.bars[symbol * self.intervals.count + interval]
        return bar.trades > 0 ? bar : nil
    }

    private func checked(_ symbol: SymbolIndex) -> Int {
        precondition(symbol.offset < self.symbolCount, "symbol index \(symbol.offset) outside 0..<\(self.symbolCount)")
        return symbol.offset
    }

    private mutating func emit<Sink: CandleSink>(
        _ k: Int,
        symbol: SymbolIndex,
        nextFloor: UInt32,
        into sink: inout Sink
    ) {
        sink.candle(self.bars[k], symbol: symbol)
        self.bars[k] = Candle()
        self.floors[k] = nextFloor
    }

    private mutating func open(
        _ k: Int,
        trade: Tick,
        start: UInt32,
        seconds: UInt32,
        session: CandleFlags,
        symbol: Int
    ) {
        var bar = Candle()
        bar.code = trade.code
        bar.start = start
        bar.seconds = UInt16(seconds)
        bar.open = trade.price
        bar.high = trade.price
        bar.low = trade.price
        bar.flags = session
        let gapTime = self.gapTimes[symbol]
        if gapTime != 0 && start <= gapTime {
            bar.flags.insert(.gap)
        }
        self.bars[k] = bar
    }

    private static func add(_ trade: Tick, to bar: inout Candle) {
        bar.high = max(bar.high, trade.price)
        bar.low = min(bar.low, trade.price)
        bar.close = trade.price
        bar.value += Int64(trade.price) * Int64(trade.volume)
        bar.volume = Self.saturatingAdd(bar.volume, trade.volume)
        switch trade.side {
        case .buy?: bar.buyVolume = Self.saturatingAdd(bar.buyVolume, trade.volume)
        case .sell?: bar.sellVolume = Self.saturatingAdd(bar.sellVolume, trade.volume)
        case .preMarket?, nil: break
        }
        bar.trades = Self.saturatingAdd(bar.trades, 1)
        bar.sessionStrength = trade.strength
    }

    private static func saturatingAdd(_ a: Int32, _ b: Int32) -> Int32 {
        Int32(clamping: Int64(a) + Int64(b))
    }

    /// The session class of `trade` (see the type's documentation); remembers the code's first print of the day.
    private mutating func sessionClass(of trade: Tick, symbol: Int) -> CandleFlags {
        let local = Int64(trade.exchangeTime) + KST.offsetSeconds
        let secondOfDay = local % 86_400
        if trade.side == .preMarket {
            return .preMarket
        }
        // NXT holds no call auctions: its prints, in its pre- and after-market too, are continuous trading, and
        // leave KRX's opening print the opening auction's.
        if trade.venue == .nxt {
            return []
        }
        if secondOfDay < KRX.openTime {
            return .preMarket
        }
        if secondOfDay >= KRX.closingAuctionStart {
            return secondOfDay < Self.afterHoursStart ? .closingAuction : .afterHours
        }
        // Day numbers count from 1 so that 0 can mean "never opened".
        let day = UInt32(local / 86_400) + 1
        guard self.openedDays[symbol] != day else { return [] }
        self.openedDays[symbol] = day
        return secondOfDay == KRX.openTime ? .openingAuction : []
    }
}
