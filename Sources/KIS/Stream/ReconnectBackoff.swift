import TickCore

/// Delays between connection attempts: exponential with full jitter (each delay uniform in 0 … min(cap, base·2ⁿ)),
/// so that many clients dropped by one server event do not come back in step. Attempts never run out.
///
///     attempt n:     0      1       2       3             …   k and after
///     ceiling:     base  2·base  4·base  8·base              cap
///     delay:       uniform in [0, ceiling]
struct ReconnectBackoff {
    let base: UInt64
    let cap: UInt64
    /// Attempts since the last reset; the next delay's ceiling doubles with each.
    private(set) var attempt = 0
    private var random: SplitMix64

    /// - Parameters:
    ///   - base: the first ceiling, in nanoseconds.
    ///   - cap: the largest ceiling, in nanoseconds.
    ///   - seed: the jitter's seed; tests fix it, the session draws it from the system generator.
    init(base: UInt64, cap: UInt64, seed: UInt64) {
        precondition(base > 0 && cap >= base, "backoff needs 0 < base <= cap")
        self.base = base
        self.cap = cap
        self.random = SplitMix64(seed: seed)
    }

    /// The ceiling of attempt `n`: min(cap, base·2ⁿ), without overflow.
    func ceiling(attempt n: Int) -> UInt64 {
        let shift = UInt64(min(n, 63))
        return self.base > self.cap >> shift ? self.cap : self.base << shift
    }

    /// The delay before the next attempt, in nanoseconds.
    mutating func next() -> UInt64 {
        let ceiling = self.ceiling(attempt: self.attempt)
        self.attempt += 1
        return UInt64.random(in: 0...ceiling, using: &self.random)
    }

    /// Starts over from `base`, after a connection that stayed healthy.
    mutating func reset() {
        self.attempt = 0
    }
}
