import Foundation
import JSON
import TickCore

/// The quotation endpoints a trader reaches for beside the price: the REST book (to resynchronise after a dropped
/// feed), the latest prints, the members' flow, daily prices, earlier days' minute bars and the listing. Fields
/// and their order are the official samples' (open-trading-api `examples_user/domestic_stock`); everything is
/// computed from the market state the feed publishes.
extension ExchangeState {
    /// `inquire-asking-price-exp-ccn` (FHKST01010200): the ten levels with their changes since a client was last
    /// shown the book, and the expected single-price call.
    mutating func askingPrice(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let i = self.symbolIndex[request.param("FID_INPUT_ISCD")] else { return .rejection(Self.noData) }
        let m = self.symbols[i]
        let asks = Array(m.book.asks.prefix(10))
        let bids = Array(m.book.bids.prefix(10))
        var book: [(String, JSON)] = [("aspr_acpt_hour", .string(KST.text(time: self.marketTime)))]
        let price = { (levels: [Level], i: Int) -> Int64 in i < levels.count ? levels[i].price : 0 }
        let quantity = { (levels: [Level], i: Int) -> Int64 in i < levels.count ? levels[i].total : 0 }
        /// The change at level `i` since the client was last shown the book: what rests at that price now less what
        /// rested there then.
        let change = { (levels: [Level], shown: [(price: Int64, total: Int64)], i: Int) -> Int64 in
            guard i < levels.count else { return 0 }
            return levels[i].total - (shown.first { $0.price == levels[i].price }?.total ?? 0)
        }
        for n in 0..<10 { book.append(("askp\(n + 1)", Self.s(price(asks, n)))) }
        for n in 0..<10 { book.append(("bidp\(n + 1)", Self.s(price(bids, n)))) }
        for n in 0..<10 { book.append(("askp_rsqn\(n + 1)", Self.s(quantity(asks, n)))) }
        for n in 0..<10 { book.append(("bidp_rsqn\(n + 1)", Self.s(quantity(bids, n)))) }
        for n in 0..<10 { book.append(("askp_rsqn_icdc\(n + 1)", Self.s(change(asks, m.shownAsks, n)))) }
        for n in 0..<10 { book.append(("bidp_rsqn_icdc\(n + 1)", Self.s(change(bids, m.shownBids, n)))) }
        let askTotal = m.book.total(.sell)
        let bidTotal = m.book.total(.buy)
        let shownAsk = m.shownAsks.reduce(0) { $0 + $1.total }
        let shownBid = m.shownBids.reduce(0) { $0 + $1.total }
        book += [
            ("total_askp_rsqn", Self.s(askTotal)), ("total_bidp_rsqn", Self.s(bidTotal)),
            ("total_askp_rsqn_icdc", Self.s(askTotal - shownAsk)),
            ("total_bidp_rsqn_icdc", Self.s(bidTotal - shownBid)),
            ("ovtm_total_askp_icdc", "0"), ("ovtm_total_bidp_icdc", "0"), ("ovtm_total_askp_rsqn", "0"),
            ("ovtm_total_bidp_rsqn", "0"), ("ntby_aspr_rsqn", Self.s(bidTotal - askTotal)),
            ("new_mkop_cls_code", .string(self.sessionCode)),
        ]
        // In a call the expected price and volume; in continuous trading the opening call's result, as third-party
        // captures of this answer show (antc_cnpr equal to stck_oprc at 11:43).
        let inCall = self.phase == .preOpen || self.phase == .closingAuction || m.isInterrupted
        let expected = inCall ? m.book.auctionPrice(reference: m.reference) : nil
        let expectedPrice = inCall ? (expected?.price ?? 0) : m.open
        let expectedChange = expectedPrice > 0 ? expectedPrice - m.base : 0
        let outlook = JSON.object([
            ("antc_mkop_cls_code", .string(self.expectedSessionCode)), ("stck_prpr", Self.s(m.reference)),
            ("stck_oprc", Self.s(m.open)), ("stck_hgpr", Self.s(m.high)), ("stck_lwpr", Self.s(m.low)),
            ("stck_sdpr", Self.s(m.base)), ("antc_cnpr", Self.s(expectedPrice)),
            ("antc_cntg_vrss_sign", Self.s(KRX.sign(expectedChange))), ("antc_cntg_vrss", Self.s(expectedChange)),
            ("antc_cntg_prdy_ctrt", Self.d(Decimal2.percent(expectedChange, m.base))),
            ("antc_vol", Self.s(inCall ? (expected?.volume ?? 0) : m.openingAuctionVolume)),
            ("stck_shrn_iscd", .string(m.code)), ("vi_cls_code", .string(m.viCode)),
        ])
        self.symbols[i].showLevels()
        return .ok([("output1", .object(book)), ("output2", outlook)], code: Self.ok.0, message: Self.ok.1)
    }

    /// NEW_MKOP_CLS_CODE of the session now: `10` pre-open, `20` regular session, `21` closing call, `30` closed
    /// (docs/kis-protocol.md §6, common codes; real feeds show `20` through the session).
    private var sessionCode: String {
        switch self.phase {
        case .preOpen: "10"
        case .continuous: "20"
        case .closingAuction: "21"
        case .closed: "30"
        }
    }

    /// `antc_mkop_cls_code`: `311` before the open, `121` in the closing call, `112` otherwise, as third-party
    /// captures report them (not checked against an answer of ours).
    private var expectedSessionCode: String {
        switch self.phase {
        case .preOpen: "311"
        case .closingAuction: "121"
        case .continuous, .closed: "112"
        }
    }

    /// `inquire-ccnl` (FHKST01010300): the latest 30 prints, newest first, with the session's trade strength
    /// after each.
    mutating func recentPrints(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let m = self.symbol(request) else { return .rejection(Self.noData) }
        let rows: [JSON] = m.latestPrints.map { print in
            let change = print.price - m.base
            return .object([
                ("stck_cntg_hour", .string(KST.text(time: print.time))), ("stck_prpr", Self.s(print.price)),
                ("prdy_vrss", Self.s(change)),
                ("prdy_vrss_sign", Self.s(KRX.sign(price: print.price, base: m.base, upper: m.upper, lower: m.lower))),
                ("cntg_vol", Self.s(print.quantity)), ("tday_rltv", Self.d(print.strength)),
                ("prdy_ctrt", Self.d(Decimal2.percent(change, m.base))),
            ])
        }
        return .ok([("output", .array(rows))], code: Self.ok.0, message: Self.ok.1)
    }

    /// The KRX members the simulated flow is split among: numbers and names as they appear in real H0STMBC0
    /// frames, and whether the member is foreign.
    private static let members: [(number: String, name: String, foreign: Bool)] = [
        ("00005", "미래에셋증권", false), ("00050", "키움증권", false), ("00003", "한국증권", false),
        ("00086", "BNK증권", false), ("00017", "KB증권", false), ("00030", "삼성증권", false),
        ("00002", "신한증권", false), ("00033", "JP모간", true),
    ]

    /// `inquire-member` (FHKST01010600): the five members that sold and bought the most today, their shares of the
    /// day's volume, and the foreign members' totals. Each member's share of a code's day is seeded; quantities are
    /// those shares of the day's volume, and the changes those shares of the current minute's.
    mutating func memberFlow(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let m = self.symbol(request) else { return .rejection(Self.noData) }
        var random = SimRandom(seed: self.config.seed, stream: 0x4000_0000 + UInt64(m.index) << 32 + UInt64(m.date))
        // The listed members handle about 60 % of a day; the rest is spread over members not listed here.
        let draw = { (random: inout SimRandom) -> [Double] in
            let weights = Self.members.map { _ in exp(0.6 * random.normal()) }
            let sum = weights.reduce(0, +)
            return weights.map { 0.6 * $0 / sum }
        }
        let sellShares = draw(&random)
        let buyShares = draw(&random)
        let minute = m.minutes.last?.volume ?? 0
        var output: [(String, JSON)] = []
        var foreign: (sold: Int64, bought: Int64, soldNow: Int64, boughtNow: Int64) = (0, 0, 0, 0)
        for (i, member) in Self.members.enumerated() where member.foreign {
            foreign.sold += Int64(sellShares[i] * Double(m.volume))
            foreign.bought += Int64(buyShares[i] * Double(m.volume))
            foreign.soldNow += Int64(sellShares[i] * Double(minute))
            foreign.boughtNow += Int64(buyShares[i] * Double(minute))
        }
        for (prefix, shares) in [("seln", sellShares), ("shnu", buyShares)] {
            let top = shares.indices.sorted { (shares[$0], $1) > (shares[$1], $0) }.prefix(5)
            let quantities = top.map { Int64(shares[$0] * Double(m.volume)) }
            for (rank, i) in top.enumerated() {
                output.append(("\(prefix)_mbcr_no\(rank + 1)", .string(Self.members[i].number)))
            }
            for (rank, i) in top.enumerated() {
                output.append(("\(prefix)_mbcr_name\(rank + 1)", .string(Self.members[i].name)))
            }
            let total = prefix == "seln" ? "total_seln_qty" : "total_shnu_qty"
            for (rank, quantity) in quantities.enumerated() { output.append(("\(total)\(rank + 1)", Self.s(quantity))) }
            for (rank, quantity) in quantities.enumerated() {
                output.append(("\(prefix)_mbcr_rlim\(rank + 1)", Self.d(Decimal2.percent(quantity, m.volume))))
            }
            let change = prefix == "seln" ? "seln_qty_icdc" : "shnu_qty_icdc"
            for (rank, i) in top.enumerated() {
                output.append(("\(change)\(rank + 1)", Self.s(Int64(shares[i] * Double(minute)))))
            }
        }
        output += [
            ("glob_total_seln_qty", Self.s(foreign.sold)),
            ("glob_seln_rlim", Self.d(Decimal2.percent(foreign.sold, m.volume))),
            ("glob_ntby_qty", Self.s(foreign.bought - foreign.sold)), ("glob_total_shnu_qty", Self.s(foreign.bought)),
            ("glob_shnu_rlim", Self.d(Decimal2.percent(foreign.bought, m.volume))),
        ]
        for (prefix, shares) in [("seln", sellShares), ("shnu", buyShares)] {
            let top = shares.indices.sorted { (shares[$0], $1) > (shares[$1], $0) }.prefix(5)
            for (rank, i) in top.enumerated() {
                output.append(("\(prefix)_mbcr_glob_yn_\(rank + 1)", .string(Self.members[i].foreign ? "Y" : "N")))
            }
        }
        output += [
            ("glob_total_seln_qty_icdc", Self.s(foreign.soldNow)),
            ("glob_total_shnu_qty_icdc", Self.s(foreign.boughtNow)),
        ]
        return .ok([("output", .object(output))], code: Self.ok.0, message: Self.ok.1)
    }

    /// `inquire-daily-price` (FHKST01010400): the latest 30 days, weeks (`W`) or months (`M`), newest first, today's
    /// bar included once the day has traded.
    mutating func dailyPrices(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let m = self.symbol(request) else { return .rejection(Self.noData) }
        var bars = m.history
        if self.phase != .closed || m.volume > 0 { bars.append(self.todayBar(m)) }
        bars = Self.aggregate(bars, period: request.param("FID_PERIOD_DIV_CODE"))
        let shown = bars.indices.suffix(30).reversed()
        let rows: [JSON] = shown.map { i in
            let bar = bars[i]
            let previous = i > 0 ? bars[i - 1] : nil
            let change = previous.map { bar.close - $0.close } ?? 0
            return .object([
                ("stck_bsop_date", .string(String(bar.date))), ("stck_oprc", Self.s(bar.open)),
                ("stck_hgpr", Self.s(bar.high)),
                ("stck_lwpr", Self.s(bar.low)), ("stck_clpr", Self.s(bar.close)), ("acml_vol", Self.s(bar.volume)),
                (
                    "prdy_vrss_vol_rate",
                    Self.d(previous.map { Decimal2.percent(bar.volume - $0.volume, $0.volume) } ?? 0)
                ),
                ("prdy_vrss", Self.s(change)), ("prdy_vrss_sign", Self.s(KRX.sign(change))),
                ("prdy_ctrt", Self.d(previous.map { Decimal2.percent(change, $0.close) } ?? 0)),
                ("hts_frgn_ehrt", "30.00"),
                ("frgn_ntby_qty", "0"), ("flng_cls_code", "00"), ("acml_prtt_rate", "0.00"),
            ])
        }
        return .ok([("output", .array(rows))], code: Self.ok.0, message: Self.ok.1)
    }

    /// `inquire-time-dailychartprice` (FHKST03010230, real host only): up to 120 minute bars of `FID_INPUT_DATE_1`
    /// at or before `FID_INPUT_HOUR_1`, newest first; a client pages back by asking again from the earliest
    /// time it got (as the official backtester does). Days of the seeded history get bars drawn around their
    /// daily bar (`History.minutes`), which KIS keeps for a year.
    mutating func pastMinuteChart(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let m = self.symbol(request) else { return .rejection(Self.noData) }
        let date = UInt32(request.param("FID_INPUT_DATE_1")) ?? m.date
        let hour = UInt32(request.param("FID_INPUT_HOUR_1")) ?? 153_000
        let until = date == m.date ? min(hour, self.phase == .closed && m.volume > 0 ? 153_000 : self.marketTime) : hour
        let rows: [JSON] = m.minuteBars(on: date).filter { $0.time <= until }.suffix(120).reversed().map { bar in
            .object([
                ("stck_bsop_date", .string(String(date))), ("stck_cntg_hour", .string(KST.text(time: bar.time))),
                ("stck_prpr", Self.s(bar.close)), ("stck_oprc", Self.s(bar.open)), ("stck_hgpr", Self.s(bar.high)),
                ("stck_lwpr", Self.s(bar.low)), ("cntg_vol", Self.s(bar.volume)),
                ("acml_tr_pbmn", Self.s(bar.cumulativeValue)),
            ])
        }
        return .ok(
            [("output1", .object(self.chartHeader(m))), ("output2", .array(rows))],
            code: Self.ok.0,
            message: Self.ok.1
        )
    }

    /// `search-stock-info` (CTPF1002R, real host only): the listing as KIS's stock master has it.
    mutating func stockInfo(_ request: RESTRequest, _ call: Call) -> RESTReply {
        let code = request.param("PDNO")
        guard Catalog.isValidCode(code) else { return .rejection(Self.noData) }
        let index = self.symbolIndex[code]
        let listing = index.map { self.symbols[$0].listing } ?? Catalog.listing(code)
        let market = index.map { self.symbols[$0] }
        let par = Self.par(code)
        let close = market?.history.last?.close ?? listing.basePrice
        let designation = market?.designation ?? .none
        let output = JSON.object([
            ("pdno", .string(code)),
            ("prdt_type_cd", .string(request.param("PRDT_TYPE_CD").isEmpty ? "300" : request.param("PRDT_TYPE_CD"))),
            ("prdt_name", .string(listing.name)), ("prdt_name120", .string(listing.name)),
            ("prdt_abrv_name", .string(listing.name)),
            ("prdt_eng_name", .string(listing.englishName)), ("prdt_eng_name120", .string(listing.englishName)),
            ("prdt_eng_abrv_name", .string(listing.englishName)), ("mket_id_cd", "STK"), ("scty_grp_id_cd", "ST"),
            ("excg_dvsn_cd", "02"), ("setl_mmdd", "1231"), ("lstg_stqt", Self.s(listing.listedShares)),
            ("lstg_cptl_amt", Self.s(listing.listedShares * par)), ("cpta", Self.s(listing.listedShares * par)),
            ("papr", Self.s(par)), ("issu_pric", Self.s(par)),
            ("kospi200_item_yn", .string(Catalog.isLargeCap(code) ? "Y" : "N")), ("scts_mket_lstg_dt", ""),
            ("scts_mket_lstg_abol_dt", ""), ("kosdaq_mket_lstg_dt", ""), ("kosdaq_mket_lstg_abol_dt", ""),
            ("frbd_mket_lstg_dt", ""), ("frbd_mket_lstg_abol_dt", ""), ("reits_kind_cd", ""), ("etf_dvsn_cd", ""),
            ("oilf_fund_yn", "N"), ("idx_bztp_lcls_cd", ""), ("idx_bztp_mcls_cd", ""), ("idx_bztp_scls_cd", ""),
            ("idx_bztp_lcls_cd_name", ""), ("idx_bztp_mcls_cd_name", .string(listing.sector)),
            ("idx_bztp_scls_cd_name", ""),
            ("stck_kind_cd", "101"), ("mfnd_opng_dt", ""), ("mfnd_end_dt", ""), ("dpsi_erlm_cncl_dt", ""),
            ("etf_cu_qty", "0"),
            ("std_pdno", .string(listing.isin)), ("dpsi_aptm_erlm_yn", "Y"), ("etf_txtn_type_cd", ""),
            ("etf_type_cd", ""),
            ("lstg_abol_dt", ""), ("nwst_odst_dvsn_cd", ""), ("sbst_pric", Self.s(close * 76 / 100 / 10 * 10)),
            ("thco_sbst_pric", Self.s(close * 76 / 100 / 10 * 10)), ("thco_sbst_pric_chng_dt", ""),
            ("tr_stop_yn", .string(designation == .halted ? "Y" : "N")),
            ("admn_item_yn", .string(designation == .administrative ? "Y" : "N")),
            ("thdt_clpr", Self.s(market.map { $0.last > 0 ? $0.last : 0 } ?? 0)), ("bfdy_clpr", Self.s(close)),
            ("clpr_chng_dt", .string(String(market?.history.last?.date ?? 0))), ("std_idst_clsf_cd", ""),
            ("std_idst_clsf_cd_name", .string(listing.sector)), ("ocr_no", ""), ("crfd_item_yn", "N"),
            ("elec_scty_yn", "Y"),
            ("issu_istt_cd", ""), ("etf_chas_erng_rt_dbnb", "0"), ("etf_etn_ivst_heed_item_yn", "N"),
            ("stln_int_rt_dvsn_cd", ""), ("frnr_psnl_lmt_rt", "0"), ("lstg_rqsr_issu_istt_cd", ""),
            ("lstg_rqsr_item_cd", ""),
            ("trst_istt_issu_istt_cd", ""), ("cptt_trad_tr_psbl_yn", "N"), ("nxt_tr_stop_yn", "N"),
        ])
        return .ok([("output", output)], code: Self.ok.0, message: Self.ok.1)
    }
}
