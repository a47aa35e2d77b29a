import Benchmark
import BenchmarkSupport
import EventLog
import Foundation
import Metrics
import Ring
import TickCore

/// The ring machinery's per-element paths, single-threaded: each steady state must not allocate (the committed
/// thresholds hold mallocCountTotal at 0). Two-thread figures come from `ring-speed`, which prints them.
let benchmarks: @Sendable () -> Void = {
    configureAllocationFreeBenchmarks()

    // The allocation check's proof that allocations are counted at all: one array per iteration. `scripts/bench
    // check` fails if this reads 0 (every 0 below would then prove nothing) or more than its threshold.
    Benchmark(
        "allocation-canary-1-array",
        configuration: .init(thresholds: [.mallocCountTotal: .init(absolute: [.p90: 1_000])])
    ) { benchmark in
        var count = 0
        measure(benchmark) { count &+= [Int](repeating: count, count: 16).count }
        blackHole(count)
    }

    // What a stage pays to log: one fixed-size record, stamped with the wall clock, into its ring, while the log's
    // writer thread drains (a log with no file and no console, so the writer formats nothing: this is the stage's
    // side alone). One record a pass, into a ring deep enough that no record is dropped however the writer lags.
    Benchmark("log-record", configuration: .init(scalingFactor: .one)) { benchmark in
        var settings = EventLog.Settings(directory: nil)
        settings.consoleLevel = nil
        let log = try EventLog(settings: settings)
        let producer = log.producer(stage: "bench", capacity: 1 << 15)
        // The writer's first records take the runtime's one-time allocations on its thread: before measuring.
        producer.record(.connected)
        usleep(50_000)
        var order: UInt32 = 0
        measure(benchmark) {
            order &+= 1
            producer.record(
                .orderSent,
                order: OrderID(rawValue: order),
                code: SymbolCode(ascii: "005930"),
                side: .buy,
                quantity: 10,
                price: 70_100
            )
        }
        log.stop()
        precondition(producer.dropped == 0, "the benchmark's ring must not fill")
    }

    // One 128-byte trade in and out.
    Benchmark("ring-push-pop-trade") { benchmark in
        let ring = SPSCRing<Trade>(capacity: 1_024)
        var trade = Trade()
        var checksum: Int64 = 0
        measure(benchmark) {
            trade.price &+= 1
            _ = ring.tryPush(trade)
            checksum &+= Int64(ring.tryPop()?.price ?? 0)
        }
        blackHole(checksum)
    }

    // 64 trades staged and published once, then drained in one batch.
    Benchmark("ring-batch-64-trades") { benchmark in
        let ring = SPSCRing<Trade>(capacity: 1_024)
        var trade = Trade()
        var checksum: Int64 = 0
        measure(benchmark) {
            for _ in 0..<64 {
                trade.price &+= 1
                _ = ring.tryStage(trade)
            }
            ring.publish()
            _ = ring.drain(max: 64) { checksum &+= Int64($0.price) }
        }
        blackHole(checksum)
    }

    // The full-ring path: 128 notices pushed into a 64-slot ring (64 spill), then the consumer drains while the
    // producer flushes the overflow into the ring.
    Benchmark("spill-128-notices-through-64-slots") { benchmark in
        let ring = SPSCRing<Notice>(capacity: 64)
        let producer = SpillingProducer(ring: ring, overflowCapacity: 1 << 10)
        var notice = Notice()
        var checksum = 0
        measure(benchmark) {
            for _ in 0..<128 {
                notice.orderNumber &+= 1
                producer.push(notice)
            }
            while producer.flush() > 0 || ring.approximateCount > 0 {
                checksum &+= ring.drain(max: 64) { _ in }
            }
        }
        precondition(producer.lost == 0, "the benchmark's overflow must not fill")
        blackHole(checksum)
    }

    // Four books written over 32 symbols, one conflating read of the dirty ones.
    Benchmark("conflating-4-books-write-read") { benchmark in
        let table = ConflatingTable<Book>(capacity: 32)
        var book = Book()
        var symbol = 0
        var checksum: Int64 = 0
        measure(benchmark) {
            for _ in 0..<4 {
                book.cumulativeVolume &+= 1
                table.write(book, at: symbol)
                symbol = (symbol &+ 7) & 31
            }
            _ = table.readDirty { _, book in checksum &+= book.cumulativeVolume }
        }
        blackHole(checksum)
    }

    // Latencies spread over the range the pipeline sees (100 ns to ~1 ms).
    Benchmark("histogram-record") { benchmark in
        var histogram = LatencyHistogram()
        var value: Int64 = 100
        measure(benchmark) {
            value = (value &* 1_103 &+ 12_345) & 0xF_FFFF
            histogram.record(value)
        }
        blackHole(histogram.count)
    }

    // One order's four intervals, through the recorder a status thread reads.
    Benchmark("pipeline-latency-record") { benchmark in
        let recorder = LatencyRecorder<PipelineLatency>()
        var base: Int64 = 1_000_000
        measure(benchmark) {
            base &+= 1_000
            recorder.record { latency in
                latency.record(.readToDecision, from: base, to: base &+ 900)
                latency.record(.decisionToRequestWritten, from: base &+ 900, to: base &+ 11_000)
                latency.record(.requestWrittenToRESTAck, from: base &+ 11_000, to: base &+ 400_000)
                latency.record(.requestWrittenToNotice, from: base &+ 11_000, to: base &+ 900_000)
            }
        }
        var total = PipelineLatency()
        recorder.collectFinal(into: &total)
        blackHole(total[.readToDecision].count)
    }
}
