import Feed
import Foundation
import Testing

/// The seven quotation and account endpoints a trader needs beside prices and orders, real and paper, over
/// loopback.
@Suite struct QuoteDetailTests {
    static let quotations = "/uapi/domestic-stock/v1/quotations/"

    @Test func theRESTBookIsTheFeedsBookWithItsChanges() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let path = "\(Self.quotations)inquire-asking-price-exp-ccn?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930"
        let first = try await h.get(path, token: token, tr: "FHKST01010200")
        #expect(first.keyOrder == ["output1", "output2", "rt_cd", "msg_cd", "msg1"])
        let book = try #require(first.object["output1"] as? [String: String])
        let outlook = try #require(first.object["output2"] as? [String: String])
        #expect(book.count == 71 && outlook.count == 13)
        let asks = (1...10).map { Int64(book["askp\($0)"]!)! }
        let bids = (1...10).map { Int64(book["bidp\($0)"]!)! }
        #expect(asks == asks.sorted() && bids == bids.sorted(by: >) && bids[0] < asks[0])
        let askTotal = (1...10).reduce(Int64(0)) { $0 + Int64(book["askp_rsqn\($1)"]!)! }
        #expect(book["total_askp_rsqn"] == String(askTotal))
        #expect(book["new_mkop_cls_code"] == "20" && outlook["antc_mkop_cls_code"] == "112")
        // In continuous trading the outlook shows the opening call's result: its price is the day's open.
        #expect(outlook["antc_cnpr"] == outlook["stck_oprc"] && Int64(outlook["antc_vol"]!)! > 0)
        #expect(outlook["vi_cls_code"] == "N")

        // Asked again at once, nothing changed since the client was shown the book.
        let again = try await h.get(path, token: token, tr: "FHKST01010200")
        let unchanged = try #require(again.object["output1"] as? [String: String])
        #expect(
            (1...10).allSatisfy { unchanged["askp_rsqn_icdc\($0)"] == "0" && unchanged["bidp_rsqn_icdc\($0)"] == "0" }
        )
        #expect(unchanged["total_askp_rsqn_icdc"] == "0")

        // A client's bid joins the best bid: that level's change is exactly its quantity.
        let bid = bids[0]
        let before = Int64(unchanged["bidp_rsqn1"]!)!
        let placed = try await h.order(token: token, quantity: 7, price: bid)
        #expect(placed.object["rt_cd"] as? String == "0")
        let after = try #require(
            try await h.get(path, token: token, tr: "FHKST01010200").object["output1"] as? [String: String]
        )
        #expect(after["bidp1"] == String(bid))
        #expect(after["bidp_rsqn1"] == String(before + 7) && after["bidp_rsqn_icdc1"] == "7")
    }

    @Test func theLatestPrintsAreTheFeedsPrints() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let client = try await MarketFeedTests.subscribedClient(h, trs: ["H0STCNT0"])
        var decoder = try FeedDecoder()
        var decoded = Decoded()
        // 30 s ends on a publication boundary, so every print so far has been published.
        try await h.advance(30)
        let answer = try await h.get(
            "\(Self.quotations)inquire-ccnl?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930",
            token: token,
            tr: "FHKST01010300"
        )
        let rows = try #require(answer.object["output"] as? [[String: String]])
        #expect(rows.count == 30)
        #expect(
            Set(rows[0].keys) == [
                "stck_cntg_hour", "stck_prpr", "prdy_vrss", "prdy_vrss_sign", "cntg_vol", "tday_rltv", "prdy_ctrt",
            ]
        )
        let tape = rows.map { [$0["stck_cntg_hour"]!, $0["stck_prpr"]!, $0["cntg_vol"]!, $0["tday_rltv"]!] }
        let fields = { (record: [String]) in [record[1], record[2], record[12], record[18]] }
        while decoded.tradeFields.last.map(fields) != tape[0] {
            try await client.collect(frames: 1, decoder: &decoder, into: &decoded)
        }
        // Newest first, and the newest 30 prints of the feed: time, price, volume and trade strength.
        #expect(tape == Array(decoded.tradeFields.suffix(30).reversed().map(fields)))
        await client.close()
    }

    @Test func sellableIsHeldLessWhatWorkingSellsHold() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let path = "/uapi/domestic-stock/v1/trading/inquire-psbl-sell?CANO=50000000&ACNT_PRDT_CD=01&PDNO=005930"
        let none = try await h.get(path, token: token, tr: "TTTC8408R")
        #expect(none.keyOrder == ["output", "rt_cd", "msg_cd", "msg1"])
        #expect((none.object["output"] as? [String: String])?["ord_psbl_qty"] == "0")
        #expect(none.object["msg_cd"] as? String == "KIOK0560")

        let bought = try await h.order(token: token, tr: "TTTC0012U", type: "01", quantity: 50, price: 0)
        #expect(bought.object["rt_cd"] as? String == "0")
        let ask = try await TradingTests.bestAsk(h, token: token)
        let resting = try await h.order(token: token, tr: "TTTC0011U", quantity: 20, price: ask + 10 * 100)
        #expect(resting.object["rt_cd"] as? String == "0")
        let output = try #require(
            try await h.get(path, token: token, tr: "TTTC8408R").object["output"] as? [String: String]
        )
        #expect(output["cblc_qty"] == "50" && output["ord_psbl_qty"] == "30" && output["buy_qty"] == "50")
        #expect(Int64(output["pchs_amt"]!)! > 0 && Int64(output["now_pric"]!)! > 0)
        // Selling more than that is refused, as the balance's ord_psbl_qty says too.
        let tooMany = try await h.order(token: token, tr: "TTTC0011U", quantity: 31, price: ask)
        #expect(tooMany.object["msg_cd"] as? String == "APBK0400")
    }

    @Test func anEarlierDaysMinuteBarsAddUpToItsDailyBar() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let daily = try await h.get(
            "\(Self.quotations)inquire-daily-itemchartprice?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930&FID_INPUT_DATE_1=20260101&FID_INPUT_DATE_2=20260605&FID_PERIOD_DIV_CODE=D&FID_ORG_ADJ_PRC=0",
            token: token,
            tr: "FHKST03010100"
        )
        let day = try #require((daily.object["output2"] as? [[String: String]])?.first)
        #expect(day["stck_bsop_date"] == "20260605")
        // Paged back from 15:30 the way the official backtester pages, 120 rows a call.
        var rows: [[String: String]] = []
        var hour = "153000"
        var pages = 0
        while true {
            try await h.advance(0.1)
            let answer = try await h.get(
                "\(Self.quotations)inquire-time-dailychartprice?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930&FID_INPUT_HOUR_1=\(hour)&FID_INPUT_DATE_1=20260605&FID_PW_DATA_INCU_YN=Y&FID_FAKE_TICK_INCU_YN=",
                token: token,
                tr: "FHKST03010230"
            )
            #expect(answer.keyOrder == ["output1", "output2", "rt_cd", "msg_cd", "msg1"])
            let page = answer.object["output2"] as? [[String: String]] ?? []
            pages += 1
            rows += page.filter { row in rows.last.map { row["stck_cntg_hour"]! < $0["stck_cntg_hour"]! } ?? true }
            guard page.count == 120, let oldest = page.last?["stck_cntg_hour"], oldest > "090000" else { break }
            hour = oldest
        }
        #expect(pages == 4)
        let times = rows.map { $0["stck_cntg_hour"]! }
        #expect(times.first == "153000" && times.last == "090000" && times == times.sorted(by: >))
        #expect(rows.allSatisfy { $0["stck_bsop_date"] == "20260605" })
        #expect(rows.last!["stck_oprc"] == day["stck_oprc"] && rows.first!["stck_prpr"] == day["stck_clpr"])
        #expect(rows.map { Int64($0["stck_hgpr"]!)! }.max() == Int64(day["stck_hgpr"]!))
        #expect(rows.map { Int64($0["stck_lwpr"]!)! }.min() == Int64(day["stck_lwpr"]!))
        #expect(rows.reduce(Int64(0)) { $0 + Int64($1["cntg_vol"]!)! } == Int64(day["acml_vol"]!))
        #expect(rows.first!["acml_tr_pbmn"] == day["acml_tr_pbmn"])
    }

    @Test func dailyPricesMembersAndTheListing() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        try await h.advance(60)
        let days = try #require(
            try await h.get(
                "\(Self.quotations)inquire-daily-price?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930&FID_PERIOD_DIV_CODE=D&FID_ORG_ADJ_PRC=1",
                token: token,
                tr: "FHKST01010400"
            ).object["output"] as? [[String: String]]
        )
        #expect(days.count == 30)
        #expect(days[0]["stck_bsop_date"] == "20260608" && days[1]["stck_bsop_date"] == "20260605")
        // Today's change is from yesterday's close, the day's base.
        #expect(
            Int64(days[0]["prdy_vrss"]!)! == Int64(days[0]["stck_clpr"]!)! - 65_800 && days[1]["stck_clpr"] == "65800"
        )

        let flow = try #require(
            try await h.get(
                "\(Self.quotations)inquire-member?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930",
                token: token,
                tr: "FHKST01010600"
            )
            .object["output"] as? [String: String]
        )
        let quote = try await h.quote(token: token)
        let volume = Int64(quote["acml_vol"]!)!
        let sold = (1...5).map { Int64(flow["total_seln_qty\($0)"]!)! }
        #expect(sold == sold.sorted(by: >) && sold.reduce(0, +) <= volume && sold[0] > 0)
        #expect(
            flow["seln_mbcr_rlim1"]
                == String(format: "%.2f", (Double(sold[0]) / Double(volume) * 10_000).rounded() / 100)
        )
        #expect(flow["seln_mbcr_no1"]!.count == 5 && !flow["seln_mbcr_name1"]!.isEmpty)
        #expect(
            Int64(flow["glob_ntby_qty"]!)! == Int64(flow["glob_total_shnu_qty"]!)! - Int64(
                flow["glob_total_seln_qty"]!
            )!
        )

        let info = try #require(
            try await h.get(
                "\(Self.quotations)search-stock-info?PRDT_TYPE_CD=300&PDNO=005930",
                token: token,
                tr: "CTPF1002R"
            )
            .object["output"] as? [String: String]
        )
        #expect(info["std_pdno"] == "KR7005930003" && info["prdt_abrv_name"] == "삼성전자")
        #expect(info["papr"] == "100" && info["kospi200_item_yn"] == "Y" && info["bfdy_clpr"] == "65800")
    }

    /// The paper server offers the four quotations and refuses the three real-only inquiries with MCA00124, as
    /// KIS's paper server does with its real-only services.
    @Test func paperServesTheQuotationsAndRefusesTheRealOnlyInquiries() async throws {
        let h = try await Harness { $0.servers = [.paper: .init()] }
        defer { Task { await h.stop() } }
        let port = h.paperRest!
        let token = try await h.token(appKey: Harness.paperKey, port: port)
        let served = [
            ("inquire-asking-price-exp-ccn", "FHKST01010200", "output1"), ("inquire-ccnl", "FHKST01010300", "output"),
            ("inquire-daily-price", "FHKST01010400", "output"), ("inquire-member", "FHKST01010600", "output"),
        ]
        for (path, tr, output) in served {
            try await h.advance(1)
            let answer = try await h.get(
                "\(Self.quotations)\(path)?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930&FID_PERIOD_DIV_CODE=D&FID_ORG_ADJ_PRC=1",
                token: token,
                tr: tr,
                port: port,
                appKey: Harness.paperKey
            )
            #expect(answer.status == 200 && answer.object[output] != nil, "\(path): \(answer.text)")
        }
        let refused = [
            (
                "/uapi/domestic-stock/v1/trading/inquire-psbl-sell?CANO=60000000&ACNT_PRDT_CD=01&PDNO=005930",
                "VTTC8408R"
            ),
            (
                "\(Self.quotations)inquire-time-dailychartprice?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930&FID_INPUT_HOUR_1=130000&FID_INPUT_DATE_1=20260605",
                "FHKST03010230"
            ),
            ("\(Self.quotations)search-stock-info?PRDT_TYPE_CD=300&PDNO=005930", "VTPF1002R"),
        ]
        for (path, tr) in refused {
            try await h.advance(1)
            let answer = try await h.get(path, token: token, tr: tr, port: port, appKey: Harness.paperKey)
            #expect(answer.status == 500 && answer.object["msg_cd"] as? String == "MCA00124", "\(path): \(answer.text)")
        }
    }
}
