/// The latencies the pipeline reports, each between two wall-clock stamps (`TickCore.WallClock`, the axis of a
/// record's receive time): the socket read that delivered a record, the strategy's decision on it, the order
/// request's last byte handed to the socket, the REST answer parsed, the order's first notice decoded.
///
/// A record carries one stamp, its read's, from the feed thread to the market stage, which stamps the decision
/// once per event: stamping each stage on the way would cost a clock read per record and stage for figures that,
/// with the stages on one thread, add up to the same interval.
public enum PipelineInterval: Int, CaseIterable, Sendable {
    case readToDecision
    case decisionToRequestWritten
    case requestWrittenToRESTAck
    case requestWrittenToNotice

    /// The report label, such as `read→decision`.
    public var label: String {
        switch self {
        case .readToDecision: "read→decision"
        case .decisionToRequestWritten: "decision→written"
        case .requestWrittenToRESTAck: "written→ack"
        case .requestWrittenToNotice: "written→notice"
        }
    }
}

/// One latency histogram per `PipelineInterval`. About 0.8 MB, allocated up front.
///
/// One thread records into a given `PipelineLatency`; to read it from another, put it in a `LatencyRecorder`.
public struct PipelineLatency: Sendable {
    @usableFromInline var histograms: InlineArray<4, LatencyHistogram>

    public init() {
        self.histograms = InlineArray(repeating: LatencyHistogram())
        // `repeating:` copies one histogram, so all four would share (and on first record, copy) one counts array.
        for interval in PipelineInterval.allCases {
            self.histograms[interval.rawValue] = LatencyHistogram()
        }
    }

    /// Records `end − start` as `interval`, when both stamps are set (0 is a stamp not taken).
    ///
    /// - Complexity: O(1), no allocation.
    @inlinable
    public mutating func record(_ interval: PipelineInterval, from start: Int64, to end: Int64) {
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
