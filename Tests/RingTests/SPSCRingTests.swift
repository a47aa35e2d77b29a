import Synchronization
import Testing

@testable import Ring

/// A slot that carries its own check: `check` is a function of `sequence`, so a torn or stale copy shows.
struct Element: BitwiseCopyable, Equatable {
    var sequence: UInt64
    var check: UInt64

    init(_ sequence: UInt64) {
        self.sequence = sequence
        self.check = sequence &* 0x9E37_79B9_7F4A_7C15
    }

    var isIntact: Bool { self.check == self.sequence &* 0x9E37_79B9_7F4A_7C15 }
}

@Suite struct SPSCRingTests {
    @Test func emptyRingGivesNothing() {
        let ring = SPSCRing<Int>(capacity: 4)
        #expect(ring.tryPop() == nil)
        #expect(ring.drain(max: 10) { _ in Issue.record("drained from an empty ring") } == 0)
        #expect(ring.approximateCount == 0)
    }

    @Test func fullRingRefusesAndFreesOnPop() {
        let ring = SPSCRing<Int>(capacity: 4)
        for value in 0..<4 {
            #expect(ring.tryPush(value))
        }
        #expect(!ring.tryPush(4))
        #expect(!ring.tryStage(4))
        #expect(ring.approximateCount == 4)
        #expect(ring.freeCount() == 0)
        #expect(ring.tryPop() == 0)
        #expect(ring.tryPush(4))
        var drained: [Int] = []
        // A batch ends at the tail the consumer last observed (4); the next one reloads it.
        #expect(ring.drain(max: .max) { drained.append($0) } == 3)
        #expect(ring.drain(max: .max) { drained.append($0) } == 1)
        #expect(drained == [1, 2, 3, 4])
    }

    @Test func wrapsAroundManyTimesInOrder() {
        let ring = SPSCRing<Element>(capacity: 8)
        var next: UInt64 = 0
        var expected: UInt64 = 0
        // Uneven push and drain sizes, so head and tail cross slot 0 at every offset.
        for round in 0..<2_000 {
            for _ in 0..<(round % 8 + 1) where ring.tryPush(Element(next)) {
                next += 1
            }
            _ = ring.drain(max: round % 5 + 1) { element in
                #expect(element == Element(expected))
                expected += 1
            }
        }
        while let element = ring.tryPop() {
            #expect(element == Element(expected))
            expected += 1
        }
        #expect(expected == next)
        #expect(next > 8 * 500)
    }

    @Test func stagedElementsAppearOnlyWhenPublished() {
        let ring = SPSCRing<Int>(capacity: 8)
        #expect(ring.tryStage(1) && ring.tryStage(2) && ring.tryStage(3))
        #expect(ring.tryPop() == nil)
        #expect(ring.approximateCount == 0)
        ring.publish()
        #expect(ring.approximateCount == 3)
        var drained: [Int] = []
        #expect(ring.drain(max: 8) { drained.append($0) } == 3)
        #expect(drained == [1, 2, 3])
    }

    @Test func drainStopsAtMax() {
        let ring = SPSCRing<Int>(capacity: 16)
        for value in 0..<10 {
            #expect(ring.tryPush(value))
        }
        var drained: [Int] = []
        #expect(ring.drain(max: 4) { drained.append($0) } == 4)
        #expect(ring.drain(max: 4) { drained.append($0) } == 4)
        #expect(ring.drain(max: 4) { drained.append($0) } == 2)
        #expect(ring.drain(max: 4) { drained.append($0) } == 0)
        #expect(drained == Array(0..<10))
    }

    @Test func indexBlocksAreCacheLinePairsApart() {
        let ring = SPSCRing<Element>(capacity: 64)
        let offsets = ring.indexOffsets
        #expect(offsets.consumer - offsets.producer >= 128)
        #expect(offsets.producer % 128 == 0 && offsets.consumer % 128 == 0)
        #expect(ring.slotPadding.front >= 128 && ring.slotPadding.back >= 128)
        // Everything the producer writes sits in its block, everything the consumer writes in its own.
        #expect(unsafe UnsafeMutableRawPointer(ring.stagedTail) - ring.block < 128)
        #expect(unsafe UnsafeMutableRawPointer(ring.cachedHead) - ring.block < 128)
        #expect(unsafe UnsafeMutableRawPointer(ring.cachedTail) - ring.block >= offsets.consumer)
    }

    /// 5 M elements through a small ring between two threads: every element arrives once, in order, intact.
    @Test func twoThreadStressKeepsOrderAndSum() throws {
        let count: UInt64 = 5_000_000
        let ring = SPSCRing<Element>(capacity: 1_024)
        let producer = try StageThread(name: "ring-producer") {
            var next: UInt64 = 0
            var wait = SpinThenYield(spins: 64)
            while next < count {
                // Alternate single pushes and batches of up to 16 published at once.
                var staged = 0
                while staged < Int(next % 16) + 1, next < count, ring.tryStage(Element(next)) {
                    next += 1
                    staged += 1
                }
                if staged == 0 {
                    wait.idle()
                } else {
                    ring.publish()
                    wait.reset()
                }
            }
        }
        var expected: UInt64 = 0
        var sum: UInt64 = 0
        var broken = 0
        var wait = SpinThenYield(spins: 64)
        while expected < count {
            let drained = ring.drain(max: 256) { element in
                if element.sequence != expected || !element.isIntact {
                    broken += 1
                }
                sum &+= element.sequence
                expected += 1
            }
            if drained == 0 {
                wait.idle()
            } else {
                wait.reset()
            }
        }
        producer.join()
        #expect(broken == 0)
        #expect(sum == count * (count - 1) / 2)
        #expect(ring.tryPop() == nil)
    }

    @Test func capacityMustBeAPowerOfTwo() async {
        await #expect(processExitsWith: .failure) {
            _ = SPSCRing<Int>(capacity: 6)
        }
    }

    @Test func capacityMustBePositive() async {
        await #expect(processExitsWith: .failure) {
            _ = SPSCRing<Int>(capacity: 0)
        }
    }

    #if DEBUG
    @Test func aSecondProducerThreadStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let ring = SPSCRing<Int>(capacity: 4)
            _ = ring.tryPush(1)
            let other = try StageThread(name: "intruder") { _ = ring.tryPush(2) }
            other.join()
        }
    }

    @Test func aSecondConsumerThreadStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let ring = SPSCRing<Int>(capacity: 4)
            _ = ring.tryPop()
            let other = try StageThread(name: "intruder") { _ = ring.tryPop() }
            other.join()
        }
    }
    #endif
}
