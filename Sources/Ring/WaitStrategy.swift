internal import CAffinity
public import TickCore

#if canImport(Glibc)
import Glibc
#endif

/// How a stage thread waits when its rings are empty. A stage's loop calls `idle` after a poll that found
/// nothing and `reset()` after one that found work:
///
///     var wait = SpinThenPark(doorbell: bell)
///     while running {
///         if ring.drain(max: 64, handle) == 0 { wait.idle { ring.approximateCount > 0 } } else { wait.reset() }
///     }
///
/// Stages take the strategy as a generic parameter (`<W: WaitStrategy>`), never `any WaitStrategy`, so the wait
/// inlines into the loop.
public protocol WaitStrategy {
    /// Waits a little: called after a poll that found no work. A strategy that sleeps until a producer wakes it
    /// calls `hasWork` (on this thread) after announcing that it will sleep, and sleeps only if it says no; the
    /// others ignore it.
    mutating func idle(_ hasWork: () -> Bool)
    /// Forgets how long the thread has been idle: called after a poll that found work.
    mutating func reset()
}

extension WaitStrategy {
    /// `idle` for a loop whose producers never ring: a strategy that sleeps until woken sleeps out its timeout.
    @inlinable
    public mutating func idle() {
        self.idle { false }
    }
}

/// Spins with the CPU's pause hint and never gives the core up: the lowest wake-up latency, for a stage pinned to
/// a core of its own (`kistick live` on a machine with cores to spare). On a shared core it starves the others.
public struct BusySpin: WaitStrategy, Sendable {
    public init() {}

    @inlinable
    public mutating func idle(_ hasWork: () -> Bool) {
        cpuRelax()
    }

    @inlinable
    public mutating func reset() {}
}

/// Spins `spins` times, then yields the core to another runnable thread on every idle poll. Wakes within a
/// scheduler round trip, and lets other threads run, but an idle stage still uses a whole core.
public struct SpinThenYield: WaitStrategy, Sendable {
    public let spins: Int
    @usableFromInline var idlePolls = 0

    /// - Parameter spins: idle polls spent spinning before yielding, at least 0 (`precondition`).
    public init(spins: Int = 1_024) {
        precondition(spins >= 0, "SpinThenYield spins must not be negative, got \(spins)")
        self.spins = spins
    }

    @inlinable
    public mutating func idle(_ hasWork: () -> Bool) {
        if self.idlePolls < self.spins {
            self.idlePolls &+= 1
            cpuRelax()
        } else {
            yieldCPU()
        }
    }

    @inlinable
    public mutating func reset() {
        self.idlePolls = 0
    }
}

/// Spins, then yields, then sleeps with exponential backoff from `minSleepNanoseconds` to `maxSleepNanoseconds`:
/// an idle stage costs almost no CPU, and a busy one never sleeps. The default for `kistick paper`, where the
/// simulator shares the process and there are two cores for everything; the first element after a quiet spell waits
/// up to `maxSleepNanoseconds` (plus the thread's timer slack: start the thread with `StageThread`'s
/// `timerSlackNanoseconds`, or Linux rounds each sleep up by 50 µs).
public struct SpinYieldSleep: WaitStrategy, Sendable {
    public let spins: Int
    public let yields: Int
    public let minSleepNanoseconds: Int
    public let maxSleepNanoseconds: Int
    @usableFromInline var idlePolls = 0
    @usableFromInline var sleepNanoseconds: Int

    /// - Parameters:
    ///   - spins: idle polls spent spinning, at least 0.
    ///   - yields: idle polls after those that yield the core, at least 0.
    ///   - minSleepNanoseconds: the first sleep, at least 1.
    ///   - maxSleepNanoseconds: the longest sleep, at least `minSleepNanoseconds` and below one second.
    public init(
        spins: Int = 256,
        yields: Int = 64,
        minSleepNanoseconds: Int = 1_000,
        maxSleepNanoseconds: Int = 200_000
    ) {
        precondition(spins >= 0 && yields >= 0, "SpinYieldSleep spins and yields must not be negative")
        precondition(
            minSleepNanoseconds >= 1 && minSleepNanoseconds <= maxSleepNanoseconds
                && maxSleepNanoseconds < 1_000_000_000,
            "SpinYieldSleep needs 1 <= minSleepNanoseconds <= maxSleepNanoseconds < 1 s"
        )
        self.spins = spins
        self.yields = yields
        self.minSleepNanoseconds = minSleepNanoseconds
        self.maxSleepNanoseconds = maxSleepNanoseconds
        self.sleepNanoseconds = minSleepNanoseconds
    }

    @inlinable
    public mutating func idle(_ hasWork: () -> Bool) {
        if self.idlePolls < self.spins {
            self.idlePolls &+= 1
            cpuRelax()
        } else if self.idlePolls < self.spins &+ self.yields {
            self.idlePolls &+= 1
            yieldCPU()
        } else {
            sleepFor(nanoseconds: self.sleepNanoseconds)
            self.sleepNanoseconds = Swift.min(self.sleepNanoseconds &* 2, self.maxSleepNanoseconds)
        }
    }

    @inlinable
    public mutating func reset() {
        self.idlePolls = 0
        self.sleepNanoseconds = self.minSleepNanoseconds
    }
}

/// Spins for `spinNanoseconds` after the last work, then sleeps on a `Doorbell` until a producer rings it (or
/// `parkNanoseconds` pass, so a stage's timers still run): the wake-up a producer signals rather than a timed
/// sleep. The default wait of the engine's stages. The spin covers the gaps of a busy feed (a burst's records, one
/// after another) at the cost of a core for that long after each; a quiet feed parks, and the first record after a
/// quiet spell pays one futex wake-up (a few microseconds, more on a virtual machine).
public struct SpinThenPark: WaitStrategy, Sendable {
    public let doorbell: Doorbell
    public let spinNanoseconds: Int64
    public let parkNanoseconds: Int64
    @usableFromInline var idleSince: Int64 = 0

    /// - Parameters:
    ///   - spinNanoseconds: how long to spin after the last work before sleeping, at least 0.
    ///   - parkNanoseconds: the longest sleep, positive: the stage's timer period.
    public init(doorbell: Doorbell, spinNanoseconds: Int64 = 50_000, parkNanoseconds: Int64 = 1_000_000) {
        precondition(spinNanoseconds >= 0 && parkNanoseconds > 0, "SpinThenPark needs spin >= 0 and park > 0")
        self.doorbell = doorbell
        self.spinNanoseconds = spinNanoseconds
        self.parkNanoseconds = parkNanoseconds
    }

    @inlinable
    public mutating func idle(_ hasWork: () -> Bool) {
        let now = MonotonicClock().now()
        if self.idleSince == 0 {
            self.idleSince = now
        }
        if now &- self.idleSince < self.spinNanoseconds {
            cpuRelax()
            return
        }
        let key = self.doorbell.prepareToWait()
        if hasWork() {
            self.doorbell.cancelWait()
            return
        }
        self.doorbell.wait(key, timeoutNanoseconds: self.parkNanoseconds)
    }

    @inlinable
    public mutating func reset() {
        self.idleSince = 0
    }
}

/// The CPU's spin-wait hint (x86 `pause`, arm64 `yield`).
@usableFromInline
func cpuRelax() {
    caff_cpu_relax()
}

/// Gives the core to another runnable thread, if any.
@usableFromInline
func yieldCPU() {
    sched_yield()
}

@usableFromInline
func sleepFor(nanoseconds: Int) {
    var request = timespec(tv_sec: 0, tv_nsec: nanoseconds)
    // Safe because: `request` is a valid timespec for the call; an interrupted sleep just ends early.
    unsafe nanosleep(&request, nil)
}

/// A seqlock reader's retry: pause, and every 64th attempt yield, since a writer preempted mid-write holds the
/// slot until it runs again.
@usableFromInline
func backOff(_ attempts: Int) {
    if attempts & 63 == 0 {
        yieldCPU()
    } else {
        cpuRelax()
    }
}
