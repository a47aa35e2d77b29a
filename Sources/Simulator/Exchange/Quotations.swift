import JSON
import TickCore

/// The quotation endpoints, all computed from the same market state the feed publishes.
extension ExchangeState {
    /// A number as KIS sends it: a string.
    static func s(_ value: Int64) -> JSON { .string(String(value)) }
    /// Hundredths as a decimal string with two places.
    static func d(_ hundredths: Int64) -> JSON { .string(Decimal2.text(hundredths)) }

    static let ok = ("MCA00000", "정상처리 되었습니다.")
    static let noData = Rejection(returnCode: "7", messageCode: "KIOK0560", message: "조회할 내용이 없습니다")

    /// The market of the request's `FID_INPUT_ISCD`.
    func symbol(_ request: RESTRequest) -> SymbolMarket? {
        self.symbolIndex[request.param("FID_INPUT_ISCD")].map { self.symbols[$0] }
    }

    /// Par value: 100 won for Samsung Electronics (after its 2018 split), 5,000 won otherwise.
    static func par(_ code: String) -> Int64 { code.hasPrefix("00593") ? 100 : 5_000 }

    mutating func price(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let m = self.symbol(request) else { return .rejection(Self.noData) }
        let price = m.reference
        let change = price - m.base
        let yesterday = m.history.last!
        let pivot = (yesterday.high + yesterday.low + yesterday.close) / 3
        let range = yesterday.high - yesterday.low
        let demark = (yesterday.high + yesterday.low + 2 * yesterday.close) / 2
        let bars = m.history + [self.todayBar(m)]
        let d250 = bars.suffix(250)
        let yearStart = m.date / 10_000 * 10_000
        let thisYear = bars.filter { $0.date > yearStart }
        let w52 = bars.filter { $0.date > m.date - 10_000 }
        let hi250 = d250.max { $0.high < $1.high }!
        let lo250 = d250.min { $0.low < $1.low }!
        let hiYear = thisYear.max { $0.high < $1.high } ?? hi250
        let loYear = thisYear.min { $0.low < $1.low } ?? lo250
        let hi52 = w52.max { $0.high < $1.high }!
        let lo52 = w52.min { $0.low < $1.low }!
        let par = Self.par(m.code)
        let capital = m.listing.listedShares * par / 100_000_000
        let eps = max(1, m.base / 12)
        let bps = max(1, m.base * 10 / 11)
        let vs: (Int64) -> JSON = { Self.d(Decimal2.percent(price - $0, $0)) }
        var capitalText: [UInt8] = []
        capitalText.appendInt(capital)
        let grouped = String(decoding: capitalText, as: UTF8.self).reversed().enumerated().map {
            $0 > 0 && $0 % 3 == 0 ? "\($1)," : "\($1)"
        }.joined()
        let flags = Self.flags(m.designation)
        let output = JSON.obj([
            "iscd_stat_cls_code": .string(flags.status), "marg_rate": "20.00", "rprs_mrkt_kor_name": "KOSPI200",
            "bstp_kor_isnm": .string(m.listing.sector), "temp_stop_yn": .string(flags.halted), "oprc_rang_cont_yn": "N",
            "clpr_rang_cont_yn": "N", "crdt_able_yn": "Y", "grmn_rate_cls_code": "40", "elw_pblc_yn": "Y",
            "stck_prpr": Self.s(price), "prdy_vrss": Self.s(change),
            "prdy_vrss_sign": Self.s(KRX.sign(price: price, base: m.base, upper: m.upper, lower: m.lower)),
            "prdy_ctrt": Self.d(Decimal2.percent(change, m.base)), "acml_tr_pbmn": Self.s(m.value),
            "acml_vol": Self.s(m.volume), "prdy_vrss_vol_rate": Self.d(Decimal2.percent(m.volume, m.previousDayVolume)),
            "stck_oprc": Self.s(m.open), "stck_hgpr": Self.s(m.high), "stck_lwpr": Self.s(m.low),
            "stck_mxpr": Self.s(m.upper), "stck_llam": Self.s(m.lower), "stck_sdpr": Self.s(m.base),
            "wghn_avrg_stck_prc": Self.d(Decimal2.ratio(m.value, m.volume)), "hts_frgn_ehrt": "30.00",
            "frgn_ntby_qty": "0", "pgtr_ntby_qty": "0",
            "pvt_scnd_dmrs_prc": Self.s(pivot + range), "pvt_frst_dmrs_prc": Self.s(2 * pivot - yesterday.low),
            "pvt_pont_val": Self.s(pivot), "pvt_frst_dmsp_prc": Self.s(2 * pivot - yesterday.high),
            "pvt_scnd_dmsp_prc": Self.s(pivot - range), "dmrs_val": Self.s(demark - yesterday.low),
            "dmsp_val": Self.s(demark - yesterday.high), "cpfn": Self.s(capital), "rstc_wdth_prc": Self.s(m.width),
            "stck_fcam": Self.s(par), "stck_sspr": Self.s(m.base * 76 / 100 / 10 * 10),
            "aspr_unit": Self.s(KRX.tick(at: price)), "hts_deal_qty_unit_val": "1",
            "lstn_stcn": Self.s(m.listing.listedShares),
            "hts_avls": Self.s((price * m.listing.listedShares + 50_000_000) / 100_000_000),
            "per": Self.d(Decimal2.ratio(price, eps)), "pbr": Self.d(Decimal2.ratio(price, bps)), "stac_month": "12",
            "vol_tnrt": Self.d(Decimal2.percent(m.volume, m.listing.listedShares)),
            "eps": .string(Decimal2.text(eps * 100)), "bps": .string(Decimal2.text(bps * 100)),
            "d250_hgpr": Self.s(hi250.high), "d250_hgpr_date": Self.s(Int64(hi250.date)),
            "d250_hgpr_vrss_prpr_rate": vs(hi250.high),
            "d250_lwpr": Self.s(lo250.low), "d250_lwpr_date": Self.s(Int64(lo250.date)),
            "d250_lwpr_vrss_prpr_rate": vs(lo250.low),
            "stck_dryy_hgpr": Self.s(hiYear.high), "dryy_hgpr_vrss_prpr_rate": vs(hiYear.high),
            "dryy_hgpr_date": Self.s(Int64(hiYear.date)),
            "stck_dryy_lwpr": Self.s(loYear.low), "dryy_lwpr_vrss_prpr_rate": vs(loYear.low),
            "dryy_lwpr_date": Self.s(Int64(loYear.date)),
            "w52_hgpr": Self.s(hi52.high), "w52_hgpr_vrss_prpr_ctrt": vs(hi52.high),
            "w52_hgpr_date": Self.s(Int64(hi52.date)),
            "w52_lwpr": Self.s(lo52.low), "w52_lwpr_vrss_prpr_ctrt": vs(lo52.low),
            "w52_lwpr_date": Self.s(Int64(lo52.date)),
            "whol_loan_rmnd_rate": "0.10", "ssts_yn": "Y", "stck_shrn_iscd": .string(m.code), "fcam_cnnm": Self.s(par),
            "cpfn_cnnm": .string(String(grouped.reversed()) + " 억"),
            "frgn_hldn_qty": Self.s(m.listing.listedShares * 3 / 10),
            "vi_cls_code": .string(m.viCode), "ovtm_vi_cls_code": "N", "last_ssts_cntg_qty": "0", "invt_caful_yn": "N",
            "mrkt_warn_cls_code": .string(flags.warning), "short_over_yn": "N", "sltr_yn": "N",
            "mang_issu_cls_code": .string(flags.administrative),
        ])
        return .ok([("output", output)], code: Self.ok.0, message: Self.ok.1)
    }

    /// `iscd_stat_cls_code`, `temp_stop_yn`, `mrkt_warn_cls_code` and `mang_issu_cls_code` for a designation
    /// (docs/kis-protocol.md §4.7); 55 (신용가능) is what an unmarked large cap shows.
    static func flags(
        _ designation: Designation
    ) -> (status: String, halted: String, warning: String, administrative: String) {
        switch designation {
        case .none: ("55", "N", "00", "N")
        case .warned: ("53", "N", "02", "N")
        case .halted: ("58", "Y", "00", "N")
        case .administrative: ("51", "N", "00", "Y")
        }
    }

    /// The market-cap ranking (`ranking/market-cap`, FHPST01740000): the 30 largest by price × listed shares,
    /// `stck_avls` in 억원 and each one's share of the whole served market.
    mutating func marketCapRank(_ request: RESTRequest, _ call: Call) -> RESTReply {
        let caps = self.symbols.map { $0.reference * $0.listing.listedShares }
        let total = max(1, caps.reduce(0, +) / 100_000_000)
        let ranked = self.symbols.indices.sorted { (caps[$0], $1) > (caps[$1], $0) }
        let rows: [JSON] = ranked.prefix(30).enumerated().map { rank, i in
            let m = self.symbols[i]
            let change = m.reference - m.base
            let cap = (caps[i] + 50_000_000) / 100_000_000
            return .obj([
                "mksc_shrn_iscd": .string(m.code), "data_rank": .string(String(rank + 1)),
                "hts_kor_isnm": .string(m.listing.name), "stck_prpr": Self.s(m.reference), "prdy_vrss": Self.s(change),
                "prdy_vrss_sign": Self.s(KRX.sign(price: m.reference, base: m.base, upper: m.upper, lower: m.lower)),
                "prdy_ctrt": Self.d(Decimal2.percent(change, m.base)), "acml_vol": Self.s(m.volume),
                "lstn_stcn": Self.s(m.listing.listedShares), "stck_avls": Self.s(cap),
                "mrkt_whol_avls_rlim": Self.d(Decimal2.percent(cap, total)),
            ])
        }
        return .ok([("output", .array(rows))], code: Self.ok.0, message: Self.ok.1)
    }

    /// Today's bar so far (open = high = low = close = base before the first trade).
    func todayBar(_ m: SymbolMarket) -> DailyBar {
        let close = m.reference
        return DailyBar(
            date: m.date,
            open: m.open > 0 ? m.open : close,
            high: max(m.high, close),
            low: m.low > 0 ? m.low : close,
            close: close,
            volume: m.volume,
            value: m.value
        )
    }

    /// The quote summary both chart endpoints open with.
    func chartHeader(_ m: SymbolMarket) -> [(String, JSON)] {
        let change = m.reference - m.base
        return [
            ("prdy_vrss", Self.s(change)),
            ("prdy_vrss_sign", Self.s(KRX.sign(price: m.reference, base: m.base, upper: m.upper, lower: m.lower))),
            ("prdy_ctrt", Self.d(Decimal2.percent(change, m.base))),
            ("stck_prdy_clpr", Self.s(m.base)),
            ("acml_vol", Self.s(m.volume)),
            ("acml_tr_pbmn", Self.s(m.value)),
            ("hts_kor_isnm", .string(m.listing.name)),
            ("stck_prpr", Self.s(m.reference)),
        ]
    }

    mutating func dailyChart(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let m = self.symbol(request) else { return .rejection(Self.noData) }
        let from = UInt32(request.param("FID_INPUT_DATE_1")) ?? 0
        let to = UInt32(request.param("FID_INPUT_DATE_2")) ?? 99_999_999
        var bars = m.history
        if self.phase != .closed || m.volume > 0 { bars.append(self.todayBar(m)) }
        let period = request.param("FID_PERIOD_DIV_CODE")
        bars = Self.aggregate(bars.filter { $0.date >= from && $0.date <= to }, period: period)
        let yesterday = m.history.last!
        let rows: [JSON] = bars.suffix(100).reversed().map { bar in
            let previous =
                bars.last { $0.date < bar.date }?.close ?? (m.history.first { $0.date < bar.date }?.close ?? bar.open)
            let change = bar.close - previous
            return .obj([
                "stck_bsop_date": .string(String(bar.date)), "stck_clpr": Self.s(bar.close),
                "stck_oprc": Self.s(bar.open),
                "stck_hgpr": Self.s(bar.high), "stck_lwpr": Self.s(bar.low), "acml_vol": Self.s(bar.volume),
                "acml_tr_pbmn": Self.s(bar.value), "flng_cls_code": "00", "prtt_rate": "0.00", "mod_yn": "N",
                "prdy_vrss_sign": Self.s(KRX.sign(change)), "prdy_vrss": Self.s(change), "revl_issu_reas": "",
            ])
        }
        let ask = m.book.bestAsk?.price ?? 0
        let bid = m.book.bestBid?.price ?? 0
        let header: [(String, JSON)] =
            self.chartHeader(m) + [
                ("stck_shrn_iscd", .string(m.code)), ("prdy_vol", Self.s(yesterday.volume)),
                ("stck_mxpr", Self.s(m.upper)),
                ("stck_llam", Self.s(m.lower)), ("stck_oprc", Self.s(m.open)), ("stck_hgpr", Self.s(m.high)),
                ("stck_lwpr", Self.s(m.low)), ("stck_prdy_oprc", Self.s(yesterday.open)),
                ("stck_prdy_hgpr", Self.s(yesterday.high)),
                ("stck_prdy_lwpr", Self.s(yesterday.low)), ("askp", Self.s(ask)), ("bidp", Self.s(bid)),
                ("prdy_vrss_vol", Self.s(m.volume - yesterday.volume)),
                ("vol_tnrt", Self.d(Decimal2.percent(m.volume, m.listing.listedShares))),
                ("stck_fcam", Self.s(Self.par(m.code))), ("lstn_stcn", Self.s(m.listing.listedShares)),
                ("cpfn", Self.s(m.listing.listedShares * Self.par(m.code) / 100_000_000)),
                ("hts_avls", Self.s((m.reference * m.listing.listedShares + 50_000_000) / 100_000_000)),
                ("per", Self.d(Decimal2.ratio(m.reference, max(1, m.base / 12)))),
                ("eps", .string(Decimal2.text(max(1, m.base / 12) * 100))),
                ("pbr", Self.d(Decimal2.ratio(m.reference, max(1, m.base * 10 / 11)))),
                ("itewhol_loan_rmnd_ratem", "0.10"),
            ]
        return .ok([("output1", .object(header)), ("output2", .array(rows))], code: Self.ok.0, message: Self.ok.1)
    }

    /// Daily bars rolled up by week (Monday start), month or year; `D` leaves them as they are. A period's bar
    /// carries the date of its last trading day.
    static func aggregate(_ bars: [DailyBar], period: String) -> [DailyBar] {
        let key: (UInt32) -> Int64
        switch period {
        case "W": key = { (KST.epochSeconds(date: $0, time: 120_000)! / 86_400 + 3) / 7 }
        case "M": key = { Int64($0 / 100) }
        case "Y": key = { Int64($0 / 10_000) }
        default: return bars
        }
        var out: [DailyBar] = []
        var current: Int64?
        for bar in bars {
            let k = key(bar.date)
            if k == current, var last = out.popLast() {
                last.date = bar.date
                last.high = max(last.high, bar.high)
                last.low = min(last.low, bar.low)
                last.close = bar.close
                last.volume += bar.volume
                last.value += bar.value
                out.append(last)
            } else {
                out.append(bar)
                current = k
            }
        }
        return out
    }

    mutating func minuteChart(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let m = self.symbol(request) else { return .rejection(Self.noData) }
        let asked = UInt32(request.param("FID_INPUT_HOUR_1")) ?? 0
        let now = self.phase == .closed && m.volume > 0 ? UInt32(153_000) : self.marketTime
        let until = asked == 0 || asked > now ? now : asked
        let rows: [JSON] = m.minutes.filter { $0.time <= until }.suffix(30).reversed().map { bar in
            .obj([
                "stck_bsop_date": .string(String(m.date)), "stck_cntg_hour": .string(KST.text(time: bar.time)),
                "stck_prpr": Self.s(bar.close), "stck_oprc": Self.s(bar.open), "stck_hgpr": Self.s(bar.high),
                "stck_lwpr": Self.s(bar.low), "cntg_vol": Self.s(bar.volume),
                "acml_tr_pbmn": Self.s(bar.cumulativeValue),
            ])
        }
        return .ok(
            [("output1", .object(self.chartHeader(m))), ("output2", .array(rows))],
            code: Self.ok.0,
            message: Self.ok.1
        )
    }

    mutating func volumeRank(_ request: RESTRequest, _ call: Call) -> RESTReply {
        let byValue = request.param("FID_BLNG_CLS_CODE") == "3"
        let ranked = self.symbols.sorted {
            byValue ? ($0.value, $1.index) > ($1.value, $0.index) : ($0.volume, $1.index) > ($1.volume, $0.index)
        }
        let rows: [JSON] = ranked.prefix(30).enumerated().map { rank, m in
            let change = m.reference - m.base
            let yesterday = m.history.last!
            let average = m.history.suffix(20).reduce(0) { $0 + $1.volume } / Int64(max(1, min(20, m.history.count)))
            let averageValue =
                m.history.suffix(20).reduce(0) { $0 + $1.value } / Int64(max(1, min(20, m.history.count)))
            return .obj([
                "hts_kor_isnm": .string(m.listing.name), "mksc_shrn_iscd": .string(m.code),
                "data_rank": .string(String(rank + 1)),
                "stck_prpr": Self.s(m.reference),
                "prdy_vrss_sign": Self.s(KRX.sign(price: m.reference, base: m.base, upper: m.upper, lower: m.lower)),
                "prdy_vrss": Self.s(change), "prdy_ctrt": Self.d(Decimal2.percent(change, m.base)),
                "acml_vol": Self.s(m.volume),
                "prdy_vol": Self.s(yesterday.volume), "lstn_stcn": Self.s(m.listing.listedShares),
                "avrg_vol": Self.s(average),
                "n_befr_clpr_vrss_prpr_rate": Self.d(Decimal2.percent(change, m.base)),
                "vol_inrt": Self.d(Decimal2.percent(m.volume, yesterday.volume)),
                "vol_tnrt": Self.d(Decimal2.percent(m.volume, m.listing.listedShares)),
                "nday_vol_tnrt": Self.d(Decimal2.percent(average, m.listing.listedShares)),
                "avrg_tr_pbmn": Self.s(averageValue),
                "tr_pbmn_tnrt": Self.d(Decimal2.percent(m.value, m.listing.listedShares * m.reference)),
                "nday_tr_pbmn_tnrt": Self.d(Decimal2.percent(averageValue, m.listing.listedShares * m.reference)),
                "acml_tr_pbmn": Self.s(m.value),
            ])
        }
        return .ok([("output", .array(rows))], code: Self.ok.0, message: Self.ok.1)
    }

    mutating func searchInfo(_ request: RESTRequest, _ call: Call) -> RESTReply {
        let code = request.param("PDNO")
        guard Catalog.isValidCode(code) else { return .rejection(Self.noData) }
        let listing = self.symbolIndex[code].map { self.symbols[$0].listing } ?? Catalog.listing(code)
        let output = JSON.obj([
            "pdno": .string(listing.code),
            "prdt_type_cd": .string(request.param("PRDT_TYPE_CD").isEmpty ? "300" : request.param("PRDT_TYPE_CD")),
            "prdt_name": .string(listing.name), "prdt_name120": .string(listing.name),
            "prdt_abrv_name": .string(listing.name),
            "prdt_eng_name": .string(listing.englishName), "prdt_eng_name120": .string(listing.englishName),
            "prdt_eng_abrv_name": .string(listing.englishName), "std_pdno": .string(listing.isin),
            "shtn_pdno": .string(listing.code),
            "prdt_sale_stat_cd": "", "prdt_risk_grad_cd": "", "prdt_clsf_cd": "101210", "prdt_clsf_name": "주권",
            "sale_strt_dt": "", "sale_end_dt": "", "wrap_asst_type_cd": "", "ivst_prdt_type_cd": "",
            "ivst_prdt_type_cd_name": "", "frst_erlm_dt": "",
        ])
        return .ok([("output", output)], code: Self.ok.0, message: Self.ok.1)
    }
}
