public import Candles
public import Metrics
public import Orders
import Ring
import Risk
import Synchronization
public import TickCore

/// What the market stage publishes for a status display, ten times a second and when it ends: a plain value,
/// copied out whole (a seqlock), never torn.
public struct PipelineSnapshot: BitwiseCopyable, Sendable {
    /// Market time, nanoseconds since the Unix epoch.
    public var marketTime: Int64 = 0
    public var totals = DayTotals()
    public var orders = BrokerCounters()
    /// Orders working or in flight.
    public var open = 0
    public var killArmed = false
    /// Prints older than their bar, which changed no bar.
    public var lateTrades = 0
    /// Codes with at least one trade seen today: whether every code's stream reaches the stage.
    public var codesTraded = 0
    /// Positions with shares, at most `positions.count` of them (the first `positionCount` are set).
    public var positionCount = 0
    public var positions: InlineArray<20, Position> = .init(repeating: Position(code: SymbolCode(rawValue: 0)))
    /// Orders working or in flight, at most `working.count` of them in no particular order (the first
    /// `workingCount` are set).
    public var workingCount = 0
    public var working: InlineArray<32, OrderSnapshot> = .init(
        repeating: OrderSnapshot(
            id: OrderID(rawValue: 0),
            target: OrderID(rawValue: 0),
            code: SymbolCode(rawValue: 0),
            side: .buy,
            action: .new,
            purpose: .entry,
            quantity: 0,
            price: 0,
            state: .new,
            remaining: 0
        )
    )
}

/// Where a pipeline's figures are read from any thread, without the market stage ever waiting for a reader: its
/// snapshot (lock-free, the latest one published) and its latencies (double-buffered by a `LatencyRecorder`; the
/// running total sits under a lock that only readers take).
public final class PipelineMonitor: Sendable {
    let published = ConflatingTable<PipelineSnapshot>(capacity: 1)
    let recorder = LatencyRecorder<PipelineLatency>()
    private let total = Mutex(PipelineLatency())
    /// The 1-minute bars the market stage completed, for a chart (the live page): it pushes, never waits, and
    /// counts what a reader that fell `capacity` behind left no room for.
    let bars = SPSCRing<Candle>(capacity: 1_024)
    let barsDropped = Atomic<Int>(0)

    init() {}

    /// The market stage's latest figures; nil before its first publication.
    /// - Complexity: O(1), one copy; never blocks the stage.
    public func snapshot() -> PipelineSnapshot? {
        self.published.get(at: 0)
    }

    /// Every latency recorded so far, handed to `body` under the readers' lock; what the stage recorded since the
    /// last call is added first (up to one collection late while the stage runs, exact once it has stopped and
    /// `finish` ran).
    public func withLatency<R>(_ body: (borrowing PipelineLatency) -> R) -> R {
        self.total.withLock { total in
            self.recorder.collect(into: &total)
            return body(total)
        }
    }

    /// Hands `body` the 1-minute bars completed since the last call, oldest first. One thread only, always the same
    /// (the ring's consumer): a run's journal thread, which passes them on.
    public func takeBars(_ body: (Candle) -> Void) {
        while self.bars.drain(max: 256, body) > 0 {}
    }

    /// Bars a reader that fell behind never saw.
    public var droppedBars: Int { self.barsDropped.load(ordering: .relaxed) }

    /// Takes everything the stage recorded. Only once its thread has stopped (or on its own thread, inline).
    func finish() {
        self.total.withLock { total in self.recorder.collectFinal(into: &total) }
    }
}
