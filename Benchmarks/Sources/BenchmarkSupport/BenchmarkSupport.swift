public import Benchmark
import Foundation

/// The configuration every allocation benchmark shares: CI (`KISTICK_BENCH_CI`) checks allocations only, since
/// timings on shared machines are noise; local runs also time. Every threshold holds `mallocCountTotal` at 0.
public func configureAllocationFreeBenchmarks() {
    let ci = ProcessInfo.processInfo.environment["KISTICK_BENCH_CI"] != nil
    let metrics: [BenchmarkMetric] = ci ? [.mallocCountTotal] : [.wallClock, .throughput, .mallocCountTotal]
    Benchmark.defaultConfiguration = .init(
        metrics: metrics,
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(ci ? 1 : 3),
        maxIterations: ci ? 100 : 10_000,
        thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p50: 0, .p90: 0, .p99: 0, .p100: 0])]
    )
}

/// Runs `pass` once unmeasured (arrays copied from fixtures become unique, so copy-on-write is not counted as the
/// code's, and caches warm), then once per scaled iteration under measurement.
public func measure(_ benchmark: Benchmark, _ pass: () throws -> Void) rethrows {
    try pass()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        try pass()
    }
    benchmark.stopMeasurement()
}
