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
