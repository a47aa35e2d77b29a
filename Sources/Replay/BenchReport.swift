import Foundation
public import Metrics

/// What `kistick bench` measured.
public struct BenchReport {
    public var messages: Int
    public var records: Int
    public var bytes: Int
    public var nanoseconds: Int64
    /// The paced rate, records a second; nil for as fast as possible.
    public var rate: Double?
    /// How far behind its schedule the paced feed fell at worst (the feeding thread's own lag), nanoseconds.
    public var lateNanoseconds: Int64
    public var malformed: Int
    public var conflated: Int
    public var spilled: Int
    public var lost: Int
    public var latency: PipelineLatency
    /// The deterministic replay of the same messages: inline, on replay time, with the simulated exchange.
    public var replayNanoseconds: Int64 = 0

    public var seconds: Double { Double(self.nanoseconds) / 1e9 }
    public var recordsPerSecond: Int { Int(Double(self.records) / max(self.seconds, 1e-9)) }
    public var megabytesPerSecond: Double { Double(self.bytes) / 1e6 / max(self.seconds, 1e-9) }
    public var replayRecordsPerSecond: Int {
        Int(Double(self.records) / max(1e-9, Double(self.replayNanoseconds) / 1e9))
    }

    /// Each interval with values, and its percentiles.
    public var intervals: [(interval: PipelineInterval, summary: LatencySummary)] {
        PipelineInterval.allCases.compactMap { interval in
            self.latency[interval].count == 0 ? nil : (interval, self.latency[interval].summary())
        }
    }

    /// What the latency measures: at a rate, a frame's own latency; flat out, mostly its wait in the queue.
    public var latencyHeading: String {
        if let rate = self.rate {
            return "latency at \(Int(rate)) records/s (frame ready → decision), worst feed lag "
                + LatencySummary.text(self.lateNanoseconds)
        }
        return "latency under saturation (fed as fast as the stage takes it: queueing, not the pipeline's latency)"
    }

    public func table() -> [String] {
        var lines = [
            "\(self.messages) messages, \(self.records) records, \(self.bytes) bytes in "
                + Self.format(
                    "%.3f s: %d records/s, %.1f MB/s",
                    self.seconds,
                    self.recordsPerSecond,
                    self.megabytesPerSecond
                ),
            "malformed \(self.malformed), books conflated \(self.conflated), spilled \(self.spilled), lost \(self.lost)",
        ]
        if self.replayNanoseconds > 0 {
            lines.append(
                "replay (inline, replay time, simulated exchange): "
                    + Self.format(
                        "%.3f s: %d records/s",
                        Double(self.replayNanoseconds) / 1e9,
                        self.replayRecordsPerSecond
                    )
            )
        }
        lines.append(self.latencyHeading)
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        lines.append(
            ["interval", "count", "p50", "p90", "p99", "p99.9", "max"].enumerated().map { pad($1, $0 == 0 ? 18 : 10) }
                .joined()
        )
        for (interval, s) in self.intervals {
            let cells = [interval.label, "\(s.count)"] + [s.p50, s.p90, s.p99, s.p999, s.max].map(LatencySummary.text)
            lines.append(cells.enumerated().map { pad($1, $0 == 0 ? 18 : 10) }.joined())
        }
        return lines
    }

    public func json() -> String {
        let intervals = self.intervals.map { interval, s in
            #""\#(interval.label)":{"count":\#(s.count),"p50_ns":\#(s.p50),"p90_ns":\#(s.p90),"p99_ns":\#(s.p99),"#
                + #""p99_9_ns":\#(s.p999),"max_ns":\#(s.max)}"#
        }
        let rate = self.rate.map { "\(Int($0))" } ?? "null"
        return #"{"messages":\#(self.messages),"records":\#(self.records),"bytes":\#(self.bytes),"#
            + #""seconds":\#(self.seconds),"records_per_second":\#(self.recordsPerSecond),"#
            + #""mb_per_second":\#(Self.format("%.1f", self.megabytesPerSecond)),"malformed":\#(self.malformed),"#
            + #""books_conflated":\#(self.conflated),"spilled":\#(self.spilled),"lost":\#(self.lost),"#
            + #""replay_seconds":\#(Double(self.replayNanoseconds) / 1e9),"#
            + #""replay_records_per_second":\#(self.replayRecordsPerSecond),"#
            + #""rate":\#(rate),"late_ns":\#(self.lateNanoseconds),"saturated":\#(self.rate == nil),"#
            + #""latency":{\#(intervals.joined(separator: ","))}}"#
    }

    static func format(_ pattern: String, _ values: any CVarArg...) -> String {
        String(format: pattern, arguments: values)
    }
}
