import Foundation
import JSON
import KIS
import Net
import ScriptedServer
import Simulator
import Synchronization
import Testing
import TickCore

/// The REST client against the in-process simulator on loopback: KIS's envelope, tokens, rate limits and lost
/// order answers, as they happen on a trading day.
@Suite struct RESTClientTests {
    @Test func quotesBalanceAndBuyableReadTheSimulatorsFigures() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        let client = try kis.client()
        let quote = try client.price("005930")
        #expect(quote.price > 0 && quote.lowerLimit < quote.price && quote.price < quote.upperLimit)
        #expect(quote.tickSize > 0 && quote.price % quote.tickSize == 0 && quote.marketCap > 0)
        let balance = try client.balance()
        #expect(balance.holdings.isEmpty && balance.cash == 100_000_000)
        let buyable = try client.buyable("005930", price: quote.price)
        #expect(buyable.quantity > 0 && buyable.quantity <= 100_000_000 / quote.price)
    }

    @Test func aSecondProcessReusesTheCachedToken() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        let first = try kis.client()
        _ = try first.price("005930")
        // A second client with its own memory, as another process would have, sharing only the cache folder.
        let second = try kis.client()
        _ = try second.price("005930")
        #expect(first.tokens.statistics.requests == 1)
        #expect(second.tokens.statistics.requests == 0)
        #expect(second.tokens.statistics.adoptedFromCache == 1)
        let cache = try TokenCache(directory: kis.cacheDirectory)
        let attributes = try FileManager.default.attributesOfItem(
            atPath: cache.filePath(appKey: kis.settings.credentials.appKey, environment: .real)
        )
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func aTokenExpiringMidSessionIsReplacedOnceAndTheCallRetried() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        // The simulator's clock and the token manager's move together: waiting out KIS's one-token-a-minute rule
        // advances both, so the test takes no real minute.
        let clock = SimulatorClock(kis.simulator)
        let client = try kis.client(clock: clock)
        _ = try client.price("005930")
        try kis.fault(#"{"fault":"expire_token"}"#)
        let quote = try client.price("005930")
        #expect(quote.price > 0)
        #expect(client.tokens.statistics.requests == 2)
        #expect(clock.slept >= 60)
    }

    @Test func aRateLimitBurstIsRetriedForQueriesButNotForOrders() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        let client = try kis.client()
        _ = try client.price("005930")
        try kis.fault(#"{"fault":"rate_limit","count":2}"#)
        #expect(try client.price("005930").price > 0)
        var lane = try client.makeOrderLane()
        try kis.fault(#"{"fault":"rate_limit","count":1}"#)
        let ticket = OrderTicket(side: .buy, code: SymbolCode("005930")!, quantity: 1, price: 0)
        #expect {
            _ = try lane.place(ticket)
        } throws: { error in
            guard case KISError.rejected(let failure) = error else { return false }
            return failure.msgCd == "EGW00201"
        }
        #expect(try client.dailyOrders(from: kis.today, to: kis.today).isEmpty)
    }

    /// The simulator counts the approval key among the key's requests: one taken beside the limiter made the
    /// engine's first order the window's third on paper, refused with EGW00201.
    @Test func theApprovalKeyTakesASlotOfTheKeysBudget() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        let client = try kis.client()
        let granted = client.limiter.grantCount
        #expect(try !client.approvalKey().reveal.isEmpty)
        #expect(client.limiter.grantCount == granted + 1)
    }

    @Test func anOrderWhoseAnswerIsLostIsFoundAndNeverSentTwice() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        let client = try kis.client()
        var lane = try client.makeOrderLane()
        let quote = try client.price("005930")
        let ticket = OrderTicket(
            side: .buy,
            code: SymbolCode("005930")!,
            quantity: 3,
            price: quote.price - 10 * quote.tickSize
        )
        let known = try lane.place(ticket)
        try kis.fault(#"{"fault":"order_timeout","count":1}"#)
        let sentAt = try kis.marketTime()
        #expect {
            _ = try lane.place(ticket)
        } throws: { error in
            guard case KISError.responseLost = error else { return false }
            return true
        }
        let outcome = try OrderRecovery(client: client).resolve(ticket, sentAtKST: sentAt, known: [known.orderNumber])
        guard case .placed(let record) = outcome else {
            Issue.record("the accepted order was not found: \(outcome)")
            return
        }
        let orders = try client.dailyOrders(from: kis.today, to: kis.today)
        #expect(orders.count == 2)
        #expect(Set(orders.compactMap { UInt64($0.orderNumber) }) == [known.orderNumber, UInt64(record.orderNumber)])
        #expect(record.quantity == 3 && record.price == ticket.price)
    }

    @Test func anOrderThatNeverReachedKISIsReportedNotPlaced() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        let client = try kis.client()
        var recovery = OrderRecovery(client: client)
        recovery.pauseMilliseconds = 10
        let ticket = OrderTicket(side: .sell, code: SymbolCode("000660")!, quantity: 7, price: 1_000)
        #expect(try recovery.resolve(ticket, sentAtKST: 90_000, known: []) == .notPlaced)
    }

    @Test func aSlowAnswerTimesOutAndRecoveryFindsTheOrder() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        var settings = kis.settings
        settings.timeoutMilliseconds = 200
        let client = try kis.client(settings: settings)
        var lane = try client.makeOrderLane()
        try kis.fault(#"{"fault":"order_delay","seconds":1}"#)
        let ticket = OrderTicket(side: .buy, code: SymbolCode("005930")!, quantity: 2, price: 0)
        let sentAt = try kis.marketTime()
        #expect {
            _ = try lane.place(ticket)
        } throws: { error in
            guard case KISError.responseLost(_, .timedOut) = error else { return false }
            return true
        }
        try kis.fault(#"{"fault":"clear"}"#)
        let outcome = try OrderRecovery(client: client).resolve(ticket, sentAtKST: sentAt, known: [])
        guard case .placed(let record) = outcome else {
            Issue.record("the order was not found: \(outcome)")
            return
        }
        #expect(record.quantity == 2 && record.orderType == "01")
        #expect(try client.dailyOrders(from: kis.today, to: kis.today).count == 1)
    }

    /// Two identical orders sent 50 ms apart by two processes, both answers lost: once, each process took the newest
    /// matching order at KIS for its own, so both "found" the second and the first was never reported.
    @Test func twoLostAnswersAreEachMatchedToTheirOwnOrder() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        var settings = kis.settings
        settings.timeoutMilliseconds = 200
        try kis.fault(#"{"fault":"order_delay","seconds":1}"#)
        let folder = kis.cacheDirectory + "/known"
        let ticket = OrderTicket(side: .buy, code: SymbolCode("005930")!, quantity: 4, price: 0)
        let placements = Mutex<[(process: Int, placement: KnownOrders.Placement)]>([])
        let processes = try (0..<2).map { process in
            let client = try kis.client(settings: settings)
            let known = try KnownOrders(directory: folder, environment: .real, account: settings.account)
            return Thread {
                var recovery = OrderRecovery(client: client)
                recovery.pauseMilliseconds = 10
                let clock = { (try? kis.marketTime()) ?? 0 }
                var placement = KnownOrders.Placement.notPlaced
                if var lane = try? client.makeOrderLane() {
                    placement =
                        (try? known.place(ticket, lane: &lane, recovery: recovery, day: kis.today, clock: clock))
                        ?? .notPlaced
                }
                placements.withLock { $0.append((process, placement)) }
            }
        }
        processes[0].start()
        try await Task.sleep(for: .milliseconds(50))
        processes[1].start()
        while placements.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(10)) }

        let found = placements.withLock { $0 }.sorted { $0.process < $1.process }.map { entry -> String? in
            guard case .found(let record) = entry.placement else { return nil }
            return record.orderNumber
        }
        let atKIS = try kis.client().dailyOrders(from: kis.today, to: kis.today).map(\.orderNumber)
        #expect(atKIS.count == 2, "each order sent once")
        #expect(found.compactMap { $0 }.count == 2, "\(found)")
        #expect(Set(found.compactMap { $0 }) == Set(atKIS), "each lost answer is matched to an order of its own")
        #expect(found == atKIS.sorted { UInt64($0) ?? 0 < UInt64($1) ?? 0 }.map(Optional.some), "in sending order")
    }

    @Test func restingOrderIsListedModifiedAndCancelled() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        let client = try kis.client()
        var lane = try client.makeOrderLane()
        let quote = try client.price("005930")
        let price = quote.price - 20 * quote.tickSize
        let ack = try lane.place(OrderTicket(side: .buy, code: SymbolCode("005930")!, quantity: 5, price: price))
        #expect(try client.cancellableOrders().map(\.orderNumber).compactMap { UInt64($0) } == [ack.orderNumber])
        let modified = try lane.revise(
            organization: ack.organization,
            orderNumber: ack.orderNumber,
            .modify(price: price - quote.tickSize)
        )
        let cancelled = try lane.revise(organization: modified.organization, orderNumber: modified.orderNumber, .cancel)
        #expect(cancelled.orderNumber != 0)
        #expect(try client.cancellableOrders().isEmpty)
        #expect(lane.connectCount == 1)
    }

    @Test func theOrderLaneStaysWarmAndComesBackWhenDropped() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        let client = try kis.client()
        var lane = try client.makeOrderLane()
        let quote = try client.price("005930")
        let ticket = OrderTicket(
            side: .buy,
            code: SymbolCode("005930")!,
            quantity: 1,
            price: quote.price - 30 * quote.tickSize
        )
        for _ in 0..<5 { _ = try lane.place(ticket) }
        #expect(lane.connectCount == 1)
        lane.dropConnection()
        _ = try lane.place(ticket)
        #expect(lane.connectCount == 2)
    }

    @Test func paperOrdersUsePaperTRsAndPaperHasNoCancellableInquiry() async throws {
        let kis = try await SimulatedKIS(environment: .paper)
        defer { kis.finish() }
        let client = try kis.client()
        var lane = try client.makeOrderLane()
        // A limit far under the market (inside the ±30 % band of a ~65,000 won stock) rests; two requests, because
        // the paper budget is 2 a second and the manual clock does not move.
        let ack = try lane.place(OrderTicket(side: .buy, code: SymbolCode("005930")!, quantity: 1, price: 50_000))
        #expect(ack.messageCode == PackedASCII(ascii: "40600000"))
        // Paper answers MCA00124 to inquire-psbl-rvsecncl; the client asks daily orders instead.
        #expect(try client.cancellableOrders().map(\.orderNumber).compactMap { UInt64($0) } == [ack.orderNumber])
    }

    @Test func secretsNeverAppearInErrors() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        var settings = kis.settings
        settings.credentials = KIS.Credentials(
            appKey: Secret("K" + String(repeating: "x", count: 34) + "Z"),
            appSecret: Secret("short")
        )
        let client = try kis.client(settings: settings)
        do {
            _ = try client.price("005930")
            Issue.record("a 5-character secret was accepted")
        } catch {
            let text = "\(error) \(String(reflecting: error))"
            #expect(!text.contains("xxxxxxxxxx") && !text.contains("short"), "\(text)")
        }
    }
}

@Suite struct RESTPagingTests {
    private static func page(trCont: String, rows: [String], next: String) -> [UInt8] {
        let output = rows.map { #"{"odno":"\#($0)","pdno":"005930","ord_qty":"1"}"# }.joined(separator: ",")
        return ScriptedServer.response(
            headers: ["tr_cont: \(trCont)"],
            body:
                #"{"ctx_area_fk100":"F\#(next)","ctx_area_nk100":"N\#(next)","output1":[\#(output)],"output2":{},"rt_cd":"0","msg_cd":"KIOK0530","msg1":"조회되었습니다"}"#
        )
    }

    @Test func pagesFollowTrContAndSendTheCursorsBack() throws {
        let server = ScriptedServer { _, index in
            switch index {
            case 0: .respond(Self.page(trCont: "F", rows: ["1", "2"], next: "a"))
            case 1: .respond(Self.page(trCont: "M", rows: ["3"], next: "b"))
            default: .respond(Self.page(trCont: "D", rows: ["4"], next: ""))
            }
        }
        defer { server.stop() }
        let client = try SimulatedKIS.client(restURL: server.url, tokens: .fixed)
        let records = try client.dailyOrders(from: 20_260_101, to: 20_260_101)
        #expect(records.map(\.orderNumber) == ["1", "2", "3", "4"])
        let requests = server.requests.map { String(decoding: $0, as: UTF8.self) }
        #expect(requests.count == 3)
        #expect(!requests[0].contains("tr_cont: N") && requests[0].contains("CTX_AREA_FK100=&CTX_AREA_NK100="))
        #expect(requests[1].contains("tr_cont: N") && requests[1].contains("CTX_AREA_FK100=Fa&CTX_AREA_NK100=Na"))
        #expect(requests[2].contains("CTX_AREA_FK100=Fb&CTX_AREA_NK100=Nb"))
        // A real account lists every venue's orders, so reconciliation finds NXT and SOR orders too.
        #expect(requests.allSatisfy { $0.contains("EXCG_ID_DVSN_CD=ALL") })
    }

    @Test func aServerThatNeverSaysLastPageIsCutOff() throws {
        let server = ScriptedServer { _, _ in .respond(Self.page(trCont: "M", rows: ["1"], next: "x")) }
        defer { server.stop() }
        let client = try SimulatedKIS.client(restURL: server.url, tokens: .fixed)
        #expect {
            _ = try client.dailyOrders(from: 20_260_101, to: 20_260_101)
        } throws: { error in
            guard case KISError.malformedResponse(_, let reason) = error else { return false }
            return reason.contains("pages")
        }
        #expect(server.requests.count == 100)
    }

    @Test func rejectionsCarryTheirCodeWhateverTheHTTPStatus() throws {
        let bodies: [(Int, String, String)] = [
            (200, #"{"rt_cd":"7","msg_cd":"APBK0952","msg1":"주문가능금액을 초과 했습니다  "}"#, "APBK0952"),
            (500, #"{"rt_cd":"1","msg_cd":"IGW00007","msg1":"MCA 전문바디 구성 중 오류가 발생하였습니다."}"#, "IGW00007"),
            (403, #"{"error_description":"접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)","error_code":"EGW00133"}"#, "EGW00133"),
        ]
        for (status, body, code) in bodies {
            let server = ScriptedServer { _, _ in .respond(ScriptedServer.response(status: status, body: body)) }
            defer { server.stop() }
            let client = try SimulatedKIS.client(restURL: server.url, tokens: .fixed)
            #expect {
                _ = try client.price("005930")
            } throws: { error in
                guard case KISError.rejected(let failure) = error else { return false }
                return failure.msgCd == code && failure.httpStatus == status && !failure.message.hasSuffix(" ")
            }
        }
    }
}

@Suite struct RESTHashkeyTests {
    @Test func hashkeyOfAnOrderBody() async throws {
        let kis = try await SimulatedKIS()
        defer { kis.finish() }
        let body = Array(
            #"{"CANO":"50000000","ACNT_PRDT_CD":"01","PDNO":"005930","ORD_DVSN":"01","ORD_QTY":"1","ORD_UNPR":"0"}"#
                .utf8
        )
        let hash = try kis.client().hashkey(body: body)
        #expect(hash.count == 64 && hash.allSatisfy(\.isHexDigit))
    }
}
