import Capture
import Foundation

// capture-speed FILE [ROUNDS [LEVEL]]: from a capture (the sample, or one `kistick record` made), the H0STCNT0 trade
// frames' compression ratio as the writer compresses them (at 1 MiB blocks, and at blocks of one second of this
// capture's pace, what a live recording flushes), the feed thread's append cost per message, and the reader's
// decompressed rate over ROUNDS passes (default 20); LEVEL is zstd's (default the writer's).

let arguments = CommandLine.arguments
guard arguments.count >= 2, let rounds = arguments.count > 2 ? Int(arguments[2]) : 20, rounds > 0,
    let level = arguments.count > 3 ? Int32(arguments[3]) : CaptureWriter.Options.defaultCompressionLevel
else {
    print("usage: capture-speed FILE [ROUNDS [LEVEL]]")
    exit(2)
}

var trades: [(ns: Int64, bytes: [UInt8])] = []
let prefix = Array("0|H0STCNT0|".utf8)
_ = try CaptureReader(path: arguments[1]).read { message in
    guard message.kind == .message, message.bytes.starts(with: prefix) else { return }
    trades.append((message.localNs, Array(message.bytes)))
}
guard let first = trades.first, let last = trades.last, last.ns > first.ns else {
    print("\(arguments[1]) holds no H0STCNT0 frames over a time span")
    exit(1)
}
let raw = trades.reduce(0) { $0 + $1.bytes.count }
let span = Double(last.ns - first.ns) / 1e9
let header = CaptureHeader(environment: "sim", codes: [], trIDs: ["H0STCNT0"], startNs: first.ns)
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("capture-speed-\(getpid())").path
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: folder) }

/// Writes every trade frame with `blockBytes`, returning the file, the writer's stats, and the feed thread's time
/// in `append`, timed per batch of 1,000 (the waits for the writer between batches excluded).
func write(
    _ trades: [(ns: Int64, bytes: [UInt8])],
    blockBytes: Int,
    to path: String
) throws -> (stats: CaptureStats, appendNs: Int) {
    var options = CaptureWriter.Options()
    options.blockBytes = blockBytes
    options.ringBytes = 64 << 20
    options.compressionLevel = level
    let writer = try CaptureWriter(path: path, header: header, options: options)
    let clock = ContinuousClock()
    var appending = Duration.zero
    var refused = 0
    var index = 0
    while index < trades.count {
        while writer.backlogBytes > 32 << 20 { usleep(100) }
        let end = min(index + 1_000, trades.count)
        let start = clock.now
        for trade in trades[index..<end] {
            let accepted = trade.bytes.withUnsafeBytes { writer.append(.message, localNs: trade.ns, bytes: $0) }
            refused &+= accepted ? 0 : 1
        }
        appending += clock.now - start
        index = end
    }
    precondition(refused == 0, "the ring refused \(refused) frames")
    let stats = try writer.finish()
    let (seconds, attoseconds) = appending.components
    return (stats, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
}

let perSecond = max(4_096, Int(Double(raw) / span))
let largePath = "\(folder)/large.kcap"
let large = try write(trades, blockBytes: 1 << 20, to: largePath)
let paced = try write(trades, blockBytes: perSecond, to: "\(folder)/paced.kcap")
print("\(trades.count) H0STCNT0 frames, \(raw) bytes over \(String(format: "%.0f", span)) s of \(arguments[1])")
print(
    String(
        format: "compression ratio at 1 MiB blocks: %.1fx (%d → %d bytes)",
        large.stats.compressionRatio,
        raw,
        large.stats.compressedBytes
    )
)
print(
    String(
        format: "compression ratio at one second's blocks (%d bytes): %.1fx",
        perSecond,
        paced.stats.compressionRatio
    )
)
print(
    String(
        format: "append on the feed thread: %.0f ns per frame (mean of %d, timed in batches of 1,000)",
        Double(large.appendNs) / Double(trades.count),
        trades.count
    )
)

let reader = try CaptureReader(path: largePath)
var decompressed = 0
let clock = ContinuousClock()
let start = clock.now
for _ in 0..<rounds {
    _ = reader.read { message in decompressed &+= 13 &+ message.bytes.count }
}
let elapsed = clock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print(
    String(
        format: "read: %.2f GB/s decompressed (%d rounds of %d bytes in %.2f s)",
        Double(decompressed) / seconds / 1e9,
        rounds,
        decompressed / rounds,
        seconds
    )
)
