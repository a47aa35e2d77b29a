/// When an event reached each stage, in nanoseconds on the wall clock (`TickCore.WallClock`, the axis of a record's
/// receive time); 0 means not reached. Carried along with the event from the socket read to the order's notice.
public struct StageTimestamps: BitwiseCopyable, Equatable, Sendable {
    /// The socket read that delivered the frame.
    public var socketRead: Int64 = 0
    /// The record decoded into its struct.
    public var decoded: Int64 = 0
    /// The candle and features updated.
    public var candleUpdated: Int64 = 0
    /// The strategy decided.
    public var decision: Int64 = 0
    /// The order request's last byte handed to the socket.
    public var requestWritten: Int64 = 0
    /// The REST answer to the order parsed.
    public var restAck: Int64 = 0
    /// The order's first notice decoded.
    public var notice: Int64 = 0

    public init() {}
}

/// The latencies the pipeline reports, each between two stamps of `StageTimestamps`.
public enum PipelineInterval: Int, CaseIterable, Sendable {
    case readToDecoded
    case decodedToCandle
    case candleToDecision
    case readToDecision
    case decisionToRequestWritten
    case requestWrittenToRESTAck
    case requestWrittenToNotice

    /// The report label, such as `read→decoded`.
    public var label: String {
        switch self {
        case .readToDecoded: "read→decoded"
        case .decodedToCandle: "decoded→candle"
        case .candleToDecision: "candle→decision"
        case .readToDecision: "read→decision"
        case .decisionToRequestWritten: "decision→written"
        case .requestWrittenToRESTAck: "written→ack"
        case .requestWrittenToNotice: "written→notice"
        }
    }
}

/// One latency histogram per `PipelineInterval`, recorded from an event's stamps. About 1.4 MB, allocated up front.
///
/// Record each event once, on the thread where its life ends (the strategy for a tick that led to no order, the
/// order state machine for one that did): that thread has every stamp, and no interval is counted twice. One
/// thread records into a given `PipelineLatency`; to read it from another, put it in a `LatencyRecorder`.
public struct PipelineLatency: Sendable {
    @usableFromInline var histograms: InlineArray<7, LatencyHistogram>

    public init() {
        self.histograms = InlineArray(repeating: LatencyHistogram())
        // `repeating:` copies one histogram, so all seven would share (and on first record, copy) one counts array.
        for interval in PipelineInterval.allCases {
            self.histograms[interval.rawValue] = LatencyHistogram()
        }
    }

    /// Records every interval whose two stamps are both set.
    ///
    /// - Complexity: O(1), no allocation.
    @inlinable
    public mutating func record(_ stamps: StageTimestamps) {
        self.record(.readToDecoded, from: stamps.socketRead, to: stamps.decoded)
        self.record(.decodedToCandle, from: stamps.decoded, to: stamps.candleUpdated)
        self.record(.candleToDecision, from: stamps.candleUpdated, to: stamps.decision)
        self.record(.readToDecision, from: stamps.socketRead, to: stamps.decision)
        self.record(.decisionToRequestWritten, from: stamps.decision, to: stamps.requestWritten)
        self.record(.requestWrittenToRESTAck, from: stamps.requestWritten, to: stamps.restAck)
        self.record(.requestWrittenToNotice, from: stamps.requestWritten, to: stamps.notice)
    }

    @inlinable
    mutating func record(_ interval: PipelineInterval, from start: Int64, to end: Int64) {
        if start != 0 && end != 0 {
            self.histograms[interval.rawValue].record(end &- start)
        }
    }

    /// The histogram of one interval.
    public subscript(interval: PipelineInterval) -> LatencyHistogram {
        self.histograms[interval.rawValue]
    }

    /// Adds every count of `other` into this one.
    public mutating func add(_ other: PipelineLatency) {
        for interval in PipelineInterval.allCases {
            self.histograms[interval.rawValue].add(other.histograms[interval.rawValue])
        }
    }

    /// Empties every histogram without freeing its counts.
    public mutating func reset() {
        for interval in PipelineInterval.allCases {
            self.histograms[interval.rawValue].reset()
        }
    }

    /// One line per interval that has values (`LatencySummary.line`), for a report; a cold path.
    public func report() -> [String] {
        PipelineInterval.allCases.compactMap { interval in
            let histogram = self[interval]
            return histogram.count == 0 ? nil : histogram.summary().line(interval.label)
        }
    }
}
