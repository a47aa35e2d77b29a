#if canImport(Glibc)
    import Glibc
#endif

/// Nanoseconds on the monotonic clock: deadlines and latency stamps that wall-clock steps cannot move.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    unsafe clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}
