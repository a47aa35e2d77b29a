import TickCore

/// Market time in nanoseconds since the Unix epoch, as the market stage and the strategy read it.
///
/// Live, market time is wall time. Against an accelerated simulator it runs `speed` times faster, so the clock is
/// an affine map of the wall clock anchored on the first trade seen: its exchange second (KIS stamps whole seconds,
/// so the anchor is the middle of it) against its receive time. It never runs backwards, and a trade stamped later
/// than the clock reads pulls the clock forward, which keeps a drifting anchor from closing bars early. "Wall clock"
/// is what `source` reads: in a replay, the recorded receive time of the message being replayed.
struct MarketClock<Source: NanoClock> {
    let speed: Double
    let source: Source
    private var anchorMarket: Int64 = 0
    private var anchorWall: Int64 = 0
    private var floor: Int64 = 0

    init(speed: Double, source: Source) {
        precondition(speed > 0, "market speed must be positive")
        self.speed = speed
        self.source = source
    }

    /// Whether a trade has anchored the clock yet; before that a reading is the source's time.
    var isAnchored: Bool { self.anchorWall != 0 }

    /// Anchors on the first trade and keeps the clock at or past every exchange stamp.
    mutating func observe(exchangeTime: UInt32, receivedAt wall: Int64) {
        let stamped = Int64(exchangeTime) &* 1_000_000_000
        if !self.isAnchored {
            self.anchorMarket = stamped &+ 500_000_000
            self.anchorWall = wall
        }
        let reading = self.read(wall: wall)
        if stamped > reading {
            // The anchor lags the feed: move it so this instant reads as the trade's second.
            self.anchorMarket &+= stamped &- reading
        }
    }

    /// Market nanoseconds now.
    mutating func now() -> Int64 {
        self.read(wall: self.source.now())
    }

    /// Market nanoseconds at the source's time `wall` (an event's receive time), never earlier than any reading
    /// before it.
    mutating func read(wall: Int64) -> Int64 {
        guard self.isAnchored else { return max(self.floor, wall) }
        let reading = self.anchorMarket &+ Int64(Double(wall &- self.anchorWall) * self.speed)
        self.floor = max(self.floor, reading)
        return self.floor
    }
}
