import Foundation
import TestVectors
import Testing

/// `/oauth2/*` and the checks every `/uapi` request passes (docs/kis-protocol.md §2, §3.4).
@Suite struct AuthTests {
    @Test func tokenIsReusedWithinSixHoursAndThrottledWithinAMinute() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let first = try await h.tokenP()
        #expect(first.status == 200)
        #expect(first.keyOrder == ["access_token", "access_token_token_expired", "token_type", "expires_in"])
        #expect(first.object["token_type"] as? String == "Bearer")
        #expect(first.object["expires_in"] as? Int == 86_400)
        let expired = first.object["access_token_token_expired"] as? String ?? ""
        #expect(expired.range(of: #"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"#, options: .regularExpression) != nil)

        // A second issue within 60 s: HTTP 403 with the distinct body of the real server.
        let throttled = try await h.tokenP()
        #expect(throttled.status == 403)
        let vector = try Vectors.bytes("real_tokenP_error_EGW00133_http403.json")
        #expect(throttled.body == vector.filter { $0 != 0x0A })

        // After a minute and within six hours: the same token, with less life left.
        try await h.advance(3_600)
        let again = try await h.tokenP()
        #expect(again.object["access_token"] as? String == first.object["access_token"] as? String)
        #expect(again.object["expires_in"] as? Int == 86_400 - 3_600)

        // After six hours: a new one.
        try await h.advance(5 * 3_600 + 1)
        let fresh = try await h.tokenP()
        #expect(fresh.object["access_token"] as? String != first.object["access_token"] as? String)
    }

    @Test func badCredentialsAreRefused() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let shortKey = try await h.tokenP(appKey: "short")
        #expect(shortKey.status == 403)
        #expect(shortKey.object["error_code"] as? String == "EGW00103")
        _ = try await h.token()
        let wrongSecret = try await h.tokenP(secret: String(repeating: "x", count: 180))
        #expect(wrongSecret.object["error_code"] as? String == "EGW00105")
    }

    @Test func everyCallChecksTokenAppKeyAndSecret() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let path = "\(Harness.pricePath)?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930"
        let ok = try await h.get(path, token: token, tr: "FHKST01010100")
        #expect(ok.status == 200)

        let invalid = try await h.get(path, token: "not-a-token", tr: "FHKST01010100")
        #expect(invalid.status == 500)
        #expect(invalid.keyOrder == ["rt_cd", "msg_cd", "msg1"])
        #expect(invalid.object["msg_cd"] as? String == "EGW00121")

        let noKey = try await h.http(
            "GET",
            path,
            headers: [("authorization", "Bearer \(token)"), ("tr_id", "FHKST01010100")]
        )
        #expect(noKey.object["msg_cd"] as? String == "EGW00102")

        let badSecret = try await h.http(
            "GET",
            path,
            headers: [
                ("authorization", "Bearer \(token)"), ("appkey", Harness.appKey),
                ("appsecret", String(repeating: "z", count: 180)), ("tr_id", "FHKST01010100"),
            ]
        )
        #expect(badSecret.object["msg_cd"] as? String == "EGW00105")

        // 24 hours later the token has expired: EGW00123 as HTTP 500.
        try await h.advance(86_400)
        let expired = try await h.get(path, token: token, tr: "FHKST01010100")
        #expect(expired.status == 500)
        #expect(expired.object["msg_cd"] as? String == "EGW00123")
    }

    @Test func revokeEndsAToken() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let body = #"{"appkey":"\#(Harness.appKey)","appsecret":"\#(Harness.secret)","token":"\#(token)"}"#
        let revoked = try await h.http("POST", "/oauth2/revokeP", body: body)
        #expect(revoked.status == 200)
        #expect(revoked.object["code"] as? Int == 200)
        let after = try await h.get(
            "\(Harness.pricePath)?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930",
            token: token,
            tr: "FHKST01010100"
        )
        #expect(after.object["msg_cd"] as? String == "EGW00121")
        let twice = try await h.http("POST", "/oauth2/revokeP", body: body)
        #expect(twice.status == 403)
        #expect(twice.object["error_code"] as? String == "EGW00121")
    }

    @Test func approvalKeysAreFreshAndHashkeyEchoes() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let a = try await h.approvalKey()
        let b = try await h.approvalKey()
        #expect(a != b)
        #expect(
            a.range(
                of: #"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$"#,
                options: .regularExpression
            ) != nil
        )
        // `secretkey`, not `appsecret`, is the Approval field.
        let wrongField = try await h.http(
            "POST",
            "/oauth2/Approval",
            body: #"{"grant_type":"client_credentials","appkey":"\#(Harness.appKey)","appsecret":"\#(Harness.secret)"}"#
        )
        #expect(wrongField.status == 403)

        let order =
            #"{"CANO":"50000000","ACNT_PRDT_CD":"01","PDNO":"005930","ORD_DVSN":"00","ORD_QTY":"1","ORD_UNPR":"65000"}"#
        let hash = try await h.http(
            "POST",
            "/uapi/hashkey",
            headers: [("appkey", Harness.appKey), ("appsecret", Harness.secret)],
            body: order
        )
        #expect(hash.keyOrder == ["BODY", "HASH"])
        #expect((hash.object["HASH"] as? String)?.range(of: "^[0-9a-f]{64}$", options: .regularExpression) != nil)
        #expect(hash.text.contains(#""BODY":\#(order)"#))
    }

    @Test func ratesAreTwentyPerSecondRealAndTwoPaper() async throws {
        let h = try await Harness { $0.servers = [.real: .init(), .paper: .init()] }
        defer { Task { await h.stop() } }
        let token = try await h.token()
        let path = "\(Harness.pricePath)?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930"
        var codes: [String] = []
        for _ in 0..<21 {
            let answer = try await h.get(path, token: token, tr: "FHKST01010100")
            codes.append(answer.status == 200 ? "ok" : (answer.object["msg_cd"] as? String ?? "?"))
        }
        #expect(codes.prefix(20).allSatisfy { $0 == "ok" })
        #expect(codes.last == "EGW00201")
        try await h.advance(1)
        #expect(try await h.get(path, token: token, tr: "FHKST01010100").status == 200)

        let paper = h.paperRest!
        let paperToken = try await h.token(appKey: Harness.paperKey, port: paper)
        var paperCodes: [Int] = []
        for _ in 0..<3 {
            paperCodes.append(
                try await h.get(path, token: paperToken, tr: "FHKST01010100", port: paper, appKey: Harness.paperKey)
                    .status
            )
        }
        #expect(paperCodes == [200, 200, 500])
        // The state counts the refusals the budget made, not those of the rate-limit fault.
        try await h.fault(#"{"fault":"rate_limit","count":1}"#)
        #expect(try await h.get(path, token: token, tr: "FHKST01010100").status == 500)
        #expect(try await h.http("GET", "/sim/state").object["over_budget"] as? Int == 2)
    }

    /// A client spreading its feed over several app keys spends each key's budget, not one shared.
    @Test func eachAppKeyHasARateWindowOfItsOwn() async throws {
        let h = try await Harness { $0.servers = [.paper: .init()] }
        defer { Task { await h.stop() } }
        let (paper, other) = (h.paperRest!, String(repeating: "Q", count: 36))
        let path = "\(Harness.pricePath)?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930"
        let tokens = [
            Harness.paperKey: try await h.token(appKey: Harness.paperKey, port: paper),
            other: try await h.token(appKey: other, port: paper),
        ]
        var statuses: [String: [Int]] = [:]
        for key in [Harness.paperKey, Harness.paperKey, Harness.paperKey, other, other, other] {
            let answer = try await h.get(path, token: tokens[key]!, tr: "FHKST01010100", port: paper, appKey: key)
            statuses[key, default: []].append(answer.status)
        }
        #expect(statuses == [Harness.paperKey: [200, 200, 500], other: [200, 200, 500]])
    }

    @Test func trIdsAndKeysBelongToTheirServer() async throws {
        let h = try await Harness { $0.servers = [.real: .init(), .paper: .init()] }
        defer { Task { await h.stop() } }
        let paper = h.paperRest!
        let realToken = try await h.token()
        let paperToken = try await h.token(appKey: Harness.paperKey, port: paper)
        let balance = "/uapi/domestic-stock/v1/trading/inquire-balance?CANO=50000000&ACNT_PRDT_CD=01"

        let realTROnPaper = try await h.get(
            balance,
            token: paperToken,
            tr: "TTTC8434R",
            port: paper,
            appKey: Harness.paperKey
        )
        #expect(realTROnPaper.status == 500)
        #expect(realTROnPaper.object["msg_cd"] as? String == "EGW00213")
        #expect(realTROnPaper.object["msg1"] as? String == "모의투자 TR 이 아닙니다.")

        let paperTROnReal = try await h.get(balance, token: realToken, tr: "VTTC8434R")
        #expect(paperTROnReal.object["msg_cd"] as? String == "EGW00213")

        // A paper key on the real server: EGW02004, as python-kis issue #90 shows.
        let paperKeyOnReal = try await h.get(balance, token: paperToken, tr: "TTTC8434R", appKey: Harness.paperKey)
        #expect(paperKeyOnReal.object["msg_cd"] as? String == "EGW02004")
        #expect(paperKeyOnReal.object["msg1"] as? String == "실전투자 도메인은 모의투자 앱키로 호출하실 수 없습니다.")

        // inquire-psbl-rvsecncl is not offered on paper (a fresh second: paper allows two calls a second).
        try await h.advance(1)
        let notOnPaper = try await h.get(
            "/uapi/domestic-stock/v1/trading/inquire-psbl-rvsecncl?CANO=50000000&ACNT_PRDT_CD=01",
            token: paperToken,
            tr: "TTTC0084R",
            port: paper,
            appKey: Harness.paperKey
        )
        #expect(notOnPaper.object["msg_cd"] as? String == "MCA00124")
    }

    /// The official client (`kis_auth.APIResp._setHeader`) turns every all-lower-case header name into a
    /// namedtuple field, so such a name must be a Python identifier; it reads `tr_cont` from there. python-kis
    /// and kistick read names in any case.
    @Test func headerNamesAreSpelledAsKISSpellsThem() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let issued = try await h.tokenP()
        let token = try #require(issued.object["access_token"] as? String)
        let quote = try await h.get(
            "\(Harness.pricePath)?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930",
            token: token,
            tr: "FHKST01010100"
        )
        let order = try await h.order(token: token, quantity: 1, price: 60_000)
        for answer in [issued, quote, order] {
            #expect(answer.status == 200)
            #expect(answer.headerNames.contains("Content-Type") && answer.headerNames.contains("Content-Length"))
            for name in answer.headerNames where name == name.lowercased() {
                let identifier = name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
                #expect(identifier, "\(name) cannot be a namedtuple field")
            }
        }
        #expect(["tr_id", "tr_cont", "gt_uid"].allSatisfy(quote.headerNames.contains))
        #expect(quote.headers["tr_id"] == "FHKST01010100")
    }
}
