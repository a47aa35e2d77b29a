import Synchronization
import Testing

@testable import Ring

/// A flag one thread raises for another, capturable by a thread's closure (an `Atomic` alone is not copyable).
final class Flag: Sendable {
    private let raised = Atomic<Bool>(false)

    func set() {
        self.raised.store(true, ordering: .releasing)
    }

    var isSet: Bool { self.raised.load(ordering: .acquiring) }
}

@Suite struct SpillingProducerTests {
    @Test func spillsWhenFullAndLosesOnlyWhenOverflowIsFullToo() {
        let ring = SPSCRing<Int>(capacity: 4)
        let producer = SpillingProducer(ring: ring, overflowCapacity: 4)
        let results = (0..<10).map { producer.push($0) }
        #expect(results == Array(repeating: .pushed, count: 4) + Array(repeating: .spilled, count: 4) + [.lost, .lost])
        #expect(producer.spilled == 4 && producer.lost == 2 && producer.highWater == 4 && producer.backlog == 4)

        // Two slots free up: the next push moves the two oldest spilled elements first and spills itself.
        #expect(ring.tryPop() == 0 && ring.tryPop() == 1)
        #expect(producer.push(10) == .spilled)
        #expect(producer.backlog == 3)
        var received: [Int] = []
        while producer.flush() > 0 || ring.approximateCount > 0 {
            _ = ring.drain(max: 2) { received.append($0) }
        }
        #expect(received == [2, 3, 4, 5, 6, 7, 10])
        #expect(producer.backlog == 0 && producer.spilled == 5 && producer.lost == 2 && producer.highWater == 4)
        // Nothing waits any more: straight into the ring.
        #expect(producer.push(11) == .pushed)
    }

    /// Staged elements appear together at `publish`, behind whatever waited in the overflow and ahead of what spilled
    /// after them.
    @Test func aStagedBatchAppearsAtPublishInOrder() {
        let ring = SPSCRing<Int>(capacity: 4)
        let producer = SpillingProducer(ring: ring, overflowCapacity: 8)
        #expect((0..<3).map { producer.stage($0) } == [.pushed, .pushed, .pushed])
        #expect(ring.approximateCount == 0, "nothing visible before publish")
        #expect(producer.publish() == 0)
        #expect(ring.approximateCount == 3)
        // One slot left: the batch's first element stages, the rest spill behind it.
        #expect((3..<6).map { producer.stage($0) } == [.pushed, .spilled, .spilled])
        #expect(producer.publish() == 2)
        var received: [Int] = []
        while producer.publish() > 0 || ring.approximateCount > 0 {
            _ = ring.drain(max: 3) { received.append($0) }
        }
        #expect(received == [0, 1, 2, 3, 4, 5])
    }

    /// A consumer slower than the producer: everything arrives, in push order, through ring and overflow.
    @Test func orderSurvivesASlowConsumer() throws {
        let count = 200_000
        let ring = SPSCRing<Element>(capacity: 64)
        let producer = SpillingProducer(ring: ring, overflowCapacity: 1 << 18)
        let started = Flag()
        let thread = try StageThread(name: "spill-producer") {
            for value in 0..<count {
                if producer.push(Element(UInt64(value))) == .lost {
                    return
                }
                // The consumer starts only once the ring has certainly overflowed.
                if value == 1_000 {
                    started.set()
                }
            }
            var wait = SpinYieldSleep()
            while producer.flush() > 0 {
                wait.idle()
            }
        }
        while !started.isSet {
            yieldCPU()
        }
        var expected: UInt64 = 0
        var broken = 0
        var wait = SpinThenYield(spins: 16)
        while expected < UInt64(count) {
            // Small batches and a yield between them keep this side the slow one.
            let drained = ring.drain(max: 8) { element in
                if element.sequence != expected || !element.isIntact {
                    broken += 1
                }
                expected += 1
            }
            if drained == 0 {
                wait.idle()
            } else {
                yieldCPU()
            }
        }
        thread.join()
        #expect(broken == 0)
        #expect(producer.lost == 0)
        #expect(producer.spilled >= 1_000 - 64)
        #expect(producer.highWater >= 1_000 - 64 && producer.highWater <= 1 << 18)
        #expect(producer.backlog == 0)
    }

    @Test func overflowCapacityMustBeAPowerOfTwo() async {
        await #expect(processExitsWith: .failure) {
            _ = SpillingProducer(ring: SPSCRing<Int>(capacity: 4), overflowCapacity: 1_000)
        }
    }
}

/// A book-sized value whose every word repeats its version, so a torn read shows as unequal words.
struct Versioned: BitwiseCopyable {
    var words: InlineArray<30, UInt64>

    init(_ version: UInt64) {
        self.words = InlineArray(repeating: version)
    }

    var version: UInt64 { self.words[0] }

    var isIntact: Bool {
        var intact = true
        for index in 1..<30 where self.words[index] != self.words[0] {
            intact = false
        }
        return intact
    }
}

@Suite struct ConflatingTableTests {
    @Test func deliversTheLatestValueOnceAndCountsEveryOverwrite() {
        let table = ConflatingTable<Int>(capacity: 100)
        #expect(table.get(at: 3) == nil)
        table.write(1, at: 3)
        table.write(2, at: 3)
        table.write(3, at: 3)
        table.write(7, at: 70)
        var seen: [(Int, Int)] = []
        #expect(table.readDirty { seen.append(($0, $1)) } == 2)
        #expect(seen.map(\.0) == [3, 70] && seen.map(\.1) == [3, 7])
        #expect(table.written == 4 && table.delivered == 2 && table.conflated == 2)
        #expect(table.readDirty { _, _ in Issue.record("nothing new was written") } == 0)

        table.write(4, at: 3)
        seen.removeAll()
        #expect(table.readDirty { seen.append(($0, $1)) } == 1)
        #expect(seen.map(\.1) == [4])
        #expect(table.get(at: 3) == 4 && table.get(at: 70) == 7 && table.get(at: 99) == nil)
        #expect(table.written == table.delivered + table.conflated)
    }

    /// A writer hammering a few slots while the reader reads: never a torn value, versions only move forward, and
    /// written = delivered + conflated exactly.
    @Test func neverTearsUnderAConcurrentWriter() throws {
        let slots = 4
        let writes: UInt64 = 200_000
        let table = ConflatingTable<Versioned>(capacity: slots)
        let done = Flag()
        let writer = try StageThread(name: "book-writer") {
            for version in 1...writes {
                table.write(Versioned(version), at: Int(version) % slots)
            }
            done.set()
        }
        var last = [UInt64](repeating: 0, count: slots)
        var torn = 0
        var backwards = 0
        func check(_ index: Int, _ value: Versioned) {
            if !value.isIntact {
                torn += 1
            }
            if value.version <= last[index] {
                backwards += 1
            }
            last[index] = value.version
        }
        var peeks = 0
        while !done.isSet {
            _ = table.readDirty(check)
            if let value = table.get(at: peeks % slots), !value.isIntact {
                torn += 1
            }
            peeks += 1
        }
        writer.join()
        _ = table.readDirty(check)
        #expect(torn == 0)
        #expect(backwards == 0)
        // Version v goes to slot v % 4: the last one each slot got is the newest its version class reached.
        #expect(last == [writes, writes - 3, writes - 2, writes - 1])
        #expect(table.written == Int(writes))
        #expect(table.written == table.delivered + table.conflated)
    }

    @Test func capacityMustBePositive() async {
        await #expect(processExitsWith: .failure) {
            _ = ConflatingTable<Int>(capacity: 0)
        }
    }

    @Test func indexMustBeInRange() async {
        await #expect(processExitsWith: .failure) {
            ConflatingTable<Int>(capacity: 8).write(1, at: 8)
        }
    }
}
