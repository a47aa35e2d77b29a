import Glibc
import Synchronization
import TickCore

/// The rate limiter's state: a fixed block of atomics, either allocated for one process or mapped from a file that
/// every kistick process using the same app key maps (`map(path:…)`), so they all draw on one budget.
///
///     0        128    256            384              512          640                    640 + 8·limit
///     │ header │ next │ blockedUntil │ ordersWaitUntil │ claimUntil │ slot 0 │ … │ slot limit−1 │ …page

///
/// The header (magic, layout version, limit, window, epoch, boot id) is written once, under `flock`, by whoever
/// finds the file missing or not matching; after that every access is an atomic of its own 128-byte block, so a
/// process killed at any point leaves every word whole. The deadlines are `CLOCK_MONOTONIC` nanoseconds; slot words
/// hold grant times relative to `epoch` (`RateLimiter` draws the word). Monotonic time restarts at boot, so a file
/// written before the last boot (another boot id) is started afresh.
@safe
final class RateBlock: @unchecked Sendable {
    // Safe because: the fields are immutable after init and the memory behind `base` is only reached through the
    // atomic accessors below (the header is written before any accessor runs and only read afterwards).

    static let maximumLimit = 65_536
    private static let magic: UInt64 = 0x3130_4C52_4B54_534B  // "KSTKRL01", little-endian
    private static let layoutVersion: UInt32 = 1
    private static let slotsOffset = 640
    private static let bootIDLength = 40
    /// Grant times have 56 bits of nanoseconds after the epoch: 2.28 years of one boot.
    private static let timeBits: UInt64 = 56

    let limit: Int
    let windowNanoseconds: Int64
    /// The clock time a slot's time field counts from.
    let epoch: Int64
    private let base: UnsafeMutableRawPointer
    private let mapped: Bool
    private let byteCount: Int

    /// The header, the state and `limit` slots, in whole pages.
    private static func byteCount(limit: Int) -> Int {
        (Self.slotsOffset + 8 * limit + 4_095) / 4_096 * 4_096
    }

    /// A block for this process alone.
    init(limit: Int, windowNanoseconds: Int64, epoch: Int64) {
        let byteCount = Self.byteCount(limit: limit)
        let base = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 128)
        // Safe because: the allocation is `byteCount` long; zeroed, every word is a valid atomic's representation.
        unsafe base.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        unsafe self.base = base
        self.mapped = false
        self.byteCount = byteCount
        (self.limit, self.windowNanoseconds, self.epoch) = (limit, windowNanoseconds, epoch)
    }

    private init(mapping base: UnsafeMutableRawPointer, limit: Int, windowNanoseconds: Int64, epoch: Int64) {
        unsafe self.base = base
        self.mapped = true
        self.byteCount = Self.byteCount(limit: limit)
        (self.limit, self.windowNanoseconds, self.epoch) = (limit, windowNanoseconds, epoch)
    }

    deinit {
        // Safe because: nothing else in this process holds the block once it deinitializes; other processes keep
        // their own mapping.
        if self.mapped { unsafe munmap(self.base, self.byteCount) } else { unsafe self.base.deallocate() }
    }

    /// Maps the block in the file at `path` (created 0600 if missing), starting it afresh when its header does not
    /// match this limit, window and boot.
    /// - Parameter now: `CLOCK_MONOTONIC` now, the epoch of a fresh block.
    static func map(path: String, limit: Int, windowNanoseconds: Int64, now: Int64) throws(TokenCacheError) -> RateBlock
    {
        func failure(closing fd: Int32? = nil) -> TokenCacheError {
            let error = TokenCacheError.io(path: path, reason: LocalFile.errorText(errno))
            if let fd {
                flock(fd, LOCK_UN)
                close(fd)
            }
            return error
        }
        let fd = unsafe open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw failure() }
        // The lock serializes starting the block afresh. The mapping outlives the descriptor and holds the open file,
        // and with it the lock, so the lock is released explicitly.
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw failure(closing: fd) }
        }
        var info = stat()
        guard fchmod(fd, 0o600) == 0, unsafe fstat(fd, &info) == 0 else { throw failure(closing: fd) }
        // Grown, never shrunk: a process still mapping a larger file must not fault on a page cut from under it.
        let byteCount = Self.byteCount(limit: limit)
        if info.st_size < byteCount, ftruncate(fd, off_t(byteCount)) != 0 { throw failure(closing: fd) }
        let address = unsafe mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let base = unsafe address, unsafe base != MAP_FAILED else { throw failure(closing: fd) }
        let boot = Self.bootID()
        let epoch: Int64
        if let existing = unsafe Self.matchingEpoch(
            base,
            limit: limit,
            windowNanoseconds: windowNanoseconds,
            boot: boot
        ) {
            epoch = existing
        } else {
            epoch = now
            unsafe Self.start(base, limit: limit, windowNanoseconds: windowNanoseconds, epoch: epoch, boot: boot)
        }
        flock(fd, LOCK_UN)
        close(fd)
        return unsafe RateBlock(mapping: base, limit: limit, windowNanoseconds: windowNanoseconds, epoch: epoch)
    }

    /// The header's epoch when it describes this layout, limit, window and boot, and the epoch leaves the time field
    /// more than a year of range; nil when the block must start afresh.
    private static func matchingEpoch(
        _ base: UnsafeMutableRawPointer,
        limit: Int,
        windowNanoseconds: Int64,
        boot: [UInt8]
    ) -> Int64? {
        // Safe because: every offset read lies in the header, inside the mapping.
        let matches =
            unsafe base.load(as: UInt64.self) == Self.magic
            && base.load(fromByteOffset: 8, as: UInt32.self) == Self.layoutVersion
            && base.load(fromByteOffset: 12, as: UInt32.self) == UInt32(limit)
            && base.load(fromByteOffset: 16, as: Int64.self) == windowNanoseconds
            && (0..<Self.bootIDLength).allSatisfy {
                unsafe base.load(fromByteOffset: 32 + $0, as: UInt8.self) == boot[$0]
            }
        guard matches else { return nil }
        let epoch = unsafe base.load(fromByteOffset: 24, as: Int64.self)
        let age = MonotonicClock().now() - epoch
        return age >= 0 && age < 1 << (Self.timeBits - 1) ? epoch : nil
    }

    /// Zeroes the state and writes the header, the lock held.
    private static func start(
        _ base: UnsafeMutableRawPointer,
        limit: Int,
        windowNanoseconds: Int64,
        epoch: Int64,
        boot: [UInt8]
    ) {
        // Safe because: the mapping holds the state and `limit` slots; the header fields end before offset 128.
        unsafe (base + 128).initializeMemory(as: UInt8.self, repeating: 0, count: Self.slotsOffset - 128 + 8 * limit)
        unsafe base.storeBytes(of: Self.magic, as: UInt64.self)
        unsafe base.storeBytes(of: Self.layoutVersion, toByteOffset: 8, as: UInt32.self)
        unsafe base.storeBytes(of: UInt32(limit), toByteOffset: 12, as: UInt32.self)
        unsafe base.storeBytes(of: windowNanoseconds, toByteOffset: 16, as: Int64.self)
        unsafe base.storeBytes(of: epoch, toByteOffset: 24, as: Int64.self)
        for (i, byte) in boot.enumerated() { unsafe base.storeBytes(of: byte, toByteOffset: 32 + i, as: UInt8.self) }
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`), padded to `bootIDLength`; zeros where it cannot be read,
    /// so a block then outlives a reboot only until its epoch check fails.
    private static func bootID() -> [UInt8] {
        let text = (try? LocalFile.read(path: "/proc/sys/kernel/random/boot_id", limit: 128)) ?? []
        return Array((text + [UInt8](repeating: 0, count: Self.bootIDLength)).prefix(Self.bootIDLength))
    }

    // MARK: Atomic accessors

    private func atomic(at offset: Int) -> UnsafeMutablePointer<Atomic<Int64>> {
        // Safe because: every offset passed is 8-byte aligned and inside the block, and each word there is only ever
        // accessed atomically.
        unsafe (self.base + offset).assumingMemoryBound(to: Atomic<Int64>.self)
    }

    /// The number of the next grant.
    func next() -> Int {
        Int(unsafe self.atomic(at: 128).pointee.load(ordering: .acquiring))
    }

    /// Moves `next` past grant `taken`, unless someone did already.
    func advance(past taken: Int) {
        _ = unsafe self.atomic(at: 128).pointee.compareExchange(
            expected: Int64(taken),
            desired: Int64(taken + 1),
            ordering: .releasing
        )
    }

    enum Deadline: Int {
        /// No grant before it (EGW00201).
        case blocked = 256
        /// Orders wait for a grant until then.
        case ordersWait = 384
        /// A reconciliation claims the next grant until then.
        case claim = 512
    }

    func deadline(_ deadline: Deadline) -> Int64 {
        unsafe self.atomic(at: deadline.rawValue).pointee.load(ordering: .relaxed)
    }

    /// Moves `deadline` to `time` if that is later.
    func extend(_ deadline: Deadline, to time: Int64) {
        unsafe self.atomic(at: deadline.rawValue).pointee.max(time, ordering: .relaxed)
    }

    /// Clears `deadline` if it still says `time`.
    func clear(_ deadline: Deadline, ifStill time: Int64) {
        _ = unsafe self.atomic(at: deadline.rawValue).pointee.compareExchange(
            expected: time,
            desired: 0,
            ordering: .relaxed
        )
    }

    /// The word in slot `index` (below `limit`).
    func slot(_ index: Int) -> UInt64 {
        UInt64(bitPattern: unsafe self.atomic(at: Self.slotsOffset + 8 * index).pointee.load(ordering: .acquiring))
    }

    /// Replaces slot `index`'s word if it is still `expected`: the grant itself.
    func take(_ index: Int, expected: UInt64, desired: UInt64) -> Bool {
        unsafe self.atomic(at: Self.slotsOffset + 8 * index).pointee.compareExchange(
            expected: Int64(bitPattern: expected),
            desired: Int64(bitPattern: desired),
            ordering: .acquiringAndReleasing
        ).exchanged
    }

    // MARK: Slot words

    /// The lap of grant `grant`: its chain's position, mod 256, plus one so zeroed memory is lap 0 of grant −limit.
    static func lap(of grant: Int, limit: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (grant >= 0 ? grant / limit : -1) + 1)
    }

    static func lap(_ word: UInt64) -> UInt8 {
        UInt8(truncatingIfNeeded: word >> Self.timeBits)
    }

    /// The word of a grant of lap `lap` at clock time `time`.
    func word(lap: UInt8, time: Int64) -> UInt64 {
        let offset = time - self.epoch + 1
        precondition(
            offset > 0 && UInt64(offset) < 1 << Self.timeBits,
            "RateLimiter: clock time \(time) outside the block's 2.28 years from its epoch \(self.epoch)"
        )
        return UInt64(lap) << Self.timeBits | UInt64(offset)
    }

    /// The grant time in `word`; nil for a slot never granted.
    func time(_ word: UInt64) -> Int64? {
        let offset = word & (1 << Self.timeBits - 1)
        return offset == 0 ? nil : Int64(offset) - 1 + self.epoch
    }
}
