public import Histogram

/// Latencies in nanoseconds from 1 ns to 10 s at three significant digits (a value is within 0.1 % of what was
/// recorded), in counts allocated up front.
///
/// Backed by hdrhistogram-swift's `Histogram<UInt64>`: `record` computes a bucket index from the value's leading
/// zero count and increments one counter in an array this histogram alone references, so it never allocates
/// (`RingBenchmarks` "histogram-record" holds it at 0 mallocs). Do not copy a histogram that is still recording:
/// the copy shares the counts array, and the next record would copy it. Owned by one thread at a time.
public struct LatencyHistogram: Sendable {
    /// The largest value kept as is; longer latencies are recorded as this and counted in `clamped`.
    public static let highestNanoseconds: Int64 = 10_000_000_000

    @usableFromInline var histogram: Histogram<UInt64>
    @usableFromInline var clampedCount: UInt64 = 0
    @usableFromInline var negativeCount: UInt64 = 0

    /// Values above `highestNanoseconds`, recorded as it.
    public var clamped: UInt64 { self.clampedCount }
    /// Negative values, not recorded: stamps out of order, a bug in whoever took them.
    public var negative: UInt64 { self.negativeCount }

    /// An empty histogram (about 200 KB of counts).
    public init() {
        self.histogram = Histogram(
            lowestDiscernibleValue: 1,
            highestTrackableValue: UInt64(Self.highestNanoseconds),
            numberOfSignificantValueDigits: .three
        )
    }

    /// Records one latency.
    ///
    /// - Parameter nanoseconds: the latency; 0 is a valid value, negative ones are only counted.
    /// - Complexity: O(1), no allocation.
    @inlinable
    public mutating func record(_ nanoseconds: Int64) {
        if nanoseconds < 0 {
            self.negativeCount &+= 1
            return
        }
        var value = UInt64(nanoseconds)
        if nanoseconds > Self.highestNanoseconds {
            self.clampedCount &+= 1
            value = UInt64(Self.highestNanoseconds)
        }
        self.histogram.record(value)
    }

    /// Values recorded (negative ones excluded).
    public var count: UInt64 { self.histogram.totalCount }

    /// Latencies recorded at or below `nanoseconds`, at the histogram's precision: a Prometheus bucket.
    public func count(atOrBelow nanoseconds: Int64) -> UInt64 {
        nanoseconds < 0 ? 0 : self.histogram.count(within: 0...UInt64(nanoseconds))
    }

    /// The sum of every latency recorded, nanoseconds, at the histogram's precision.
    public var sum: Int64 { Int64(self.histogram.mean * Double(self.histogram.totalCount)) }

    /// The value at `percentile` (0...100), at the histogram's precision; 0 when empty.
    public func value(atPercentile percentile: Double) -> Int64 {
        Int64(self.histogram.valueAtPercentile(percentile))
    }

    /// Adds every count of `other` into this one.
    ///
    /// - Complexity: O(number of buckets), about 25,000.
    public mutating func add(_ other: LatencyHistogram) {
        self.histogram.add(other.histogram)
        self.clampedCount &+= other.clampedCount
        self.negativeCount &+= other.negativeCount
    }

    /// Empties the histogram without freeing its counts.
    ///
    /// - Complexity: O(number of buckets).
    public mutating func reset() {
        self.histogram.reset()
        self.clampedCount = 0
        self.negativeCount = 0
    }

    /// Count, p50, p90, p99, p99.9 and max.
    ///
    /// - Complexity: O(number of buckets) per percentile; a cold path.
    public func summary() -> LatencySummary {
        LatencySummary(
            count: Int64(self.count),
            p50: self.value(atPercentile: 50),
            p90: self.value(atPercentile: 90),
            p99: self.value(atPercentile: 99),
            p999: self.value(atPercentile: 99.9),
            max: Int64(self.histogram.maxRecorded)
        )
    }
}

/// The percentiles a report shows for one latency, in nanoseconds.
public struct LatencySummary: BitwiseCopyable, Equatable, Sendable {
    public var count: Int64
    public var p50: Int64
    public var p90: Int64
    public var p99: Int64
    public var p999: Int64
    public var max: Int64

    public init(count: Int64, p50: Int64, p90: Int64, p99: Int64, p999: Int64, max: Int64) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
    }

    /// One report line, such as `read→decoded n=48211 p50 1.21µs p90 2.05µs p99 8.40µs p99.9 31.0µs max 1.20ms`.
    public func line(_ name: String) -> String {
        "\(name) n=\(self.count) p50 \(Self.text(self.p50)) p90 \(Self.text(self.p90)) p99 \(Self.text(self.p99))"
            + " p99.9 \(Self.text(self.p999)) max \(Self.text(self.max))"
    }

    /// A duration in three significant digits with its unit: `850ns`, `1.21µs`, `31.0µs`, `412µs`, `1.20ms`, `2.50s`.
    public static func text(_ nanoseconds: Int64) -> String {
        if nanoseconds < 1_000 {
            return "\(nanoseconds)ns"
        }
        let (scale, unit): (Int64, String) =
            nanoseconds < 1_000_000
            ? (1_000, "µs") : nanoseconds < 1_000_000_000 ? (1_000_000, "ms") : (1_000_000_000, "s")
        let whole = nanoseconds / scale
        // Decimals so that whole and fraction make three digits (two under 10, one under 100, none above).
        let decimals: Int64 = whole < 10 ? 2 : whole < 100 ? 1 : 0
        if decimals == 0 {
            return "\(whole)\(unit)"
        }
        let step = decimals == 2 ? scale / 100 : scale / 10
        let fraction = (nanoseconds % scale) / step
        let digits = String(fraction)
        let padded = String(repeating: "0", count: Int(decimals) - digits.count) + digits
        return "\(whole).\(padded)\(unit)"
    }
}
