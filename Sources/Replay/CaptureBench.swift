public import Capture
import Feed
import Metrics
public import Pipeline
import Ring
import TickCore

#if canImport(Glibc)
import Glibc
#endif

/// A capture's data messages in one buffer, so a benchmark measures the pipeline, not the file.
public struct RecordedMessages: Sendable {
    private var data: [UInt8] = []
    private var ends: [Int] = []
    private var times: [Int64] = []
    public private(set) var longest = 0
    /// What the read skipped as damaged (`CaptureReader.damage`): the benchmark runs without those messages.
    public private(set) var damage: [CaptureDamage] = []

    public init(reader: CaptureReader) {
        _ = reader.read { message in
            guard message.kind == .message else { return }
            self.data.append(contentsOf: message.bytes)
            self.ends.append(self.data.count)
            self.times.append(message.localNs)
            self.longest = max(self.longest, message.bytes.count)
        }
        self.damage = reader.damage
    }

    public var count: Int { self.ends.count }
    public var bytes: Int { self.data.count }

    /// Each message in order, with its receive time, copied into one scratch buffer that the body may change (a
    /// notice is decrypted in place).
    public func forEachMessage(_ body: (Int64, UnsafeMutableRawBufferPointer) -> Void) {
        var scratch = [UInt8](repeating: 0, count: max(self.longest, 1))
        self.data.withUnsafeBytes { all in
            scratch.withUnsafeMutableBytes { buffer in
                var start = 0
                for (i, end) in self.ends.enumerated() {
                    let message = UnsafeMutableRawBufferPointer(rebasing: buffer[..<(end - start)])
                    message.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[start..<end]))
                    body(self.times[i], message)
                    start = end
                }
            }
        }
    }
}

/// `kistick bench`: a capture from memory through the pipeline as live runs it (the market stage on its own thread,
/// waiting as the engine's does), stamped with the wall clock as a socket read would be, the orders answered as a
/// dispatcher with no lane answers them (refused). Without a rate, as fast as the stage takes it: throughput, and
/// latency that is mostly queueing. At `rate` records a second, each message waits for its due time: the latency
/// of a frame that arrives while the pipeline is ready for it.
public struct CaptureBench {
    public var settings: PipelineSettings
    /// Records a second to pace the feed at; nil for as fast as possible.
    public var rate: Double?
    public var waiting: MarketWait = .default

    public init(settings: PipelineSettings) {
        self.settings = settings
    }

    public func run(_ recorded: RecordedMessages) throws -> BenchReport {
        let pipeline = try Pipeline(settings: self.settings, clock: WallClock())
        let thread = try pipeline.start(
            pipeline.stage(opening: .empty(buyingPower: 100_000_000)),
            waiting: self.waiting
        )
        var feeder = try MessageFeeder(router: pipeline.router())
        let perRecord = self.rate.map { 1e9 / $0 } ?? 0
        var due = WallClock().now() + 1_000_000
        var late: Int64 = 0
        // Flat out, messages go in socket-read-sized batches, stamped and published once each, as the live feed
        // thread reads them; paced, each message is its own read, the moment it is due.
        var batch = (bytes: 0, stamp: Int64(0))
        let start = WallClock().now()
        recorded.forEachMessage { _, message in
            if perRecord > 0 {
                late = max(late, Self.wait(until: due))
                let before = feeder.records
                feeder.feed(message, localTs: WallClock().now())
                due += Int64(Double(feeder.records - before) * perRecord)
                Self.answer(pipeline.orders)
                return
            }
            if batch.bytes == 0 { batch.stamp = WallClock().now() }
            feeder.decode(message, localTs: batch.stamp)
            batch.bytes += message.count
            if batch.bytes >= Self.readSize {
                feeder.publish()
                batch.bytes = 0
                Self.answer(pipeline.orders)
            }
        }
        feeder.publish()
        while !pipeline.feed.isDrained || pipeline.orders.ordersWaiting > 0 {
            Self.answer(pipeline.orders)
            sched_yield()
        }
        let elapsed = WallClock().now() - start
        thread.stop()
        Self.answer(pipeline.orders)
        return BenchReport(
            messages: recorded.count,
            records: feeder.records,
            bytes: recorded.bytes,
            nanoseconds: elapsed,
            rate: self.rate,
            lateNanoseconds: late,
            malformed: feeder.malformed,
            conflated: pipeline.feed.booksConflated,
            spilled: pipeline.feed.spilled + pipeline.orders.spilled,
            lost: pipeline.feed.lost + pipeline.orders.lost,
            latency: pipeline.monitor.withLatency { copy $0 }
        )
    }

    /// Bytes of messages per batch flat out. A live read takes whatever the socket holds (more when the thread
    /// fell behind, less on a quiet feed); 16 KiB is also the read `engine-inline-one-read` measures.
    static let readSize = 16_384

    /// Like a feed thread blocked in poll(2): asleep until shortly before `due`, so the market thread has the
    /// cores, then spinning for an exact start.
    /// - Returns: how late the feed was (it fell behind the rate), nanoseconds.
    private static func wait(until due: Int64) -> Int64 {
        let ahead = due - WallClock().now()
        if ahead > 60_000 { WallClock().sleep(nanoseconds: ahead - 50_000) }
        var now = WallClock().now()
        while now < due { now = WallClock().now() }
        return now - due
    }

    /// Refuses every order, as a dispatcher with no lane would, and throws the journal rows away.
    private static func answer(_ orders: OrderPorts) {
        _ = orders.takeOrders(max: 256) { slot in
            orders.report(
                OrderEventSlot(
                    .refused(slot.dispatch.intent.id, messageCode: PackedASCII(ascii: "BENCH")),
                    at: WallClock().now()
                )
            )
        }
        orders.publishReports()
        while orders.takeJournal(max: 256, { _ in }) > 0 {}
    }
}
