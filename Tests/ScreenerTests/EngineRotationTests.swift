import Engine
import Foundation
import KIS
import PaperMarket
import Simulator
import Testing
import TickCore

/// A scheduler's rotation applied to a running engine: the simulator sees the registrations move.
@Suite struct EngineRotationTests {
    @Test func resubscribeMovesTheRegistrationsOfARunningEngine() async throws {
        let codes = Array(Catalog.knownCodes.prefix(4))
        let market = try await PaperMarket(speed: 60, codes: codes.compactMap(SymbolCode.init))
        let (simulator, directory) = (market.simulator, market.directory)
        defer { market.remove() }
        let client = try market.client()
        defer { client.tokens.stop() }

        let table = codes.compactMap(SymbolCode.init)
        var settings = EngineSettings(codes: table, journalPath: directory + "/journal.sqlite")
        settings.subscribed = Array(table.prefix(2))
        settings.speed = 60
        let engine = try Engine(client: client, settings: settings)
        try engine.start()
        try await Self.waitFor { simulator.tradeRegistrations() == codes[0..<2].sorted() }
        #expect(simulator.tradeRegistrations() == codes[0..<2].sorted())

        engine.resubscribe(unsubscribe: [table[0]], subscribe: [table[2]])
        try await Self.waitFor { simulator.tradeRegistrations() == [codes[1], codes[2]].sorted() }
        #expect(simulator.tradeRegistrations() == [codes[1], codes[2]].sorted())
        _ = engine.stop(grace: 1)
        try await simulator.stop()
    }

    @Test func aLiveSetOutsideTheTableIsRefused() throws {
        var settings = EngineSettings(codes: [SymbolCode("005930")!], journalPath: "/nonexistent/journal.sqlite")
        settings.subscribed = [SymbolCode("000660")!]
        let client = try KISClient.make(
            settings: .madeUp(environment: .paper, restURL: "http://127.0.0.1:1", webSocketURL: "ws://127.0.0.1:1"),
            cache: try TokenCache(
                directory: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "kistick-rotation-\(UUID().uuidString)"
                ).path
            )
        )
        #expect(throws: EngineError.self) { try Engine(client: client, settings: settings) }
    }

    @Test func resubscribingACodeOutsideTheTableIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "kistick-rotation-\(getpid())"
            ).path
            let client = try KISClient.make(
                settings: .madeUp(environment: .paper, restURL: "http://127.0.0.1:1", webSocketURL: "ws://127.0.0.1:1"),
                cache: try TokenCache(directory: directory)
            )
            let settings = EngineSettings(codes: [SymbolCode("005930")!], journalPath: directory + "/journal.sqlite")
            let engine = try Engine(client: client, settings: settings)
            engine.resubscribe(unsubscribe: [], subscribe: [SymbolCode("000660")!])
        }
    }

    static func waitFor(seconds: Double = 10, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition(), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
    }
}
