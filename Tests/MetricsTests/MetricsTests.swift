import Metrics
import Synchronization
import Testing

@Suite struct LatencyHistogramTests {
    /// 1…1000 ns once each: below 2048 the histogram is exact, so percentiles are the plain order statistics.
    @Test func percentilesOfAUniformDistribution() {
        var histogram = LatencyHistogram()
        for value in 1...1_000 {
            histogram.record(Int64(value))
        }
        let summary = histogram.summary()
        #expect(summary == LatencySummary(count: 1_000, p50: 500, p90: 900, p99: 990, p999: 999, max: 1_000))
    }

    /// 990 fast values and 10 slow ones: p99 is still fast, p99.9 is slow within the 0.1 % precision.
    @Test func percentilesOfATail() {
        var histogram = LatencyHistogram()
        for _ in 0..<990 {
            histogram.record(1_500)
        }
        for _ in 0..<10 {
            histogram.record(2_345_678)
        }
        let summary = histogram.summary()
        #expect(summary.count == 1_000)
        #expect(summary.p50 == 1_500 && summary.p90 == 1_500 && summary.p99 == 1_500)
        #expect(abs(summary.p999 - 2_345_678) <= 2_345_678 / 1_000)
        #expect(summary.max == 2_345_678)
    }

    @Test func negativeValuesAreCountedAndLongOnesClamped() {
        var histogram = LatencyHistogram()
        histogram.record(-5)
        histogram.record(0)
        histogram.record(LatencyHistogram.highestNanoseconds * 3)
        #expect(histogram.negative == 1 && histogram.clamped == 1 && histogram.count == 2)
        #expect(histogram.summary().max == LatencyHistogram.highestNanoseconds)
        #expect(histogram.value(atPercentile: 50) == 0)
    }

    @Test func mergeAddsCounts() {
        var fast = LatencyHistogram()
        var slow = LatencyHistogram()
        for _ in 0..<90 {
            fast.record(100)
        }
        for _ in 0..<10 {
            slow.record(1_000)
        }
        slow.record(-1)
        fast.add(slow)
        #expect(fast.count == 100 && fast.negative == 1)
        #expect(fast.value(atPercentile: 90) == 100 && fast.value(atPercentile: 91) == 1_000)
        fast.reset()
        #expect(fast.count == 0 && fast.negative == 0 && fast.summary().max == 0)
    }

    @Test(
        arguments: [
            (0, "0ns"), (850, "850ns"), (1_000, "1.00µs"), (1_210, "1.21µs"), (31_049, "31.0µs"), (412_999, "412µs"),
            (1_200_000, "1.20ms"), (2_500_000_000, "2.50s"), (10_000_000_000, "10.0s"),
        ] as [(Int64, String)]
    )
    func durationsPrintInThreeDigits(nanoseconds: Int64, text: String) {
        #expect(LatencySummary.text(nanoseconds) == text)
    }

    @Test func summaryLine() {
        let summary = LatencySummary(count: 3, p50: 1_210, p90: 2_050, p99: 8_400, p999: 31_000, max: 1_200_000)
        #expect(
            summary.line("read→decoded") == "read→decoded n=3 p50 1.21µs p90 2.05µs p99 8.40µs p99.9 31.0µs max 1.20ms"
        )
    }
}

@Suite struct PipelineLatencyTests {
    @Test func recordsOnlyIntervalsWithBothStamps() {
        var pipeline = PipelineLatency()
        // A tick that led to no order: read and decision only.
        pipeline.record(.readToDecision, from: 1_000, to: 2_500)
        pipeline.record(.decisionToRequestWritten, from: 2_500, to: 0)
        #expect(pipeline[.readToDecision].summary().max == 1_500)
        #expect(pipeline[.decisionToRequestWritten].count == 0)

        pipeline.record(.readToDecision, from: 2_000, to: 2_400)
        pipeline.record(.decisionToRequestWritten, from: 2_500, to: 12_500)
        pipeline.record(.requestWrittenToRESTAck, from: 12_500, to: 412_500)
        pipeline.record(.requestWrittenToNotice, from: 12_500, to: 1_012_500)
        #expect(pipeline[.readToDecision].count == 2)
        #expect(pipeline[.decisionToRequestWritten].summary().max == 10_000)
        #expect(pipeline[.requestWrittenToRESTAck].summary().max == 400_000)
        #expect(pipeline[.requestWrittenToNotice].summary().max == 1_000_000)
        #expect(pipeline.report().count == 4)
        #expect(pipeline.report()[0] == "read→decision n=2 p50 400ns p90 1.50µs p99 1.50µs p99.9 1.50µs max 1.50µs")
    }
}

/// A flag one task raises for another (an `Atomic` alone cannot be captured).
final class Flag: Sendable {
    private let raised = Atomic<Bool>(false)

    func set() {
        self.raised.store(true, ordering: .releasing)
    }

    var isSet: Bool { self.raised.load(ordering: .acquiring) }
}

@Suite struct LatencyRecorderTests {
    @Test func swapsBuffersOnlyWhenTheWriterAcknowledges() {
        let recorder = LatencyRecorder<LatencyHistogram>()
        var total = LatencyHistogram()
        recorder.record { $0.record(10) }
        // The first collection takes the empty idle buffer and asks for a swap.
        #expect(recorder.collect(into: &total) && total.count == 0)
        // The writer has not recorded since: nothing to take yet.
        #expect(!recorder.collect(into: &total))
        recorder.record { $0.record(20) }
        #expect(recorder.collect(into: &total) && total.count == 1 && total.summary().max == 10)
        // A quiet writer hands over by polling.
        recorder.poll()
        #expect(recorder.collect(into: &total) && total.count == 2 && total.summary().max == 20)
        recorder.record { $0.record(30) }
        recorder.collectFinal(into: &total)
        #expect(total.count == 3)
    }

    @Test func aConcurrentReaderLosesAndDoublesNothing() async {
        let recorder = LatencyRecorder<PipelineLatency>()
        let writes = 100_000
        let done = Flag()
        var total = PipelineLatency()
        var collections = 0
        await withTaskGroup { group in
            group.addTask {
                for value in 1...writes {
                    recorder.record { $0.record(.readToDecision, from: 1, to: Int64(value) + 1) }
                }
                done.set()
            }
            while !done.isSet {
                if recorder.collect(into: &total) {
                    collections += 1
                }
                await Task.yield()
            }
            await group.waitForAll()
        }
        recorder.collectFinal(into: &total)
        let histogram = total[.readToDecision]
        #expect(histogram.count == UInt64(writes))
        #expect(histogram.summary().max == Int64(writes))
        // 50,000 is past the exact range: within the 0.1 % precision.
        #expect(abs(histogram.value(atPercentile: 50) - Int64(writes / 2)) <= Int64(writes / 2) / 1_000)
        #expect(total[.decisionToRequestWritten].count == 0)
        #expect(collections >= 1)
    }
}
