import Engine
import Foundation
import KIS
import PaperMarket
import Simulator
import Testing
import TickCore

@testable import Telegram

/// The bot wired to a real engine trading the in-process simulator, as `kistick paper --telegram` runs it.
@Suite(.serialized)
struct EngineBotTests {
    /// The CLI's control loop, ten times faster: status and fills to every bot until `done`, at most `seconds`.
    /// - Returns: the longest `observe` call, which must never wait on Telegram.
    @discardableResult
    static func drive(
        _ engine: Engine,
        _ bots: [TelegramBot<EngineLink>],
        _ what: String,
        seconds: Double,
        until done: (EngineStatus) -> Bool
    ) async throws -> Duration {
        let deadline = Date().addingTimeInterval(seconds)
        var longest = Duration.zero
        while true {
            let status = engine.status()
            var fills: [FillReport] = []
            engine.takeFills { fills.append($0) }
            for bot in bots {
                let start = ContinuousClock.now
                bot.observe(status, fills: fills)
                longest = max(longest, ContinuousClock.now - start)
            }
            if done(status) { return longest }
            guard Date() < deadline else {
                Issue.record("\(what): not within \(seconds) s")
                return longest
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// One engine (engines are heavy on a 2-core machine) with two bots: one whose Telegram is gone for the whole
    /// run, one that tells fills and takes the /stop.
    @Test func fillsAreToldTheEngineTradesThoughATelegramIsDownAndStopYesArmsTheKillSwitch() async throws {
        let market = try await PaperMarket(speed: 120)
        defer { market.remove() }
        let fake = FakeBotAPI()
        defer { fake.stop() }
        let gone = FakeBotAPI()
        gone.stop()
        let client = try market.client()
        var settings = EngineSettings(codes: market.codes, journalPath: market.directory + "/journal.sqlite")
        settings.parameters = PaperMarket.eager
        settings.speed = 120
        let engine = try Engine(client: client, settings: settings)
        try engine.start()
        let link = EngineLink(engine: engine, client: client)
        let downLog = LogLines()
        let down = TelegramBot(
            settings: .testing(gone),
            remote: link,
            dailyLossLimit: link.dailyLossLimit,
            limits: .telegram,
            log: downLog.sink
        )
        try down.start(codes: market.codes.map(\.description))
        let bot = TelegramBot(
            settings: .testing(fake),
            remote: link,
            dailyLossLimit: link.dailyLossLimit,
            limits: .unlimited,
            log: LogLines().sink
        )
        try bot.start(codes: market.codes.map(\.description))
        #expect(fake.waitUntilPolling())

        // Each fill the engine journals reaches the chat with its code, side, quantity and price.
        let longest = try await Self.drive(engine, [down, bot], "a fill told", seconds: 60) { _ in
            fake.sent.contains { $0.text.contains("✅ 체결") }
        }
        let fill = try #require(fake.sent.first { $0.text.contains("✅ 체결") }).text
        #expect(fill.contains("매수") && fill.contains("주 @ ₩"), "the first fill of a new account is a buy")
        #expect(engine.status().orders.fills >= 1, "the engine traded with one Telegram down")
        #expect(longest < .milliseconds(50), "observe never waited on Telegram")
        #expect(down.counters.sent == 0)
        #expect(downLog.all.contains { $0.contains("Telegram unreachable") })

        fake.say("/pause", from: 111)
        try await Self.drive(engine, [down, bot], "paused", seconds: 10) { _ in engine.entriesPaused }
        // Answered from KIS through the engine's client; on a loaded machine the simulator may time out (5 s a
        // try), which is answered too.
        fake.say("/balance", from: 111)
        fake.say("/orders", from: 111)
        try await Self.drive(engine, [down, bot], "balance and orders", seconds: 40) { _ in
            let answers = fake.sent.filter {
                $0.text.hasPrefix("계좌 잔고\n예수금") || $0.text.hasPrefix("미체결 주문")
                    || $0.text.hasPrefix("증권사 조회 실패")
            }
            return answers.count == 2
        }

        fake.say("/stop", from: 111)
        try await Self.drive(engine, [down, bot], "asked", seconds: 10) { _ in
            fake.sent.contains { $0.text.contains("/stop yes") }
        }
        #expect(!engine.status().killSwitch)
        fake.say("/stop yes", from: 111)
        try await Self.drive(engine, [down, bot], "armed", seconds: 10) { status in
            status.killSwitch && fake.sent.contains { $0.chat == -222 && $0.text.contains("킬 스위치 작동") }
        }
        let report = engine.stop()
        down.stop(final: report.status, flushSeconds: 0.5)
        bot.stop(final: report.status, flushSeconds: 5)
        client.tokens.stop()
        #expect(report.status.killSwitch)
        #expect(report.status.drops.lost == 0)
        #expect(fake.sent.contains { $0.chat == 111 && $0.text.contains("엔진 종료") })
        await market.stop()
    }
}
