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
/// The stream is the real H0STCNT0 and H0STASP0 frames of Tests/Fixtures/kis, their code and time fields
/// rewritten so ten codes trade through a rising session clock (two trade frames for each book frame).

let codes = Fixtures.streamCodes

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
    let (frames, total) = Fixtures.marketStream(records: records)
    let reads = Fixtures.socketReads(frames)
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
    let (frames, total) = Fixtures.marketStream(records: Int(rate * seconds))
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
