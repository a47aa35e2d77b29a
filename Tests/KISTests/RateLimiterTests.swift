import Dispatch
import Foundation
import KIS
import Synchronization
import Testing
import TickCore

@Suite struct RateLimiterTests {
    static let ms: Int64 = 1_000_000
    static let window = RateBudget.defaultWindowNanoseconds

    @Test func realBurstGrantsTwentyThenWaitsForTheFirstToAgeOut() {
        let limiter = RateLimiter(environment: .real, clock: FakeClock(0))
        #expect(limiter.limit == 20)
        for i in 0..<20 {
            #expect(limiter.tryAcquire(.order, now: Int64(i) * Self.ms) == .granted, "request \(i)")
        }
        for i in 20..<25 {
            let now = Int64(i) * Self.ms
            #expect(limiter.tryAcquire(.order, now: now) == .wait(nanoseconds: Self.window - now))
        }
        #expect(limiter.tryAcquire(.order, now: Self.window - 1) == .wait(nanoseconds: 1))
        #expect(limiter.tryAcquire(.order, now: Self.window) == .granted)
        #expect(limiter.tryAcquire(.order, now: Self.window) == .wait(nanoseconds: Self.ms))
        #expect(limiter.tryAcquire(.order, now: Self.window + Self.ms) == .granted)
        #expect(limiter.grantCount == 22)
    }

    @Test func paperGrantsTwoPerWindow() {
        let clock = FakeClock(0)
        let limiter = RateLimiter(environment: .paper, clock: clock)
        let grants = (0..<6).map { _ in limiter.acquire(.order) }
        #expect(grants == [0, 0, Self.window, Self.window, 2 * Self.window, 2 * Self.window])
        #expect(clock.slept == [Self.window, Self.window])
    }

    @Test func windowIsSlidingNotFixed() {
        let limiter = RateLimiter(limit: 3, windowNanoseconds: 1000, reservedForOrders: 0, clock: FakeClock(0))
        for now: Int64 in [0, 900, 950] { #expect(limiter.tryAcquire(.query, now: now) == .granted) }
        // A fixed one-second window would reset at 1000 and allow three more at once.
        #expect(limiter.tryAcquire(.query, now: 1000) == .granted)
        #expect(limiter.tryAcquire(.query, now: 1000) == .wait(nanoseconds: 900))
        #expect(limiter.tryAcquire(.query, now: 1900) == .granted)
        #expect(limiter.tryAcquire(.query, now: 1900) == .wait(nanoseconds: 50))
    }

    @Test func queriesLeaveTheReservedSlotsToOrders() {
        let limiter = RateLimiter(limit: 4, windowNanoseconds: 1000, reservedForOrders: 1, clock: FakeClock(0))
        for _ in 0..<3 { #expect(limiter.tryAcquire(.query, now: 0) == .granted) }
        #expect(limiter.tryAcquire(.query, now: 0) == .wait(nanoseconds: 1000))
        #expect(limiter.tryAcquire(.order, now: 0) == .granted)
        #expect(limiter.tryAcquire(.order, now: 0) == .wait(nanoseconds: 1000))
        // With one slot free, that slot is the reserved one: a query needs two.
        let twoFree = RateLimiter(limit: 2, windowNanoseconds: 1000, reservedForOrders: 1, clock: FakeClock(0))
        #expect(twoFree.tryAcquire(.query, now: 0) == .granted)
        #expect(twoFree.tryAcquire(.query, now: 500) == .wait(nanoseconds: 500))
        #expect(twoFree.tryAcquire(.order, now: 500) == .granted)
        #expect(twoFree.tryAcquire(.query, now: 1000) == .wait(nanoseconds: 500))
        #expect(twoFree.tryAcquire(.query, now: 1500) == .granted)
    }

    @Test func queriesWaitWhileAnOrderWaits() throws {
        let clock = GateClock()
        let limiter = RateLimiter(limit: 3, windowNanoseconds: 1000, reservedForOrders: 0, clock: clock)
        for _ in 0..<3 { #expect(limiter.tryAcquire(.order, now: 0) == .granted) }
        let orderGranted = Atomic<Int64>(-1)
        let thread = DispatchQueue(label: "order")
        thread.async { orderGranted.store(limiter.acquire(.order), ordering: .relaxed) }
        clock.waitForSleeper()
        // Every slot is free again, but the waiting order comes first.
        clock.set(2000)
        #expect(limiter.tryAcquire(.query, now: 2000) == .wait(nanoseconds: 100_000))
        clock.release()
        thread.sync {}
        #expect(orderGranted.load(ordering: .relaxed) == 2000)
        #expect(limiter.tryAcquire(.query, now: 2000) == .granted)
        #expect(limiter.tryAcquire(.query, now: 2000) == .granted)
        #expect(limiter.tryAcquire(.query, now: 2000) == .wait(nanoseconds: 1000))
    }

    @Test func penaltyStopsEveryGrantUntilItEnds() {
        let limiter = RateLimiter(limit: 5, windowNanoseconds: 1000, clock: FakeClock(0))
        #expect(limiter.tryAcquire(.order, now: 0) == .granted)
        limiter.penalize(until: 5000)
        limiter.penalize(until: 3000)
        #expect(limiter.tryAcquire(.order, now: 1000) == .wait(nanoseconds: 4000))
        #expect(limiter.tryAcquire(.query, now: 4999) == .wait(nanoseconds: 1))
        #expect(limiter.tryAcquire(.order, now: 5000) == .granted)
        #expect(limiter.tryAcquire(.query, now: 5000) == .granted)
    }

    /// Two threads take slots as fast as they can on the real clock, never sleeping, so they collide on every slot
    /// that frees, tens of thousands of times. Whatever the interleaving, the recorded grant times must never put
    /// more than `limit` grants in one window, and every grant must be counted once.
    @Test(.serialized, arguments: [[RequestKind.order, .order], [.query, .query], [.order, .query]])
    func twoThreadsNeverOverfillAWindow(kinds: [RequestKind]) {
        let limit = 50
        // Windows of 0.1 ms: 1500 of them in the 150 ms run.
        let window: Int64 = Self.ms / 10
        let clock = SpinningClock()
        let limiter = RateLimiter(limit: limit, windowNanoseconds: window, reservedForOrders: 5, clock: clock)
        let end = clock.now() + 150 * Self.ms
        let grants = Mutex<[[Int64]]>([])
        let done = DispatchGroup()
        // Dedicated threads: the test's own executor may run dispatch work on fewer cores than there are.
        for kind in kinds {
            done.enter()
            Thread {
                var mine: [Int64] = []
                while clock.now() < end {
                    mine.append(limiter.acquire(kind))
                }
                grants.withLock { $0.append(mine) }
                done.leave()
            }.start()
        }
        done.wait()
        let perThread = grants.withLock { $0 }
        let times = perThread.joined().sorted()
        #expect(times.count == limiter.grantCount)
        #expect(times.count > limit * 100)
        // An order spinning in `acquire` always counts as waiting, so a query thread beside it may get nothing.
        #expect(perThread.contains { !$0.isEmpty })
        let overfull = times.indices.dropLast(limit).count { times[$0 + limit] - times[$0] < window }
        #expect(overfull == 0, "windows holding more than \(limit) grants")
    }

    @Test func invalidLimitsAreProgrammingErrors() async {
        await #expect(processExitsWith: .failure) {
            _ = RateLimiter(limit: 2, reservedForOrders: 2)
        }
        await #expect(processExitsWith: .failure) {
            _ = RateLimiter(limit: 0)
        }
    }
}

/// A clock whose `sleep` blocks until the test releases it, so a test can act while a thread waits in `acquire`.
final class GateClock: NanoClock {
    private let time = Atomic<Int64>(0)
    private let sleeping = DispatchSemaphore(value: 0)
    private let gate = DispatchSemaphore(value: 0)

    func now() -> Int64 { self.time.load(ordering: .relaxed) }

    func sleep(nanoseconds: Int64) {
        self.sleeping.signal()
        self.gate.wait()
    }

    func set(_ now: Int64) { self.time.store(now, ordering: .relaxed) }
    func waitForSleeper() { self.sleeping.wait() }
    func release() { self.gate.signal() }
}

/// The real monotonic clock with a `sleep` that returns at once, so `acquire` spins and threads contend.
struct SpinningClock: NanoClock {
    func now() -> Int64 { MonotonicClock().now() }
    func sleep(nanoseconds: Int64) {}
}
