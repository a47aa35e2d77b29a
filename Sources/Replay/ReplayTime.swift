import Synchronization
public import TickCore

/// The time a replay has reached: the recorded receive time of the message being replayed, in nanoseconds since
/// the Unix epoch. The replay's pipeline reads "now" from it (its timers, its bars' closes, the strategy's clock),
/// so a replay never sees the machine's clock. Set by the one thread that drives the replay.
public final class ReplayTime: NanoClock {
    private let nanoseconds = Atomic<Int64>(0)

    public init() {}

    public func now() -> Int64 { self.nanoseconds.load(ordering: .relaxed) }

    /// Replayed time passes: nothing blocks in a replay.
    public func sleep(nanoseconds: Int64) {
        if nanoseconds > 0 { self.advance(to: self.now() &+ nanoseconds) }
    }

    /// Moves the replay to `nanoseconds`; it never goes back, as a recorded receive time may (a clock step).
    public func advance(to nanoseconds: Int64) {
        if nanoseconds > self.now() { self.nanoseconds.store(nanoseconds, ordering: .relaxed) }
    }
}
