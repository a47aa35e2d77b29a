import CByteScan
import Synchronization

/// A single-producer single-consumer ring of variable-length capture records, laid out exactly as they go into a
/// block (kind u8, localNs i64, length u32, bytes; little-endian, unaligned), so the consumer moves them with one
/// copy each.
///
/// `Ring.SPSCRing` carries fixed-size slots; a message is 2 bytes to 1 MiB, so it would need a slot of the largest
/// size or a copy per chunk. Here a record is contiguous: one that does not fit before the end of the buffer starts
/// at offset 0, and the bytes it skips are marked (a `wrapMarker` kind byte when at least a record header fits
/// there, nothing otherwise: the consumer skips an end shorter than a header by itself).
///
///     0               128              256       384                                    +capacity  +128
///     │ producer      │ consumer       │ pad     │ records … │ free │ records …         │ pad │
///     │ tail (atomic) │ head (atomic)  │         └─ record at (index & mask), never split ┘
///     │ cachedHead    │ cachedTail     │
///     │ counters      │                │
///
/// `head` and `tail` are byte counts that only grow, so `0 ≤ tail − head ≤ capacity`. Memory orders as in
/// `SPSCRing`: each side loads its own index relaxed, the other's acquiring (only when its cached copy says full or
/// empty), and publishes releasing; the counters are plain atomic stores by their one writer, for `stats`.
@safe
final class ByteRing: @unchecked Sendable {
    // Safe because: shared by exactly two threads (the feed thread appends, the writer thread drains); every field
    // is immutable after init, and the memory behind the pointers is atomic or owned by one side (see above).

    /// The kind byte of the skipped end of the buffer; never a `CaptureRecordKind`.
    static let wrapMarker: UInt8 = 0xFF
    static let headerSize = CaptureFormat.recordHeaderSize
    /// How far past the tail `tryAppend` warms the ring, and how many lines: about one trade frame's, a few
    /// frames on.
    static let prefetchDistance = 4_096
    static let prefetchLines = 8
    private static let blockSize = 128
    private static let dataOffset = 3 * ByteRing.blockSize

    let capacity: Int
    /// The largest payload `tryAppend` takes; a record never exceeds half the ring.
    let maxPayload: Int
    private let mask: Int
    private let block: UnsafeMutableRawPointer
    private let data: UnsafeMutableRawPointer
    private let tail: UnsafeMutablePointer<Atomic<Int>>
    private let cachedHead: UnsafeMutablePointer<Int>
    private let appended: UnsafeMutablePointer<Atomic<Int>>
    private let appendedBytes: UnsafeMutablePointer<Atomic<Int>>
    private let refused: UnsafeMutablePointer<Atomic<Int>>
    private let head: UnsafeMutablePointer<Atomic<Int>>
    private let cachedTail: UnsafeMutablePointer<Int>
    /// Producer-owned, read in place by `tryAppend`: behind a pointer, so an append neither copies it (two
    /// retains) nor pays a class property's dynamic exclusivity check.
    private let redactor: UnsafeMutablePointer<Redactor>

    /// Allocates and zeroes the whole buffer, so appending never faults a page in.
    ///
    /// - Parameters:
    ///   - capacity: bytes, a power of two of at least 4 KiB (`precondition`).
    ///   - maxPayload: the largest message accepted, at most `capacity / 2` minus a record header (`precondition`).
    ///   - redactor: what each copy is redacted with.
    init(capacity: Int, maxPayload: Int, redactor: Redactor) {
        precondition(
            capacity >= 4096 && capacity & (capacity - 1) == 0 && capacity <= 1 << 40,
            "capture ring capacity must be a power of two of at least 4096 bytes, got \(capacity)"
        )
        precondition(
            maxPayload > 0 && maxPayload + Self.headerSize <= capacity / 2,
            "capture maxMessageBytes must be positive and at most half the ring less \(Self.headerSize), got \(maxPayload)"
        )
        self.capacity = capacity
        self.maxPayload = maxPayload
        self.mask = capacity - 1
        let bytes = Self.dataOffset + capacity + Self.blockSize
        let block = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.blockSize)
        // Safe because: the allocation is `bytes` long; zeroing faults every page in now, not on the feed thread.
        unsafe block.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        unsafe self.block = block
        unsafe self.data = block + Self.dataOffset
        // Safe because: each offset lies inside the first two 128-byte blocks and is 8-byte aligned; each atomic is
        // initialized once before any other thread sees the ring.
        unsafe self.tail = block.bindMemory(to: Atomic<Int>.self, capacity: 1)
        unsafe self.tail.initialize(to: Atomic(0))
        unsafe self.cachedHead = (block + 8).bindMemory(to: Int.self, capacity: 1)
        unsafe self.appended = (block + 16).bindMemory(to: Atomic<Int>.self, capacity: 1)
        unsafe self.appended.initialize(to: Atomic(0))
        unsafe self.appendedBytes = (block + 24).bindMemory(to: Atomic<Int>.self, capacity: 1)
        unsafe self.appendedBytes.initialize(to: Atomic(0))
        unsafe self.refused = (block + 32).bindMemory(to: Atomic<Int>.self, capacity: 1)
        unsafe self.refused.initialize(to: Atomic(0))
        unsafe self.head = (block + Self.blockSize).bindMemory(to: Atomic<Int>.self, capacity: 1)
        unsafe self.head.initialize(to: Atomic(0))
        unsafe self.cachedTail = (block + Self.blockSize + 8).bindMemory(to: Int.self, capacity: 1)
        unsafe self.redactor = .allocate(capacity: 1)
        unsafe self.redactor.initialize(to: redactor)
    }

    deinit {
        // Safe because: nothing else holds the ring once it deinitializes; its contents are trivial.
        unsafe self.block.deallocate()
        unsafe self.redactor.deinitialize(count: 1)
        unsafe self.redactor.deallocate()
    }

    // MARK: Producer

    /// Copies one record into the ring and publishes it, then overwrites any secret in the copy. Producer only.
    ///
    /// - Returns: false, writing nothing and counting a refusal, when the ring lacks room or the payload is larger
    ///   than `maxPayload`.
    /// - Complexity: O(n) in the payload: one copy, the redactor's sampled scan; no allocation, lock or syscall.
    func tryAppend(_ kind: CaptureRecordKind, localNs: Int64, bytes: UnsafeRawBufferPointer) -> Bool {
        let length = bytes.count
        // Safe because: `tail`, `cachedHead` and the counters are producer-owned; the relaxed loads read this
        // thread's own last stores.
        var tail = unsafe self.tail.pointee.load(ordering: .relaxed)
        let record = Self.headerSize + length
        var offset = tail & self.mask
        let end = self.capacity - offset
        let needed = end < record ? end + record : record
        if length > self.maxPayload || !self.hasRoom(tail: tail, needed: needed) {
            unsafe self.refused.pointee.store(self.refused.pointee.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            return false
        }
        if end < record {
            if end >= Self.headerSize {
                // Safe because: `offset` < capacity, inside the data area, and the room check covered it.
                unsafe self.data.storeBytes(of: Self.wrapMarker, toByteOffset: offset, as: UInt8.self)
            }
            tail &+= end
            offset = 0
        }
        // Safe because: offset ..< offset + record lies inside the data area (the wrap above guarantees it) and
        // the room check proved the consumer is done with those bytes; `bytes` is valid for `length` bytes.
        let start = unsafe self.data + offset
        unsafe start.storeBytes(of: kind.rawValue, as: UInt8.self)
        unsafe start.storeBytes(of: localNs.littleEndian, toByteOffset: 1, as: Int64.self)
        unsafe start.storeBytes(of: UInt32(truncatingIfNeeded: length).littleEndian, toByteOffset: 9, as: UInt32.self)
        if let base = bytes.baseAddress, length > 0 {
            unsafe (start + Self.headerSize).copyMemory(from: base, byteCount: length)
            unsafe self.redactor.pointee.redact(
                UnsafeMutableRawBufferPointer(start: start + Self.headerSize, count: length)
            )
        }
        unsafe self.tail.pointee.store(tail &+ record, ordering: .releasing)
        // The next appends' lines, a few KiB on: last touched by the writer thread's reads, so a store to them
        // waits for the other core to give them up, which the feed thread should not.
        var ahead = offset &+ record &+ Self.prefetchDistance
        for _ in 0..<Self.prefetchLines {
            unsafe kistick_prefetch_for_write(self.data + (ahead & self.mask))
            ahead &+= 64
        }
        unsafe self.appended.pointee.store(self.appended.pointee.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        unsafe self.appendedBytes.pointee.store(
            self.appendedBytes.pointee.load(ordering: .relaxed) &+ length,
            ordering: .relaxed
        )
        return true
    }

    /// Redacts `secret` too in every later append. Producer only.
    func addSecret(_ secret: String) {
        // Safe because: the redactor is producer-owned, and this is the producer's thread.
        unsafe self.redactor.pointee = self.redactor.pointee.adding(secret)
    }

    /// Whether `needed` bytes from `tail` are free, reloading the consumer's index only when the cached copy says
    /// they are not.
    private func hasRoom(tail: Int, needed: Int) -> Bool {
        // Safe because: `cachedHead` is producer-owned; `head` is atomic.
        if unsafe tail &+ needed &- self.cachedHead.pointee <= self.capacity {
            return true
        }
        let head = unsafe self.head.pointee.load(ordering: .acquiring)
        unsafe self.cachedHead.pointee = head
        return tail &+ needed &- head <= self.capacity
    }

    // MARK: Consumer

    /// Passes every published record to `body` as one contiguous buffer (header and payload, block layout), then
    /// frees them with one releasing store. Consumer only.
    ///
    /// - Returns: the number of records passed; 0 when the ring is empty.
    /// - Complexity: O(n) in the records.
    func drain(_ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        // Safe because: `head` is published by this thread only; `cachedTail` is consumer-owned.
        var head = unsafe self.head.pointee.load(ordering: .relaxed)
        var tail = unsafe self.cachedTail.pointee
        if head == tail {
            tail = unsafe self.tail.pointee.load(ordering: .acquiring)
            unsafe self.cachedTail.pointee = tail
            if head == tail {
                return 0
            }
        }
        var count = 0
        while head != tail {
            let offset = head & self.mask
            let end = self.capacity - offset
            // Safe because: head < tail, so the bytes from `offset` were published by the acquiring load above;
            // a header is read only when one fits before the end of the buffer.
            if unsafe end < Self.headerSize || self.data.load(fromByteOffset: offset, as: UInt8.self) == Self.wrapMarker
            {
                head &+= end
                continue
            }
            let length = unsafe Int(
                UInt32(littleEndian: self.data.loadUnaligned(fromByteOffset: offset + 9, as: UInt32.self))
            )
            let record = Self.headerSize + length
            assert(record <= end, "capture ring record runs past the end of the buffer")
            unsafe body(UnsafeRawBufferPointer(start: self.data + offset, count: record))
            head &+= record
            count += 1
        }
        unsafe self.head.pointee.store(head, ordering: .releasing)
        return count
    }

    // MARK: Any thread

    /// Bytes published and not yet drained, as seen from any thread; exact only when both sides are quiet.
    var backlog: Int {
        // Safe because: atomics, loaded relaxed from any thread.
        let head = unsafe self.head.pointee.load(ordering: .relaxed)
        let tail = unsafe self.tail.pointee.load(ordering: .relaxed)
        return Swift.min(Swift.max(tail &- head, 0), self.capacity)
    }

    /// Records and payload bytes appended, and appends refused, as last published by the producer.
    var counters: (appended: Int, bytes: Int, refused: Int) {
        // Safe because: atomics, loaded relaxed from any thread.
        unsafe (
            self.appended.pointee.load(ordering: .relaxed),
            self.appendedBytes.pointee.load(ordering: .relaxed),
            self.refused.pointee.load(ordering: .relaxed)
        )
    }
}
