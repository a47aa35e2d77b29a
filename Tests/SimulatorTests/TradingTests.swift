import Crypto
import Feed
import Foundation
import TestVectors
import Testing
import TickCore

extension FeedClient {
    /// Subscribes the notice TR and returns a decoder that took the session key from the ack.
    func noticeDecoder(approval: String, tr: String = "H0STCNI0") async throws -> FeedDecoder {
        var decoder = try FeedDecoder()
        try await self.send(
            text:
                #"{"header":{"approval_key":"\#(approval)","custtype":"P","tr_type":"1","content-type":"utf-8"},"body":{"input":{"tr_id":"\#(tr)","tr_key":"simuser"}}}"#
        )
        guard case .text(var ack) = try await self.next() else { throw TestFailure("no ack") }
        var sink = RecordCollector()
        _ = try ack.withUnsafeMutableBytes { buffer in
            Result { () throws(FeedError) -> DecodedMessage in try decoder.decode(buffer, localTs: 0, into: &sink) }
        }.get()
        let hasKey = decoder.hasKey
        #expect(hasKey)
        return decoder
    }

    /// Reads until `count` notices decoded (other frames are skipped); returns them and their raw frames.
    func notices(_ count: Int, decoder: inout FeedDecoder) async throws -> (notices: [Notice], frames: [String]) {
        var sink = RecordCollector()
        var frames: [String] = []
        while sink.notices.count < count {
            guard case .text(var bytes) = try await self.next() else { throw TestFailure("connection ended") }
            let text = String(decoding: bytes, as: UTF8.self)
            guard text.hasPrefix("1|") else { continue }
            frames.append(text)
            _ = try bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(FeedError) -> DecodedMessage in
                    try decoder.decode(buffer, localTs: 1_780_876_800_000_000_000, into: &sink)
                }
            }.get()
        }
        return (sink.notices, frames)
    }
}

/// Orders, fills and the account inquiries that must agree with them (docs/kis-protocol.md §4, §6.3).
@Suite struct TradingTests {
    static let ccld =
        "/uapi/domestic-stock/v1/trading/inquire-daily-ccld?CANO=50000000&ACNT_PRDT_CD=01&INQR_STRT_DT=20260608&INQR_END_DT=20260608&SLL_BUY_DVSN_CD=00&INQR_DVSN=00&PDNO=&CCLD_DVSN=00&ORD_GNO_BRNO=&ODNO=&INQR_DVSN_3=00&INQR_DVSN_1=&CTX_AREA_FK100=&CTX_AREA_NK100="
    static let balance =
        "/uapi/domestic-stock/v1/trading/inquire-balance?CANO=50000000&ACNT_PRDT_CD=01&AFHR_FLPR_YN=N&OFL_YN=&INQR_DVSN=02&UNPR_DVSN=01&FUND_STTL_ICLD_YN=N&FNCG_AMT_AUTO_RDPT_YN=N&PRCS_DVSN=00&CTX_AREA_FK100=&CTX_AREA_NK100="
    static let buyable =
        "/uapi/domestic-stock/v1/trading/inquire-psbl-order?CANO=50000000&ACNT_PRDT_CD=01&PDNO=005930&ORD_UNPR=60000&ORD_DVSN=00&CMA_EVLU_AMT_ICLD_YN=N&OVRS_ICLD_YN=N"

    @Test func restingOrderCancelAndNotices() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let client = try await FeedClient(port: h.ws)
        var decoder = try await client.noticeDecoder(approval: try await h.approvalKey())

        let placed = try await h.order(token: token, quantity: 10, price: 60_000)
        #expect(placed.status == 200)
        #expect(placed.keyOrder == ["rt_cd", "msg_cd", "msg1", "output"])
        #expect(placed.object["msg_cd"] as? String == "APBK0013")
        let output = placed.object["output"] as? [String: String] ?? [:]
        #expect(Array(output.keys).sorted() == ["KRX_FWDG_ORD_ORGNO", "ODNO", "ORD_TMD"])
        let odno = output["ODNO"] ?? ""
        #expect(odno.count == 10)

        // Cash is held for the open buy: 10 × 60000 plus its fee.
        let buyable = try await h.get(Self.buyable, token: token, tr: "TTTC8908R")
        #expect((buyable.object["output"] as? [String: String])?["ord_psbl_cash"] == String(100_000_000 - 600_091))

        let pending = try await h.get(
            "/uapi/domestic-stock/v1/trading/inquire-psbl-rvsecncl?CANO=50000000&ACNT_PRDT_CD=01&CTX_AREA_FK100=&CTX_AREA_NK100=&INQR_DVSN_1=0&INQR_DVSN_2=0",
            token: token,
            tr: "TTTC8036R"
        )
        let rows = pending.object["output"] as? [[String: String]] ?? []
        #expect(rows.map { $0["odno"] } == [odno])
        #expect(rows.first?["psbl_qty"] == "10")

        let cancel = try await h.post(
            Harness.revisePath,
            token: token,
            tr: "TTTC0803U",
            body:
                #"{"CANO":"50000000","ACNT_PRDT_CD":"01","KRX_FWDG_ORD_ORGNO":"06590","ORGN_ODNO":"\#(odno)","ORD_DVSN":"00","RVSE_CNCL_DVSN_CD":"02","ORD_QTY":"0","ORD_UNPR":"0","QTY_ALL_ORD_YN":"Y"}"#
        )
        #expect(cancel.object["msg_cd"] as? String == "APBK0013")
        let cancelNumber = (cancel.object["output"] as? [String: String])?["ODNO"] ?? ""
        #expect(cancelNumber != odno)

        let (notices, frames) = try await client.notices(2, decoder: &decoder)
        #expect(frames.allSatisfy { $0.hasPrefix("1|H0STCNI0|001|") })
        #expect(notices[0].orderNumber == UInt64(odno))
        #expect(notices[0].isFill == false && notices[0].acceptCode == 1 && notices[0].amendCode == 0)
        #expect(notices[0].orderQuantity == 10 && notices[0].orderPrice == 60_000 && notices[0].side == .buy)
        #expect(notices[0].account == 5_000_000_001)
        #expect(notices[1].amendCode == 2 && notices[1].orderNumber == UInt64(cancelNumber))

        let after = try await h.get(Self.buyable, token: token, tr: "TTTC8908R")
        #expect((after.object["output"] as? [String: String])?["ord_psbl_cash"] == "100000000")
        let daily = try await h.get(Self.ccld, token: token, tr: "TTTC0081R")
        let orders = daily.object["output1"] as? [[String: String]] ?? []
        #expect(orders.count == 2)
        #expect(orders.first { $0["odno"] == odno }?["rmn_qty"] == "0")
        #expect(orders.first { $0["orgn_odno"] == odno }?["cncl_yn"] == "Y")
        await client.close()
    }

    @Test func marketableOrdersFillAndTheAccountAgrees() async throws {
        let cash: Int64 = 10_000_000_000
        let h = try await Harness { $0.initialCash = cash }
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let client = try await FeedClient(port: h.ws)
        var decoder = try await client.noticeDecoder(approval: try await h.approvalKey())

        // A market buy large enough to take several resting orders.
        let bought = try await h.order(token: token, tr: "TTTC0802U", type: "01", quantity: 30_000, price: 0)
        #expect(bought.object["rt_cd"] as? String == "0")
        var (notices, _) = try await client.notices(2, decoder: &decoder)
        while notices.filter(\.isFill).reduce(0, { $0 + $1.quantity }) < 30_000 {
            notices += try await client.notices(1, decoder: &decoder).notices
        }
        let fills = notices.filter(\.isFill)
        // A market buy walks up the asks.
        #expect(zip(fills, fills.dropFirst()).allSatisfy { $1.price >= $0.price })
        let value = fills.reduce(Int64(0)) { $0 + Int64($1.quantity) * Int64($1.price) }
        // Fees are cut to whole won per fill.
        let fee = fills.reduce(Int64(0)) { $0 + Int64($1.quantity) * Int64($1.price) * 150 / 1_000_000 }

        let balance = try await h.get(Self.balance, token: token, tr: "TTTC8434R")
        #expect(
            balance.keyOrder == ["ctx_area_fk100", "ctx_area_nk100", "output1", "output2", "rt_cd", "msg_cd", "msg1"]
        )
        #expect(balance.headers["tr_cont"] == "D")
        let holding = (balance.object["output1"] as? [[String: String]])?.first ?? [:]
        #expect(holding["hldg_qty"] == "30000")
        #expect(holding["pchs_amt"] == String(value))
        let summary = (balance.object["output2"] as? [[String: String]])?.first ?? [:]
        // Trades settle two days later: the deposit is untouched, D+2 cash is not.
        #expect(summary["dnca_tot_amt"] == String(cash))
        #expect(summary["prvs_rcdl_excc_amt"] == String(cash - value - fee))
        #expect(summary["thdt_buy_amt"] == String(value))
        #expect(summary["thdt_tlex_amt"] == String(fee))

        // Selling costs the fee and the 0.20 % transaction tax.
        let sold = try await h.order(token: token, tr: "TTTC0011U", type: "01", quantity: 10_000, price: 0)
        #expect(sold.object["rt_cd"] as? String == "0")
        var sells: [Notice] = []
        while sells.reduce(0, { $0 + $1.quantity }) < 10_000 {
            sells += try await client.notices(1, decoder: &decoder).notices.filter { $0.isFill }
        }
        let sellValue = sells.reduce(Int64(0)) { $0 + Int64($1.quantity) * Int64($1.price) }
        let costs = sells.reduce(fee) { total, fill in
            let value = Int64(fill.quantity) * Int64(fill.price)
            return total + value * 150 / 1_000_000 + value * 2_000 / 1_000_000
        }
        let after = try await h.get(Self.balance, token: token, tr: "TTTC8434R")
        let afterSummary = (after.object["output2"] as? [[String: String]])?.first ?? [:]
        #expect(afterSummary["thdt_tlex_amt"] == String(costs))
        #expect(afterSummary["prvs_rcdl_excc_amt"] == String(cash - value + sellValue - costs))
        #expect((after.object["output1"] as? [[String: String]])?.first?["ord_psbl_qty"] == "20000")

        // A limit buy at the best ask for more than rests there: partly filled, the rest queues at its price.
        let ask = try await Self.bestAsk(h, token: token)
        let big = try await h.order(token: token, quantity: 100_000, price: ask)
        let odno = (big.object["output"] as? [String: String])?["ODNO"]
        let daily = try await h.get(Self.ccld, token: token, tr: "TTTC0081R")
        let row = (daily.object["output1"] as? [[String: String]])?.first { $0["odno"] == odno } ?? [:]
        let filled = Int(row["tot_ccld_qty"] ?? "0")!
        #expect(filled > 0 && filled < 100_000)
        #expect(row["rmn_qty"] == String(100_000 - filled))
        #expect(row["avg_prvs"] == String(ask))
        await client.close()
    }

    static func bestAsk(_ h: Harness, token: String) async throws -> Int64 {
        let chart = try await h.get(
            "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930&FID_INPUT_DATE_1=20260608&FID_INPUT_DATE_2=20260608&FID_PERIOD_DIV_CODE=D&FID_ORG_ADJ_PRC=0",
            token: token,
            tr: "FHKST03010100"
        )
        return Int64((chart.object["output1"] as? [String: Any])?["askp"] as? String ?? "0")!
    }

    @Test func aRestingOrderFillsWhenTheMarketTradesThroughIt() async throws {
        // The client only listens here, so no PINGPONG (which it would have to answer) gets in the way.
        let h = try await Harness { $0.pingInterval = 1e9 }
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let client = try await FeedClient(port: h.ws)
        var decoder = try await client.noticeDecoder(approval: try await h.approvalKey())
        let bid = try await Self.bestAsk(h, token: token) - 100
        let placed = try await h.order(token: token, quantity: 5, price: bid)
        #expect(placed.object["rt_cd"] as? String == "0")
        for _ in 0..<120 {
            try await h.advance(30)
            let daily = try await h.get(Self.ccld, token: token, tr: "TTTC0081R")
            if (daily.object["output1"] as? [[String: String]])?.first?["tot_ccld_qty"] == "5" { break }
        }
        let (notices, _) = try await client.notices(2, decoder: &decoder)
        #expect(notices[1].isFill)
        #expect(notices[1].price == Int32(bid))
        await client.close()
    }

    @Test func businessRejectionsAreHTTP200() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let badTick = try await h.order(token: token, quantity: 1, price: 65_050)
        #expect(badTick.status == 200)
        #expect(badTick.keyOrder == ["rt_cd", "msg_cd", "msg1"])
        #expect(badTick.object["rt_cd"] as? String != "0")
        let outside = try await h.order(token: token, quantity: 1, price: 90_000)
        #expect(outside.object["msg_cd"] as? String == "APBK0507")
        let tooMuch = try await h.order(token: token, quantity: 10_000, price: 65_000)
        #expect(tooMuch.object["rt_cd"] as? String == "7")
        #expect(tooMuch.object["msg_cd"] as? String == "APBK0952")
        let nothingToSell = try await h.order(token: token, tr: "TTTC0011U", quantity: 1, price: 65_000)
        #expect(nothingToSell.object["msg_cd"] as? String == "APBK0400")

        // A malformed body is a gateway error: HTTP 500 with the real IGW00007 body.
        let malformed = try await h.post(
            Harness.orderPath,
            token: token,
            tr: "TTTC0012U",
            body: #"{"CANO":"50000000"}"#
        )
        #expect(malformed.status == 500)
        let vector = try Vectors.bytes("real_order_cash_error_IGW00007_http500.json")
        #expect(malformed.body == vector.filter { $0 != 0x0A })
    }

    @Test func paperOrdersAnswerLikeThePaperServerAndPage() async throws {
        let h = try await Harness { $0.servers = [.paper: .init()] }
        defer { Task { await h.stop() } }
        let port = h.paperRest!
        let token = try await h.token(appKey: Harness.paperKey, port: port)
        for i in 0..<20 {
            try await h.advance(1)
            let tr = i % 2 == 0 ? "VTTC0012U" : "VTTC0802U"
            let answer = try await h.order(
                token: token,
                tr: tr,
                quantity: 1,
                price: 60_000 - Int64(i) * 100,
                port: port,
                appKey: Harness.paperKey
            )
            #expect(answer.object["msg_cd"] as? String == "40600000")
            #expect(answer.object["msg1"] as? String == "모의투자 매수주문이 완료 되었습니다.")
        }
        try await h.advance(1)
        let first = try await h.get(Self.ccld, token: token, tr: "VTTC0081R", port: port, appKey: Harness.paperKey)
        #expect(first.headers["tr_cont"] == "F")
        #expect((first.object["output1"] as? [Any])?.count == 15)
        let nk = first.object["ctx_area_nk100"] as? String ?? ""
        #expect(nk.count == 100)
        let next = Self.ccld.replacingOccurrences(
            of: "CTX_AREA_NK100=",
            with: "CTX_AREA_NK100=\(nk.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
        )
        let second = try await h.get(
            next,
            token: token,
            tr: "VTTC0081R",
            port: port,
            appKey: Harness.paperKey,
            extra: [("tr_cont", "N")]
        )
        #expect(second.headers["tr_cont"] == "E")
        #expect((second.object["output1"] as? [Any])?.count == 5)
        let all =
            ((first.object["output1"] as? [[String: String]]) ?? [])
            + ((second.object["output1"] as? [[String: String]]) ?? [])
        #expect(Set(all.compactMap { $0["odno"] }).count == 20)
    }
}

/// The quotation endpoints' shapes against the real samples.
@Suite struct QuotationTests {
    @Test func inquirePriceHasTheRealKeysInTheRealOrder() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let answer = try await h.get(
            "\(Harness.pricePath)?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930",
            token: token,
            tr: "FHKST01010100"
        )
        let vector = try Vectors.bytes("real_inquire_price_005930_20250725.json")
        #expect(answer.keyOrder == HTTPAnswer.keys(of: vector))
        let output = answer.object["output"] as? [String: String] ?? [:]
        let realOutput =
            (try JSONSerialization.jsonObject(with: Data(vector)) as? [String: Any])?["output"] as? [String: String]
            ?? [:]
        #expect(Set(output.keys) == Set(realOutput.keys))
        // Every value is a string (the cast above fails on a bare number), and all 80 keys are there.
        #expect(output.count == 80)
        let price = Int64(output["stck_prpr"]!)!
        let shares = Int64(output["lstn_stcn"]!)!
        #expect(output["stck_sdpr"] == "65800")
        #expect(output["hts_avls"] == String((price * shares + 50_000_000) / 100_000_000))
        #expect(Int64(output["stck_mxpr"]!)! == 85_500 && Int64(output["stck_llam"]!)! == 46_100)
        #expect(Int64(output["prdy_vrss"]!)! == price - 65_800)
        let volume = Int64(output["acml_vol"]!)!
        let value = Int64(output["acml_tr_pbmn"]!)!
        #expect(
            output["wghn_avrg_stck_prc"]
                == String(format: "%.2f", (Double(value) / Double(volume) * 100).rounded() / 100)
        )
    }

    @Test func minuteBarsRankingAndSearchInfo() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        try await h.advance(300)
        let minutes = try await h.get(
            "/uapi/domestic-stock/v1/quotations/inquire-time-itemchartprice?FID_ETC_CLS_CODE=&FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930&FID_INPUT_HOUR_1=000000&FID_PW_DATA_INCU_YN=Y",
            token: token,
            tr: "FHKST03010200"
        )
        let bars = minutes.object["output2"] as? [[String: String]] ?? []
        #expect(!bars.isEmpty && bars.count <= 30)
        #expect(bars.map { $0["stck_cntg_hour"]! } == bars.map { $0["stck_cntg_hour"]! }.sorted(by: >))

        let rank = try await h.get(
            "/uapi/domestic-stock/v1/quotations/volume-rank?FID_COND_MRKT_DIV_CODE=J&FID_COND_SCR_DIV_CODE=20171&FID_INPUT_ISCD=0000&FID_DIV_CLS_CODE=0&FID_BLNG_CLS_CODE=0&FID_TRGT_CLS_CODE=111111111&FID_TRGT_EXLS_CLS_CODE=0000000000&FID_INPUT_PRICE_1=&FID_INPUT_PRICE_2=&FID_VOL_CNT=&FID_INPUT_DATE_1=",
            token: token,
            tr: "FHPST01710000"
        )
        let rows = rank.object["output"] as? [[String: String]] ?? []
        #expect(rows.map { $0["data_rank"]! } == ["1", "2"])
        #expect(Int64(rows[0]["acml_vol"]!)! >= Int64(rows[1]["acml_vol"]!)!)

        let info = try await h.get(
            "/uapi/domestic-stock/v1/quotations/search-info?PDNO=005930&PRDT_TYPE_CD=300",
            token: token,
            tr: "CTPF1604R"
        )
        let output = info.object["output"] as? [String: String] ?? [:]
        #expect(output["std_pdno"] == "KR7005930003")
        #expect(output["shtn_pdno"] == "005930" && output["prdt_abrv_name"] == "삼성전자")
    }
}
