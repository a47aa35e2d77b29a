/// A code's market-operation state (장운영정보) from H0STMKO0 (KRX), H0NXMKO0 (NXT) or H0UNMKO0 (combined), which
/// KIS pushes when it changes: a halt, a volatility interruption starting or ending, the session class moving on.
///
/// The class codes are kept as KIS sends them, up to four ASCII bytes packed little-endian (first byte low, as
/// `PackedASCII`), since KIS publishes their names but not their value tables; only TRHT_YN is a documented flag.
/// The halt reason (TR_SUSP_REAS_CNTT) is free Korean text and is not kept. No time field: the message says "now",
/// so `localTs` is its time. 40 bytes, no references:
///
///     0 ┌──────────┬──────┬─────────┬─────────┬─────────┬─────────┬──┬──┬──┬──┬──┬──┐
///       │ localTs  │ code │ session │expected │ issue   │ alloc.  │vi│ov│ex│ext│hl│vn│
///       │          │      │ class   │ session │ status  │ class   │  │vi│ch│   │t │  │
///    40 └──────────┴──────┴─────────┴─────────┴─────────┴─────────┴──┴──┴──┴──┴──┴──┘
public struct MarketStatus: BitwiseCopyable, Sendable, Equatable {
    /// Local receive time of the frame, nanoseconds since the Unix epoch.
    public var localTs: Int64 = 0
    /// Short code (MKSC_SHRN_ISCD).
    public var code: SymbolCode = SymbolCode(rawValue: 0)
    /// MKOP_CLS_CODE: the market-operation class now.
    public var sessionClass: UInt32 = 0
    /// ANTC_MKOP_CLS_CODE: the expected (call-auction) operation class.
    public var expectedSessionClass: UInt32 = 0
    /// ISCD_STAT_CLS_CODE: the issue's status class (as the REST quote's field of that name: `58` halted, …).
    public var issueStatus: UInt32 = 0
    /// DIVI_APP_CLS_CODE: how a call auction's allocation is being processed.
    public var allocationClass: UInt32 = 0
    /// VI_CLS_CODE: the volatility-interruption class of the regular session; 0 when empty.
    public var viClass: UInt8 = 0
    /// OVTM_VI_CLS_CODE: the same for the after-hours single-price session.
    public var afterHoursVIClass: UInt8 = 0
    /// EXCH_CLS_CODE: the exchange class KIS stamps (absent from the older 10-field list, then 0).
    public var exchangeClass: UInt8 = 0
    /// MRKT_TRTM_CLS_CODE: the random-extension (임의연장) class.
    public var extensionClass: UInt8 = 0
    /// TRHT_YN: trading halted.
    public var halted: Bool = false
    /// Which market the TR id names.
    public var venue: Venue = .krx
    @usableFromInline var reserved: UInt16 = 0

    @inlinable
    public init() {}

    /// Whether a volatility interruption runs, read from VI_CLS_CODE: KIS's REST quote sends `N` for none, the
    /// feed may send nothing or `0`; anything else names a VI kind (static, dynamic, both). An inference from
    /// the field's name and the quote's values, not a published table (docs/kis-protocol.md §6.4).
    @inlinable
    public var volatilityInterruption: Bool {
        self.viClass != 0 && self.viClass != UInt8(ascii: "N") && self.viClass != UInt8(ascii: "0")
    }
}
