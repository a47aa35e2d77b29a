#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether the internal invariant checks run: the O(n) walks that prove a ring, a reader or the order book consistent
/// after each change (`checkInvariants()` in `Ring`, `Wire` and `Orders`).
///
/// Release builds compile the checks out unless built with `-DTICK_INTERNAL_CHECKS` (the fuzz targets are). Debug
/// builds compile them in and run them when `TICK_INTERNAL_CHECKS` is set in the environment, so `scripts/test` runs
/// the unit suites with them and the engine suites without, from one build.
public enum InternalChecks {
    #if TICK_INTERNAL_CHECKS
    public static let enabled = true
    #else
    public static let enabled = getenv("TICK_INTERNAL_CHECKS") != nil
    #endif
}
