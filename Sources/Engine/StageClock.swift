import TickCore
import Synchronization

/// The time a replay has reached: the recorded receive time of the message being replayed, in nanoseconds since
/// the Unix epoch. Set by the one thread that drives the replay, read by the stages it runs.
public final class ReplayTime: Sendable {
    private let nanoseconds = Atomic<Int64>(0)

    public init() {}

    public var now: Int64 { self.nanoseconds.load(ordering: .relaxed) }

    /// Moves the replay to `nanoseconds`; it never goes back, as a recorded receive time may (a clock step).
    public func advance(to nanoseconds: Int64) {
        if nanoseconds > self.now { self.nanoseconds.store(nanoseconds, ordering: .relaxed) }
    }
}

/// Where the stages read "now": the wall clock live, the replay's time in a replay. Everything the strategy sees
/// (the market clock, timers, bar closes) reads through it, so a replay never sees the machine's clock.
struct StageClock: Sendable {
    let replay: ReplayTime?

    init(_ replay: ReplayTime? = nil) { self.replay = replay }

    /// - Complexity: O(1): one load, or one clock_gettime.
    func now() -> Int64 {
        if let replay = self.replay { return replay.now }
        return WallClock().now()
    }
}
