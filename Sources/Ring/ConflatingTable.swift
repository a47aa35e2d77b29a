public import Synchronization

/// The latest value per key, written by one thread and read by another: books, where only the newest matters and a
/// full queue must never hold up the feed.
///
/// Keys are dense indices (a symbol's slot). The producer overwrites; the consumer reads each slot written since it
/// last looked, once, with its newest value. A value overwritten before the consumer read it is conflated: counted,
/// never delivered. The count is exact, because the consumer computes it from the slot's write sequence.
///
/// One allocation, aligned to 128 bytes:
///
///     0                  128                 256                   256 + dirty words (padded to 128)
///     │ producer counters│ consumer counters │ dirty bitmap        │ slot 0 │ slot 1 │ … │
///                                                                  │ seq │ value │ (stride a multiple of 64)
///
/// Each slot is a seqlock: the producer makes its sequence odd, writes the value, makes it even again (releasing);
/// a reader copies the value between two equal even loads of the sequence, so a torn value is never returned.
/// After the write the producer sets the slot's bit in the dirty bitmap with one atomic OR, and the consumer takes
/// a whole word with one atomic exchange. These two read-modify-writes on one location are what make a lost wake-up
/// impossible: with plain stores, the producer's "write, then check a flag" and the consumer's "clear the flag,
/// then read" could each miss the other's store (the store-buffer litmus), stranding a book until the next write.
///
/// One producer thread, one consumer thread; the counters may be read from any thread.
@safe
public final class ConflatingTable<Value: BitwiseCopyable>: @unchecked Sendable {
    // Safe because: fields are immutable after init; slots are seqlocked, the bitmap and counters are atomics, and
    // `lastRead` belongs to the consumer.

    /// Number of keys.
    public let capacity: Int
    @usableFromInline let block: UnsafeMutableRawPointer
    @usableFromInline let writtenCount: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let deliveredCount: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let conflatedCount: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let dirty: UnsafeMutablePointer<Atomic<UInt64>>
    @usableFromInline let wordCount: Int
    @usableFromInline let slots: UnsafeMutableRawPointer
    @usableFromInline let stride: Int
    @usableFromInline let valueOffset: Int
    /// The sequence of the version the consumer last delivered, per slot (0: none yet).
    @usableFromInline let lastRead: UnsafeMutablePointer<UInt64>

    /// Allocates every slot up front.
    ///
    /// - Parameter capacity: the number of keys, at least 1 (`precondition`).
    public init(capacity: Int) {
        precondition(capacity > 0 && capacity <= 1 << 24, "ConflatingTable capacity must be 1...16M, got \(capacity)")
        self.capacity = capacity
        self.wordCount = (capacity + 63) / 64
        self.valueOffset = Swift.max(MemoryLayout<UInt64>.stride, MemoryLayout<Value>.alignment)
        self.stride = (self.valueOffset + MemoryLayout<Value>.stride + 63) & ~63
        let bitmapBytes = (self.wordCount * 8 + 127) & ~127
        let slotsOffset = 256 + bitmapBytes
        let bytes = slotsOffset + capacity * self.stride
        let block = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 128)
        // Safe because: the allocation is `bytes` long, every offset below lies inside it and is aligned for its
        // type; each atomic is initialized once before any other thread sees the table.
        unsafe block.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        unsafe self.block = block
        unsafe self.writtenCount = block.bindMemory(to: Atomic<Int>.self, capacity: 1)
        unsafe self.writtenCount.initialize(to: Atomic(0))
        unsafe self.deliveredCount = (block + 128).bindMemory(to: Atomic<Int>.self, capacity: 2)
        unsafe self.deliveredCount.initialize(to: Atomic(0))
        unsafe self.conflatedCount = self.deliveredCount + 1
        unsafe self.conflatedCount.initialize(to: Atomic(0))
        unsafe self.dirty = (block + 256).bindMemory(to: Atomic<UInt64>.self, capacity: self.wordCount)
        for word in 0..<self.wordCount {
            unsafe (self.dirty + word).initialize(to: Atomic(0))
        }
        unsafe self.slots = block + slotsOffset
        for index in 0..<capacity {
            unsafe (self.slots + index * self.stride).bindMemory(to: Atomic<UInt64>.self, capacity: 1)
                .initialize(to: Atomic(0))
        }
        unsafe self.lastRead = .allocate(capacity: capacity)
        unsafe self.lastRead.initialize(repeating: 0, count: capacity)
    }

    deinit {
        // Safe because: no thread uses the table once it deinitializes; everything in it is trivial.
        unsafe self.block.deallocate()
        unsafe self.lastRead.deallocate()
    }

    @inlinable
    func sequence(_ index: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        // Safe because: callers pass 0..<capacity; slot `index` starts with its initialized sequence atomic.
        unsafe (self.slots + index &* self.stride).assumingMemoryBound(to: Atomic<UInt64>.self)
    }

    @inlinable
    func value(_ index: Int) -> UnsafeMutablePointer<Value> {
        // Safe because: callers pass 0..<capacity; the value lies `valueOffset` into the slot, aligned for Value.
        unsafe (self.slots + index &* self.stride + self.valueOffset).assumingMemoryBound(to: Value.self)
    }

    // MARK: Producer

    /// Replaces the value at `index` and marks it for the consumer. Producer thread only.
    ///
    /// - Parameters:
    ///   - value: the new value.
    ///   - index: the key, in `0..<capacity` (`precondition`).
    /// - Complexity: O(1): two plain stores of the sequence, the copy, one atomic OR.
    @inlinable
    public func write(_ value: Value, at index: Int) {
        precondition(index >= 0 && index < self.capacity, "ConflatingTable index \(index) out of 0..<\(self.capacity)")
        let sequence = unsafe self.sequence(index)
        // Safe because: only this thread writes the sequence, so a relaxed load reads its own last store.
        let start = unsafe sequence.pointee.load(ordering: .relaxed)
        unsafe sequence.pointee.store(start &+ 1, ordering: .relaxed)
        // Keeps the value's stores after the odd sequence (the reader's second load then sees it changed).
        atomicMemoryFence(ordering: .releasing)
        // Safe because: `index` is in range; readers copy the value only between two equal even sequences.
        unsafe self.value(index).pointee = value
        unsafe sequence.pointee.store(start &+ 2, ordering: .releasing)
        // Safe because: index / 64 < wordCount.
        _ = unsafe self.dirty[index &>> 6].bitwiseOr(1 &<< UInt64(index & 63), ordering: .releasing)
        // Single writer: a load and a store, no read-modify-write.
        unsafe self.writtenCount.pointee.store(
            self.writtenCount.pointee.load(ordering: .relaxed) &+ 1,
            ordering: .relaxed
        )
    }

    // MARK: Consumer

    /// Passes each slot written since the last call, with its newest value, to `body` (in key order). Consumer
    /// thread only.
    ///
    /// - Returns: the number of values passed to `body`.
    /// - Complexity: O(capacity / 64 + d) for d dirty slots; one relaxed load per empty bitmap word.
    @inlinable
    public func readDirty(_ body: (_ index: Int, _ value: Value) -> Void) -> Int {
        var delivered = 0
        var conflated = 0
        for word in 0..<self.wordCount {
            // Safe because: `word` < wordCount. The relaxed look first keeps an idle consumer from writing the line.
            if unsafe self.dirty[word].load(ordering: .relaxed) == 0 {
                continue
            }
            var bits = unsafe self.dirty[word].exchange(0, ordering: .acquiring)
            while bits != 0 {
                let index = word &<< 6 | bits.trailingZeroBitCount
                bits &= bits &- 1
                let (value, sequence) = self.stableRead(index)
                // Safe because: `index` < capacity, and `lastRead` is consumer-owned.
                let last = unsafe self.lastRead[index]
                // A bit set again by a write this thread already read: nothing new.
                if sequence == last {
                    continue
                }
                conflated &+= Int((sequence &- last) / 2) &- 1
                unsafe self.lastRead[index] = sequence
                delivered &+= 1
                body(index, value)
            }
        }
        if delivered != 0 {
            unsafe self.deliveredCount.pointee.store(
                self.deliveredCount.pointee.load(ordering: .relaxed) &+ delivered,
                ordering: .relaxed
            )
            unsafe self.conflatedCount.pointee.store(
                self.conflatedCount.pointee.load(ordering: .relaxed) &+ conflated,
                ordering: .relaxed
            )
        }
        return delivered
    }

    /// The newest value at `index` without marking anything read, or `nil` if it was never written. Consumer
    /// thread (or any thread: it only reads).
    ///
    /// - Parameter index: the key, in `0..<capacity` (`precondition`).
    /// - Complexity: O(1) unless a write is in progress on that slot.
    @inlinable
    public func get(at index: Int) -> Value? {
        precondition(index >= 0 && index < self.capacity, "ConflatingTable index \(index) out of 0..<\(self.capacity)")
        let (value, sequence) = self.stableRead(index)
        return sequence == 0 ? nil : value
    }

    /// Copies slot `index` between two equal even sequence loads; retries while a write is in progress, yielding
    /// the CPU after a while, since a preempted writer holds the slot until it runs again.
    @inlinable
    func stableRead(_ index: Int) -> (Value, UInt64) {
        let sequence = unsafe self.sequence(index)
        var attempts = 0
        while true {
            // Safe because: the sequence atomic is initialized; the value is copied out only if no write overlapped.
            let before = unsafe sequence.pointee.load(ordering: .acquiring)
            if before & 1 == 0 {
                let value = unsafe self.value(index).pointee
                atomicMemoryFence(ordering: .acquiring)
                if unsafe sequence.pointee.load(ordering: .relaxed) == before {
                    return (value, before)
                }
            }
            attempts &+= 1
            backOff(attempts)
        }
    }

    // MARK: Counters, any thread

    /// Values written since the start.
    public var written: Int { unsafe self.writtenCount.pointee.load(ordering: .relaxed) }
    /// Values passed to `readDirty`'s body.
    public var delivered: Int { unsafe self.deliveredCount.pointee.load(ordering: .relaxed) }
    /// Values overwritten before `readDirty` saw them: the dropped books. Once the producer has stopped and the
    /// consumer has called `readDirty` once more, `written == delivered + conflated` exactly.
    public var conflated: Int { unsafe self.conflatedCount.pointee.load(ordering: .relaxed) }
}
