import Benchmark
import BenchmarkSupport
import Feed
import Fixtures
import Orders
import Pipeline
import TickCore
import Wire

// The pipeline's glue per record, which the per-module benchmarks do not cover: the WebSocket frames of one socket
// read parsed, decoded through the feed router into the rings, then the market stage inline (bars, book features,
// strategy, the broker's risk, order book and positions, the latency stamps), with the orders it sends refused as a
// dispatcher with no lane would. Steady state must not allocate.

let benchmarks: @Sendable () -> Void = {
    configureAllocationFreeBenchmarks()

    // One iteration is one 16 KB read (about 40 records) through every stage. The reads cycle through a session
    // long enough that the measured ones run at rising market times.
    Benchmark("engine-inline-one-read") { benchmark in
        try inlineReads(benchmark, lanes: 1)
    }
    // Several app keys' sessions: the reads go to two feed lanes in turn, as two feed threads fill them, and the
    // stage drains both.
    Benchmark("engine-inline-two-lanes") { benchmark in
        try inlineReads(benchmark, lanes: 2)
    }
}

/// The session's socket reads, made once for both benchmarks and every run of them: making the 400,000-record
/// stream takes far longer than measuring it, and made per run it cost CI about 80 s per benchmark.
let sessionReads = Fixtures.socketReads(Fixtures.marketStream(records: 400_000).frames)

/// Socket reads through the whole pipeline inline, read `n` into lane `n % lanes`.
func inlineReads(_ benchmark: Benchmark, lanes: Int) throws {
    let reads = sessionReads
    var settings = PipelineSettings(codes: Fixtures.streamCodes.compactMap(SymbolCode.init))
    settings.feedLanes = lanes
    let pipeline = try Pipeline(settings: settings, clock: WallClock())
    var stage = pipeline.stage(opening: .empty(buyingPower: 100_000_000))
    var reader = WebSocketReader(maxMessageSize: 1 << 20)
    var decoder = try FeedDecoder()
    var routers = (0..<lanes).map { pipeline.router(lane: $0) }
    var records = 0
    var next = 0
    measure(benchmark) {
        reads[next % reads.count].withUnsafeBytes { _ = reader.write($0) }
        let lane = next % lanes
        next += 1
        while let message = try? reader.next() {
            reader.withUnsafeMutableBytes(of: message) { payload in
                let decoded = try? decoder.decode(payload, localTs: Fixtures.localTs, into: &routers[lane])
                if case .records(_, let count) = decoded { records += count }
            }
        }
        routers[lane].endOfBatch()
        while stage.poll() > 0 {}
        let orders = pipeline.orders
        _ = orders.takeOrders(max: 256) { slot in
            let refusal = OrderEvent.refused(slot.dispatch.intent.id, messageCode: PackedASCII(ascii: "BENCH"))
            orders.report(OrderEventSlot(refusal, at: Fixtures.localTs))
        }
        orders.publishReports()
        while orders.takeJournal(max: 256, { _ in }) > 0 {}
    }
    blackHole(records)
}
