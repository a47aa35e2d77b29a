import Foundation
import Synchronization
import Testing

@testable import Ring

@Suite struct StageThreadTests {
    @Test func runsNamedAndJoins() throws {
        let name = Mutex<String>("")
        let thread = try StageThread(name: "kistick-feed", timerSlackNanoseconds: 1_000) {
            let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            name.withLock { $0 = comm.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        thread.join()
        #expect(name.withLock { $0 } == "kistick-feed")
    }

    @Test func pinsToCPUZero() throws {
        let ran = Flag()
        let thread = try StageThread(name: "pinned", cpu: 0) { ran.set() }
        thread.join()
        #expect(ran.isSet)
        #expect(thread.cpu == 0)
    }

    @Test func refusesACPUOutsideTheSet() {
        #expect(throws: StageThreadError.affinity(cpu: 1 << 20, errno: EINVAL)) {
            _ = try StageThread(name: "nowhere", cpu: 1 << 20) {}
        }
        // Inside the kernel's set size but not on this machine: the kernel refuses the thread.
        #expect(throws: StageThreadError.self) {
            _ = try StageThread(name: "nowhere", cpu: 1_023) {}
        }
    }

    @Test func nameLongerThanTheKernelsLimitIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            _ = try StageThread(name: "sixteen-bytes-xx") {}
        }
    }

    @Test func joiningTwiceIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            let thread = try StageThread(name: "twice") {}
            thread.join()
            thread.join()
        }
    }
}

@Suite struct WaitStrategyTests {
    /// A consumer waiting with `wait` gets every element of a producer that pauses now and then, and stops.
    func consume<W: WaitStrategy>(with wait: W) throws -> Int {
        let ring = SPSCRing<Int>(capacity: 8)
        let producer = try StageThread(name: "wait-producer") {
            var sleeper = SpinYieldSleep(spins: 0, yields: 0, minSleepNanoseconds: 50_000, maxSleepNanoseconds: 50_000)
            for value in 0..<200 {
                while !ring.tryPush(value) {
                    yieldCPU()
                }
                // Quiet spells long enough to walk the consumer's strategy through its phases.
                if value % 50 == 0 {
                    sleeper.idle()
                }
            }
        }
        var wait = wait
        var received = 0
        while received < 200 {
            let drained = ring.drain(max: 8) { _ in }
            received += drained
            if drained == 0 {
                wait.idle()
            } else {
                wait.reset()
            }
        }
        producer.join()
        return received
    }

    @Test func everyStrategyTerminates() throws {
        #expect(try self.consume(with: BusySpin()) == 200)
        #expect(try self.consume(with: SpinThenYield(spins: 10)) == 200)
        #expect(try self.consume(with: SpinYieldSleep(spins: 10, yields: 10)) == 200)
    }

    @Test func sleepBacksOffExponentiallyAndResets() {
        var wait = SpinYieldSleep(spins: 1, yields: 1, minSleepNanoseconds: 1_000, maxSleepNanoseconds: 4_000)
        var sleeps: [Int] = []
        for _ in 0..<6 {
            sleeps.append(wait.sleepNanoseconds)
            wait.idle()
        }
        // Two polls spin and yield without touching the sleep; then 1, 2, 4, 4 µs.
        #expect(sleeps == [1_000, 1_000, 1_000, 2_000, 4_000, 4_000])
        wait.reset()
        #expect(wait.sleepNanoseconds == 1_000 && wait.idlePolls == 0)
    }

    @Test func sleepBoundsMustBeOrdered() async {
        await #expect(processExitsWith: .failure) {
            _ = SpinYieldSleep(minSleepNanoseconds: 2_000, maxSleepNanoseconds: 1_000)
        }
    }

    @Test func spinsMustNotBeNegative() async {
        await #expect(processExitsWith: .failure) {
            _ = SpinThenYield(spins: -1)
        }
    }
}
