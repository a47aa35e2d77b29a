import Screener
import Testing
import TickCore

/// The registration budget and the rotation rule of docs/operations.md §4.
@Suite struct SchedulerTests {
    static func codes(_ count: Int) -> [SymbolCode] {
        (0..<count).map { SymbolCode(String(100_000 + $0))! }
    }

    @Test func theBudgetIsTwentyCodesAndTheNotices() {
        #expect(SubscriptionBudget.maxLiveCodes == 20)
        let scheduler = SubscriptionScheduler(ranked: Self.codes(45))
        #expect(scheduler.live == Array(Self.codes(45).prefix(20)))
        #expect(scheduler.registrations == 41)
        #expect(scheduler.bench == Array(Self.codes(45).dropFirst(20)))
    }

    @Test func aSmallUniverseIsAllLiveAndNeverRotates() {
        var scheduler = SubscriptionScheduler(ranked: Self.codes(12), live: 20, core: 14)
        #expect(scheduler.live == Self.codes(12))
        #expect(scheduler.registrations == 25)
        #expect(scheduler.rotate().isEmpty)
        #expect(scheduler.live == Self.codes(12))
    }

    @Test func theCoreStaysAndTheRestRotateInRankOrder() {
        let all = Self.codes(30)
        var scheduler = SubscriptionScheduler(ranked: all, live: 20, core: 14)
        let first = scheduler.rotate()
        #expect(first.unsubscribe == Array(all[14..<20]))
        #expect(first.subscribe == Array(all[20..<26]))
        #expect(scheduler.live == Array(all[0..<14]) + Array(all[20..<26]))
        // Four bench codes are left before wrapping round to the first rotated-out codes.
        let second = scheduler.rotate()
        #expect(second.unsubscribe == Array(all[20..<26]))
        #expect(second.subscribe == Array(all[26..<30]) + Array(all[14..<16]))
        #expect(scheduler.registrations == 41)
    }

    @Test func aPinnedCodeKeepsItsSlot() {
        let all = Self.codes(30)
        var scheduler = SubscriptionScheduler(ranked: all, live: 20, core: 14)
        let rotation = scheduler.rotate(pinned: [all[15], all[3]])
        #expect(!rotation.unsubscribe.contains(all[15]))
        #expect(rotation.unsubscribe == [all[14]] + Array(all[16..<20]))
        #expect(rotation.subscribe == Array(all[20..<25]))
        #expect(scheduler.live.contains(all[15]))
    }

    @Test func everyCodeGetsItsTurnWithinTheBudget() {
        let all = Self.codes(41)
        var scheduler = SubscriptionScheduler(ranked: all, live: 20, core: 10)
        var seen = Set(scheduler.live)
        for _ in 0..<5 {
            let rotation = scheduler.rotate()
            #expect(rotation.unsubscribe.count == rotation.subscribe.count)
            #expect(Set(scheduler.live).count == 20)
            #expect(scheduler.registrations <= 41)
            #expect(Array(scheduler.live.prefix(10)) == Array(all.prefix(10)))
            seen.formUnion(scheduler.live)
        }
        #expect(seen == Set(all))
    }

    @Test func moreLiveCodesThanTheBudgetIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            _ = SubscriptionScheduler(ranked: SchedulerTests.codes(30), live: 21)
        }
        await #expect(processExitsWith: .failure) {
            _ = SubscriptionScheduler(ranked: SchedulerTests.codes(50), live: 41, appKeys: 2)
        }
        await #expect(processExitsWith: .failure) {
            _ = SubscriptionScheduler(ranked: SchedulerTests.codes(30), live: 10, core: 11)
        }
        await #expect(processExitsWith: .failure) {
            _ = SubscriptionScheduler(ranked: SchedulerTests.codes(3) + SchedulerTests.codes(1))
        }
    }
}
