import JSON
public import TickCore

/// The quotations and account checks a trader reaches for beside prices and orders (docs/kis-protocol.md §4; fields
/// as the official samples read them): the REST book to resynchronise after the feed dropped, the latest prints, the
/// sellable quantity, earlier days' minute bars, daily prices, the members' flow and the listing. The quotations go
/// through `quoting` (a paper account's real-host client, when it has one, since paper serves few of them); the
/// sellable quantity is the account's, asked of its own host.
extension KISClient {
    /// The ten-level book and expected call of `code` (`inquire-asking-price-exp-ccn`, FHKST01010200), as the
    /// `Book` a feed frame would have given at `localTs`: what a code's book is reset to after a reconnect.
    public func bookSnapshot(_ code: String, localTs: Int64) throws(KISError) -> Book {
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/quotations/inquire-asking-price-exp-ccn",
            trID: "FHKST01010200",
            query: [("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", code)]
        )
        let answer = try self.quoting.query(call).json
        guard let levels = answer.object("output1"), let outlook = answer.object("output2"),
            let symbol = SymbolCode(code)
        else { throw .malformedResponse(trID: call.trID, reason: "no output1/output2") }
        return try Self.book(symbol, levels: levels, outlook: outlook, localTs: localTs, trID: call.trID)
    }

    /// The `Book` of an `inquire-asking-price-exp-ccn` answer; throws when a price or quantity does not fit the
    /// feed's 32-bit fields.
    static func book(
        _ code: SymbolCode,
        levels: JSON,
        outlook: JSON,
        localTs: Int64,
        trID: String
    ) throws(KISError) -> Book {
        func int32(_ json: JSON, _ key: String) throws(KISError) -> Int32 {
            guard let value = Int32(exactly: json.int(key)) else {
                throw .malformedResponse(trID: trID, reason: "\(key) out of range")
            }
            return value
        }
        var book = Book()
        book.code = code
        book.localTs = localTs
        for i in 0..<10 {
            book.askPrices[i] = try int32(levels, "askp\(i + 1)")
            book.bidPrices[i] = try int32(levels, "bidp\(i + 1)")
            book.askQuantities[i] = try int32(levels, "askp_rsqn\(i + 1)")
            book.bidQuantities[i] = try int32(levels, "bidp_rsqn\(i + 1)")
        }
        book.totalAskQuantity = try int32(levels, "total_askp_rsqn")
        book.totalBidQuantity = try int32(levels, "total_bidp_rsqn")
        book.totalAskQuantityChange = try int32(levels, "total_askp_rsqn_icdc")
        book.totalBidQuantityChange = try int32(levels, "total_bidp_rsqn_icdc")
        // The answer has no HOUR_CLS_CODE: the session codes and the VI code say which call, if any, is running.
        let session = levels.string("new_mkop_cls_code")
        let hourClass: UInt8 =
            if outlook.string("vi_cls_code").isEmpty || outlook.string("vi_cls_code") == "N" {
                session.hasPrefix("1") ? UInt8(ascii: "B") : session == "21" ? UInt8(ascii: "A") : UInt8(ascii: "0")
            } else {
                UInt8(ascii: "C")
            }
        book.hourClass = hourClass
        if hourClass != UInt8(ascii: "0") {
            book.expectedPrice = try int32(outlook, "antc_cnpr")
            book.expectedVolume = outlook.int("antc_vol")
            book.expectedChange = try int32(outlook, "antc_cntg_vrss")
        }
        let seconds = KST.secondsOfDay(time: UInt32(levels.string("aspr_acpt_hour")) ?? 0) ?? 0
        book.exchangeTime = UInt32(truncatingIfNeeded: KST.midnight(containing: localTs / 1_000_000_000) + seconds)
        return book
    }

    /// The latest prints of `code`, newest first (`inquire-ccnl`, FHKST01010300; 30 on KIS).
    public func recentTrades(_ code: String) throws(KISError) -> [RecentTrade] {
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/quotations/inquire-ccnl",
            trID: "FHKST01010300",
            query: [("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", code)]
        )
        return try self.quoting.query(call).json.rows("output").map(RecentTrade.init)
    }

    /// What the account can sell of `code` now. Real accounts ask `inquire-psbl-sell` (TTTC8408R); the paper
    /// server has no such API (MCA00124), so there it is `inquire-balance`'s `ord_psbl_qty` for the code.
    public func sellable(_ code: String) throws(KISError) -> Sellable {
        guard self.settings.environment == .real else {
            let holding = try self.balance().holdings.first { $0.code == code }
            return Sellable(
                code: code,
                held: holding?.quantity ?? 0,
                sellable: holding?.sellable ?? 0,
                averagePrice: holding?.averagePrice ?? 0
            )
        }
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/trading/inquire-psbl-sell",
            trID: "TTTC8408R",
            query: [
                ("CANO", self.settings.account.cano), ("ACNT_PRDT_CD", self.settings.account.productCode),
                ("PDNO", code),
            ]
        )
        let output = try self.query(call).json.object("output") ?? .object([])
        return Sellable(
            code: code,
            held: output.int("cblc_qty"),
            sellable: output.int("ord_psbl_qty"),
            averagePrice: output.double("pchs_avg_pric")
        )
    }

    /// Minute bars of `code` on an earlier day `date` (YYYYMMDD) up to `until` (HHMMSS), oldest first
    /// (`inquire-time-dailychartprice`, FHKST03010230, a real-host quotation KIS keeps a year of): 120 rows a call,
    /// paged back from the earliest time received, as the official backtester does, until 09:00 or `maxBars`.
    public func pastMinuteBars(
        _ code: String,
        date: UInt32,
        until: UInt32 = 153_000,
        maxBars: Int = 400
    ) throws(KISError)
        -> [Bar]
    {
        var bars: [Bar] = []
        var hour = until
        while bars.count < maxBars {
            let call = RESTCall(
                .get,
                "/uapi/domestic-stock/v1/quotations/inquire-time-dailychartprice",
                trID: "FHKST03010230",
                query: [
                    ("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", code),
                    ("FID_INPUT_HOUR_1", KST.text(time: hour)),
                    ("FID_INPUT_DATE_1", String(date)), ("FID_PW_DATA_INCU_YN", "Y"), ("FID_FAKE_TICK_INCU_YN", ""),
                ]
            )
            let rows = try self.quoting.query(call).json.rows("output2").map(Bar.init(minuteRow:)).filter { bar in
                bar.date == String(date) && !bar.time.isEmpty && (bars.last.map { bar.time < $0.time } ?? true)
            }
            bars += rows
            guard rows.count >= 120, let oldest = rows.last.flatMap({ UInt32($0.time) }), oldest > 90_000,
                let seconds = KST.secondsOfDay(time: oldest)
            else { break }
            hour = KST.time(secondsOfDay: seconds - 1)
        }
        return Array(bars.prefix(maxBars).reversed())
    }

    public enum PricePeriod: String, Sendable {
        case day = "D"
        case week = "W"
        case month = "M"
    }

    /// The latest 30 days, weeks or months of `code`, newest first (`inquire-daily-price`, FHKST01010400).
    public func dailyPrices(_ code: String, period: PricePeriod = .day) throws(KISError) -> [Bar] {
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/quotations/inquire-daily-price",
            trID: "FHKST01010400",
            query: [
                ("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", code), ("FID_PERIOD_DIV_CODE", period.rawValue),
                ("FID_ORG_ADJ_PRC", "1"),
            ]
        )
        return try self.quoting.query(call).json.rows("output").map(Bar.init(dailyRow:))
    }

    /// The five members that sold and bought the most of `code` today (`inquire-member`, FHKST01010600).
    public func memberFlow(_ code: String) throws(KISError) -> MemberFlow {
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/quotations/inquire-member",
            trID: "FHKST01010600",
            query: [("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", code)]
        )
        guard let output = try self.quoting.query(call).json.object("output") else {
            throw .malformedResponse(trID: call.trID, reason: "no output")
        }
        return MemberFlow(output)
    }

    /// The listing of `code` in KIS's stock master (`search-stock-info`, CTPF1002R, real host).
    public func stockInfo(_ code: String) throws(KISError) -> StockInfo {
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/quotations/search-stock-info",
            trID: "CTPF1002R",
            query: [("PRDT_TYPE_CD", "300"), ("PDNO", code)]
        )
        guard let output = try self.quoting.query(call).json.object("output") else {
            throw .malformedResponse(trID: call.trID, reason: "no output")
        }
        return StockInfo(output)
    }
}

extension Bar {
    /// A row of a daily chart (`inquire-daily-itemchartprice`, `inquire-daily-price`; the latter has no traded
    /// value, read as 0).
    init(dailyRow row: JSON) {
        self.init(
            date: row.string("stck_bsop_date"),
            time: "",
            open: row.int("stck_oprc"),
            high: row.int("stck_hgpr"),
            low: row.int("stck_lwpr"),
            close: row.int("stck_clpr"),
            volume: row.int("acml_vol"),
            tradedValue: row.int("acml_tr_pbmn")
        )
    }

    /// A row of a minute chart (`inquire-time-itemchartprice`, `inquire-time-dailychartprice`).
    init(minuteRow row: JSON) {
        self.init(
            date: row.string("stck_bsop_date"),
            time: row.string("stck_cntg_hour"),
            open: row.int("stck_oprc"),
            high: row.int("stck_hgpr"),
            low: row.int("stck_lwpr"),
            close: row.int("stck_prpr"),
            volume: row.int("cntg_vol"),
            tradedValue: row.int("acml_tr_pbmn")
        )
    }
}

/// One print of `inquire-ccnl`.
public struct RecentTrade: Sendable, Equatable, Encodable {
    /// HHMMSS.
    public var time: String
    public var price: Int64
    /// Signed change from the previous close.
    public var change: Int64
    public var volume: Int64
    /// The session's trade strength (체결강도) after the print, %.
    public var strength: Double

    init(_ row: JSON) {
        self.time = row.string("stck_cntg_hour")
        self.price = row.int("stck_prpr")
        self.change = row.int("prdy_vrss")
        self.volume = row.int("cntg_vol")
        self.strength = row.double("tday_rltv")
    }
}

/// What the account holds of a code and can sell now.
public struct Sellable: Sendable, Equatable, Encodable {
    public var code: String
    /// Shares held (`cblc_qty`).
    public var held: Int64
    /// Shares that can be sold now (`ord_psbl_qty`): held less what working sells hold.
    public var sellable: Int64
    public var averagePrice: Double
}

/// `inquire-member`: the top five selling and buying members and the foreign members' totals.
public struct MemberFlow: Sendable, Equatable, Encodable {
    public struct Member: Sendable, Equatable, Encodable {
        /// KRX member number (`00005` …).
        public var number: String
        public var name: String
        public var quantity: Int64
        /// Share of the day's volume, %.
        public var share: Double
        public var foreign: Bool
    }

    public var sellers: [Member]
    public var buyers: [Member]
    /// Foreign members' net purchase today (`glob_ntby_qty`).
    public var foreignNet: Int64

    init(_ output: JSON) {
        func side(_ prefix: String, _ total: String) -> [Member] {
            (1...5).compactMap { i in
                let number = output.string("\(prefix)_mbcr_no\(i)")
                guard !number.isEmpty else { return nil }
                return Member(
                    number: number,
                    name: output.string("\(prefix)_mbcr_name\(i)"),
                    quantity: output.int("\(total)\(i)"),
                    share: output.double("\(prefix)_mbcr_rlim\(i)"),
                    foreign: output.string("\(prefix)_mbcr_glob_yn_\(i)") == "Y"
                )
            }
        }
        self.sellers = side("seln", "total_seln_qty")
        self.buyers = side("shnu", "total_shnu_qty")
        self.foreignNet = output.int("glob_ntby_qty")
    }
}

/// `search-stock-info`: the fields of the stock master a trader checks.
public struct StockInfo: Sendable, Equatable, Encodable {
    public var code: String
    public var name: String
    public var englishName: String
    /// The 12-character ISIN (`std_pdno`).
    public var isin: String
    public var listedShares: Int64
    /// Par value (`papr`).
    public var par: Int64
    public var kospi200: Bool
    /// `tr_stop_yn`.
    public var halted: Bool
    /// `admn_item_yn`: an administrative issue (관리종목).
    public var administrative: Bool
    /// Previous close (`bfdy_clpr`).
    public var previousClose: Int64

    init(_ output: JSON) {
        self.code = output.string("pdno")
        self.name = output.string("prdt_abrv_name")
        self.englishName = output.string("prdt_eng_abrv_name")
        self.isin = output.string("std_pdno")
        self.listedShares = output.int("lstg_stqt")
        self.par = output.int("papr")
        self.kospi200 = output.string("kospi200_item_yn") == "Y"
        self.halted = output.string("tr_stop_yn") == "Y"
        self.administrative = output.string("admn_item_yn") == "Y"
        self.previousClose = output.int("bfdy_clpr")
    }
}
