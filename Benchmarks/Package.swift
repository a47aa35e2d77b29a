// swift-tools-version: 6.1
// A package of its own, so the engine never depends on the harness. 6.1 for package traits.
import PackageDescription

let package = Package(
    name: "kistick-benchmarks",
    dependencies: [
        // Named, because a path dependency is otherwise known by its folder name, which a clone may change.
        .package(name: "kistick", path: ".."),
        // MallocInterposer only: the default traits add RuntimeInterposer, which depends on
        // ordo-one/swift-runtime-interposer; the local package mirror lacks it and resolution fails.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Real KIS frames from Tests/Fixtures/kis, shaped for the benchmarks and the speed tool.
        .target(
            name: "Fixtures",
            dependencies: [.product(name: "Feed", package: "kistick"), .product(name: "Wire", package: "kistick")]
        ),
        // The configuration and measuring loop every allocation benchmark shares.
        .target(name: "BenchmarkSupport", dependencies: [.product(name: "Benchmark", package: "benchmark")]),
        .executableTarget(
            name: "WireBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                "Fixtures",
                .product(name: "Feed", package: "kistick"),
                .product(name: "Wire", package: "kistick"),
                .product(name: "Crypto", package: "kistick"),
                .product(name: "TickCore", package: "kistick"),
                .product(name: "KIS", package: "kistick"),
                .product(name: "Net", package: "kistick"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/WireBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Pre-trade risk on the strategy thread: the gate's decision and the market-state updates behind it.
        .executableTarget(
            name: "RiskBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Risk", package: "kistick"),
                .product(name: "TickCore", package: "kistick"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RiskBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The rings, the full-ring policies, the latency histograms and a stage's log record: 0 allocations per element.
        .executableTarget(
            name: "RingBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "EventLog", package: "kistick"),
                .product(name: "Ring", package: "kistick"),
                .product(name: "Metrics", package: "kistick"),
                .product(name: "TickCore", package: "kistick"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Two-thread ring throughput (ops/ms) and round trip (ns), printed, as rigtorp's SPSCQueue reports them.
        .executableTarget(
            name: "ring-speed",
            dependencies: [.product(name: "Ring", package: "kistick"), .product(name: "TickCore", package: "kistick")]
        ),
        // The order state machine and positions: allocation-free per event.
        .executableTarget(
            name: "OrdersBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Orders", package: "kistick"),
                .product(name: "TickCore", package: "kistick"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/OrdersBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // What the write-ahead rule costs: a durable `recordPending` commit, per call (run by hand).
        .executableTarget(
            name: "journal-speed",
            dependencies: [
                .product(name: "Journal", package: "kistick"),
                .product(name: "Orders", package: "kistick"),
                .product(name: "TickCore", package: "kistick"),
            ]
        ),
        // The pipeline's glue per record (router, market stage, broker, latency recording): allocation-free.
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                "Fixtures",
                .product(name: "Feed", package: "kistick"),
                .product(name: "Orders", package: "kistick"),
                .product(name: "Pipeline", package: "kistick"),
                .product(name: "TickCore", package: "kistick"),
                .product(name: "Wire", package: "kistick"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/EngineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Plain timing loops for the side-by-side ratios (Python parser, `openssl speed`) in scripts/.
        .executableTarget(
            name: "wire-speed",
            dependencies: [
                "Fixtures",
                .product(name: "Feed", package: "kistick"),
                .product(name: "Crypto", package: "kistick"),
            ]
        ),
        // Decision → order bytes written against a running simulator, warm and cold (scripts/order-bench).
        .executableTarget(
            name: "order-speed",
            dependencies: [
                .product(name: "KIS", package: "kistick"),
                .product(name: "Net", package: "kistick"),
                .product(name: "TickCore", package: "kistick"),
            ]
        ),
        // The capture's feed-thread append (plain and redacting) and the reader's block loop: allocation-free.
        .executableTarget(
            name: "CaptureBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                "Fixtures",
                .product(name: "Capture", package: "kistick"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CaptureBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Compression ratio of trade frames and the read rate of a capture, printed (`capture-speed FILE`).
        .executableTarget(
            name: "capture-speed",
            dependencies: [.product(name: "Capture", package: "kistick")]
        ),
        // Candle updates, book features and strategy decisions: allocation-free per event.
        .executableTarget(
            name: "StrategyBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                "Fixtures",
                .product(name: "Feed", package: "kistick"),
                .product(name: "Candles", package: "kistick"),
                .product(name: "Strategy", package: "kistick"),
                .product(name: "TickCore", package: "kistick"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/StrategyBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
