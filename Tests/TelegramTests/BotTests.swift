import Foundation
import KIS
import Testing
import TickCore

@testable import Engine
@testable import Telegram

/// The bot against a fake Bot API on loopback, with a stand-in engine: commands, the allowlist, the confirmation,
/// notifications, 429s and Telegram being down.
@Suite struct BotTests {
    /// A started bot for `fake`, polling; stopped by the caller.
    static func bot(
        _ fake: FakeBotAPI,
        remote: FakeRemote = FakeRemote(),
        language: BotLanguage = .korean,
        limits: SendLimits = .unlimited,
        log: LogLines = LogLines()
    ) throws -> TelegramBot<FakeRemote> {
        let bot = TelegramBot(
            settings: .testing(fake, language: language),
            remote: remote,
            dailyLossLimit: 300_000,
            limits: limits,
            log: log.sink
        )
        try bot.start(codes: ["005930", "000660"])
        #expect(fake.waitUntilPolling())
        return bot
    }

    static func status() -> EngineStatus {
        var status = EngineStatus()
        status.marketTime = 1_795_000_000 * 1_000_000_000
        status.subscribedCodes = 2
        status.records = 12_345
        status.realisedPnL = 15_000
        status.unrealisedPnL = -2_500
        status.fees = 300
        status.taxes = 900
        status.orders.sent = 7
        status.orders.fills = 4
        status.orders.open = 1
        status.positions = [
            .init(code: "005930", quantity: 10, averagePrice: 61_500, lastPrice: 62_000, unrealisedPnL: 5_000)
        ]
        return status
    }

    @Test func everyCommandIsAnsweredInKorean() throws {
        let fake = FakeBotAPI()
        defer { fake.stop() }
        let remote = FakeRemote()
        let bot = try Self.bot(fake, remote: remote)
        defer { bot.stop(final: nil, flushSeconds: 0) }
        #expect(fake.waitForMessage(to: 111) { $0.contains("엔진 시작: 005930, 000660") } != nil)

        fake.say("/status", from: 111)
        #expect(fake.waitForMessage(to: 111) { $0.contains("엔진 시작 중") } != nil, "no status before the first")
        bot.observe(Self.status())
        let expectations: [(String, [String])] = [
            ("/help", ["/status", "/balance", "/positions", "/pnl", "/orders", "/pause", "/resume", "/stop", "명령어"]),
            ("/status", ["상태: 매매 중", "수신 12345건", "주문 7 · 체결 4 · 미체결 1"]),
            ("/positions", ["005930 10주", "평균 ₩61,500", "현재 ₩62,000", "평가 ₩5,000"]),
            ("/pnl", ["실현 ₩15,000", "평가 -₩2,500", "순손익 ₩11,300", "체결 4건"]),
            ("/balance", ["예수금 ₩9,500,000", "005930 삼성전자 10주"]),
            ("/orders", ["000660 매수 3주 (체결 1) @ ₩201,000 #0000012345"]),
            ("/pause", ["신규 진입 중지"]),
            ("/status", ["상태: 진입 중지"]),
            ("/pause", ["이미 진입 중지"]),
            ("/resume", ["신규 진입 재개"]),
            ("/resume", ["진입 중지 상태가 아닙니다"]),
            ("/status@kistick_bot", ["상태: 매매 중"]),
            ("/frobnicate", ["알 수 없는 명령: /frobnicate"]),
        ]
        for (command, parts) in expectations {
            let before = fake.sent.count
            fake.say(command, from: 111)
            let reply = fake.waitForMessage(to: 111) { text in
                fake.sent.count > before && parts.allSatisfy { text.contains($0) }
            }
            #expect(reply != nil, "\(command) → \(parts)")
            if command == "/pause" && parts == ["신규 진입 중지"] { #expect(remote.entriesPaused) }
        }
        #expect(!remote.entriesPaused)
        #expect(remote.killed == 0)
        #expect(bot.counters.commands == expectations.count + 1)
    }

    @Test func englishByConfiguration() throws {
        let fake = FakeBotAPI()
        defer { fake.stop() }
        let bot = try Self.bot(fake, language: .english)
        defer { bot.stop(final: nil, flushSeconds: 0) }
        bot.observe(Self.status())
        fake.say("/pnl", from: -222)
        #expect(fake.waitForMessage(to: -222) { $0.contains("realised ₩15,000") && $0.contains("net ₩11,300") } != nil)
        fake.say("/help", from: -222)
        #expect(fake.waitForMessage(to: -222) { $0.hasPrefix("Commands") } != nil)
    }

    @Test func aFailedBrokerQueryIsAnsweredNotThrown() throws {
        let fake = FakeBotAPI()
        defer { fake.stop() }
        let remote = FakeRemote()
        remote.failQueries()
        let bot = try Self.bot(fake, remote: remote)
        defer { bot.stop(final: nil, flushSeconds: 0) }
        fake.say("/balance", from: 111)
        #expect(fake.waitForMessage(to: 111) { $0.contains("증권사 조회 실패: KIS unreachable") } != nil)
    }

    @Test func otherChatsAreIgnoredAndLogged() throws {
        let fake = FakeBotAPI()
        defer { fake.stop() }
        let remote = FakeRemote()
        let log = LogLines()
        let bot = try Self.bot(fake, remote: remote, log: log)
        defer { bot.stop(final: nil, flushSeconds: 0) }
        fake.say("/pause", from: 999)
        fake.say("/stop", from: 999)
        fake.say("/stop yes", from: 999)
        // An allowed chat's command after them, so they have been handled when it is answered.
        fake.say("/help", from: 111)
        #expect(fake.waitForMessage(to: 111) { $0.contains("명령어") } != nil)
        #expect(bot.counters.ignored == 3)
        #expect(!fake.sent.contains { $0.chat == 999 })
        #expect(!remote.entriesPaused)
        #expect(remote.killed == 0)
        #expect(log.all.filter { $0.contains("ignored a message from chat 999") }.count == 3)
    }

    @Test func stopAsksThenArmsTheKillSwitch() throws {
        let fake = FakeBotAPI()
        defer { fake.stop() }
        let remote = FakeRemote()
        let bot = try Self.bot(fake, remote: remote)
        defer { bot.stop(final: nil, flushSeconds: 0) }
        fake.say("/stop", from: 111)
        #expect(fake.waitForMessage(to: 111) { $0.contains("30초 안에 /stop yes") } != nil)
        #expect(remote.killed == 0, "nothing happens before the confirmation")
        fake.say("/stop yes", from: 111)
        #expect(fake.waitForMessage(to: 111) { $0.contains("킬 스위치를 작동했습니다") } != nil)
        #expect(remote.killed == 1)
        // Each confirmation needs its own /stop.
        fake.say("/stop yes", from: 111)
        #expect(fake.waitForMessage(to: 111) { $0.contains("먼저 /stop 을 보내세요") } != nil)
        #expect(remote.killed == 1)
    }

    @Test func fillsAndEventsAreNotified() throws {
        let fake = FakeBotAPI()
        defer { fake.stop() }
        let bot = try Self.bot(fake)
        var status = Self.status()
        bot.observe(
            status,
            fills: [
                FillReport(code: SymbolCode("005930")!, side: .buy, quantity: 10, price: 61_500, localTs: 0),
                FillReport(code: SymbolCode("000660")!, side: .sell, quantity: 3, price: 201_000, localTs: 0),
            ]
        )
        status.killSwitch = true
        bot.observe(status)
        for chat: Int64 in [111, -222] {
            #expect(
                fake.waitForMessage(to: chat) {
                    $0.contains("체결 005930 매수 10주 @ ₩61,500") && $0.contains("체결 000660 매도 3주 @ ₩201,000")
                } != nil
            )
            #expect(fake.waitForMessage(to: chat) { $0.contains("킬 스위치 작동") } != nil)
        }
        status.realisedPnL = 42_000
        bot.stop(final: status, flushSeconds: 5)
        #expect(fake.sent.contains { $0.chat == -222 && $0.text.contains("엔진 종료") && $0.text.contains("실현 ₩42,000") })
    }

    @Test func a429IsHonoured() throws {
        let fake = FakeBotAPI()
        defer { fake.stop() }
        fake.throttle(1, retryAfter: 1)
        let start = ContinuousClock.now
        let bot = try Self.bot(fake)
        defer { bot.stop(final: nil, flushSeconds: 0) }
        // The start notice to 111 is refused once: it goes again only after retry_after.
        #expect(fake.waitForMessage(to: 111) { $0.contains("엔진 시작") } != nil)
        #expect(bot.counters.throttled == 1)
        #expect(try #require(fake.sendTimes.first) - start >= .seconds(1))
    }

    @Test func oneMessageASecondToAChat() throws {
        let fake = FakeBotAPI()
        defer { fake.stop() }
        let bot = try Self.bot(fake, limits: .telegram)
        defer { bot.stop(final: nil, flushSeconds: 0) }
        bot.observe(
            Self.status(),
            fills: [FillReport(code: SymbolCode("005930")!, side: .buy, quantity: 1, price: 61_500, localTs: 0)]
        )
        #expect(fake.waitForMessage(to: 111) { $0.contains("체결 005930") } != nil)
        let times = zip(fake.sent, fake.sendTimes).filter { $0.0.chat == 111 }.map(\.1)
        #expect(times.count == 2)
        #expect(times[1] - times[0] >= .milliseconds(990))
    }

    @Test func telegramDownNeverHoldsTheCallerAndDropsAreCounted() throws {
        let fake = FakeBotAPI()
        let log = LogLines()
        let bot = try Self.bot(fake, log: log)
        fake.stop()
        let start = ContinuousClock.now
        for _ in 0..<400 {
            bot.observe(
                Self.status(),
                fills: [FillReport(code: SymbolCode("005930")!, side: .buy, quantity: 1, price: 61_500, localTs: 0)]
            )
        }
        #expect(ContinuousClock.now - start < .milliseconds(500), "observe never waits on Telegram")
        #expect(bot.counters.dropped >= 400 * 2 - 256)
        let stopping = ContinuousClock.now
        bot.stop(final: nil, flushSeconds: 0.2)
        #expect(ContinuousClock.now - stopping < .seconds(3), "stopping does not wait for a dead Telegram")
        #expect(log.all.contains { $0.contains("Telegram unreachable") })
    }

    @Test func theTokenIsNeverEchoed() throws {
        let fake = FakeBotAPI()
        defer { fake.stop() }
        let log = LogLines()
        var settings = TelegramSettings.testing(fake)
        settings.chats = [111, 404]
        let bot = TelegramBot(
            settings: settings,
            remote: FakeRemote(),
            dailyLossLimit: 1,
            limits: .unlimited,
            log: log.sink
        )
        try bot.start(codes: ["005930"])
        #expect(fake.waitForMessage(to: 111) { $0.contains("엔진 시작") } != nil)
        let deadline = Date().addingTimeInterval(5)
        while bot.counters.failed == 0, Date() < deadline { usleep(5_000) }
        bot.stop(final: nil, flushSeconds: 0)
        #expect(bot.counters.failed == 1, "chat 404 refused")
        #expect(log.all.contains { $0.contains("refused (400)") && $0.contains("<redacted>") })
        #expect(!log.all.contains { $0.contains(FakeBotAPI.token) || $0.contains("AAH-fake") })
        #expect(!"\(settings)".contains("AAH-fake"))
        #expect(!"\(TelegramSettings.testing(fake).token)".contains("AAH-fake"))
        #expect(fake.requestsWithoutToken == 0)
    }
}
