/// One trade print from H0STCNT0 (KRX), H0NXCNT0 (NXT) or H0UNCNT0 (combined).
///
/// Prices are whole KRW, quantities shares; `vwap` and `strength` are fixed-point hundredths, as KIS prints them
/// with two decimals. Exactly two cache lines, no references:
///
///     0 ┌──────────┬──────┬──────────────┬──────────────┬─────────────┬─────────────┬──────────────┬───────┐
///       │ localTs  │ code │ cumulative   │ cumulative   │ sell-init.  │ buy-init.   │ exchangeTime │ price │
///       │          │      │ volume       │ value        │ volume      │ volume      │ (epoch s)    │       │
///    64 ├──────────┴──────┴──────────────┴──────────────┴─────────────┴─────────────┴──────────────┴───────┤
///       │ change vwap open high low ask bid askQty bidQty volume sellCount buyCount strength totals vi │flags│
///   128 └──────────────────────────────────────────────────────────────────────────────────────────────────┘
public struct Trade: BitwiseCopyable, Sendable, Equatable {
    /// Local receive time of the frame, nanoseconds since the Unix epoch.
    public var localTs: Int64 = 0
    /// Short code (MKSC_SHRN_ISCD).
    public var code: SymbolCode = SymbolCode(rawValue: 0)
    /// Accumulated volume today (ACML_VOL).
    public var cumulativeVolume: Int64 = 0
    /// Accumulated traded value today in KRW (ACML_TR_PBMN).
    public var cumulativeValue: Int64 = 0
    /// Accumulated sell-initiated volume (SELN_CNTG_SMTN).
    public var sellInitiatedVolume: Int64 = 0
    /// Accumulated buy-initiated volume (SHNU_CNTG_SMTN).
    public var buyInitiatedVolume: Int64 = 0
    /// Exchange time, seconds since the Unix epoch, from BSOP_DATE and STCK_CNTG_HOUR in KST.
    public var exchangeTime: UInt32 = 0
    /// Trade price (STCK_PRPR).
    public var price: Int32 = 0
    /// Signed change from the previous close (PRDY_VRSS); KIS already signs it.
    public var change: Int32 = 0
    /// Volume-weighted average price in hundredths of a won (WGHN_AVRG_STCK_PRC).
    public var vwap: Int32 = 0
    /// Today's open, high and low (STCK_OPRC, STCK_HGPR, STCK_LWPR).
    public var open: Int32 = 0
    public var high: Int32 = 0
    public var low: Int32 = 0
    /// Best ask and bid at the trade (ASKP1, BIDP1) and their quantities (ASKP_RSQN1, BIDP_RSQN1).
    public var askPrice: Int32 = 0
    public var bidPrice: Int32 = 0
    public var askQuantity: Int32 = 0
    public var bidQuantity: Int32 = 0
    /// Volume of this trade (CNTG_VOL).
    public var volume: Int32 = 0
    /// Number of sell- and buy-initiated trades today (SELN_CNTG_CSNU, SHNU_CNTG_CSNU).
    public var sellInitiatedCount: Int32 = 0
    public var buyInitiatedCount: Int32 = 0
    /// Trade strength (체결강도, CTTR) in hundredths: buy-initiated ÷ sell-initiated volume × 100.
    public var strength: Int32 = 0
    /// Total resting ask and bid quantity (TOTAL_ASKP_RSQN, TOTAL_BIDP_RSQN).
    public var totalAskQuantity: Int32 = 0
    public var totalBidQuantity: Int32 = 0
    /// Static-VI base price (VI_STND_PRC).
    public var viBasePrice: Int32 = 0
    /// CCLD_DVSN as its digit: 1 buy-initiated, 3 pre-market, 5 sell-initiated.
    public var sideCode: UInt8 = 0
    /// PRDY_VRSS_SIGN as its digit: 1 upper limit, 2 up, 3 unchanged, 4 lower limit, 5 down.
    public var signCode: UInt8 = 0
    /// NEW_MKOP_CLS_CODE, two ASCII bytes (first in the low byte), e.g. `"20"` in the regular session.
    public var sessionCode: UInt16 = 0
    /// HOUR_CLS_CODE as its ASCII byte (`0`, `A`…`D`), 0 when empty.
    public var hourClass: UInt8 = 0
    /// TRHT_YN: trading halted.
    public var halted: Bool = false
    /// Which market the TR id names.
    public var venue: Venue = .krx
    @usableFromInline var reserved: UInt8 = 0

    @inlinable
    public init() {}

    /// The initiating side, or nil for a code KIS has not documented.
    public var side: TradeSide? { TradeSide(rawValue: self.sideCode) }
}

/// CCLD_DVSN: which side crossed the spread.
public enum TradeSide: UInt8, Sendable {
    /// Printed at the ask: a buyer took liquidity.
    case buy = 1
    /// Pre-market (장전) trade.
    case preMarket = 3
    /// Printed at the bid: a seller took liquidity.
    case sell = 5
}
