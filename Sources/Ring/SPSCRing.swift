internal import CAffinity
public import Synchronization
// Only the internal checks read TickCore: a release build without them would warn of an unused import.
#if DEBUG || TICK_INTERNAL_CHECKS
public import TickCore
#endif

/// A bounded single-producer single-consumer queue of fixed-layout values, after rigtorp's SPSCQueue and the LMAX
/// Disruptor: the one way two stage threads talk.
///
/// One allocation, aligned to 128 bytes, holds both sides' indices and the slots:
///
///     0                 128                256        384                                      +capacity·stride  +128
///     │ producer block  │ consumer block   │ pad      │ slot 0 │ slot 1 │ … │ slot capacity−1 │ pad │
///     │ tail (atomic)   │ head (atomic)    │          └── slot i holds element (index & mask) ─┘
///     │ cachedHead      │ cachedTail       │
///     │ stagedTail      │ consumer thread  │
///     │ producer thread │                  │
///
/// `head` is the next index to read, `tail` one past the last published element; both only grow, so
/// `0 ≤ tail − head ≤ capacity` is the whole invariant. Each block is 128 bytes, two cache lines, so the adjacent-line
/// prefetcher never pulls one side's line along with the other's, and the pads keep the slots off both. Each side
/// keeps a plain copy of the other's index and reloads it (acquiring) only when its copy says full or empty; it
/// loads its own index relaxed and publishes it releasing. No CAS, no sequentially consistent access.
///
/// The atomics are the standard library's `Synchronization.Atomic`, initialized in place at fixed offsets of the
/// raw block: it lowers to the same plain `mov` a swift-atomics `UnsafeAtomic` does, and needs no dependency.
///
/// Exactly one thread pushes and exactly one thread pops (they may be the same). Debug builds, and builds with
/// `-DTICK_INTERNAL_CHECKS`, stop the process when a second thread uses either side.
@safe
public final class SPSCRing<Slot: BitwiseCopyable>: @unchecked Sendable {
    // Safe because: the class is shared by exactly two threads; every field is immutable after init, and the
    // memory behind the pointers is either atomic or owned by one side (documented above).

    /// Number of slots, a power of two.
    public let capacity: Int
    @usableFromInline let mask: Int
    @usableFromInline let block: UnsafeMutableRawPointer
    @usableFromInline let tail: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let cachedHead: UnsafeMutablePointer<Int>
    @usableFromInline let stagedTail: UnsafeMutablePointer<Int>
    @usableFromInline let producerThread: UnsafeMutablePointer<Atomic<UInt64>>
    @usableFromInline let head: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let cachedTail: UnsafeMutablePointer<Int>
    @usableFromInline let consumerThread: UnsafeMutablePointer<Atomic<UInt64>>
    @usableFromInline let slots: UnsafeMutablePointer<Slot>

    /// Bytes between the two index blocks and around the slots.
    public static var blockSize: Int { 128 }
    static var slotsOffset: Int { 3 * Self.blockSize }

    /// Byte offsets of the producer's and the consumer's published index in the block, for the layout test.
    var indexOffsets: (producer: Int, consumer: Int) {
        unsafe (UnsafeMutableRawPointer(self.tail) - self.block, UnsafeMutableRawPointer(self.head) - self.block)
    }

    /// Byte offset of slot 0 from the consumer's index, and of the block's end from the last slot's end.
    var slotPadding: (front: Int, back: Int) {
        let slotsStart = unsafe UnsafeMutableRawPointer(self.slots) - self.block
        return (slotsStart - self.indexOffsets.consumer, Self.blockSize)
    }

    /// Allocates and zeroes every slot up front, so the steady state never allocates or faults a page in.
    ///
    /// - Parameter capacity: the number of slots; a power of two (`precondition`).
    public init(capacity: Int) {
        precondition(
            capacity > 0 && capacity & (capacity - 1) == 0 && capacity <= 1 << 40,
            "SPSCRing capacity must be a power of two, got \(capacity)"
        )
        self.capacity = capacity
        self.mask = capacity - 1
        let bytes = Self.slotsOffset + capacity * MemoryLayout<Slot>.stride + Self.blockSize
        let block = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.blockSize)
        // Safe because: the allocation is `bytes` long. Zeroing it faults every page in now, not on the hot path.
        unsafe block.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        unsafe self.block = block
        // Safe because: each offset below lies inside the allocation and is aligned for its type (128-byte aligned
        // blocks, 8-byte fields); each atomic is initialized exactly once before any thread sees the ring.
        unsafe self.tail = block.bindMemory(to: Atomic<Int>.self, capacity: 1)
        unsafe self.tail.initialize(to: Atomic(0))
        unsafe self.cachedHead = (block + 8).bindMemory(to: Int.self, capacity: 1)
        unsafe self.stagedTail = (block + 16).bindMemory(to: Int.self, capacity: 1)
        unsafe self.producerThread = (block + 24).bindMemory(to: Atomic<UInt64>.self, capacity: 1)
        unsafe self.producerThread.initialize(to: Atomic(0))
        unsafe self.head = (block + Self.blockSize).bindMemory(to: Atomic<Int>.self, capacity: 1)
        unsafe self.head.initialize(to: Atomic(0))
        unsafe self.cachedTail = (block + Self.blockSize + 8).bindMemory(to: Int.self, capacity: 1)
        unsafe self.consumerThread = (block + Self.blockSize + 16).bindMemory(to: Atomic<UInt64>.self, capacity: 1)
        unsafe self.consumerThread.initialize(to: Atomic(0))
        unsafe self.slots = (block + Self.slotsOffset).bindMemory(to: Slot.self, capacity: capacity)
    }

    deinit {
        // Safe because: nothing else holds the ring once it deinitializes; atomics and slots are trivial types.
        unsafe self.block.deallocate()
    }

    // MARK: Producer

    /// Writes `slot` without making it visible to the consumer yet; `publish()` releases everything staged at once.
    /// Producer thread only.
    ///
    /// - Returns: `false`, writing nothing, when the ring is full (staged elements count as taken).
    /// - Complexity: O(1); one acquiring load of the consumer's index only when the cached copy says full.
    @inlinable
    public func tryStage(_ slot: Slot) -> Bool {
        self.checkProducer()
        // Safe because: `stagedTail` and `cachedHead` are producer-owned plain memory in the block.
        let next = unsafe self.stagedTail.pointee
        if unsafe next &- self.cachedHead.pointee == self.capacity {
            let head = unsafe self.head.pointee.load(ordering: .acquiring)
            unsafe self.cachedHead.pointee = head
            if next &- head == self.capacity {
                return false
            }
        }
        // Safe because: `next & mask` is a valid slot index, and the consumer will not read it before `publish()`
        // releases it: the slot lies between head and capacity ahead, which the check above proved free.
        unsafe (self.slots + (next & self.mask)).initialize(to: slot)
        unsafe self.stagedTail.pointee = next &+ 1
        return true
    }

    /// Makes every staged element visible to the consumer (one releasing store). Producer thread only.
    ///
    /// - Complexity: O(1).
    @inlinable
    public func publish() {
        self.checkProducer()
        // Safe because: `stagedTail` is producer-owned; the releasing store orders the slot writes before it.
        unsafe self.tail.pointee.store(self.stagedTail.pointee, ordering: .releasing)
        self._checkInvariants()
    }

    /// Pushes and publishes `slot`. Producer thread only.
    ///
    /// - Returns: `false`, writing nothing, when the ring is full.
    /// - Complexity: O(1).
    @inlinable
    public func tryPush(_ slot: Slot) -> Bool {
        guard self.tryStage(slot) else {
            return false
        }
        self.publish()
        return true
    }

    /// Free slots as the producer last saw them, refreshing its copy of the consumer's index. Producer thread only.
    ///
    /// - Complexity: O(1).
    @inlinable
    public func freeCount() -> Int {
        self.checkProducer()
        let head = unsafe self.head.pointee.load(ordering: .acquiring)
        unsafe self.cachedHead.pointee = head
        return self.capacity - (unsafe self.stagedTail.pointee &- head)
    }

    // MARK: Consumer

    /// Passes up to `max` published elements to `body` in order, then frees their slots with one releasing store.
    /// Consumer thread only.
    ///
    /// The producer's index is reloaded only when the consumer's copy says empty, so a batch ends at the tail
    /// last observed.
    ///
    /// - Returns: the number of elements passed to `body`; 0 when the ring is empty.
    /// - Complexity: O(n) for n elements, with at most one acquiring load and one releasing store.
    @inlinable
    public func drain(max: Int, _ body: (Slot) -> Void) -> Int {
        self.checkConsumer()
        // Safe because: `head` is published by this thread only, so a relaxed load reads its own last store;
        // `cachedTail` is consumer-owned plain memory.
        let head = unsafe self.head.pointee.load(ordering: .relaxed)
        var available = unsafe self.cachedTail.pointee &- head
        if available == 0 {
            let tail = unsafe self.tail.pointee.load(ordering: .acquiring)
            unsafe self.cachedTail.pointee = tail
            available = tail &- head
            if available == 0 {
                return 0
            }
        }
        let count = Swift.min(available, max)
        var index = head
        let end = head &+ count
        while index != end {
            // Safe because: every index in head..<end was published by the acquiring load that set `cachedTail`.
            body(unsafe self.slots[index & self.mask])
            index &+= 1
        }
        unsafe self.head.pointee.store(end, ordering: .releasing)
        self._checkInvariants()
        return count
    }

    /// Takes the oldest published element. Consumer thread only.
    ///
    /// - Returns: the element, or `nil` when the ring is empty.
    /// - Complexity: O(1).
    @inlinable
    public func tryPop() -> Slot? {
        self.checkConsumer()
        // Safe because: as in `drain(max:_:)`.
        let head = unsafe self.head.pointee.load(ordering: .relaxed)
        if unsafe head == self.cachedTail.pointee {
            let tail = unsafe self.tail.pointee.load(ordering: .acquiring)
            unsafe self.cachedTail.pointee = tail
            if head == tail {
                return nil
            }
        }
        // Safe because: `head` is below the published tail observed by this thread.
        let slot = unsafe self.slots[head & self.mask]
        unsafe self.head.pointee.store(head &+ 1, ordering: .releasing)
        return slot
    }

    // MARK: Any thread

    /// Published elements not yet consumed, as seen from any thread (a status display); exact only when both sides
    /// are quiet.
    ///
    /// - Complexity: O(1), two relaxed loads.
    public var approximateCount: Int {
        // Safe because: both are atomics; relaxed loads from a third thread are allowed.
        let head = unsafe self.head.pointee.load(ordering: .relaxed)
        let tail = unsafe self.tail.pointee.load(ordering: .relaxed)
        return Swift.min(Swift.max(tail &- head, 0), self.capacity)
    }

    // MARK: Checks

    @inlinable
    func checkProducer() {
        #if DEBUG || TICK_INTERNAL_CHECKS
        unsafe Self.claim(self.producerThread, side: "producer")
        #endif
    }

    @inlinable
    func checkConsumer() {
        #if DEBUG || TICK_INTERNAL_CHECKS
        unsafe Self.claim(self.consumerThread, side: "consumer")
        #endif
    }

    /// The first thread to use a side owns it for the ring's life; any other thread stops the process.
    @usableFromInline
    static func claim(_ owner: UnsafeMutablePointer<Atomic<UInt64>>, side: StaticString) {
        let me = caff_thread_id()
        // Safe because: `owner` points at an initialized atomic inside the ring's block. A CAS here is debug-only.
        let (claimed, current) = unsafe owner.pointee.compareExchange(
            expected: 0,
            desired: me,
            ordering: .relaxed
        )
        precondition(claimed || current == me, "SPSCRing: a second thread used the \(side) side")
    }

    /// Checks `0 ≤ tail − head ≤ capacity` when `InternalChecks.enabled`; compiles to nothing in release builds
    /// without `-DTICK_INTERNAL_CHECKS`.
    @inlinable
    public func _checkInvariants() {
        #if DEBUG || TICK_INTERNAL_CHECKS
        guard InternalChecks.enabled else { return }
        let head = unsafe self.head.pointee.load(ordering: .relaxed)
        let tail = unsafe self.tail.pointee.load(ordering: .relaxed)
        precondition(tail &- head >= 0 && tail &- head <= self.capacity, "SPSCRing: head \(head), tail \(tail)")
        #endif
    }
}
