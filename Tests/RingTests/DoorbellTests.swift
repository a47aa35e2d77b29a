import Synchronization
import Testing

@testable import Ring

@Suite struct DoorbellTests {
    /// A consumer that parks after every element (no spin, a park of 10 s that only a ring ends) still gets every
    /// element of a producer that rings after each push: a lost wake-up would stall it for 10 s.
    @Test func noWakeUpIsLost() throws {
        let ring = SPSCRing<Int>(capacity: 16)
        let bell = Doorbell()
        let count = 20_000
        let producer = try StageThread(name: "bell-producer") {
            for value in 0..<count {
                while !ring.tryPush(value) { yieldCPU() }
                bell.ring()
                // Now and then let the consumer fall asleep, so the wake-up path is taken, not only the spin.
                if value % 1_000 == 0 { sleepFor(nanoseconds: 200_000) }
            }
        }
        let started = ContinuousClock.now
        var wait = SpinThenPark(doorbell: bell, spinNanoseconds: 0, parkNanoseconds: 10_000_000_000)
        var received = 0
        var sum = 0
        while received < count {
            let drained = ring.drain(max: 16) { sum += $0 }
            received += drained
            if drained == 0 { wait.idle { ring.approximateCount > 0 } } else { wait.reset() }
        }
        producer.join()
        #expect(sum == count * (count - 1) / 2)
        #expect(ContinuousClock.now - started < .seconds(9), "a wake-up was lost: the consumer slept out its park")
        #expect(bell.wakeUps > 0, "the consumer never slept, so the test did not reach the futex")
    }

    /// A ring with nobody asleep makes no system call.
    @Test func ringingWithoutASleeperWakesNobody() {
        let bell = Doorbell()
        for _ in 0..<1_000 { bell.ring() }
        #expect(bell.wakeUps == 0)
        // Announced, then cancelled: still nobody to wake.
        _ = bell.prepareToWait()
        bell.cancelWait()
        bell.ring()
        #expect(bell.wakeUps == 0)
    }

    /// The park ends at its timeout when nobody rings, so a stage's timers run.
    @Test func aParkEndsAtItsTimeout() {
        let bell = Doorbell()
        var wait = SpinThenPark(doorbell: bell, spinNanoseconds: 0, parkNanoseconds: 5_000_000)
        let started = ContinuousClock.now
        wait.idle { false }
        let slept = ContinuousClock.now - started
        #expect(slept >= .milliseconds(4) && slept < .seconds(2))
    }

    @Test func aNegativeSpinIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            _ = SpinThenPark(doorbell: Doorbell(), spinNanoseconds: -1)
        }
    }
}
