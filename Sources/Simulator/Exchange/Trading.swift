import JSON
import TickCore

/// The account endpoints: order-cash, order-rvsecncl, and the inquiries whose numbers must agree with the fills.
extension ExchangeState {
    /// Body fields every order needs, as strings of the documented lengths; anything else is IGW00007.
    private static func field(_ body: JSON, _ name: String, digits: ClosedRange<Int>? = nil) -> String? {
        guard let value = body[name]?.text else { return nil }
        if let digits {
            guard digits.contains(value.utf8.count), value.utf8.allSatisfy({ (48...57).contains($0) }) else {
                return nil
            }
        }
        return value
    }

    private static func account(_ body: JSON) -> String? {
        guard let cano = Self.field(body, "CANO", digits: 8...8),
            let product = Self.field(body, "ACNT_PRDT_CD", digits: 2...2)
        else {
            return nil
        }
        return cano + product
    }

    /// The answer to an accepted order, modify or cancel: rt_cd first and output last
    /// (vectors/real_order_cash_response_APBK0013.json), held by the delay fault, or replaced by EGW00302 when
    /// the timeout fault is armed (the order stands all the same, as on the real server).
    private mutating func answer(
        _ outcome: Result<OrderRecord, Rejection>,
        _ call: Call,
        paperText: String
    ) -> RESTReply {
        let record: OrderRecord
        switch outcome {
        case .failure(let rejection): return .rejection(rejection)
        case .success(let accepted): record = accepted
        }
        if self.pendingOrderTimeouts > 0 {
            self.pendingOrderTimeouts -= 1
            return .gateway(.orderTimeout)
        }
        let (code, text) = call.environment == .real ? ("APBK0013", "주문 전송 완료 되었습니다.") : ("40600000", paperText)
        let output = JSON.obj([
            "KRX_FWDG_ORD_ORGNO": .string(record.environment.branch),
            "ODNO": .string(record.numberText),
            "ORD_TMD": .string(KST.text(time: record.time)),
        ])
        var reply = RESTReply(
            status: 200,
            body: JSON.obj(["rt_cd": "0", "msg_cd": .string(code), "msg1": .string(text), "output": output]).bytes
        )
        reply.delay = self.faults.orderDelay
        return reply
    }

    mutating func orderCash(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let body = JSON(parsing: request.body),
            let account = Self.account(body),
            let code = Self.field(body, "PDNO"),
            let type = Self.field(body, "ORD_DVSN", digits: 2...2),
            let quantity = Self.field(body, "ORD_QTY", digits: 1...10).flatMap({ Int64($0) }),
            let price = Self.field(body, "ORD_UNPR", digits: 1...19).flatMap({ Int64($0) }),
            let venue = Self.venue(body)
        else { return .gateway(.malformedBody) }
        if call.environment == .paper && venue != .krx { return .rejection(.paperVenue) }
        let side: Side = call.trID.hasSuffix("0011U") || call.trID.hasSuffix("0801U") ? .sell : .buy
        let request = OrderRequest(
            environment: call.environment,
            appKey: call.appKey,
            account: account,
            code: code,
            side: side,
            orderType: type,
            quantity: quantity,
            price: price,
            route: venue
        )
        let paperText = side == .buy ? "모의투자 매수주문이 완료 되었습니다." : "모의투자 매도주문이 완료 되었습니다."
        return self.answer(self.submit(request), call, paperText: paperText)
    }

    mutating func orderRevise(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let body = JSON(parsing: request.body),
            let account = Self.account(body),
            Self.field(body, "KRX_FWDG_ORD_ORGNO") != nil,
            let original = Self.field(body, "ORGN_ODNO", digits: 1...10).flatMap({ Int64($0) }),
            let type = Self.field(body, "ORD_DVSN", digits: 2...2),
            let kind = Self.field(body, "RVSE_CNCL_DVSN_CD"), kind == "01" || kind == "02",
            let quantity = Self.field(body, "ORD_QTY", digits: 1...10).flatMap({ Int64($0) }),
            let price = Self.field(body, "ORD_UNPR", digits: 1...19).flatMap({ Int64($0) }),
            let all = Self.field(body, "QTY_ALL_ORD_YN"), all == "Y" || all == "N",
            let venue = Self.venue(body)
        else { return .gateway(.malformedBody) }
        if call.environment == .paper && venue != .krx { return .rejection(.paperVenue) }
        let revise = ReviseRequest(
            environment: call.environment,
            appKey: call.appKey,
            account: account,
            originalNumber: original,
            cancel: kind == "02",
            orderType: type,
            quantity: quantity,
            price: price,
            all: all == "Y"
        )
        let paperText = kind == "02" ? "모의투자 취소주문이 완료 되었습니다." : "모의투자 정정주문이 완료 되었습니다."
        return self.answer(self.revise(revise), call, paperText: paperText)
    }

    /// EXCG_ID_DVSN_CD: KRX when absent, as KIS defaults it; nil for a value that is not a venue. A modify or
    /// cancel works in its original order's book whatever this says.
    private static func venue(_ body: JSON) -> OrderRoute? {
        let venue = Self.field(body, "EXCG_ID_DVSN_CD") ?? "KRX"
        return OrderRoute.allCases.first { $0.description == venue }
    }

    private static func accountParam(_ request: RESTRequest) -> String? {
        let cano = request.param("CANO")
        let product = request.param("ACNT_PRDT_CD")
        guard cano.utf8.count == 8, product.utf8.count == 2,
            (cano + product).utf8.allSatisfy({ (48...57).contains($0) })
        else {
            return nil
        }
        return cano + product
    }

    /// Inquiry success text: the real server's, with its trailing spaces, or the paper server's (20310000, not
    /// checked against a capture).
    private static func inquiryMessage(_ environment: Environment, found: Bool) -> (String, String) {
        switch (environment, found) {
        case (.real, true): ("KIOK0510", "조회가 완료되었습니다                                                           ")
        case (.real, false): ("KIOK0560", "조회할 내용이 없습니다                                                         ")
        case (.paper, true): ("20310000", "모의투자 조회가 완료되었습니다.")
        case (.paper, false): ("20310000", "모의투자 조회할 내용이 없습니다.")
        }
    }

    mutating func revisable(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let account = Self.accountParam(request) else { return .gateway(.malformedBody) }
        let open = self.orders.filter {
            $0.isOpen && $0.environment == call.environment && $0.account == account && $0.appKey == call.appKey
        }
        let page = self.page(open, size: 50, request: request, call: call, search: account)
        let rows: [JSON] = page.rows.map { order in
            .obj([
                "ord_gno_brno": .string(order.environment.branch),
                "odno": .string(order.numberText),
                "orgn_odno": .string(order.originalNumberText),
                "ord_dvsn_name": .string(order.orderType == "01" ? "시장가" : "지정가"),
                "pdno": .string(order.code),
                "prdt_name": .string(order.name),
                "rvse_cncl_dvsn_name": .string(order.kind == .modify ? "정정" : ""),
                "ord_qty": Self.s(order.quantity),
                "ord_unpr": Self.s(order.price),
                "ord_tmd": .string(KST.text(time: order.time)),
                "tot_ccld_qty": Self.s(order.filled),
                "tot_ccld_amt": Self.s(order.filledValue),
                "psbl_qty": Self.s(order.remaining),
                "sll_buy_dvsn_cd": .string(order.side.kisCode),
                "ord_dvsn_cd": .string(order.orderType),
                "mgco_aptm_odno": "",
                "excg_dvsn_cd": "01",
                "excg_id_dvsn_cd": "KRX",
                "excg_id_dvsn_name": "한국거래소",
                "stpm_cndt_pric": "0",
                "stpm_efct_occr_yn": "N",
            ])
        }
        let (code, text) = Self.inquiryMessage(call.environment, found: !rows.isEmpty)
        return .ok(
            [("ctx_area_fk100", .string(page.fk)), ("ctx_area_nk100", .string(page.nk)), ("output", .array(rows))],
            code: code,
            message: text,
            headers: [("tr_cont", page.trCont)]
        )
    }

    mutating func balance(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let number = Self.accountParam(request) else { return .gateway(.malformedBody) }
        let account = self.account(call.environment, number)
        let held = account.holdings.filter { $0.value.quantity > 0 || $0.value.soldToday > 0 }.sorted {
            $0.key < $1.key
        }
        let page = self.page(
            held,
            size: call.environment == .real ? 50 : 20,
            request: request,
            call: call,
            search: number
        )
        var evaluation: Int64 = 0
        var purchase: Int64 = 0
        for (code, holding) in held {
            evaluation += holding.quantity * self.currentPrice(code)
            purchase += holding.cost
        }
        let rows: [JSON] = page.rows.map { code, holding in
            let price = self.currentPrice(code)
            let value = holding.quantity * price
            let symbol = self.symbolIndex[code].map { self.symbols[$0] }
            return .obj([
                "pdno": .string(code),
                "prdt_name": .string(symbol?.listing.name ?? code),
                "trad_dvsn_name": "현금",
                "bfdy_buy_qty": Self.s(holding.boughtYesterday),
                "bfdy_sll_qty": Self.s(holding.soldYesterday),
                "thdt_buyqty": Self.s(holding.boughtToday),
                "thdt_sll_qty": Self.s(holding.soldToday),
                "hldg_qty": Self.s(holding.quantity),
                "ord_psbl_qty": Self.s(self.sellable(call.environment, number, code: code)),
                "pchs_avg_pric": .string(
                    Decimal2.text4(holding.quantity > 0 ? Decimal2.ratio(holding.cost, holding.quantity) : 0)
                ),
                "pchs_amt": Self.s(holding.cost),
                "prpr": Self.s(price),
                "evlu_amt": Self.s(value),
                "evlu_pfls_amt": Self.s(value - holding.cost),
                "evlu_pfls_rt": .string(Decimal2.text(Decimal2.percent(value - holding.cost, holding.cost))),
                "evlu_erng_rt": "0.00000000",
                "loan_dt": "",
                "loan_amt": "0",
                "stln_slng_chgs": "0",
                "expd_dt": "",
                "fltt_rt": .string(Decimal2.text(symbol.map { Decimal2.percent(price - $0.base, $0.base) } ?? 0)),
                "bfdy_cprs_icdc": Self.s(symbol.map { price - $0.base } ?? 0),
                "item_mgna_rt_name": "20%",
                "grta_rt_name": "",
                "sbst_pric": Self.s(price * 76 / 100 / 10 * 10),
                "stck_loan_unpr": "0",
            ])
        }
        let today = account.cash(settledBy: self.day)
        let tomorrow = account.cash(settledBy: KRX.nextTradingDay(after: self.day))
        let projected = account.projectedCash
        let summary = JSON.obj([
            "dnca_tot_amt": Self.s(today),
            "nxdy_excc_amt": Self.s(tomorrow),
            "prvs_rcdl_excc_amt": Self.s(projected),
            "cma_evlu_amt": "0",
            "bfdy_buy_amt": Self.s(account.boughtYesterday),
            "thdt_buy_amt": Self.s(account.boughtToday),
            "nxdy_auto_rdpt_amt": "0",
            "bfdy_sll_amt": Self.s(account.soldYesterday),
            "thdt_sll_amt": Self.s(account.soldToday),
            "d2_auto_rdpt_amt": "0",
            "bfdy_tlex_amt": Self.s(account.costsYesterday),
            "thdt_tlex_amt": Self.s(account.costsToday),
            "tot_loan_amt": "0",
            "scts_evlu_amt": Self.s(evaluation),
            "tot_evlu_amt": Self.s(evaluation + projected),
            "nass_amt": Self.s(evaluation + projected),
            "fncg_gld_auto_rdpt_yn": "",
            "pchs_amt_smtl_amt": Self.s(purchase),
            "evlu_amt_smtl_amt": Self.s(evaluation),
            "evlu_pfls_smtl_amt": Self.s(evaluation - purchase),
            "tot_stln_slng_chgs": "0",
            "bfdy_tot_asst_evlu_amt": Self.s(account.initialCash),
            "asst_icdc_amt": Self.s(evaluation + projected - account.initialCash),
            "asst_icdc_erng_rt": "0.00000000",
        ])
        let (code, text) = Self.inquiryMessage(call.environment, found: true)
        return .ok(
            [
                ("ctx_area_fk100", .string(page.fk)), ("ctx_area_nk100", .string(page.nk)), ("output1", .array(rows)),
                ("output2", .array([summary])),
            ],
            code: code,
            message: text,
            headers: [("tr_cont", page.trCont)]
        )
    }

    /// `inquire-psbl-sell` (TTTC8408R, real host only): what the account holds of `PDNO` and how much of it can
    /// still be sold (held less what open sells hold), with its valuation.
    mutating func sellableQuantity(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let number = Self.accountParam(request) else { return .gateway(.malformedBody) }
        let code = request.param("PDNO")
        guard Catalog.isValidCode(code) else { return .gateway(.malformedBody) }
        let holding = self.account(call.environment, number).holdings[code] ?? Holding()
        let price = self.currentPrice(code)
        let value = holding.quantity * price
        let output = JSON.obj([
            "pdno": .string(code),
            "prdt_name": .string(self.symbolIndex[code].map { self.symbols[$0].listing.name } ?? ""),
            "buy_qty": Self.s(holding.boughtToday),
            "sll_qty": Self.s(holding.soldToday),
            "cblc_qty": Self.s(holding.quantity),
            "nsvg_qty": Self.s(holding.quantity),
            "ord_psbl_qty": Self.s(self.sellable(call.environment, number, code: code)),
            "pchs_avg_pric": .string(
                Decimal2.text4(holding.quantity > 0 ? Decimal2.ratio(holding.cost, holding.quantity) : 0)
            ),
            "pchs_amt": Self.s(holding.cost),
            "now_pric": Self.s(price),
            "evlu_amt": Self.s(value),
            "evlu_pfls_amt": Self.s(value - holding.cost),
            "evlu_pfls_rt": .string(Decimal2.text(Decimal2.percent(value - holding.cost, holding.cost))),
        ])
        let (code2, text) = Self.inquiryMessage(call.environment, found: holding.quantity > 0)
        return .ok([("output", output)], code: code2, message: text)
    }

    func currentPrice(_ code: String) -> Int64 {
        self.symbolIndex[code].map { self.symbols[$0].reference } ?? 0
    }

    mutating func dailyOrders(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let number = Self.accountParam(request) else { return .gateway(.malformedBody) }
        let from = UInt32(request.param("INQR_STRT_DT")) ?? 0
        let to = UInt32(request.param("INQR_END_DT")) ?? 99_999_999
        let side = request.param("SLL_BUY_DVSN_CD")
        let code = request.param("PDNO")
        let odno = Int64(request.param("ODNO")) ?? 0
        let filledFilter = request.param("CCLD_DVSN")
        var rows = self.orders.filter { order in
            order.environment == call.environment && order.account == number && order.date >= from && order.date <= to
                && (side == "" || side == "00" || side == order.side.kisCode)
                && (code == "" || code == order.code) && (odno == 0 || odno == order.number)
                && (filledFilter == "01" ? order.filled > 0 : filledFilter == "02" ? order.remaining > 0 : true)
        }
        if request.param("INQR_DVSN") != "01" { rows.reverse() }
        let page = self.page(
            rows,
            size: call.environment == .real ? 100 : 15,
            request: request,
            call: call,
            search: number
        )
        let list: [JSON] = page.rows.map { order in
            .obj([
                "ord_dt": .string(String(order.date)),
                "ord_gno_brno": .string(order.environment.branch),
                "odno": .string(order.numberText),
                "orgn_odno": .string(order.originalNumberText),
                "ord_dvsn_name": .string(order.orderType == "01" ? "시장가" : "지정가"),
                "sll_buy_dvsn_cd": .string(order.side.kisCode),
                "sll_buy_dvsn_cd_name": .string(order.side == .buy ? "매수" : "매도"),
                "pdno": .string(order.code),
                "prdt_name": .string(order.name),
                "ord_qty": Self.s(order.quantity),
                "ord_unpr": Self.s(order.price),
                "ord_tmd": .string(KST.text(time: order.time)),
                "tot_ccld_qty": Self.s(order.filled),
                "avg_prvs": Self.s(order.filled > 0 ? order.filledValue / order.filled : 0),
                "cncl_yn": .string(order.kind == .cancel ? "Y" : "N"),
                "tot_ccld_amt": Self.s(order.filledValue),
                "loan_dt": "",
                "ordr_empno": "",
                "ord_dvsn_cd": .string(order.orderType),
                "cnc_cfrm_qty": Self.s(order.kind == .cancel ? order.quantity : 0),
                "rmn_qty": Self.s(order.remaining),
                "rjct_qty": Self.s(order.rejected),
                "ccld_cndt_name": .string(order.condition == .ioc ? "IOC" : order.condition == .fok ? "FOK" : "없음"),
                "inqr_ip_addr": "",
                "cpbc_ordp_ord_rcit_dvsn_cd": "",
                "cpbc_ordp_infm_mthd_dvsn_cd": "",
                "infm_tmd": "",
                "ctac_tlno": "",
                "prdt_type_cd": "300",
                "excg_dvsn_cd": "01",
                "cpbc_ordp_mtrl_dvsn_cd": "",
                "ord_orgno": .string(order.environment.branch),
                "rsvn_ord_end_dt": "",
                "excg_id_dvsn_Cd": "KRX",
                "stpm_cndt_pric": "0",
                "stpm_efct_occr_dtmd": "",
            ])
        }
        let filledValue = rows.reduce(0) { $0 + $1.filledValue }
        let filledQuantity = rows.reduce(0) { $0 + $1.filled }
        let summary = JSON.obj([
            "tot_ord_qty": Self.s(rows.reduce(0) { $0 + $1.quantity }),
            "tot_ccld_qty": Self.s(filledQuantity),
            "tot_ccld_amt": Self.s(filledValue),
            "prsm_tlex_smtl": Self.s(self.config.costs.fee(filledValue)),
            "pchs_avg_pric": .string(Decimal2.text4(Decimal2.ratio(filledValue, filledQuantity))),
        ])
        let (code2, text) = Self.inquiryMessage(call.environment, found: !list.isEmpty)
        return .ok(
            [
                ("ctx_area_fk100", .string(page.fk)), ("ctx_area_nk100", .string(page.nk)), ("output1", .array(list)),
                ("output2", summary),
            ],
            code: code2,
            message: text,
            headers: [("tr_cont", page.trCont)]
        )
    }

    mutating func buyable(_ request: RESTRequest, _ call: Call) -> RESTReply {
        guard let number = Self.accountParam(request) else { return .gateway(.malformedBody) }
        let code = request.param("PDNO")
        let type = request.param("ORD_DVSN")
        let symbol = self.symbolIndex[code].map { self.symbols[$0] }
        // A market-type order is priced at the upper limit, as KIS margins it.
        let given = Int64(request.param("ORD_UNPR")) ?? 0
        let unit = type == "01" || given == 0 ? (symbol?.upper ?? 0) : given
        let cash = self.buyingPower(call.environment, number)
        let quantity = unit > 0 ? max(0, cash) * 1_000_000 / (unit * (1_000_000 + self.config.costs.feePPM)) : 0
        let output = JSON.obj([
            "ord_psbl_cash": Self.s(cash),
            "ord_psbl_sbst": "0",
            "ruse_psbl_amt": "0",
            "fund_rpch_chgs": "0",
            "psbl_qty_calc_unpr": Self.s(unit),
            "nrcvb_buy_amt": Self.s(quantity * unit),
            "nrcvb_buy_qty": Self.s(quantity),
            "max_buy_amt": Self.s(quantity * unit),
            "max_buy_qty": Self.s(quantity),
            "cma_evlu_amt": "0",
            "ovrs_re_use_amt_wcrc": "0",
            "ord_psbl_frcr_amt_wcrc": "0",
        ])
        let (code2, text) = Self.inquiryMessage(call.environment, found: true)
        return .ok([("output", output)], code: code2, message: text)
    }
}
