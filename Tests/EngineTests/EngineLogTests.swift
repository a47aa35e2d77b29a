import Engine
import EventLog
import Foundation
import KIS
import PaperMarket
import Testing
import TickCore

/// What a paper run leaves in its log: each order's life in order, the kill switch, the feed, and no secret.
@Suite(.serialized)
struct EngineLogTests {
    @Test func aPaperRunLogsEachOrdersLifeInOrderAndNoSecret() async throws {
        let market = try await PaperMarket(speed: 120)
        defer { market.remove() }
        let directory = market.directory + "/logs"
        var logSettings = EventLog.Settings(directory: directory)
        logSettings.consoleLevel = nil
        let log = try EventLog(settings: logSettings)
        let client = try market.client()
        var settings = EngineSettings(codes: market.codes, journalPath: market.directory + "/journal.sqlite")
        settings.parameters = PaperMarket.eager
        settings.settingsPath = "eager.yaml"
        settings.speed = 120
        settings.log = log
        let engine = try Engine(client: client, settings: settings)
        try engine.start()
        try await EngineTests.waitFor(seconds: 45) { !engine.status().positions.isEmpty }
        engine.armKillSwitch()
        try await EngineTests.waitFor(seconds: 45) {
            let status = engine.status()
            return status.positions.isEmpty && status.orders.open == 0
        }
        let report = engine.stop()
        let token = try client.tokens.current().token.reveal
        client.tokens.stop()
        log.stop()
        await market.stop()

        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".jsonl") }
        #expect(!names.isEmpty)
        var text = ""
        for name in names { text += try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8) }
        // Every line is a JSON object (what `jq` reads).
        let lines = try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
        let events = lines.compactMap { $0["event"] as? String }
        #expect(events.count == lines.count)
        #expect(report.status.drops.logRecords == 0)
        #expect(events.contains("feed.connected"))
        #expect(events.contains("kill_switch.armed"))
        #expect(events.contains("reconciliation.applied"))

        // An entry's whole life, in order: decided, accepted under KIS's number, filled; then the kill switch's sell
        // of the position, which follows the switch.
        func life(of purpose: String) throws -> [String] {
            let sent = try #require(
                lines.first { $0["event"] as? String == "order.sent" && $0["purpose"] as? String == purpose },
                "no \(purpose) order was logged"
            )
            let order = try #require(sent["order"] as? Int)
            return lines.filter { $0["order"] as? Int == order }.compactMap { $0["event"] as? String }
                .filter { $0 != "order.notice" }
        }
        let entry = try life(of: "entry")
        #expect(Array(entry.prefix(3)) == ["order.sent", "order.accepted", "order.fill"], "\(entry)")
        let flatten = try life(of: "flatten")
        #expect(Array(flatten.prefix(3)) == ["order.sent", "order.accepted", "order.fill"], "\(flatten)")
        let killed = try #require(events.firstIndex(of: "kill_switch.armed"))
        let flattened = try #require(
            lines.firstIndex { $0["event"] as? String == "order.sent" && $0["purpose"] as? String == "flatten" }
        )
        #expect(killed < flattened)
        let accepted = try #require(lines.first { $0["event"] as? String == "order.accepted" })
        #expect((accepted["kis_order"] as? String)?.isEmpty == false)
        #expect((accepted["code"] as? String)?.count == 6)
        // KIS's notices of that order: the exchange's acceptance (which changes nothing the REST answer had not) and
        // its fill, matched to our order.
        let notices = lines.filter {
            $0["event"] as? String == "order.notice" && $0["kis_order"] as? String == accepted["kis_order"] as? String
        }
        #expect(
            notices.contains { $0["tells"] as? String == "fill" && $0["order"] as? Int == accepted["order"] as? Int },
            "\(notices)"
        )

        // The configuration is named, its values are not.
        let starting = try #require(lines.first { $0["message"] as? String == "engine starting" })
        let keys = try #require((starting["meta"] as? [String: String])?["keys"])
        #expect(keys.contains("budget_krw"))
        #expect(!keys.contains("300000"))

        // No credential, token or account reaches the log.
        let credentials = client.settings.credentials
        let account = client.settings.account
        let secrets = [
            credentials.appKey.reveal, credentials.appSecret.reveal, token, account.cano, client.settings.htsID,
        ]
        for secret in secrets {
            #expect(!text.contains(secret))
        }
    }
}
