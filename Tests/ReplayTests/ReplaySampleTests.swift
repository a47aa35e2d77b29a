import Capture
import Feed
import Foundation
import KIS
import Pipeline
import Replay
import Testing
import TickCore

/// The sample capture in captures/ (captures/SAMPLE.md): a `kistick paper --capture` run against the
/// simulator, so it holds the live engine's own order notices as well as the market.
@Suite("Replay of the sample capture")
struct ReplaySampleTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("captures").path
    static let sample = "\(Self.directory)/sample.kcap"
    static let settingsFile = "\(Self.directory)/sample-settings.yaml"

    /// One replay of the sample, shared by the tests (a debug build takes seconds for it).
    static let shared = Result { () throws -> ReplaySummary in try Self.replay() }

    static func replay() throws -> ReplaySummary {
        let reader = try CaptureReader(path: Self.sample)
        var settings = ReplaySettings(codes: reader.header.codes.compactMap(SymbolCode.init))
        settings.parameters = try SettingsFile.load(path: Self.settingsFile, keys: PipelineSettings.knownKeys)
        settings.marketSpeed = 60
        let engine = try ReplayEngine(settings: settings)
        _ = reader.read { message in
            if message.kind == .message { engine.message(message.bytes, localNs: message.localNs) }
            if message.kind == .disconnected { engine.disconnected(localNs: message.localNs) }
        }
        return engine.finish()
    }

    /// The fills the recording run's engine was notified of, decrypted with the key its notice ack carried.
    static func recordedFills() throws -> [Notice] {
        let reader = try CaptureReader(path: Self.sample)
        var decoder = try FeedDecoder()
        var sink = NoticeSink()
        _ = reader.read { message in
            if message.kind == .message {
                _ = try? decoder.decode(message.bytes, localTs: message.localNs, into: &sink)
            }
        }
        return sink.notices.filter(\.isFill)
    }

    @Test("two replays of the sample give byte-identical JSON")
    func deterministic() throws {
        let first = try Self.shared.get()
        let second = try Self.replay()
        #expect(first.json() == second.json())
        #expect(first.counts.malformed == 0 && first.counts.skippedNotices > 0)
    }

    /// One order's fills summed: code, side, shares and the volume-weighted price.
    struct Filled: Equatable, CustomStringConvertible {
        var code: String
        var side: String
        var quantity: Int64
        var value: Int64
        var price: Int64 { self.value / max(1, self.quantity) }
        var description: String { "\(self.side) \(self.quantity) \(self.code) @ \(self.price)" }
    }

    /// Fills grouped by order, in the order each order first filled.
    static func byOrder<Key: Hashable>(
        _ fills: [(key: Key, code: String, side: String, quantity: Int64, price: Int64)]
    )
        -> [Filled]
    {
        var order: [Key] = []
        var sums: [Key: Filled] = [:]
        for fill in fills {
            if sums[fill.key] == nil {
                order.append(fill.key)
                sums[fill.key] = Filled(code: fill.code, side: fill.side, quantity: 0, value: 0)
            }
            sums[fill.key]!.quantity += fill.quantity
            sums[fill.key]!.value += fill.quantity * fill.price
        }
        return order.map { sums[$0]! }
    }

    /// "Matches" here: the live run's filled orders, in the order they filled, and the replay's first as many
    /// filled orders are the same code, side and total shares, at volume-weighted prices at most one ladder step
    /// apart; and the replay fills at most two orders more (one round trip), at the end.
    ///
    /// Times are not compared, and that is why prices may differ by a step: the capture stamps each message when
    /// the live feed thread read it, and the replay decides at that instant, while the live strategy decided after
    /// its pipeline's delay (at 60× market speed a 10 ms backlog is 0.6 market seconds), against the book of that
    /// later moment. Over the sample the live decisions fall 2 to 300 market seconds after the replay's, so the
    /// replay also has time for a round trip the live run had not finished when it stopped.
    @Test("the replay fills the same orders as the live run that recorded the sample")
    func matchesLive() throws {
        let live = Self.byOrder(
            try Self.recordedFills().map {
                (
                    $0.orderNumber, $0.code.description, $0.side == .buy ? "buy" : "sell", Int64($0.quantity),
                    Int64($0.price)
                )
            }
        )
        let replay = Self.byOrder(
            try Self.shared.get().fills.map { ($0.id, $0.code, $0.side, Int64($0.quantity), Int64($0.price)) }
        )
        #expect(live.count >= 6, "the sample has \(live.count) filled orders")
        #expect(replay.count >= live.count && replay.count <= live.count + 2, "live \(live), replay \(replay)")
        for (live, replay) in zip(live, replay) {
            #expect(live.code == replay.code && live.side == replay.side && live.quantity == replay.quantity)
            #expect(abs(live.price - replay.price) <= KRX.tick(at: live.price), "live \(live), replay \(replay)")
        }
    }
}

/// Collects notices.
struct NoticeSink: FeedSink {
    var notices: [Notice] = []

    mutating func trade(_ trade: Trade) {}
    mutating func book(_ book: Book) {}
    mutating func notice(_ notice: Notice) { self.notices.append(notice) }
}
