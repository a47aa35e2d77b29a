import Benchmark
import BenchmarkSupport
import Engine
import Fixtures
import TickCore

// The engine's own glue per record, which the per-module benchmarks do not cover: the feed router, the candle and
// strategy stages, the live broker (risk, order state machine, positions) and the latency recording, all on this
// thread (`PipelineHarness.startInline`), fed socket-sized reads of real frames. Steady state must not allocate.

let benchmarks: @Sendable () -> Void = {
    configureAllocationFreeBenchmarks()

    // One iteration is one 16 KB read (about 40 records) through every stage. The reads cycle through a session
    // long enough that the measured ones run at rising market times.
    Benchmark("engine-inline-one-read") { benchmark in
        let reads = Fixtures.socketReads(Fixtures.marketStream(records: 400_000).frames)
        let pipeline = try PipelineHarness(codes: Fixtures.streamCodes.compactMap(SymbolCode.init))
        pipeline.startInline()
        var next = 0
        measure(benchmark) {
            reads[next % reads.count].withUnsafeBytes { pipeline.feed($0, localTs: Fixtures.localTs) }
            next += 1
        }
        blackHole(pipeline.records)
        _ = pipeline.stop()
    }
}
