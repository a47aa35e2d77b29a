// swift-tools-version: 6.2
// libFuzzer targets for kistick's parsers. A package of its own, so the root package's `swift build` and
// `swift test` never see it. Build and run through scripts/fuzz, which passes the sanitizer flags:
//
//   swift build -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DTICK_INTERNAL_CHECKS
//
// `--sanitize=fuzzer` makes SwiftPM link libFuzzer's own `main` (so these executables define none: hence
// `-parse-as-library`). The combined `-Xswiftc -sanitize=fuzzer,address` comes last on every swiftc line and is the
// one that counts: swiftc honours only the last `-sanitize=`, and SwiftPM emits `--sanitize=fuzzer
// --sanitize=address` in an unstable order, which drops coverage or ASan from about half of all builds.
import PackageDescription

let asLibrary: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "kistick-fuzz",
    dependencies: [
        // `name:` pins the identity, which would otherwise be the checkout folder's name.
        .package(name: "kistick", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "FuzzWebSocketReader",
            dependencies: [.product(name: "Wire", package: "kistick")],
            swiftSettings: asLibrary
        ),
        .executableTarget(
            name: "FuzzFeedDecoder",
            dependencies: [
                .product(name: "Feed", package: "kistick"),
                .product(name: "Crypto", package: "kistick"),
                .product(name: "TickCore", package: "kistick"),
            ],
            swiftSettings: asLibrary
        ),
        .executableTarget(
            name: "FuzzHTTPResponse",
            dependencies: [.product(name: "Net", package: "kistick")],
            swiftSettings: asLibrary
        ),
        .executableTarget(
            name: "FuzzControlMessage",
            dependencies: [.product(name: "Feed", package: "kistick"), .product(name: "TickCore", package: "kistick")],
            swiftSettings: asLibrary
        ),
        // `@testable import KIS`: the envelope and the answers' readers are internal (scripts/fuzz builds with
        // -enable-testing).
        .executableTarget(
            name: "FuzzOrderAnswer",
            dependencies: [
                .product(name: "JSON", package: "kistick"),
                .product(name: "KIS", package: "kistick"),
                .product(name: "Orders", package: "kistick"),
                .product(name: "Recovery", package: "kistick"),
                .product(name: "TickCore", package: "kistick"),
            ],
            swiftSettings: asLibrary
        ),
        .executableTarget(
            name: "FuzzCaptureReader",
            dependencies: [.product(name: "Capture", package: "kistick")],
            swiftSettings: asLibrary
        ),
    ]
)
