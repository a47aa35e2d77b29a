import Foundation
import KIS
import Net
import PaperMarket
import Synchronization
import Testing
import TickCore

@testable import Engine

/// `Engine.start` against a KIS that says "not now": it asks again, says so, and starts; what a retry cannot mend
/// fails at once.
@Suite struct StartupRetryTests {
    static func failure(_ code: String, status: Int = 500) -> KISError {
        .rejected(APIFailure(httpStatus: status, trID: "VTTC8434R", rtCd: "1", msgCd: code, message: "no"))
    }

    @Test func transientAnswersWaitGrowingWaitsAndTheRestFailAtOnce() {
        var retry = StartupRetry()
        retry.firstWaitSeconds = 0.5
        retry.longestWaitSeconds = 4
        #expect((1...5).map { retry.wait(after: Self.failure("EGW00201"), attempt: $0) } == [0.5, 1, 2, 4, 4])
        #expect(retry.wait(after: .unreachable(.timedOut), attempt: 1) == 0.5)
        #expect(retry.wait(after: .responseLost(trID: "VTTC8434R", cause: .timedOut), attempt: 2) == 1)
        #expect(retry.wait(after: .malformedResponse(trID: "VTTC8434R", reason: "HTTP 500"), attempt: 1) == 0.5)
        // A token: the one the cache says is next, or KIS's minute when only KIS knows of the last one.
        #expect(retry.wait(after: .tokenThrottled(retryAfterSeconds: 42), attempt: 1) == 42)
        #expect(retry.wait(after: Self.failure("EGW00133", status: 403), attempt: 1) == 61)
        // A wrong key, an unknown account, a cache that cannot be used: asking again cannot help.
        #expect(retry.wait(after: Self.failure("EGW00103"), attempt: 1) == nil)
        #expect(retry.wait(after: Self.failure("OPSQ2000", status: 200), attempt: 1) == nil)
        #expect(retry.wait(after: .tokenCache(.noHomeDirectory), attempt: 1) == nil)
    }

    @Test func itGivesUpWhenThePatienceRunsOutSayingHowLongItTried() {
        var retry = StartupRetry()
        retry.patienceSeconds = 10
        retry.firstWaitSeconds = 1
        var said: [String] = []
        var slept: [Double] = []
        #expect(throws: Self.failure("EGW00201")) {
            try retry.run(
                "the balance query",
                announce: { said.append($0) },
                sleep: { slept.append($0) },
                { () throws(KISError) -> Int in throw Self.failure("EGW00201") }
            )
        }
        // 1 + 2 + 4 = 7 s waited; the next 8 s would pass the 10 s of patience.
        #expect(slept == [1, 2, 4])
        #expect(said.count == 4)
        #expect(said[0].hasPrefix("the balance query: KIS rejected") && said[0].contains("asking again in 1.0 s"))
        #expect(said[3].contains("giving up after 4 attempts over 7.0 s"))
        // A refusal no wait mends is thrown as it came, unannounced.
        said = []
        #expect(throws: Self.failure("EGW00103")) {
            try retry.run(
                "the balance query",
                announce: { said.append($0) },
                sleep: { slept.append($0) },
                { () throws(KISError) -> Int in throw Self.failure("EGW00103") }
            )
        }
        #expect(said.isEmpty)
    }

    /// The simulator fails the first queries with a proxy's HTTP 500 page, then refuses one over the key's budget
    /// (EGW00201, with the client's own retries off so the engine sees it): the engine starts all the same.
    @Test func startWaitsOutServerErrorsAndTheRateLimit() async throws {
        let market = try await PaperMarket(speed: 1)
        defer { market.remove() }
        var clientSettings = ClientSettings.madeUp(
            environment: .paper,
            restURL: market.rest,
            webSocketURL: market.webSocket
        )
        clientSettings.rateLimitRetries = 0
        let client = try KISClient.make(
            settings: clientSettings,
            cache: try TokenCache(directory: market.directory + "/tokens")
        )
        defer { client.tokens.stop() }
        var settings = EngineSettings(codes: market.codes, journalPath: market.directory + "/journal.sqlite")
        settings.startupRetry.firstWaitSeconds = 0.05
        settings.startupRetry.patienceSeconds = 20
        let engine = try Engine(client: client, settings: settings)
        try market.fault(#"{"fault":"server_error","count":2}"#)
        try market.fault(#"{"fault":"rate_limit","count":1}"#)
        let said = Mutex<[String]>([])
        try engine.start { line in said.withLock { $0.append(line) } }
        let report = engine.stop(grace: 1)
        let lines = said.withLock { $0 }
        #expect(lines.count == 3, "\(lines)")
        let serverErrors = lines.filter { $0.contains("unreadable answer: HTTP 500") && $0.contains("asking again") }
        #expect(serverErrors.count == 2, "\(lines)")
        #expect(lines.contains { $0.contains("EGW00201") && $0.contains("asking again") }, "\(lines)")
        #expect(report.status.drops.lost == 0)
        await market.stop()
    }
}
