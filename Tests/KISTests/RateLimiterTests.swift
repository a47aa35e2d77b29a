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
        // Every slot is free again, but the waiting order comes first, ahead of queries and reconciliations alike.
        clock.set(2000)
        #expect(limiter.tryAcquire(.query, now: 2000) == .wait(nanoseconds: 100_000))
        #expect(limiter.tryAcquire(.reconciliation, now: 2000) == .wait(nanoseconds: 100_000))
        clock.release()
        thread.sync {}
        #expect(orderGranted.load(ordering: .relaxed) == 2000)
        // Granted, the order withdrew its announcement: queries go at once, not after its wake-up margin.
        #expect(limiter.tryAcquire(.query, now: 2000) == .granted)
        #expect(limiter.tryAcquire(.query, now: 2000) == .granted)
        #expect(limiter.tryAcquire(.query, now: 2000) == .wait(nanoseconds: 1000))
    }

    @Test func reconciliationNeedsNoReservedSlot() {
        // With one slot free, a query must leave it to orders; a reconciliation may take it.
        let limiter = RateLimiter(limit: 2, windowNanoseconds: 1000, reservedForOrders: 1, clock: FakeClock(0))
        #expect(limiter.tryAcquire(.order, now: 0) == .granted)
        #expect(limiter.tryAcquire(.query, now: 0) == .wait(nanoseconds: 1000))
        #expect(limiter.tryAcquire(.reconciliation, now: 0) == .granted)
        #expect(limiter.tryAcquire(.reconciliation, now: 0) == .wait(nanoseconds: 1000))
    }

    /// An order that always waits for the next slot, as a strategy sending at the account's limit does, took every
    /// slot before a query or reconciliation could. A reconciliation now waits at most its patience (a window) plus
    /// the window until a slot frees, then takes that slot; the orders get the rest, and no window overfills.
    @Test func reconciliationIsNeverStarvedByOrdersAtTheLimit() {
        let limit = 2
        let window: Int64 = 40 * Self.ms
        let limiter = RateLimiter(limit: limit, windowNanoseconds: window, reservedForOrders: 1)
        let clock = MonotonicClock()
        let end = clock.now() + 1_200 * Self.ms
        let orders = Mutex<[Int64]>([])
        let reconciliations = Mutex<[(asked: Int64, granted: Int64)]>([])
        let done = DispatchGroup()
        done.enter()
        Thread {
            while clock.now() < end {
                let granted = limiter.acquire(.order)
                orders.withLock { $0.append(granted) }
            }
            done.leave()
        }.start()
        done.enter()
        Thread {
            // Starts once the orders hold the budget.
            clock.sleep(nanoseconds: 100 * Self.ms)
            while clock.now() < end {
                let asked = clock.now()
                let granted = limiter.acquire(.reconciliation)
                reconciliations.withLock { $0.append((asked, granted)) }
            }
            done.leave()
        }.start()
        done.wait()
        let waits = reconciliations.withLock { $0.map { $0.granted - $0.asked } }
        let orderCount = orders.withLock { $0.count }
        // 1.1 s of reconciliations waiting at most ~2 windows each: 13 of them, fewer when a loaded machine keeps a
        // thread from running; 100 ms of slack per wait for that too. Before the floor, orders took every slot.
        #expect(waits.count >= 6, "reconciliations granted: \(waits.count), orders: \(orderCount)")
        #expect(waits.allSatisfy { $0 <= 2 * window + 100 * Self.ms }, "longest wait \(waits.max() ?? 0) ns")
        // The orders still have most of the budget: 1.2 s holds 60 slots, of which a reconciliation takes one in
        // every two windows, four slots.
        #expect(orderCount >= 30, "orders granted: \(orderCount)")
        let times = (orders.withLock { $0 } + reconciliations.withLock { $0.map(\.granted) }).sorted()
        let overfull = times.indices.dropLast(limit).count { times[$0 + limit] - times[$0] < window }
        #expect(overfull == 0)
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

    @Test func limitersMappingOneFileShareOneBudget() throws {
        let path = try Self.temporaryPath()
        func mapped() throws -> RateLimiter<MonotonicClock> {
            try RateLimiter(sharedAt: path, limit: 3, windowNanoseconds: 10 * Self.window, reservedForOrders: 0)
        }
        let first = try mapped()
        let second = try mapped()
        let now = MonotonicClock().now()
        #expect(first.tryAcquire(.order, now: now) == .granted)
        #expect(second.tryAcquire(.query, now: now) == .granted)
        #expect(first.tryAcquire(.order, now: now) == .granted)
        #expect(second.tryAcquire(.order, now: now) == .wait(nanoseconds: 10 * Self.window))
        #expect(first.grantCount == 3 && second.grantCount == 3)
        // A penalty one of them takes holds for both, as KIS's count holds for the key.
        second.penalize(until: now + 7)
        #expect(first.tryAcquire(.order, now: now) == .wait(nanoseconds: 7))
        // Mapped again later (another process starting), the block keeps its grants.
        let third = try mapped()
        #expect(third.grantCount == 3)
        #expect(try Self.mode(of: path) == 0o600)
    }

    @Test func aBlockOfAnotherLayoutStartsAfresh() throws {
        let path = try Self.temporaryPath()
        let three = try RateLimiter(sharedAt: path, limit: 3, windowNanoseconds: Self.window, reservedForOrders: 0)
        #expect(three.tryAcquire(.order, now: MonotonicClock().now()) == .granted)
        // Another limit (another kistick version, or the other environment's key file) is another block.
        let two = try RateLimiter(sharedAt: path, limit: 2, windowNanoseconds: Self.window, reservedForOrders: 0)
        #expect(two.grantCount == 0)
        // Garbage (a truncated or foreign file) too.
        try Data(repeating: 0xA5, count: 100).write(to: URL(fileURLWithPath: path))
        let fresh = try RateLimiter(sharedAt: path, limit: 2, windowNanoseconds: Self.window, reservedForOrders: 0)
        #expect(fresh.grantCount == 0)
        #expect(fresh.tryAcquire(.order, now: MonotonicClock().now()) == .granted)
    }

    /// Three processes map one app key's block and, once all three are running, take slots as fast as they can on
    /// the real clock for 400 ms, never sleeping. Their grants, merged (one monotonic clock for every process of a
    /// boot), never put more than `limit` in a window, and every process got some.
    @Test func processesSharingABlockNeverOverfillAWindow() async throws {
        let path = try Self.temporaryPath()
        let (limit, window) = (10, 2 * Self.ms)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for process in 0..<3 {
                group.addTask {
                    await #expect(processExitsWith: .success) { [path = path as String, process = process as Int] in
                        let limiter = try RateLimiter(
                            sharedAt: path,
                            limit: 10,
                            windowNanoseconds: 2_000_000,
                            reservedForOrders: 2
                        )
                        // Starting a process takes seconds on a loaded machine: each waits for the other two.
                        _ = FileManager.default.createFile(atPath: "\(path).ready\(process)", contents: nil)
                        let patience = MonotonicClock().now() + 60_000_000_000
                        func allReady() -> Bool {
                            (0..<3).allSatisfy { FileManager.default.fileExists(atPath: "\(path).ready\($0)") }
                        }
                        while !allReady(), MonotonicClock().now() < patience { usleep(1_000) }
                        var times: [Int64] = []
                        var now = MonotonicClock().now()
                        let end = now + 400_000_000
                        while now < end {
                            if limiter.tryAcquire(.order, now: now) == .granted { times.append(now) }
                            now = MonotonicClock().now()
                        }
                        try times.map(String.init).joined(separator: "\n")
                            .write(toFile: "\(path).\(process)", atomically: true, encoding: .utf8)
                    }
                }
            }
            try await group.waitForAll()
        }
        var merged: [Int64] = []
        var spans: [ClosedRange<Int64>] = []
        for process in 0..<3 {
            let times = try String(contentsOfFile: "\(path).\(process)", encoding: .utf8).split(separator: "\n")
                .compactMap { Int64($0) }
            #expect(!times.isEmpty, "process \(process) got no slot")
            if let first = times.first, let last = times.last { spans.append(first...last) }
            merged += times
        }
        // They ran at once: every process's grants overlap the others'.
        #expect(spans.count == 3 && spans.allSatisfy { span in spans.allSatisfy { $0.overlaps(span) } })
        merged.sort()
        #expect(merged.count > 20 * limit)
        let overfull = merged.indices.dropLast(limit).count { merged[$0 + limit] - merged[$0] < window }
        #expect(overfull == 0, "windows holding more than \(limit) grants")
    }

    static func temporaryPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kistick-rate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("token-paper-test.rate").path
    }

    static func mode(of path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? 0) & 0o777
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
