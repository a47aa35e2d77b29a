// swift-tools-version: 6.2
// 6.2 for `.strictMemorySafety()` (SE-0458).
import PackageDescription

/// Settings every kistick module shares.
let common: [SwiftSetting] = [
    // SE-0335: every existential is spelled `any`, so a boxed value on the hot path shows up in review.
    .enableUpcomingFeature("ExistentialAny"),
    // SE-0409: imports are internal unless declared otherwise, so module boundaries stay honest.
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Modules that touch raw memory: each `unsafe` use is marked (SE-0458,
/// https://github.com/swiftlang/swift-evolution/blob/main/proposals/0458-strict-memory-safety.md).
let unsafeCode: [SwiftSetting] = common + [.strictMemorySafety()]

let package = Package(
    name: "kistick",
    products: [
        .executable(name: "kistick", targets: ["kistick"]),
        .library(name: "TickCore", targets: ["TickCore"]),
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "Feed", targets: ["Feed"]),
        .library(name: "Crypto", targets: ["Crypto"]),
        .library(name: "Simulator", targets: ["Simulator"]),
        .library(name: "KIS", targets: ["KIS"]),
        .library(name: "Net", targets: ["Net"]),
        .library(name: "Ring", targets: ["Ring"]),
        .library(name: "Metrics", targets: ["Metrics"]),
        .library(name: "EventLog", targets: ["EventLog"]),
        .library(name: "Candles", targets: ["Candles"]),
        .library(name: "Strategy", targets: ["Strategy"]),
        .library(name: "Orders", targets: ["Orders"]),
        .library(name: "Journal", targets: ["Journal"]),
        .library(name: "Risk", targets: ["Risk"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Replay", targets: ["Replay"]),
        .library(name: "Telegram", targets: ["Telegram"]),
        .library(name: "Screener", targets: ["Screener"]),
        .library(name: "Capture", targets: ["Capture"]),
        // For the fuzz targets of the order path's answers (Tests/Fuzz), which read them as the engine does.
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "Recovery", targets: ["Recovery"]),
        .library(name: "Dashboard", targets: ["Dashboard"]),
        .library(name: "Trading", targets: ["Trading"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // The simulator's HTTP/1.1 and WebSocket server (`kistick sim`), the engine's live page (`Dashboard`) and the
        // tests' independent WebSocket client. The hot-path modules never link it. Hummingbird
        // cannot join this graph: it needs swift-nio-extras, which needs swift-crypto, whose `Crypto` target
        // collides with ours and SwiftPM rejects the graph (module aliasing cannot reach it).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        // HDR histograms for stage latencies (`Metrics`): recording is an index computation and an increment.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // SQLite for the order journal (`Journal`), over the system libsqlite3; the hot path never links it.
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // The Swift ecosystem's logging API (`Logger`), for the cold paths' lines (`EventLog`'s handler); stages
        // never call it: they hand fixed-size records to the log's writer thread through rings.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
    ],
    targets: [
        // C libraries, each through a module map and pkg-config.

        // OpenSSL's libcrypto: AES-256-CBC and SHA-256 for `Crypto`.
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        // libcurl: TCP and TLS connections in connect-only mode for `Net`, the Bot API for `Telegram`.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        // libzstd: the compression of capture files, for `Capture`.
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]
        ),

        // Value types of the hot path; depends on nothing.
        .target(name: "TickCore", swiftSettings: common),
        // RFC 6455 framing, the opening handshake, base64; pure, no I/O.
        .target(name: "Wire", dependencies: ["TickCore"], swiftSettings: unsafeCode),
        // AES-256-CBC notice decryption over OpenSSL EVP.
        .target(name: "Crypto", dependencies: ["CCrypto", "Wire"], swiftSettings: unsafeCode),
        // KIS messages: control JSON, `enc|TR_ID|NNN|payload` frames, records into TickCore structs.
        .target(name: "Feed", dependencies: ["TickCore", "Crypto", "CByteScan"], swiftSettings: unsafeCode),
        // SSE2 byte-mask extraction, which Swift's SIMD types cannot express.
        .target(name: "CByteScan"),

        // Bars per code and interval from trades, and book features; pure, thread-confined, allocation-free.
        .target(name: "Candles", dependencies: ["TickCore"], swiftSettings: common),
        // The Broker/EngineClock pair strategies are generic over, and the default scalping strategy.
        .target(name: "Strategy", dependencies: ["TickCore", "Candles"], swiftSettings: common),
        // Pre-trade risk: market state per code, the risk gate, the kill switch; pure and thread-confined.
        .target(name: "Risk", dependencies: ["TickCore"], swiftSettings: common),

        // An order-preserving JSON value for the cold paths (REST answers, the simulator); the hot path never parses with it.
        .target(name: "JSON", swiftSettings: common),
        // Sockets and TLS through libcurl's connect-only mode, and an allocation-free HTTP/1.1 exchange over them.
        .target(name: "Net", dependencies: ["CCurl", "TickCore"], swiftSettings: unsafeCode),
        // Lock-free SPSC rings, the conflating book table, doorbells, wait strategies and stage threads: how threads
        // talk.
        .target(name: "Ring", dependencies: ["CAffinity", "TickCore"], swiftSettings: unsafeCode),
        // CPU pinning, thread names and timer slack, which need `_GNU_SOURCE`; the spin-wait hint; futex(2).
        .target(name: "CAffinity"),
        // The log: stage threads' fixed-size records through rings and swift-log lines, written by a thread of its
        // own as the day's JSON-lines file and lines on stderr.
        .target(
            name: "EventLog",
            dependencies: ["Ring", "TickCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: common
        ),
        // Latency histograms of the pipeline's intervals, and the recorder a reader collects without stopping the
        // writer.
        .target(
            name: "Metrics",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: unsafeCode
        ),

        // The KIS client: configuration, tokens, rate limits, typed REST endpoints, the WebSocket session.
        .target(
            name: "KIS",
            dependencies: ["Net", "JSON", "Wire", "Feed", "Crypto", "TickCore"],
            swiftSettings: unsafeCode
        ),

        // Raw feed capture: a ring from the feed thread, a writer thread, zstd frames with an index; and the reader.
        // Message files (one raw message a line): read in a stream, decoded, imported; captures exported as CSV.
        .target(
            name: "Capture",
            dependencies: ["Candles", "CByteScan", "CZstd", "Feed", "Ring", "TickCore"],
            swiftSettings: unsafeCode
        ),

        // The order state machine and positions: pure, thread-confined, allocation-free per event.
        .target(name: "Orders", dependencies: ["TickCore"], swiftSettings: common),
        // The SQLite journal of orders, fills and positions, written off the hot path; recovery and reconciliation.
        .target(
            name: "Journal",
            dependencies: ["Orders", "TickCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: common
        ),
        // Reads KIS's account answers (`Balance`, `OrderRecord`) into the journal's reconciliation inputs.
        .target(name: "Recovery", dependencies: ["Journal", "Orders", "KIS", "TickCore"], swiftSettings: common),

        // `kistick sim`: a KIS-faithful REST + WebSocket server with a seeded KRX market. Never imported by the hot path.
        .target(
            name: "Simulator",
            dependencies: [
                "TickCore", "Wire", "Crypto", "JSON", "Capture", "Feed",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            exclude: ["README.md"],
            // Optimised in debug builds too: every end-to-end test runs its market, and a whole simulated day of
            // 30 codes (LadderTests) takes about 90 s of CPU unoptimised, a few seconds optimised.
            swiftSettings: common + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),

        // The live page and `/metrics` of a running engine, over NIO on a thread of its own: it reads the snapshot
        // the control loop publishes; the engine never imports it.
        .target(
            name: "Dashboard",
            dependencies: [
                "Candles", "Engine", "KIS", "TickCore", "Wire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: common
        ),

        // The market path every run shares: the feed's rings, the market stage (bars, strategy, broker with risk, order
        // book and positions) and the rings to the order side; no KIS, network or database code.
        .target(
            name: "Pipeline",
            dependencies: [
                "Candles", "Crypto", "EventLog", "Feed", "Metrics", "Orders", "Ring", "Risk", "Strategy", "TickCore",
            ],
            swiftSettings: common
        ),
        // The live engine: the pipeline driven by the WebSocket feed, the order dispatcher, the journal and the
        // housekeeper.
        .target(
            name: "Engine",
            dependencies: [
                "Candles", "Capture", "EventLog", "Feed", "Journal", "KIS", "Metrics", "Net", "Orders", "Pipeline",
                "Recovery", "Ring", "Risk", "TickCore",
            ],
            swiftSettings: common
        ),
        // The pipeline driven from a capture: deterministic replay against a simulated exchange, and `kistick bench`.
        .target(
            name: "Replay",
            dependencies: ["Candles", "Capture", "Feed", "Metrics", "Orders", "Pipeline", "Ring", "TickCore"],
            swiftSettings: common
        ),

        // Operator notifications and remote control over the Telegram Bot API; the engine never imports it.
        .target(
            name: "Telegram",
            dependencies: ["CCurl", "Engine", "JSON", "KIS", "Ring", "Risk", "TickCore"],
            swiftSettings: unsafeCode
        ),

        // The TIER 1 universe screen (rankings, prices, daily bars cached in SQLite) and the subscription
        // scheduler that fits its codes into KIS's 41 registrations; an operator feature the hot path never imports.
        .target(
            name: "Screener",
            dependencies: ["KIS", "TickCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: common
        ),

        // The engine as paper and live run it, once started: the once-a-second loop over its status, the live page,
        // the Telegram bot, the universe's rotation and the kill switch's signals, and the report and capture at the
        // end.
        .target(
            name: "Trading",
            dependencies: ["Capture", "Dashboard", "Engine", "KIS", "Screener", "Telegram", "TickCore"],
            swiftSettings: common
        ),

        // The command-line tool: the engine on paper or live, the simulator, capture and replay, the KIS commands.
        .executableTarget(
            name: "kistick",
            dependencies: [
                "Engine", "Telegram", "Screener", "Capture", "Candles", "Metrics", "Pipeline", "Replay", "Ring", "Feed",
                "TickCore", "CCrypto", "CCurl", "CZstd", "Simulator", "KIS", "JSON", "EventLog", "Dashboard", "Trading",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: common
        ),

        // The KIS samples in Tests/Fixtures/kis, for every test target.
        .target(name: "TestVectors", path: "Tests/TestVectors", swiftSettings: common),
        // The in-process simulator's paper server on loopback, for the tests that run an engine against it.
        .target(
            name: "PaperMarket",
            dependencies: ["Simulator", "KIS", "Net", "TickCore"],
            path: "Tests/PaperMarket",
            swiftSettings: common
        ),
        .testTarget(name: "TickCoreTests", dependencies: ["TickCore"], swiftSettings: common),
        .testTarget(
            name: "RiskTests",
            dependencies: ["Risk", "TickCore", "Feed", "TestVectors"],
            swiftSettings: common
        ),
        .testTarget(name: "WireTests", dependencies: ["Wire", "CCrypto", "TickCore"], swiftSettings: common),
        .testTarget(
            name: "CryptoTests",
            dependencies: ["Crypto", "Wire", "TestVectors", "TickCore"],
            swiftSettings: common
        ),
        .testTarget(name: "FeedTests", dependencies: ["Feed", "TickCore", "TestVectors"], swiftSettings: common),
        .testTarget(
            name: "CandlesTests",
            dependencies: ["Candles", "Feed", "TickCore", "TestVectors"],
            swiftSettings: common
        ),
        .testTarget(name: "StrategyTests", dependencies: ["Strategy", "Candles", "TickCore"], swiftSettings: common),
        // A loopback HTTP server that misbehaves on cue, for the client tests.
        .target(name: "ScriptedServer", path: "Tests/ScriptedServer", swiftSettings: common),
        .testTarget(name: "NetTests", dependencies: ["Net", "ScriptedServer"], swiftSettings: common),
        .testTarget(
            name: "KISTests",
            dependencies: ["KIS", "Net", "JSON", "Feed", "TickCore", "Simulator", "TestVectors", "ScriptedServer"],
            swiftSettings: common
        ),
        .testTarget(name: "RingTests", dependencies: ["Ring"], swiftSettings: common),
        .testTarget(
            name: "CaptureTests",
            dependencies: ["Capture", "Engine", "Feed", "KIS", "Net", "Simulator", "TickCore", "TestVectors"],
            swiftSettings: common
        ),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"], swiftSettings: common),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", "KIS", "TickCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: common
        ),
        .testTarget(name: "OrdersTests", dependencies: ["Orders", "TickCore"], swiftSettings: common),
        .testTarget(
            name: "JournalTests",
            dependencies: [
                "Journal", "Orders", "Recovery", "KIS", "JSON", "TickCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: common
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "PaperMarket", "Candles", "Engine", "EventLog", "Journal", "KIS", "Orders", "Pipeline", "Ring",
                "Simulator", "TickCore",
            ],
            swiftSettings: common
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "Pipeline", "Candles", "EventLog", "Orders", "Ring", "Risk", "Strategy", "TestVectors", "TickCore",
                "Wire",
            ],
            swiftSettings: common
        ),
        .testTarget(
            name: "TelegramTests",
            dependencies: [
                "PaperMarket", "Telegram", "Engine", "KIS", "Simulator", "TickCore", "ScriptedServer", "JSON",
            ],
            swiftSettings: common
        ),
        .testTarget(
            name: "ScreenerTests",
            dependencies: ["PaperMarket", "Screener", "Engine", "KIS", "Simulator", "TickCore"],
            swiftSettings: common
        ),
        .testTarget(
            name: "TradingTests",
            dependencies: ["PaperMarket", "Trading", "Capture", "Engine", "KIS", "Screener", "Simulator", "TickCore"],
            swiftSettings: common
        ),
        .testTarget(
            name: "ReplayTests",
            dependencies: [
                "Engine", "Capture", "Candles", "Feed", "KIS", "Orders", "Pipeline", "Replay", "Simulator", "TickCore",
            ],
            swiftSettings: common
        ),
        // The command line: every option's validation, and what `kill` reaches.
        .testTarget(
            name: "kistickTests",
            dependencies: [
                "kistick", "Engine", "Simulator", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: common
        ),
        .testTarget(
            name: "DashboardTests",
            dependencies: ["Candles", "Dashboard", "Engine", "KIS", "Metrics", "TickCore"],
            swiftSettings: common
        ),
        .testTarget(
            name: "SimulatorTests",
            dependencies: [
                "Simulator", "Feed", "Wire", "Crypto", "TickCore", "TestVectors",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: common
        ),
    ]
)
