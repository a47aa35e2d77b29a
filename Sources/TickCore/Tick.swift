/// A trade print as the pipeline carries it from the feed thread to the market stage: the fields that bars, book
/// state, risk and the strategy read, in 56 bytes, so that with its ring's tag it fills one cache line (STYLE.md §4,
/// hftbacktest's `Event`). The feed decodes a full `Trade` (128 bytes) and the router keeps this much of it.
///
///     0 ┌──────────┬──────┬──────────┬───────┬────────┬────────┬──────────┬──────────┬──────────┬─────────┬──────┐
///       │ localTs  │ code │ exchange │ price │ change │ volume │ strength │ bidPrice │ askPrice │ viBase  │symbol│
///       │          │      │ Time     │       │        │        │          │          │          │ Price   │side… │
///    56 └──────────┴──────┴──────────┴───────┴────────┴────────┴──────────┴──────────┴──────────┴─────────┴──────┘
///
/// Prices are whole KRW, `strength` hundredths, as in `Trade`.
public struct Tick: BitwiseCopyable, Sendable, Equatable {
    /// Receive time of the socket read that delivered the print, nanoseconds since the Unix epoch (`WallClock`).
    public var localTs: Int64 = 0
    public var code: SymbolCode = SymbolCode(rawValue: 0)
    /// Exchange time, seconds since the Unix epoch.
    public var exchangeTime: UInt32 = 0
    public var price: Int32 = 0
    /// Signed change from the previous close (PRDY_VRSS).
    public var change: Int32 = 0
    /// Shares in this print (CNTG_VOL).
    public var volume: Int32 = 0
    /// KIS's session trade strength (CTTR), hundredths.
    public var strength: Int32 = 0
    /// Best bid and ask at the print (BIDP1, ASKP1).
    public var bidPrice: Int32 = 0
    public var askPrice: Int32 = 0
    /// Static-VI base price (VI_STND_PRC).
    public var viBasePrice: Int32 = 0
    /// The code's index in the engine's `SymbolTable`.
    public var symbol: SymbolIndex = SymbolIndex(rawValue: 0)
    /// CCLD_DVSN as its digit: 1 buy-initiated, 3 pre-market, 5 sell-initiated.
    public var sideCode: UInt8 = 0
    /// HOUR_CLS_CODE as its ASCII byte, 0 when empty.
    public var hourClass: UInt8 = 0
    /// TRHT_YN: trading halted.
    public var halted: Bool = false
    public var venue: Venue = .krx
    @usableFromInline var reserved: UInt16 = 0

    @inlinable
    public init() {}

    /// The pipeline's part of `trade`, for the code at `symbol`.
    @inlinable
    public init(_ trade: Trade, symbol: SymbolIndex) {
        self.localTs = trade.localTs
        self.code = trade.code
        self.exchangeTime = trade.exchangeTime
        self.price = trade.price
        self.change = trade.change
        self.volume = trade.volume
        self.strength = trade.strength
        self.bidPrice = trade.bidPrice
        self.askPrice = trade.askPrice
        self.viBasePrice = trade.viBasePrice
        self.symbol = symbol
        self.sideCode = trade.sideCode
        self.hourClass = trade.hourClass
        self.halted = trade.halted
        self.venue = trade.venue
    }

    /// The initiating side, or nil for a code KIS has not documented.
    @inlinable
    public var side: TradeSide? { TradeSide(rawValue: self.sideCode) }
}
