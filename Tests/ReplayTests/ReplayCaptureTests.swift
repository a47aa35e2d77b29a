import Capture
import Foundation
import Replay
import Testing
import TickCore

/// Replays read from capture files, as `kistick replay` reads them.
@Suite("Replay of capture files")
struct ReplayCaptureTests {
    /// The synthetic market written to a capture in a fresh directory.
    static func capture(seconds: Int) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("synthetic.kcap").path
        let messages = SyntheticMarket.messages(seed: 11, seconds: seconds)
        let writer = try CaptureWriter(
            path: path,
            header: CaptureHeader(
                environment: "sim",
                codes: SyntheticMarket.codes,
                trIDs: ["H0STCNT0", "H0STASP0"],
                startNs: messages[0].localNs,
                note: "ReplayTests synthetic market seed 11, speed 60"
            )
        )
        for message in messages {
            // The writer thread empties the ring; a full ring only means waiting for it.
            while !message.bytes.withUnsafeBytes({ writer.append(.message, localNs: message.localNs, bytes: $0) }) {}
        }
        _ = try writer.finish()
        return path
    }

    static func replay(_ path: String) throws -> ReplaySummary {
        let reader = try CaptureReader(path: path)
        var settings = ReplaySettings(codes: reader.header.codes.compactMap(SymbolCode.init))
        settings.parameters = ReplayEngineTests.parameters
        settings.marketSpeed = 60
        let engine = try ReplayEngine(settings: settings)
        let end = reader.read { message in
            if message.kind == .message { engine.message(message.bytes, localNs: message.localNs) }
        }
        #expect(end == .complete)
        return engine.finish()
    }

    @Test("a capture replays to byte-identical JSON twice, and to what the same messages give from memory")
    func fileDeterminism() throws {
        let path = try Self.capture(seconds: 900)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let first = try Self.replay(path)
        let second = try Self.replay(path)
        #expect(first.json() == second.json())
        #expect(first.fills.count > 0)
        let memory = try ReplayEngineTests.replay(
            SyntheticMarket.messages(seed: 11, seconds: 900),
            settings: ReplayEngineTests.settings()
        )
        #expect(memory.json() == first.json())
    }
}
