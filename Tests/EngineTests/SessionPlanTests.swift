import KIS
import Pipeline
import Testing
import TickCore

@testable import Engine

/// How codes are spread over the app keys' sessions.
@Suite struct SessionPlanTests {
    static func code(_ n: Int) -> SymbolCode { SymbolCode(String(format: "%06d", 100_000 + n))! }

    @Test func theAccountsSessionKeepsARegistrationForTheNotices() {
        #expect(SessionPlan(sessions: 1, registrationLimit: 41).capacities == [20])
        #expect(SessionPlan(sessions: 3, registrationLimit: 41).capacities == [20, 20, 20])
        // A lower limit (room kept for another user of a key) costs the account's session first.
        #expect(SessionPlan(sessions: 2, registrationLimit: 40).capacities == [19, 20])
    }

    @Test func codesGoToTheLeastLoadedSessionUntilAllAreFull() {
        var plan = SessionPlan(sessions: 2, registrationLimit: 41)
        let placed = (0..<40).map { plan.place(Self.code($0)) }
        #expect(placed == (0..<40).map { $0 % 2 })
        #expect(plan.codesPerSession == [20, 20])
        #expect(plan.place(Self.code(40)) == nil, "a 41st code finds every session full")
        // Placing a held code again changes nothing.
        #expect(plan.place(Self.code(7)) == 1)
        #expect(plan.codesPerSession == [20, 20])
    }

    @Test func aReleasedCodeFreesItsPlaceForTheNext() {
        var plan = SessionPlan(sessions: 2, registrationLimit: 41)
        for n in 0..<40 { _ = plan.place(Self.code(n)) }
        #expect(plan.release(Self.code(4)) == 0)
        #expect(plan.release(Self.code(4)) == nil, "released once")
        #expect(plan.session(of: Self.code(4)) == nil)
        #expect(plan.place(Self.code(40)) == 0)
        #expect(plan.codesPerSession == [20, 20])
    }
}

/// Several sessions' feed threads share the engine's news; each speaks for its own codes only.
@Suite struct FeedWatcherTests {
    @Test func aDisconnectTakesBackOnlyItsOwnSessionsCodes() throws {
        let codes = (0..<5).map(SessionPlanTests.code)
        var settings = PipelineSettings(codes: codes)
        settings.feedLanes = 2
        let pipeline = try Pipeline(settings: settings, clock: WallClock())
        let news = FeedNews()
        var first = FeedWatcher(router: pipeline.router(lane: 0), news: news)
        var second = FeedWatcher(router: pipeline.router(lane: 1), news: news)
        for code in codes.prefix(3) { first.event(.subscribed(.trades(code.description))) }
        for code in codes.suffix(2) { second.event(.subscribed(.trades(code.description))) }
        // Books and notices are not codes streaming.
        first.event(.subscribed(.book(codes[0].description)))
        #expect(news.subscribedCodes.load(ordering: .relaxed) == 5)
        first.event(.disconnected(.closed))
        #expect(news.subscribedCodes.load(ordering: .relaxed) == 2, "the other key's session still streams")
        first.event(.subscribed(.trades(codes[0].description)))
        second.event(.unsubscribed(.trades(codes[4].description)))
        #expect(news.subscribedCodes.load(ordering: .relaxed) == 2)
        second.event(.disconnected(.silence))
        #expect(news.subscribedCodes.load(ordering: .relaxed) == 1)
    }
}
