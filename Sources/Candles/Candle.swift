public import TickCore

/// What kind of trading a bar holds, and whether it is whole. A bar holds one session class only (at most one of
/// the first four flags); see `CandleBuilder` for how trades are classed.
public struct CandleFlags: OptionSet, BitwiseCopyable, Sendable, Hashable {
    public var rawValue: UInt8

    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The opening call auction's single print at 09:00:00.
    public static let openingAuction = CandleFlags(rawValue: 1 << 0)
    /// The closing call auction: prints stamped 15:20:00 to 15:39:59 (the single closing print lands at 15:30).
    public static let closingAuction = CandleFlags(rawValue: 1 << 1)
    /// Pre-market trades (CCLD_DVSN 3, the 08:30–08:40 off-hours session at the previous close) and any print
    /// before 09:00.
    public static let preMarket = CandleFlags(rawValue: 1 << 2)
    /// After-hours trades, 15:40 onwards.
    public static let afterHours = CandleFlags(rawValue: 1 << 3)
    /// The feed had a gap while this bar was open: trades are missing and its figures are incomplete.
    public static let gap = CandleFlags(rawValue: 1 << 4)

    /// The session-class flags; none set means continuous trading (09:00–15:20).
    public static let sessionClasses: CandleFlags = [.openingAuction, .closingAuction, .preMarket, .afterHours]

    /// A bar of continuous trading with no gap: the only kind a signal should read.
    @inlinable
    public var isRegularAndComplete: Bool { self.isDisjoint(with: Self.sessionClasses.union(.gap)) }
}

/// One bar of one code over one interval, from exchange time. One cache line, no references:
///
///     0 ┌──────┬───────┬───────┬──────┬──────┬─────┬───────┬────────┬──────────┬───────────┐
///       │ code │ value │ start │ open │ high │ low │ close │ volume │ buyVol.  │ sellVol.  │
///       │  8   │   8   │   4   │  4   │  4   │  4  │   4   │   4    │    4     │     4     │
///    48 ├──────┴──┬────┴───────┴─┬────┴──┬───┴─────┴───────┴────────┴──────────┴───────────┤
///       │ trades  │ sessionStrength │seconds│ flags │ reserved (1 + 4)                        │
///    64 └─────────┴─────────────────┴───────┴───────┴─────────────────────────────────────────┘
///
/// Share counts are `Int32` like `Trade.volume`, and saturate at `Int32.max` rather than trap: 2.1 billion shares in
/// one bar is beyond any KRX listing.
public struct Candle: BitwiseCopyable, Sendable, Equatable {
    public var code: SymbolCode = SymbolCode(rawValue: 0)
    /// Traded value, Σ price × volume, KRW.
    public var value: Int64 = 0
    /// Start of the bar, seconds since the Unix epoch; a multiple of `seconds` (KST is a whole number of hours
    /// from UTC, so bars align to KST minutes too).
    public var start: UInt32 = 0
    public var open: Int32 = 0
    public var high: Int32 = 0
    public var low: Int32 = 0
    public var close: Int32 = 0
    /// Shares traded; includes prints with neither a buy nor a sell side (pre-market).
    public var volume: Int32 = 0
    /// Shares of buy-initiated (CCLD_DVSN 1) and sell-initiated (5) prints.
    public var buyVolume: Int32 = 0
    public var sellVolume: Int32 = 0
    /// Number of prints.
    public var trades: Int32 = 0
    /// KIS's session trade strength (CTTR, hundredths) at the bar's last print.
    public var sessionStrength: Int32 = 0
    /// Length of the interval, seconds.
    public var seconds: UInt16 = 0
    public var flags: CandleFlags = []
    @usableFromInline var reserved1: UInt8 = 0
    @usableFromInline var reserved4: UInt32 = 0

    @inlinable
    public init() {}

    /// End of the bar (exclusive), seconds since the Unix epoch.
    @inlinable
    public var end: UInt32 { self.start + UInt32(self.seconds) }

    /// Volume-weighted average price in hundredths of a won, as `Trade.vwap`; 0 for a bar with no volume.
    @inlinable
    public var vwap: Int64 { self.volume == 0 ? 0 : (self.value * 100 + Int64(self.volume) / 2) / Int64(self.volume) }

    /// The bar's own trade strength (체결강도) in hundredths: buy-initiated ÷ sell-initiated volume × 100, rounded as
    /// KIS rounds CTTR; nil when nothing was sell-initiated.
    @inlinable
    public var strength: Int32? { Self.strength(buy: Int64(self.buyVolume), sell: Int64(self.sellVolume)) }

    /// Trade strength in hundredths from buy- and sell-initiated volume, rounded half up; nil when `sell` is 0.
    /// Saturates at `Int32.max`.
    @inlinable
    public static func strength(buy: Int64, sell: Int64) -> Int32? {
        guard sell > 0 else { return nil }
        return Int32(clamping: (buy * 20_000 + sell) / (2 * sell))
    }
}
