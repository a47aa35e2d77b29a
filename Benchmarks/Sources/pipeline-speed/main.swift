import Engine
import Fixtures
import Foundation
import KIS
import Metrics
import Ring
import TickCore

/// The whole market path: WebSocket frames → decode → rings → candles → strategy (with risk), on the engine's own
/// stage threads, fed from memory by this thread in place of the socket.
///
///     pipeline-speed throughput RECORDS [inline|[fused-]spin|yield|sleep]     as fast as possible: records/s through to the strategy
///     pipeline-speed latency RATE SECONDS [inline|[fused-]spin|yield|sleep]   paced at RATE records/s: frame received → decision
///
/// The stream is the real H0STCNT0 and H0STASP0 frames of ../shared/kis/vectors, their code and time fields
/// rewritten so ten codes trade through a rising session clock (two trade frames for each book frame).

let codes = ["005930", "000660", "005380", "035420", "035720", "051910", "006400", "068270", "105560", "055550"]

/// One WebSocket text frame per message, the code and time fields of every record rewritten.
func stream(records wanted: Int) -> (frames: [[UInt8]], records: Int) {
    var frames: [[UInt8]] = []
    var records = 0
    var index = 0
    // 2,000 records per market second: ten codes at a busy open.
    while records < wanted {
        let isBook = index % 3 == 2
        let template = isBook ? Fixtures.bookFrames[index % Fixtures.bookFrames.count] : Fixtures.tradeFrames[index % Fixtures.tradeFrames.count]
        let second = 9 * 3600 + 60 + records / 2_000
        let time = String(format: "%02d%02d%02d", second / 3600, second / 60 % 60, second % 60)
        let code = codes[index % codes.count]
        let (message, count) = rewrite(template, code: code, time: time)
        frames.append(webSocketFrame(message))
        records += count
        index += 1
    }
    return (frames, records)
}

/// `0|TR|NNN|f0^f1^…`: field 0 (code) and field 1 (time) of each of the NNN records replaced.
func rewrite(_ message: [UInt8], code: String, time: String) -> ([UInt8], Int) {
    let text = String(decoding: message, as: UTF8.self)
    let parts = text.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
    let count = Int(parts[2])!
    var fields = parts[3].split(separator: "^", omittingEmptySubsequences: false).map(String.init)
    let perRecord = fields.count / count
    for record in 0..<count {
        fields[record * perRecord] = code
        fields[record * perRecord + 1] = time
    }
    return (Array("\(parts[0])|\(parts[1])|\(parts[2])|\(fields.joined(separator: "^"))".utf8), count)
}

func webSocketFrame(_ message: [UInt8]) -> [UInt8] {
    var frame: [UInt8] = [0x81]
    if message.count < 126 {
        frame.append(UInt8(message.count))
    } else {
        frame += [126, UInt8(message.count >> 8), UInt8(message.count & 0xFF)]
    }
    return frame + message
}

func wall() -> Int64 { WallClock().now() }

func harness(_ mode: String) throws -> PipelineHarness {
    let pipeline = try PipelineHarness(codes: codes.compactMap(SymbolCode.init))
    if mode == "inline" {
        pipeline.startInline()
        return pipeline
    }
    let fused = mode.hasPrefix("fused-")
    switch mode.replacingOccurrences(of: "fused-", with: "") {
    case "spin": try pipeline.start(wait: BusySpin(), fused: fused)
    case "yield": try pipeline.start(wait: SpinThenYield(), fused: fused)
    default: try pipeline.start(wait: SpinYieldSleep(), fused: fused)
    }
    return pipeline
}

func report(_ latency: PipelineLatency, _ pipeline: PipelineHarness) {
    for line in latency.report() { print("  " + line) }
    print("  books conflated \(pipeline.conflatedBooks), spilled \(pipeline.spilled), lost \(pipeline.lost), malformed \(pipeline.malformed)")
}

/// Socket-sized reads of back-to-back frames, as fast as the stages take them; each round on a fresh pipeline.
func throughput(records: Int, mode: String, rounds: Int) throws {
    let (frames, total) = stream(records: records)
    var reads: [[UInt8]] = []
    var read: [UInt8] = []
    for frame in frames {
        if read.count + frame.count > 16_384 {
            reads.append(read)
            read = []
        }
        read += frame
    }
    reads.append(read)
    for _ in 0..<rounds {
        let pipeline = try harness(mode)
        let start = wall()
        for read in reads {
            read.withUnsafeBytes { pipeline.feed($0, localTs: wall()) }
        }
        pipeline.settle()
        let elapsed = Double(wall() - start) / 1e9
        let latency = pipeline.stop()
        let decided = latency[.readToDecision].count
        print(
            "throughput (\(mode)): \(pipeline.records) of \(total) records in \(String(format: "%.3f", elapsed)) s: "
                + "\(Int(Double(pipeline.records) / elapsed)) records/s, \(decided) decisions")
        report(latency, pipeline)
    }
}

/// One message per read at its scheduled instant; the wait before it is not counted.
func latency(rate: Double, seconds: Double, mode: String) throws {
    let (frames, total) = stream(records: Int(rate * seconds))
    let pipeline = try harness(mode)
    var due = wall() + 100_000_000
    let perRecord = 1e9 / rate
    var fed = 0
    for frame in frames {
        // Like a feed thread blocked in poll(2): asleep until shortly before the frame is due, so the stage
        // threads have the cores; the last stretch is spun for an exact start.
        let ahead = due - wall()
        if ahead > 60_000 {
            var pause = timespec(tv_sec: 0, tv_nsec: Int(ahead - 50_000))
            nanosleep(&pause, nil)
        }
        while wall() < due {}
        frame.withUnsafeBytes { pipeline.feed($0, localTs: wall()) }
        let before = fed
        fed = pipeline.records
        due += Int64(Double(fed - before) * perRecord)
    }
    pipeline.settle()
    let latency = pipeline.stop()
    let read = latency[.readToDecision].summary()
    print(
        "latency (\(mode)) at \(Int(rate)) records/s, \(pipeline.records) of \(total) records: frame received → decision "
            + "p50 \(LatencySummary.text(read.p50)) p99 \(LatencySummary.text(read.p99)) "
            + "p99.9 \(LatencySummary.text(read.p999)) max \(LatencySummary.text(read.max))")
    report(latency, pipeline)
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "throughput":
    let values = Array(arguments.dropFirst())
    try throughput(
        records: Int(values.first ?? "600000")!, mode: values.count > 1 ? values[1] : "sleep",
        rounds: Int(values.count > 2 ? values[2] : "1")!)
case "latency":
    let values = Array(arguments.dropFirst())
    try latency(
        rate: Double(values.first ?? "50000")!, seconds: Double(values.count > 1 ? values[1] : "5")!,
        mode: values.count > 2 ? values[2] : "sleep")
default:
    print("usage: pipeline-speed throughput RECORDS [inline|[fused-]spin|yield|sleep] | latency RATE SECONDS [inline|[fused-]spin|yield|sleep]")
    exit(2)
}
