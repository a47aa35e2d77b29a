public import Synchronization

/// The producer side of a ring that must neither block nor drop: trades and notices.
///
/// When the ring is full an element goes to an overflow FIFO that the producer owns, reserved up front. Whatever
/// waits there is moved into the ring, oldest first, before any newer element, so the consumer sees exactly the
/// order of `push` calls. Only when the overflow is full too is an element lost: `push` says `.lost` and `lost`
/// counts it; every later element still arrives in order, with that one missing. Size the overflow for the
/// longest consumer stall to ride out (64 Ki elements by default: 3.5 MiB of 56-byte ticks, several seconds of
/// the busiest KRX open).
///
/// The overflow costs address space, not memory, until something spills: unlike the ring's slots its pages are
/// not touched at start, so the kernel maps each on the first spill that reaches it (a fault of a few hundred
/// nanoseconds per 4 KiB, on a path that is already the slow one: the consumer is behind). An engine's overflows
/// reserve ~10 MiB and, at a live feed's rate, hold none of it resident.
///
/// Spilled elements move only when the producer runs, so its idle loop calls `flush()`.
///
/// Producer thread only, except the counters, which any thread may read (relaxed atomic loads).
@safe
public final class SpillingProducer<Slot: BitwiseCopyable>: @unchecked Sendable {
    // Safe because: every field is immutable after init; the overflow and its indices belong to the producer
    // thread, and the counters are atomics written by it alone.

    /// What happened to a pushed element.
    public enum PushResult: Equatable, Sendable {
        /// In the ring, visible to the consumer.
        case pushed
        /// In the overflow; it reaches the ring, in order, once the consumer makes room.
        case spilled
        /// Ring and overflow were both full: the element is gone, and counted in `lost`.
        case lost
    }

    /// The ring this producer feeds.
    public let ring: SPSCRing<Slot>
    /// Elements the overflow holds at most, a power of two.
    public let overflowCapacity: Int
    @usableFromInline let overflow: UnsafeMutablePointer<Slot>
    /// Overflow head (oldest) and tail (one past newest), producer-owned; they only grow.
    @usableFromInline let indices: UnsafeMutablePointer<(head: Int, tail: Int)>
    @usableFromInline let spilledCount = Atomic<Int>(0)
    @usableFromInline let lostCount = Atomic<Int>(0)
    @usableFromInline let highWaterCount = Atomic<Int>(0)
    @usableFromInline let backlogCount = Atomic<Int>(0)

    /// - Parameters:
    ///   - ring: the ring to feed; this producer must be its only producer.
    ///   - overflowCapacity: a power of two (`precondition`).
    public init(ring: SPSCRing<Slot>, overflowCapacity: Int = 1 << 16) {
        precondition(
            overflowCapacity > 0 && overflowCapacity & (overflowCapacity - 1) == 0,
            "SpillingProducer overflowCapacity must be a power of two, got \(overflowCapacity)"
        )
        self.ring = ring
        self.overflowCapacity = overflowCapacity
        // Safe because: allocated here, freed in deinit; a slot is read only after `spill` initialized it (between
        // head and tail). Left untouched, so that its pages stay out of memory until a spill needs them.
        let bytes = overflowCapacity * MemoryLayout<Slot>.stride
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: bytes,
            alignment: Swift.max(MemoryLayout<Slot>.alignment, 64)
        )
        unsafe self.overflow = raw.bindMemory(to: Slot.self, capacity: overflowCapacity)
        unsafe self.indices = .allocate(capacity: 1)
        unsafe self.indices.initialize(to: (0, 0))
    }

    deinit {
        // Safe because: no thread uses the producer once it deinitializes; `Slot` and the indices are trivial.
        unsafe self.overflow.deallocate()
        unsafe self.indices.deallocate()
    }

    /// Pushes `slot` behind everything pushed before it, without blocking.
    ///
    /// - Returns: `.pushed`, `.spilled`, or `.lost` when ring and overflow are both full.
    /// - Complexity: O(1) while nothing waits in the overflow; otherwise O(k) for the k spilled elements that now
    ///   fit in the ring (one releasing store for all of them).
    @inlinable
    @discardableResult
    public func push(_ slot: Slot) -> PushResult {
        // Safe because: `indices` is producer-owned memory.
        if unsafe self.indices.pointee.head == self.indices.pointee.tail || self.flush() == 0 {
            if self.ring.tryPush(slot) {
                return .pushed
            }
        }
        return self.spill(slot)
    }

    /// Writes `slot` behind everything pushed or staged before it, without making it visible yet: `publish()`
    /// releases a batch of staged elements with one store (a socket read's records, say).
    ///
    /// - Returns: `.pushed` (staged in the ring), `.spilled`, or `.lost`.
    /// - Complexity: O(1) while nothing waits in the overflow.
    @inlinable
    @discardableResult
    public func stage(_ slot: Slot) -> PushResult {
        // Safe because: `indices` is producer-owned memory.
        if unsafe self.indices.pointee.head == self.indices.pointee.tail, self.ring.tryStage(slot) {
            return .pushed
        }
        return self.spill(slot)
    }

    /// Makes everything staged visible to the consumer, after moving what the overflow holds into the ring as far
    /// as it fits (staged elements were written before anything that spilled after them, so order holds).
    ///
    /// - Returns: the number still waiting in the overflow.
    @inlinable
    @discardableResult
    public func publish() -> Int {
        let waiting = self.flush()
        self.ring.publish()
        return waiting
    }

    /// Moves spilled elements into the ring, oldest first, as far as it has room, and publishes them at once.
    ///
    /// - Returns: the number still waiting in the overflow.
    /// - Complexity: O(k) for the k elements moved.
    @inlinable
    @discardableResult
    public func flush() -> Int {
        // Safe because: `indices` and the overflow are producer-owned; slots head..<tail hold spilled elements.
        var head = unsafe self.indices.pointee.head
        let tail = unsafe self.indices.pointee.tail
        if head == tail {
            return 0
        }
        let mask = self.overflowCapacity - 1
        while head != tail, self.ring.tryStage(unsafe self.overflow[head & mask]) {
            head &+= 1
        }
        if unsafe head != self.indices.pointee.head {
            self.ring.publish()
            unsafe self.indices.pointee.head = head
            self.backlogCount.store(tail &- head, ordering: .relaxed)
        }
        return tail &- head
    }

    @usableFromInline
    func spill(_ slot: Slot) -> PushResult {
        // Safe because: as in `flush()`; the index written is below head + capacity, so it holds no live element.
        let (head, tail) = unsafe self.indices.pointee
        let backlog = tail &- head
        if backlog == self.overflowCapacity {
            self.lostCount.store(self.lostCount.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            return .lost
        }
        unsafe (self.overflow + (tail & (self.overflowCapacity - 1))).initialize(to: slot)
        unsafe self.indices.pointee.tail = tail &+ 1
        // Single writer: a load and a store, no read-modify-write.
        self.spilledCount.store(self.spilledCount.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        self.backlogCount.store(backlog &+ 1, ordering: .relaxed)
        if backlog &+ 1 > self.highWaterCount.load(ordering: .relaxed) {
            self.highWaterCount.store(backlog &+ 1, ordering: .relaxed)
        }
        return .spilled
    }

    // MARK: Counters, any thread

    /// Elements that went through the overflow since the start.
    public var spilled: Int { self.spilledCount.load(ordering: .relaxed) }
    /// Elements lost because ring and overflow were both full.
    public var lost: Int { self.lostCount.load(ordering: .relaxed) }
    /// The most elements the overflow ever held at once.
    public var highWater: Int { self.highWaterCount.load(ordering: .relaxed) }
    /// Elements waiting in the overflow now.
    public var backlog: Int { self.backlogCount.load(ordering: .relaxed) }
}
