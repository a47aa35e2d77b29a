import Benchmark
import BenchmarkSupport
import Capture
import Fixtures
import Foundation

/// The capture's feed-thread cost: `CaptureWriter.append` copies a message into the ring (and, with credentials
/// configured, probes it for them), while the writer thread compresses and writes behind it. The steady state must
/// not allocate (Thresholds/ hold mallocCountTotal at 0, the writer thread's work included); the reader's block
/// loop neither. Compression ratio and read rate are printed by `capture-speed`.
let benchmarks: @Sendable () -> Void = {
    configureAllocationFreeBenchmarks()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kistick-capture-bench-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let header = CaptureHeader(environment: "sim", codes: ["005930"], trIDs: ["H0STCNT0"], startNs: Fixtures.localTs)
    // Credentials of KIS's lengths: app key 36, app secret 180, a JWT access token, a UUID approval key.
    let secrets = [
        "PS" + String(repeating: "k", count: 34), String(repeating: "s", count: 180),
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9." + String(repeating: "t", count: 300),
        "8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b",
    ]

    /// One iteration appends each of the four real H0STCNT0 frames (16 records, 1.9 KB) once; between
    /// iterations, unmeasured, the writer thread catches up, so the ring never refuses.
    func appendBenchmark(_ name: String, secrets: [String]) {
        var options = CaptureWriter.Options()
        options.secrets = secrets
        let path = "\(folder)/\(name).kcap"
        guard let writer = try? CaptureWriter(path: path, header: header, options: options) else {
            fatalError("cannot create \(path)")
        }
        Benchmark(name) { benchmark in
            let frames = Fixtures.tradeFrames
            var refused = 0
            func pass() {
                for frame in frames {
                    let accepted = frame.withUnsafeBytes {
                        writer.append(.message, localNs: Fixtures.localTs, bytes: $0)
                    }
                    refused &+= accepted ? 0 : 1
                }
            }
            while writer.backlogBytes > 0 { usleep(100) }
            measure(benchmark, pass)
            blackHole(refused)
            precondition(refused == 0, "the capture ring refused \(refused) appends")
        }
    }
    appendBenchmark("append-4-trade-frames", secrets: [])
    appendBenchmark("append-4-trade-frames-redacting", secrets: secrets)

    // One iteration reads a whole file of 64 KiB blocks of the real frames: the reader's steady state.
    let readPath = "\(folder)/read.kcap"
    do {
        var options = CaptureWriter.Options()
        options.blockBytes = 64 << 10
        let writer = try CaptureWriter(path: readPath, header: header, options: options)
        var written = 0
        while written < 1 << 20 {
            for frame in Fixtures.tradeFrames {
                _ = frame.withUnsafeBytes { writer.append(.message, localNs: Fixtures.localTs, bytes: $0) }
                written += frame.count
            }
        }
        try writer.finish()
    } catch {
        fatalError("cannot write \(readPath): \(error)")
    }
    Benchmark("read-1-MB-of-trade-frames", configuration: .init(scalingFactor: .one)) { benchmark in
        let reader = try CaptureReader(path: readPath)
        var total = 0
        func pass() throws {
            _ = reader.read { message in total &+= message.bytes.count }
        }
        try measure(benchmark, pass)
        blackHole(total)
    }
}
