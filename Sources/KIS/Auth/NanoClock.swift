import Glibc
import Net

/// A nanosecond time source that can also block the calling thread, so the token manager and the rate limiter run
/// on fake time in tests.
///
/// Time is an `Int64` of nanoseconds (292 years of range) rather than a `Double` of seconds, so that sums and
/// differences are exact and the rate limiter's window comparisons never round.
public protocol NanoClock: Sendable {
    /// Nanoseconds since this clock's epoch.
    func now() -> Int64
    /// Blocks the calling thread for `nanoseconds`; zero or less yields the processor once.
    func sleep(nanoseconds: Int64)
}

/// `CLOCK_REALTIME`: nanoseconds since the Unix epoch, the clock the token manager needs because token expiry is a
/// calendar time and the cross-process guard is shared through files.
public struct WallClock: NanoClock {
    public init() {}

    public func now() -> Int64 { Self.read(CLOCK_REALTIME) }

    public func sleep(nanoseconds: Int64) { Self.block(nanoseconds) }

    /// Whole seconds since the Unix epoch.
    public func epochSeconds() -> Int64 { self.now() / 1_000_000_000 }

    static func read(_ id: clockid_t) -> Int64 {
        var spec = timespec()
        unsafe clock_gettime(id, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    static func block(_ nanoseconds: Int64) {
        guard nanoseconds > 0 else {
            sched_yield()
            return
        }
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        // A signal cuts the sleep short; finish it, so a wait the caller computed is never shortened.
        while unsafe nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }
}

/// `CLOCK_MONOTONIC`: never steps when the wall clock is corrected, so the rate limiter's windows stay exact.
public struct MonotonicClock: NanoClock {
    public init() {}

    /// The same clock as `Net.monotonicNanoseconds()`, which stamps requests, so the two compare.
    public func now() -> Int64 { Int64(truncatingIfNeeded: monotonicNanoseconds()) }

    public func sleep(nanoseconds: Int64) { WallClock.block(nanoseconds) }
}
