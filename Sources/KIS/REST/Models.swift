import JSON

/// KIS sends every number as a string; these read them, treating blank as zero (KIS's habit for "none").
extension JSON {
    func string(_ key: String) -> String { self[key]?.scalarText.map(Envelope.trimmed) ?? "" }

    func int(_ key: String) -> Int64 {
        let text = self.string(key)
        if let value = Int64(text) { return value }
        // Some integer fields arrive as "123.00". A number no Int64 holds ("1e30", "nan") is none: converting it
        // would trap, and an answer KIS garbled must not stop the engine.
        guard let value = Double(text), value.isFinite, value.magnitude < 9.2e18 else { return 0 }
        return Int64(value.rounded())
    }

    /// The field as a finite number ("inf" and "nan" parse as Doubles, and are none).
    func double(_ key: String) -> Double { Double(self.string(key)).flatMap { $0.isFinite ? $0 : nil } ?? 0 }

    /// `output`-style members that may be an object or a one-element array.
    func object(_ key: String) -> JSON? {
        if let items = self[key]?.items { return items.first }
        return self[key]
    }

    func rows(_ key: String) -> [JSON] {
        // KIS pads short pages with empty objects.
        (self[key]?.items ?? []).filter { if case .object(let members) = $0 { !members.isEmpty } else { false } }
    }
}

/// `inquire-price` (FHKST01010100), the fields a trader reads.
public struct Quote: Sendable, Equatable, Encodable {
    public var code: String
    public var price: Int64
    /// Signed change from the previous close.
    public var change: Int64
    public var changeRate: Double
    public var open: Int64
    public var high: Int64
    public var low: Int64
    public var volume: Int64
    /// KRW.
    public var tradedValue: Int64
    public var vwap: Double
    public var upperLimit: Int64
    public var lowerLimit: Int64
    /// Previous close (`stck_sdpr`).
    public var basePrice: Int64
    public var tickSize: Int64
    public var listedShares: Int64
    /// 억원 (10^8 KRW), as KIS sends it.
    public var marketCap: Int64
    /// `iscd_stat_cls_code`: 58 halted, 51 관리, …
    public var status: String
    /// `temp_stop_yn`: trading suspended.
    public var suspended: Bool
    /// `vi_cls_code`: "N" when no volatility interruption is in force.
    public var viCode: String
    /// `mrkt_warn_cls_code`: "00" none, "01" 투자주의, "02" 투자경고, "03" 투자위험.
    public var marketWarning: String
    /// `mang_issu_cls_code` is "Y": an administrative issue (관리종목).
    public var administrative: Bool
    /// `invt_caful_yn` is "Y": designated for investor caution (투자주의).
    public var investorCaution: Bool
    /// `sltr_yn` is "Y": short-term overheated (단기과열).
    public var overheated: Bool

    init(code: String, _ output: JSON) {
        self.code = code
        self.price = output.int("stck_prpr")
        self.change = output.int("prdy_vrss")
        self.changeRate = output.double("prdy_ctrt")
        self.open = output.int("stck_oprc")
        self.high = output.int("stck_hgpr")
        self.low = output.int("stck_lwpr")
        self.volume = output.int("acml_vol")
        self.tradedValue = output.int("acml_tr_pbmn")
        self.vwap = output.double("wghn_avrg_stck_prc")
        self.upperLimit = output.int("stck_mxpr")
        self.lowerLimit = output.int("stck_llam")
        self.basePrice = output.int("stck_sdpr")
        self.tickSize = output.int("aspr_unit")
        self.listedShares = output.int("lstn_stcn")
        self.marketCap = output.int("hts_avls")
        self.status = output.string("iscd_stat_cls_code")
        self.suspended = output.string("temp_stop_yn") == "Y"
        self.viCode = output.string("vi_cls_code")
        self.marketWarning = output.string("mrkt_warn_cls_code")
        self.administrative = output.string("mang_issu_cls_code") == "Y"
        self.investorCaution = output.string("invt_caful_yn") == "Y"
        self.overheated = output.string("sltr_yn") == "Y"
    }
}

/// One holding of `inquire-balance` `output1`.
public struct Holding: Sendable, Equatable, Encodable {
    public var code: String
    public var name: String
    public var quantity: Int64
    /// Sellable now (`ord_psbl_qty`).
    public var sellable: Int64
    public var averagePrice: Double
    public var purchaseAmount: Int64
    public var price: Int64
    public var value: Int64
    public var profit: Int64
    public var profitRate: Double

    init(_ row: JSON) {
        self.code = row.string("pdno")
        self.name = row.string("prdt_name")
        self.quantity = row.int("hldg_qty")
        self.sellable = row.int("ord_psbl_qty")
        self.averagePrice = row.double("pchs_avg_pric")
        self.purchaseAmount = row.int("pchs_amt")
        self.price = row.int("prpr")
        self.value = row.int("evlu_amt")
        self.profit = row.int("evlu_pfls_amt")
        self.profitRate = row.double("evlu_pfls_rt")
    }
}

/// `inquire-balance`: every page of holdings and the account summary (`output2`).
public struct Balance: Sendable, Equatable, Encodable {
    public var holdings: [Holding]
    /// `dnca_tot_amt`: cash deposit.
    public var cash: Int64
    /// `prvs_rcdl_excc_amt`: cash at D+2, what is really spendable.
    public var cashD2: Int64
    /// `scts_evlu_amt`.
    public var securitiesValue: Int64
    /// `tot_evlu_amt`.
    public var totalValue: Int64
    /// `evlu_pfls_smtl_amt`.
    public var profit: Int64
}

/// `inquire-psbl-order`: what can be bought.
public struct Buyable: Sendable, Equatable, Encodable {
    /// `ord_psbl_cash`.
    public var cash: Int64
    /// `nrcvb_buy_qty`: shares without 미수 credit.
    public var quantity: Int64
    /// `max_buy_qty`: shares with 미수 credit.
    public var maxQuantity: Int64
}

/// One order of `inquire-daily-ccld` `output1` or `inquire-psbl-rvsecncl` `output`.
public struct OrderRecord: Sendable, Equatable, Encodable {
    public var date: String
    public var organization: String
    public var orderNumber: String
    public var originalOrderNumber: String
    public var code: String
    public var name: String
    /// "01" sell, "02" buy.
    public var sideCode: String
    public var orderType: String
    public var quantity: Int64
    public var price: Int64
    /// HHMMSS.
    public var time: String
    public var filledQuantity: Int64
    public var averageFillPrice: Double
    /// Still working (`rmn_qty`, or `psbl_qty` for cancellable orders).
    public var remainingQuantity: Int64
    public var rejectedQuantity: Int64
    public var cancelled: Bool

    init(_ row: JSON) {
        self.date = row.string("ord_dt")
        self.organization = row.string("ord_gno_brno")
        self.orderNumber = row.string("odno")
        self.originalOrderNumber = row.string("orgn_odno")
        self.code = row.string("pdno")
        self.name = row.string("prdt_name")
        self.sideCode = row.string("sll_buy_dvsn_cd")
        self.orderType = row.string("ord_dvsn_cd")
        self.quantity = row.int("ord_qty")
        self.price = row.int("ord_unpr")
        self.time = row.string("ord_tmd")
        self.filledQuantity = row.int("tot_ccld_qty")
        self.averageFillPrice = row.double("avg_prvs")
        let remaining = row.string("rmn_qty")
        self.remainingQuantity = remaining.isEmpty ? row.int("psbl_qty") : row.int("rmn_qty")
        self.rejectedQuantity = row.int("rjct_qty")
        self.cancelled = row.string("cncl_yn") == "Y"
    }

    public var side: String { self.sideCode == "01" ? "sell" : "buy" }
}

/// One bar of a daily or minute chart.
public struct Bar: Sendable, Equatable, Encodable {
    /// YYYYMMDD.
    public var date: String
    /// HHMMSS; empty for daily bars.
    public var time: String
    public var open: Int64
    public var high: Int64
    public var low: Int64
    public var close: Int64
    public var volume: Int64
    /// KRW.
    public var tradedValue: Int64
}

/// One row of the market-cap ranking (FHPST01740000).
public struct MarketCapRow: Sendable, Equatable, Encodable {
    public var rank: Int64
    public var code: String
    public var name: String
    public var price: Int64
    public var changeRate: Double
    public var volume: Int64
    public var listedShares: Int64
    /// `stck_avls`, 억원 (10^8 KRW), as in `inquire-price`'s `hts_avls`.
    public var marketCap: Int64
    /// `mrkt_whol_avls_rlim`: percent of the whole market's capitalisation.
    public var marketShare: Double

    init(_ row: JSON) {
        self.rank = row.int("data_rank")
        self.code = row.string("mksc_shrn_iscd")
        self.name = row.string("hts_kor_isnm")
        self.price = row.int("stck_prpr")
        self.changeRate = row.double("prdy_ctrt")
        self.volume = row.int("acml_vol")
        self.listedShares = row.int("lstn_stcn")
        self.marketCap = row.int("stck_avls")
        self.marketShare = row.double("mrkt_whol_avls_rlim")
    }

    /// The rows of a market-cap ranking answer.
    static func rows(_ answer: JSON) -> [MarketCapRow] {
        answer.rows("output").map(MarketCapRow.init)
    }
}

/// One row of `volume-rank`.
public struct RankRow: Sendable, Equatable, Encodable {
    public var rank: Int64
    public var code: String
    public var name: String
    public var price: Int64
    public var changeRate: Double
    public var volume: Int64
    public var tradedValue: Int64

    init(_ row: JSON) {
        self.rank = row.int("data_rank")
        self.code = row.string("mksc_shrn_iscd")
        self.name = row.string("hts_kor_isnm")
        self.price = row.int("stck_prpr")
        self.changeRate = row.double("prdy_ctrt")
        self.volume = row.int("acml_vol")
        self.tradedValue = row.int("acml_tr_pbmn")
    }
}
