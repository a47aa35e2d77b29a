import EventLog
import Foundation
import KIS
import Logging
import Testing
import TickCore

@Suite struct EventLogTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kistick-log-\(UUID().uuidString)")
        .appendingPathComponent("logs").path

    /// 2026-12-07 09:01:02.5 KST.
    static let morning: Int64 = (KST.epochSeconds(date: 20_261_207, time: 90102)! * 1_000_000_000) + 500_000_000

    func settings() -> EventLog.Settings {
        var settings = EventLog.Settings(directory: self.directory)
        settings.consoleLevel = nil
        return settings
    }

    func lines(day: String = "2026-12-07") throws -> [[String: Any]] {
        let text = try String(contentsOfFile: "\(self.directory)/kistick-\(day).jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func stageRecordsBecomeJSONLinesOfTheirDay() throws {
        let log = try EventLog(settings: self.settings())
        let strategy = log.producer(stage: "strategy")
        let code = SymbolCode(ascii: "005930")
        strategy.record(
            LogRecord(
                .orderSent,
                time: Self.morning,
                order: OrderID(rawValue: 7),
                code: code,
                side: .buy,
                quantity: 10,
                price: 70_100,
                message: PackedASCII(ascii: "entry")
            )
        )
        strategy.record(
            LogRecord(
                .orderAccepted,
                time: Self.morning + 1_000_000,
                order: OrderID(rawValue: 7),
                code: code,
                number: 8_812
            )
        )
        strategy.record(
            LogRecord(
                .fill,
                time: Self.morning + 2_000_000,
                order: OrderID(rawValue: 7),
                code: code,
                side: .buy,
                quantity: 10,
                price: 70_100
            )
        )
        log.stop()
        let lines = try self.lines()
        #expect(lines.count == 3)
        #expect(lines[0]["time"] as? String == "2026-12-07T09:01:02.500000+09:00")
        #expect(lines[0]["event"] as? String == "order.sent")
        #expect(lines[0]["level"] as? String == "info")
        #expect(lines[0]["stage"] as? String == "strategy")
        #expect(lines[0]["order"] as? Int == 7)
        #expect(lines[0]["code"] as? String == "005930")
        #expect(lines[0]["side"] as? String == "buy")
        #expect(lines[0]["qty"] as? Int == 10 && lines[0]["price"] as? Int == 70_100)
        #expect(lines[0]["purpose"] as? String == "entry")
        #expect(lines[0]["pid"] as? Int == Int(getpid()))
        #expect(lines[1]["event"] as? String == "order.accepted" && lines[1]["kis_order"] as? String == "8812")
        // Fields a kind does not fill are left out, not written as zeros.
        #expect(lines[1]["qty"] == nil && lines[1]["price"] == nil)
        #expect(lines[2]["event"] as? String == "order.fill" && lines[2]["level"] as? String == "notice")
        let file = "\(self.directory)/kistick-2026-12-07.jsonl"
        #expect(try Self.mode(file) == 0o600)
        #expect(try Self.mode(self.directory) == 0o700)
        #expect(log.counters.written == 3 && log.counters.dropped == 0 && log.counters.failedWrites == 0)
    }

    /// Stages hand a reason as a number; the line names it. Rings are drained one after another, yet an order's
    /// later step, recorded in another ring, is written after the earlier one.
    @Test func reasonsAreNamedAndLinesFromSeveralRingsAreInTimeOrder() throws {
        let log = try EventLog(settings: self.settings())
        let orders = log.producer(stage: "orders")
        let market = log.producer(stage: "market", reasons: ["market closed", "trading halted"])
        let code = SymbolCode(ascii: "005930")
        market.record(LogRecord(.orderCancelled, time: Self.morning + 2, order: OrderID(rawValue: 3), code: code))
        orders.record(LogRecord(.orderAccepted, time: Self.morning + 1, order: OrderID(rawValue: 3), code: code))
        market.record(LogRecord(.riskRefused, time: Self.morning + 3, code: code, quantity: 5, value: 1))
        log.stop()
        let lines = try self.lines()
        #expect(lines.map { $0["event"] as? String } == ["order.accepted", "order.cancelled", "risk.refused"])
        #expect(lines[2]["reason"] as? String == "trading halted" && lines[2]["qty"] as? Int == 5)
    }

    @Test func aNewKSTDayStartsANewFile() throws {
        let log = try EventLog(settings: self.settings())
        let feed = log.producer(stage: "feed")
        // 23:59:59 KST, then 00:00:01 KST the next day (15:00 UTC is KST midnight).
        let midnight = KST.epochSeconds(date: 20_261_208, time: 0)! * 1_000_000_000
        feed.record(LogRecord(.disconnected, time: midnight - 1_000_000_000, message: PackedASCII(ascii: "reset")))
        feed.record(LogRecord(.connected, time: midnight + 1_000_000_000, value: 1))
        log.stop()
        #expect(try self.lines(day: "2026-12-07").map { $0["event"] as? String } == ["feed.disconnected"])
        #expect(try self.lines(day: "2026-12-08").map { $0["event"] as? String } == ["feed.connected"])
        #expect(try self.lines(day: "2026-12-08")[0]["reconnects"] as? Int == 1)
    }

    @Test func levelsBelowTheFileLevelAreLeftOut() throws {
        var settings = self.settings()
        settings.fileLevel = .notice
        let log = try EventLog(settings: settings)
        let producer = log.producer(stage: "strategy")
        producer.record(LogRecord(.orderSent, time: Self.morning))
        producer.record(LogRecord(.fill, time: Self.morning))
        log.logger(label: "kistick.test").info("not written")
        log.logger(label: "kistick.test").error("written")
        log.stop()
        #expect(try self.lines().map { $0["event"] as? String } == ["order.fill"])
        #expect(try self.lines(day: Self.today()).map { $0["message"] as? String } == ["written"])
    }

    /// A cancel KIS refused because its order had already filled is the expected end of a race: a notice, while
    /// any other refusal stays a warning.
    @Test func aCancelThatLostTheRaceToAFillIsANoticeNotAWarning() throws {
        let log = try EventLog(settings: self.settings())
        let producer = log.producer(stage: "orders")
        producer.record(LogRecord(.orderRefused, time: Self.morning, message: PackedASCII(ascii: "APBK0344")))
        producer.record(LogRecord(.orderRefused, time: Self.morning + 1, message: PackedASCII(ascii: "EGW00201")))
        log.stop()
        let lines = try self.lines()
        #expect(lines.map { $0["level"] as? String } == ["notice", "warning"])
        #expect(lines.map { $0["msg_cd"] as? String } == ["APBK0344", "EGW00201"])
    }

    /// Secrets are redacted by their type wherever a cold path puts them: interpolated into the message or passed as
    /// metadata, alone or inside a list.
    @Test func secretsReachTheLogOnlyAsRedacted() throws {
        let log = try EventLog(settings: self.settings())
        let appKey = Secret("PSabcdefghijklmnopqrstuvwxyz0123456789")
        var logger = log.logger(label: "kistick.config")
        logger[metadataKey: "session"] = "\(appKey)"
        logger.notice(
            "configuration loaded with key \(appKey)",
            metadata: [
                "file": "kis_devlp.yaml", "app_key": .stringConvertible(appKey), "keys": [.stringConvertible(appKey)],
            ]
        )
        log.stop()
        let text = try String(contentsOfFile: "\(self.directory)/kistick-\(Self.today()).jsonl", encoding: .utf8)
        #expect(!text.contains(appKey.reveal))
        let line = try #require(try self.lines(day: Self.today()).first)
        #expect(line["message"] as? String == "configuration loaded with key <redacted>")
        let meta = try #require(line["meta"] as? [String: String])
        #expect(
            meta == [
                "app_key": "<redacted>", "file": "kis_devlp.yaml", "keys": "[<redacted>]", "session": "<redacted>",
            ]
        )
    }

    @Test func textIsEscapedIntoValidJSON() throws {
        let log = try EventLog(settings: self.settings())
        log.logger(label: "kistick.test").warning("quote \" backslash \\ newline \n tab \t bell \u{7} 한글")
        log.stop()
        let line = try #require(try self.lines(day: Self.today()).first)
        #expect(line["message"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{7} 한글")
    }

    /// A producer whose writer is far behind never blocks: what the ring cannot hold is dropped, counted, and the
    /// count is logged.
    @Test func aFullRingDropsAndCountsInsteadOfBlocking() throws {
        let log = try EventLog(settings: self.settings())
        let producer = log.producer(stage: "feed", capacity: 8)
        for i in 0..<10_000 {
            producer.record(LogRecord(.gap, time: Self.morning + Int64(i), code: SymbolCode(ascii: "000660")))
        }
        log.stop()
        #expect(producer.dropped > 0)
        let lines = try self.lines()
        let gaps = lines.filter { $0["event"] as? String == "feed.gap" }.count
        #expect(gaps + producer.dropped == 10_000)
        #expect(log.counters.dropped == producer.dropped)
        let notes = try self.lines(day: Self.today()).filter { ($0["message"] as? String)?.contains("dropped") == true }
        #expect(!notes.isEmpty)
    }

    @Test func filesOlderThanTheKeptDaysAreDeleted() throws {
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        for name in ["kistick-2026-11-01.jsonl", "kistick-2026-11-30.jsonl", "kistick-2026-12-06.jsonl", "notes.txt"] {
            #expect(FileManager.default.createFile(atPath: "\(self.directory)/\(name)", contents: Data()))
        }
        var settings = self.settings()
        settings.keepDays = 7
        let log = try EventLog(settings: settings)
        log.producer(stage: "feed").record(LogRecord(.connected, time: Self.morning))
        log.stop()
        let left = try FileManager.default.contentsOfDirectory(atPath: self.directory).sorted()
        #expect(
            left == ["kistick-2026-11-30.jsonl", "kistick-2026-12-06.jsonl", "kistick-2026-12-07.jsonl", "notes.txt"]
        )
    }

    static func today() -> String {
        let date = KST.date(epochSeconds: Int64(Date().timeIntervalSince1970))
        return String(format: "%04d-%02d-%02d", date / 10_000, date / 100 % 100, date % 100)
    }

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? 0) & 0o777
    }
}
