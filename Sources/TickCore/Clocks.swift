#if canImport(Glibc)
import Glibc
#endif

/// A nanosecond time source that can also block the calling thread, so that whatever reads time (the token manager,
/// the rate limiter, the pipeline's stages) runs on fake or replayed time in tests and replays.
///
/// Time is an `Int64` of nanoseconds (292 years of range) rather than a `Double` of seconds, so that sums and
/// differences are exact and window comparisons never round.
public protocol NanoClock: Sendable {
    /// Nanoseconds since this clock's epoch.
    func now() -> Int64
    /// Blocks the calling thread for `nanoseconds`; zero or less yields the processor once.
    func sleep(nanoseconds: Int64)
}

/// `CLOCK_REALTIME`: nanoseconds since the Unix epoch. The clock of every stamp that is compared with an exchange
/// time or a capture's receive times, of token expiry (a calendar time) and of anything shared through files.
public struct WallClock: NanoClock {
    @inlinable
    public init() {}

    /// - Complexity: one `clock_gettime` through the vDSO, no system call.
    @inlinable
    public func now() -> Int64 { realtimeNanoseconds() }

    public func sleep(nanoseconds: Int64) { blockThread(nanoseconds) }

    /// Whole seconds since the Unix epoch.
    public func epochSeconds() -> Int64 { self.now() / 1_000_000_000 }
}

/// `CLOCK_MONOTONIC`: never steps when the wall clock is corrected, so deadlines, timeouts and rate windows stay
/// exact. Its epoch is the boot, so its readings compare only with each other.
public struct MonotonicClock: NanoClock {
    @inlinable
    public init() {}

    @inlinable
    public func now() -> Int64 { monotonicNanoseconds() }

    public func sleep(nanoseconds: Int64) { blockThread(nanoseconds) }
}

// Not inlinable: their bodies name Glibc, which this module imports internally.
@usableFromInline
func realtimeNanoseconds() -> Int64 { readClock(CLOCK_REALTIME) }

@usableFromInline
func monotonicNanoseconds() -> Int64 { readClock(CLOCK_MONOTONIC) }

@inline(__always)
private func readClock(_ id: clockid_t) -> Int64 {
    var spec = timespec()
    clock_gettime(id, &spec)
    return Int64(spec.tv_sec) &* 1_000_000_000 &+ Int64(spec.tv_nsec)
}

func blockThread(_ nanoseconds: Int64) {
    guard nanoseconds > 0 else {
        sched_yield()
        return
    }
    var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    var remaining = timespec()
    // A signal cuts the sleep short; finish it, so a wait the caller computed is never shortened.
    while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
}
