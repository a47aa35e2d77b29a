/// A 10-level order book from H0STASP0 (KRX), H0NXASP0 (NXT) or H0UNASP0 (combined).
///
/// Level 0 is the best price on each side; KIS sends an empty level as price 0. The expected-auction fields are
/// filled only during call auctions.
// Frozen so that its stored properties' default values are inlinable: `Book()` in another module is then a few
// zeroing stores, where it was a call per `InlineArray` initialiser (~100 instructions a decoded book).
@frozen
public struct Book: BitwiseCopyable, Sendable {
    /// Local receive time of the frame, nanoseconds since the Unix epoch.
    public var localTs: Int64 = 0
    public var code: SymbolCode = SymbolCode(rawValue: 0)
    /// Accumulated volume today (ACML_VOL), equal to the trade feed's at the same instant.
    public var cumulativeVolume: Int64 = 0
    /// Expected volume of the auction (ANTC_VOL).
    public var expectedVolume: Int64 = 0
    /// ASKP1…ASKP10, BIDP1…BIDP10 and their quantities.
    public var askPrices: InlineArray<10, Int32> = .init(repeating: 0)
    public var bidPrices: InlineArray<10, Int32> = .init(repeating: 0)
    public var askQuantities: InlineArray<10, Int32> = .init(repeating: 0)
    public var bidQuantities: InlineArray<10, Int32> = .init(repeating: 0)
    /// Exchange time, seconds since the Unix epoch (BSOP_HOUR on the KST date of `localTs`).
    public var exchangeTime: UInt32 = 0
    /// TOTAL_ASKP_RSQN, TOTAL_BIDP_RSQN: the sums of the ten levels.
    public var totalAskQuantity: Int32 = 0
    public var totalBidQuantity: Int32 = 0
    /// After-hours totals (OVTM_TOTAL_ASKP_RSQN, OVTM_TOTAL_BIDP_RSQN).
    public var afterHoursAskQuantity: Int32 = 0
    public var afterHoursBidQuantity: Int32 = 0
    /// Expected auction price and quantity (ANTC_CNPR, ANTC_CNQN).
    public var expectedPrice: Int32 = 0
    public var expectedQuantity: Int32 = 0
    /// Expected price change, signed (ANTC_CNTG_VRSS), and rate in hundredths of a percent (ANTC_CNTG_PRDY_CTRT).
    public var expectedChange: Int32 = 0
    public var expectedChangeRate: Int32 = 0
    /// Change in the total ask and bid quantity since the previous book (TOTAL_ASKP_RSQN_ICDC, …_BIDP_…).
    public var totalAskQuantityChange: Int32 = 0
    public var totalBidQuantityChange: Int32 = 0
    /// HOUR_CLS_CODE as its ASCII byte, 0 when empty.
    public var hourClass: UInt8 = 0
    /// ANTC_CNTG_VRSS_SIGN as its digit.
    public var expectedSignCode: UInt8 = 0
    public var venue: Venue = .krx
    @usableFromInline var reserved: UInt8 = 0

    @inlinable
    public init() {}
}
