/// An order or fill notice from H0STCNI0 (real) or H0STCNI9 (paper), after decryption.
///
/// `quantity` and `price` mean the fill when `isFill`, the order otherwise (KIS's CNTG_QTY and CNTG_UNPR change
/// meaning with CNTG_YN).
public struct Notice: BitwiseCopyable, Sendable, Equatable {
    /// Local receive time of the frame, nanoseconds since the Unix epoch.
    public var localTs: Int64 = 0
    /// Stock code (STCK_SHRN_ISCD).
    public var code: SymbolCode = SymbolCode(rawValue: 0)
    /// Account number, 8 + 2 digits (ACNT_NO); one HTS id can carry several accounts.
    public var account: UInt64 = 0
    /// Order number (ODER_NO) and, for modify and cancel, the original's (OODER_NO).
    public var orderNumber: UInt64 = 0
    public var originalOrderNumber: UInt64 = 0
    /// Fill quantity and price when `isFill`, otherwise the order's (CNTG_QTY, CNTG_UNPR).
    public var quantity: Int32 = 0
    public var price: Int32 = 0
    /// Order quantity (ODER_QTY) and price (ODER_PRC).
    public var orderQuantity: Int32 = 0
    public var orderPrice: Int32 = 0
    /// Stop condition price (ORD_COND_PRC).
    public var stopPrice: Int32 = 0
    /// Exchange time, seconds since the Unix epoch (STCK_CNTG_HOUR on the KST date of `localTs`).
    public var exchangeTime: UInt32 = 0
    /// Branch number (BRNC_NO).
    public var branch: UInt32 = 0
    /// SELN_BYOV_CLS: 1 sell, 2 buy.
    public var sideCode: UInt8 = 0
    /// RCTF_CLS: 0 new, 1 modify, 2 cancel.
    public var amendCode: UInt8 = 0
    /// ODER_KIND: the ORD_DVSN order type (00 limit, 01 market, …).
    public var orderType: UInt8 = 0
    /// ODER_COND: 0 none, 1 IOC, 2 FOK.
    public var conditionCode: UInt8 = 0
    /// RFUS_YN: the order was rejected.
    public var rejected: Bool = false
    /// CNTG_YN: this notice is a fill (2), not an order/modify/cancel/reject acknowledgement (1).
    public var isFill: Bool = false
    /// ACPT_YN: 1 received, 2 confirmed, 3 cancelled (IOC/FOK).
    public var acceptCode: UInt8 = 0
    /// ORD_EXG_GB: 1 KRX, 2 NXT, 3 SOR→KRX, 4 SOR→NXT.
    public var exchangeCode: UInt8 = 0
    @usableFromInline var reserved: UInt32 = 0

    @inlinable
    public init() {}

    public var side: OrderSide? { OrderSide(rawValue: self.sideCode) }

    /// The venue that executed the order (ORD_EXG_GB): KRX for 1, and 3 (SOR sent it to KRX); NXT for 2, and 4
    /// (SOR sent it to NXT); nil for a code KIS has not documented, or none.
    public var venue: Venue? {
        switch self.exchangeCode {
        case 1, 3: .krx
        case 2, 4: .nxt
        default: nil
        }
    }

    /// KIS's smart order routing placed it (ORD_EXG_GB 3 or 4).
    public var routedBySOR: Bool { self.exchangeCode == 3 || self.exchangeCode == 4 }
}

/// SELN_BYOV_CLS / SLL_BUY_DVSN_CD.
public enum OrderSide: UInt8, Sendable, BitwiseCopyable {
    case sell = 1
    case buy = 2
}
