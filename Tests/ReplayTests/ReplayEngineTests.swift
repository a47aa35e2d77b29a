import Pipeline
import Replay
import Testing
import TickCore

@Suite("Replay engine")
struct ReplayEngineTests {
    static let parameters = ["entry_interval_seconds": "60", "no_entry_after_open_seconds": "0"]

    static func replay(_ messages: [SyntheticMarket.Message], settings: ReplaySettings) throws -> ReplaySummary {
        let engine = try ReplayEngine(settings: settings)
        for message in messages {
            var bytes = message.bytes
            bytes.withUnsafeMutableBytes { engine.message($0, localNs: message.localNs) }
        }
        return engine.finish()
    }

    static func settings() -> ReplaySettings {
        var settings = ReplaySettings(codes: SyntheticMarket.codes.compactMap(SymbolCode.init))
        settings.parameters = Self.parameters
        settings.marketSpeed = 60
        return settings
    }

    @Test("two replays of one stream give byte-identical JSON, and the strategy traded")
    func deterministic() throws {
        let messages = SyntheticMarket.messages(seed: 7, seconds: 1_800)
        let first = try Self.replay(messages, settings: Self.settings())
        let second = try Self.replay(messages, settings: Self.settings())
        print(first.table().joined(separator: "\n"))
        #expect(first.json() == second.json())
        #expect(first.counts.malformed == 0)
        #expect(first.fills.count > 0)
    }

    @Test("bad replay settings are typed errors, not crashes")
    func badSettings() {
        var settings = Self.settings()
        settings.latency.entry = -1
        #expect(throws: PipelineError.self) { try ReplayEngine(settings: settings) }
        settings = Self.settings()
        settings.marketSpeed = 0
        #expect(throws: PipelineError.self) { try ReplayEngine(settings: settings) }
        settings = Self.settings()
        settings.parameters = ["no_such_key": "1"]
        #expect(throws: PipelineError.self) { try ReplayEngine(settings: settings) }
    }
}
