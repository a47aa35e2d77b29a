import JSON
import TickCore

/// The typed REST endpoints of docs/kis-protocol.md §4. Every call goes through `query` (rate limit, token,
/// retries) except orders, which an `OrderLane` sends. Quotations go through `quoting`: the real host for a paper
/// account whose configuration has a real app key (`ClientSettings.quotations`).
extension KISClient {
    private var account: [(String, String)] {
        [("CANO", self.settings.account.cano), ("ACNT_PRDT_CD", self.settings.account.productCode)]
    }

    /// Current price and the day's figures (`inquire-price`).
    public func price(_ code: String) throws(KISError) -> Quote {
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/quotations/inquire-price",
            trID: "FHKST01010100",
            query: [("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", code)]
        )
        let response = try self.quoting.query(call)
        guard let output = response.json.object("output") else {
            throw .malformedResponse(trID: call.trID, reason: "no output")
        }
        return Quote(code: code, output)
    }

    /// Holdings and cash (`inquire-balance`), every page.
    public func balance() throws(KISError) -> Balance {
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/trading/inquire-balance",
            trID: OrderTR.balance(self.settings.environment),
            query: self.account + [
                ("AFHR_FLPR_YN", "N"), ("OFL_YN", ""), ("INQR_DVSN", "02"), ("UNPR_DVSN", "01"),
                ("FUND_STTL_ICLD_YN", "N"), ("FNCG_AMT_AUTO_RDPT_YN", "N"), ("PRCS_DVSN", "00"),
            ]
        )
        var holdings: [Holding] = []
        var summary: JSON?
        try self.forEachPage(call) { page in
            holdings += page.rows("output1").map(Holding.init).filter { $0.quantity > 0 }
            summary = page.object("output2") ?? summary
        }
        return Balance(
            holdings: holdings,
            cash: summary?.int("dnca_tot_amt") ?? 0,
            cashD2: summary?.int("prvs_rcdl_excc_amt") ?? 0,
            securitiesValue: summary?.int("scts_evlu_amt") ?? 0,
            totalValue: summary?.int("tot_evlu_amt") ?? 0,
            profit: summary?.int("evlu_pfls_smtl_amt") ?? 0
        )
    }

    /// What `code` can be bought for (`inquire-psbl-order`); `price` 0 asks as a market order, which applies the
    /// stock's margin rate (docs/kis-protocol.md §4.5).
    public func buyable(_ code: String, price: Int64) throws(KISError) -> Buyable {
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/trading/inquire-psbl-order",
            trID: OrderTR.buyable(self.settings.environment),
            query: self.account + [
                ("PDNO", code), ("ORD_UNPR", String(price)), ("ORD_DVSN", price == 0 ? "01" : "00"),
                ("CMA_EVLU_AMT_ICLD_YN", "N"), ("OVRS_ICLD_YN", "N"),
            ]
        )
        let output = try self.query(call).json.object("output") ?? .object([])
        return Buyable(
            cash: output.int("ord_psbl_cash"),
            quantity: output.int("nrcvb_buy_qty"),
            maxQuantity: output.int("max_buy_qty")
        )
    }

    public enum FillFilter: String, Sendable {
        case all = "00"
        case filled = "01"
        case unfilled = "02"
    }

    /// The venues `dailyOrders` lists: every venue's (`ALL`) on a real account, so reconciliation finds an NXT or
    /// SOR order and never takes it for one that was not sent; paper takes KRX alone, where all its orders are.
    var dailyOrdersVenue: String { self.settings.environment == .real ? "ALL" : "KRX" }

    /// Orders and fills between two dates (`inquire-daily-ccld`, within three months), oldest first, every page;
    /// of one code, or one order (`orderNumber`, its ODNO), when given.
    /// - Parameter kind: `.reconciliation` when the order book waits on the answer (the rate limiter never lets
    ///   orders starve it), `.query` when a person asked.
    public func dailyOrders(
        from: UInt32,
        to: UInt32,
        code: String = "",
        orderNumber: UInt64? = nil,
        filter: FillFilter = .all,
        as kind: RequestKind = .query
    ) throws(KISError) -> [OrderRecord] {
        let odno: String = orderNumber.map { OrderLane.padded($0, digits: 10) } ?? ""
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/trading/inquire-daily-ccld",
            trID: OrderTR.dailyOrders(self.settings.environment),
            query: self.account + [
                ("INQR_STRT_DT", String(from)), ("INQR_END_DT", String(to)), ("SLL_BUY_DVSN_CD", "00"), ("PDNO", code),
                ("ORD_GNO_BRNO", ""), ("ODNO", odno), ("CCLD_DVSN", filter.rawValue), ("INQR_DVSN", "01"),
                ("INQR_DVSN_1", ""), ("INQR_DVSN_3", "00"), ("EXCG_ID_DVSN_CD", self.dailyOrdersVenue),
            ]
        )
        var records: [OrderRecord] = []
        try self.forEachPage(call, as: kind) { page in records += page.rows("output1").map(OrderRecord.init) }
        return records
    }

    /// Today's orders that can still be modified or cancelled. Real accounts ask `inquire-psbl-rvsecncl`; paper
    /// has no such API (MCA00124), so there it is today's unfilled orders with quantity left.
    public func cancellableOrders() throws(KISError) -> [OrderRecord] {
        guard self.settings.environment == .real else {
            let today = KST.date(epochSeconds: WallClock().epochSeconds())
            return try self.dailyOrders(from: today, to: today, filter: .unfilled).filter {
                $0.remainingQuantity > 0 && !$0.cancelled
            }
        }
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/trading/inquire-psbl-rvsecncl",
            trID: OrderTR.cancellable,
            query: self.account + [("INQR_DVSN_1", "0"), ("INQR_DVSN_2", "0")]
        )
        var records: [OrderRecord] = []
        try self.forEachPage(call) { page in records += page.rows("output").map(OrderRecord.init) }
        return records
    }

    /// Daily bars of `code` from `from` to `to` (YYYYMMDD), oldest first; 100 rows per call, newest first on the
    /// wire, so it pages backwards from `to` (docs/kis-protocol.md §4.8).
    public func dailyBars(_ code: String, from: UInt32, to: UInt32, adjusted: Bool = true) throws(KISError) -> [Bar] {
        var bars: [Bar] = []
        var end = to
        while end >= from {
            let call = RESTCall(
                .get,
                "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice",
                trID: "FHKST03010100",
                query: [
                    ("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", code), ("FID_INPUT_DATE_1", String(from)),
                    ("FID_INPUT_DATE_2", String(end)), ("FID_PERIOD_DIV_CODE", "D"),
                    ("FID_ORG_ADJ_PRC", adjusted ? "0" : "1"),
                ]
            )
            let rows = try self.quoting.query(call).json.rows("output2").map(Bar.init(dailyRow:))
                .filter { !$0.date.isEmpty }
            bars += rows
            guard rows.count >= 100, let oldest = rows.last.flatMap({ UInt32($0.date) }),
                let before = KST.epochSeconds(date: oldest, time: 0).map({ KST.date(epochSeconds: $0 - 86_400) }),
                before < end
            else { break }
            end = before
        }
        return bars.reversed()
    }

    /// Today's minute bars of `code` up to `until` (HHMMSS), oldest first; 30 rows per call, paged backwards.
    public func minuteBars(_ code: String, until: UInt32 = 153_000, maxBars: Int = 400) throws(KISError) -> [Bar] {
        var bars: [Bar] = []
        var hour = until
        while bars.count < maxBars {
            let call = RESTCall(
                .get,
                "/uapi/domestic-stock/v1/quotations/inquire-time-itemchartprice",
                trID: "FHKST03010200",
                query: [
                    ("FID_ETC_CLS_CODE", ""), ("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", code),
                    ("FID_INPUT_HOUR_1", KST.text(time: hour)), ("FID_PW_DATA_INCU_YN", "Y"),
                ]
            )
            let rows = try self.quoting.query(call).json.rows("output2").map(Bar.init(minuteRow:)).filter { bar in
                !bar.time.isEmpty && (bars.last.map { bar.time < $0.time } ?? true)
            }
            bars += rows
            guard rows.count >= 30, let oldest = rows.last.flatMap({ UInt32($0.time) }),
                let seconds = KST.secondsOfDay(time: oldest), seconds > 60
            else { break }
            hour = KST.time(secondsOfDay: seconds - 60)
        }
        return bars.reversed()
    }

    /// The volume ranking (`volume-rank`, real accounts), at most 30 rows.
    public func volumeRank(by ranking: String = "0") throws(KISError) -> [RankRow] {
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/quotations/volume-rank",
            trID: "FHPST01710000",
            query: [
                ("FID_COND_MRKT_DIV_CODE", "J"), ("FID_COND_SCR_DIV_CODE", "20171"), ("FID_INPUT_ISCD", "0000"),
                ("FID_DIV_CLS_CODE", "0"), ("FID_BLNG_CLS_CODE", ranking), ("FID_TRGT_CLS_CODE", "111111111"),
                ("FID_TRGT_EXLS_CLS_CODE", "0000000000"), ("FID_INPUT_PRICE_1", ""), ("FID_INPUT_PRICE_2", ""),
                ("FID_VOL_CNT", ""), ("FID_INPUT_DATE_1", ""),
            ]
        )
        return try self.quoting.query(call).json.rows("output").map(RankRow.init)
    }

    /// The market-cap ranking (`ranking/market-cap`, FHPST01740000, real accounts): the 30 largest KOSPI listings.
    public func marketCapRank() throws(KISError) -> [MarketCapRow] {
        let call = RESTCall(
            .get,
            "/uapi/domestic-stock/v1/ranking/market-cap",
            trID: "FHPST01740000",
            query: [
                ("FID_INPUT_PRICE_2", ""), ("FID_COND_MRKT_DIV_CODE", "J"), ("FID_COND_SCR_DIV_CODE", "20174"),
                ("FID_DIV_CLS_CODE", "0"), ("FID_INPUT_ISCD", "0000"), ("FID_TRGT_CLS_CODE", "0"),
                ("FID_TRGT_EXLS_CLS_CODE", "0"), ("FID_INPUT_PRICE_1", ""), ("FID_VOL_CNT", ""),
            ]
        )
        return try MarketCapRow.rows(self.quoting.query(call).json)
    }

    /// Calls `body` with each page of a `tr_cont`-paged inquiry, sending back the `ctx_area` cursors
    /// (docs/kis-protocol.md §3.3). Stops at `maxPages` so a server that never says "last page" cannot loop us forever.
    func forEachPage(
        _ first: RESTCall,
        maxPages: Int = 100,
        as kind: RequestKind = .query,
        _ body: (JSON) throws(KISError) -> Void
    ) throws(KISError) {
        var call = first
        call.query += [("CTX_AREA_FK100", ""), ("CTX_AREA_NK100", "")]
        for _ in 0..<maxPages {
            let response = try self.query(call, as: kind)
            try body(response.json)
            guard response.hasMorePages else { return }
            let forward = response.json.string("ctx_area_fk100")
            let next = response.json.string("ctx_area_nk100")
            call.continuation = true
            call.query = call.query.map { name, value in
                switch name {
                case "CTX_AREA_FK100": (name, forward)
                case "CTX_AREA_NK100": (name, next)
                default: (name, value)
                }
            }
        }
        throw .malformedResponse(trID: first.trID, reason: "more than \(maxPages) pages")
    }

}

extension KISClient {
    /// The `hashkey` of a POST body (`/uapi/hashkey`), for the orders that want one in their `hashkey` header.
    /// KIS documents it as optional, so the order lanes do not spend a round trip on it.
    public func hashkey(body: [UInt8]) throws(KISError) -> String {
        var call = RESTCall(.post, "/uapi/hashkey", trID: "", body: body)
        call.authenticated = false
        let response = try self.query(call)
        guard let hash = response.json["HASH"]?.text, !hash.isEmpty else {
            throw .malformedResponse(trID: "hashkey", reason: "no HASH")
        }
        return hash
    }
}
