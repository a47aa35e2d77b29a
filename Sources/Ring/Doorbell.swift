internal import CAffinity
public import Synchronization

/// How a consumer thread sleeps when its rings are empty and is woken as soon as a producer publishes: an event count
/// over one Linux futex word.
///
/// One allocation of one cache line:
///
///     0         4          8                                                      64
///     │ epoch   │ sleepers │                                                       │
///     │ (futex) │          │                                                       │
///
/// The consumer announces itself (`prepareToWait`: one sequentially consistent increment of `sleepers`, then the
/// `epoch` it will sleep on), looks at its rings once more, and sleeps on `epoch` only if they are still empty.
/// A producer publishes (a releasing store into its ring), fences, and reads `sleepers`: only when someone sleeps
/// does it bump `epoch` and make the wake-up system call, so a busy pipeline never enters the kernel. Dekker's
/// argument closes the race: the consumer's increment and the producer's fence are both sequentially consistent,
/// so either the producer sees the sleeper (and wakes it, or changes `epoch` before the consumer's futex call reads
/// it, which then returns at once) or the consumer's last look sees the producer's element. No wake-up is lost.
///
/// Any number of producers may ring; one consumer waits.
@safe
public final class Doorbell: @unchecked Sendable {
    // Safe because: every field is immutable after init; the block holds atomics only, used as documented above.

    @usableFromInline let block: UnsafeMutableRawPointer
    @usableFromInline let epoch: UnsafeMutablePointer<Atomic<UInt32>>
    @usableFromInline let sleepers: UnsafeMutablePointer<Atomic<UInt32>>
    /// Wake-up system calls made: how often a producer found its consumer asleep.
    @usableFromInline let wakeCount = Atomic<Int>(0)

    public init() {
        let block = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        // Safe because: 64 bytes hold both 4-byte atomics at offsets 0 and 4, each initialized once here.
        unsafe block.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        unsafe self.block = block
        unsafe self.epoch = block.bindMemory(to: Atomic<UInt32>.self, capacity: 2)
        unsafe self.epoch.initialize(to: Atomic(0))
        unsafe self.sleepers = self.epoch + 1
        unsafe self.sleepers.initialize(to: Atomic(0))
    }

    deinit {
        // Safe because: nobody uses the doorbell once it deinitializes; atomics are trivial.
        unsafe self.block.deallocate()
    }

    // MARK: Producers

    /// Wakes the consumer if it sleeps. Call after publishing, once per batch.
    ///
    /// - Complexity: a fence and a load when nobody sleeps; a `futex` wake-up call otherwise.
    @inlinable
    public func ring() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        // Safe because: `sleepers` points at an initialized atomic in the block.
        if unsafe self.sleepers.pointee.load(ordering: .relaxed) != 0 {
            self.wake()
        }
    }

    @usableFromInline
    func wake() {
        // Safe because: both atomics are initialized; the futex word is `epoch`'s 4 bytes.
        unsafe self.epoch.pointee.wrappingAdd(1, ordering: .releasing)
        _ = unsafe caff_futex_wake(UnsafeMutableRawPointer(self.epoch).assumingMemoryBound(to: UInt32.self), Int32.max)
        self.wakeCount.wrappingAdd(1, ordering: .relaxed)
    }

    /// Wake-up calls made so far, from any thread.
    public var wakeUps: Int { self.wakeCount.load(ordering: .relaxed) }

    // MARK: The consumer

    /// Announces that the consumer is about to sleep. It must then look at its rings once more and either call
    /// `cancelWait()` (something came) or `wait(_:timeoutNanoseconds:)` with the returned key.
    public func prepareToWait() -> UInt32 {
        // Safe because: both atomics are initialized.
        unsafe self.sleepers.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        return unsafe self.epoch.pointee.load(ordering: .acquiring)
    }

    /// The consumer found work after `prepareToWait()` and does not sleep.
    public func cancelWait() {
        // Safe because: `sleepers` is initialized.
        unsafe self.sleepers.pointee.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Sleeps until a producer rings after `prepareToWait()` returned `key`, or `timeoutNanoseconds` pass, or a
    /// signal interrupts: the caller looks at its rings again whatever woke it.
    public func wait(_ key: UInt32, timeoutNanoseconds: Int64) {
        // Safe because: the futex word is the initialized `epoch` atomic, which outlives the call.
        _ = unsafe caff_futex_wait(
            UnsafeMutableRawPointer(self.epoch).assumingMemoryBound(to: UInt32.self),
            key,
            timeoutNanoseconds
        )
        unsafe self.sleepers.pointee.wrappingSubtract(1, ordering: .relaxed)
    }
}
