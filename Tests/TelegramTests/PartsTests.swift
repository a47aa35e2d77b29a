import Foundation
import KIS
import Testing
import TickCore

@testable import Engine
@testable import Telegram

/// The bot's pure parts on given time: the settings file, the send pacer, the /stop window, the status watch.
@Suite struct PartsTests {
    static let second: Int64 = 1_000_000_000

    // MARK: Settings

    static func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("telegram-\(UUID().uuidString).yaml")
            .path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func settingsAreRead() throws {
        let path = try Self.file(
            """
            # the operator's chat
            telegram_bot_token: "\(FakeBotAPI.token)"
            telegram_chat_ids: "111, -1001234"
            telegram_language: en
            telegram_api_url: http://127.0.0.1:9/
            """
        )
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = try TelegramSettings.load(path: path)
        #expect(settings.token.reveal == FakeBotAPI.token)
        #expect(settings.chats == [111, -1_001_234])
        #expect(settings.language == .english)
        #expect(settings.apiURL == "http://127.0.0.1:9")
    }

    @Test(arguments: [
        ("telegram_chat_id: 1\n", "telegram_chat_id"),
        (
            "telegram_bot_token: \"\(FakeBotAPI.token)\"\ntelegram_chat_ids: 1\ntelegram_language: fr\n",
            "telegram_language"
        ),
        ("telegram_bot_token: \"\(FakeBotAPI.token)\"\ntelegram_chat_ids: \"1,x\"\n", "telegram_chat_ids"),
        ("telegram_bot_token: \"\(FakeBotAPI.token)\"\n", "telegram_chat_ids"),
        ("telegram_bot_token: \"AAH-fake_secret_token_for_tests_0123\"\ntelegram_chat_ids: 1\n", "telegram_bot_token"),
        ("telegram_chat_ids: 1\n", "telegram_bot_token"),
    ])
    func aBadSettingNamesTheKeyAndTheFileButNeverTheToken(text: String, key: String) throws {
        let path = try Self.file(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try TelegramSettings.load(path: path)
        } throws: { error in
            let message = "\(error)"
            return message.contains(key) && message.contains(path) && !message.contains("AAH-fake")
        }
    }

    // MARK: Send pacing

    @Test func sendPacing() {
        var pacer = SendPacer()
        #expect(pacer.earliest(chat: 1, now: 0) == 0)
        pacer.sent(chat: 1, at: 0)
        #expect(pacer.earliest(chat: 1, now: 10) == Self.second, "one a second to a chat")
        #expect(pacer.earliest(chat: 2, now: 10) == 10, "other chats are not held up")

        // A group: 20 a minute, then the 21st waits for the first to leave the minute.
        var group = SendPacer()
        for i in 0..<20 { group.sent(chat: -5, at: Int64(i) * 2 * Self.second) }
        #expect(group.earliest(chat: -5, now: 40 * Self.second) == 60 * Self.second)

        // 30 a second in all.
        var all = SendPacer()
        for chat in 1...30 { all.sent(chat: Int64(chat), at: Int64(chat) * 1_000_000) }
        #expect(all.earliest(chat: 99, now: 40_000_000) == 1_000_000 + Self.second)

        // A 429 holds every chat.
        pacer.backOff(seconds: 5, now: 2 * Self.second)
        #expect(pacer.earliest(chat: 2, now: 2 * Self.second) == 7 * Self.second)
        #expect(pacer.earliest(chat: 1, now: 8 * Self.second) == 8 * Self.second)
    }

    // MARK: The /stop confirmation

    static func desk(_ remote: FakeRemote) -> CommandDesk<FakeRemote> {
        CommandDesk(remote: remote, phrases: Phrasebook(language: .english))
    }

    static func message(_ text: String, chat: Int64 = 111) -> IncomingMessage {
        IncomingMessage(chat: chat, messageID: 1, text: text)
    }

    @Test func stopNeedsAConfirmationWithinThirtySeconds() {
        let remote = FakeRemote()
        var desk = Self.desk(remote)
        #expect(desk.answer(Self.message("/stop yes"), status: nil, dropped: 0, now: 0).contains("Send /stop first"))
        #expect(desk.answer(Self.message("/stop"), status: nil, dropped: 0, now: 0).contains("within 30 s"))
        let late = desk.answer(Self.message("/stop yes"), status: nil, dropped: 0, now: 30 * Self.second + 1)
        #expect(late.contains("expired"))
        #expect(remote.killed == 0)

        _ = desk.answer(Self.message("/stop"), status: nil, dropped: 0, now: 100 * Self.second)
        #expect(desk.answer(Self.message("no"), status: nil, dropped: 0, now: 101 * Self.second).contains("not armed"))
        #expect(desk.answer(Self.message("yes"), status: nil, dropped: 0, now: 102 * Self.second).contains("Unknown"))
        #expect(remote.killed == 0)

        // A plain reply of yes (in Korean) within the window, from the chat that asked.
        _ = desk.answer(Self.message("/stop"), status: nil, dropped: 0, now: 200 * Self.second)
        #expect(
            desk.answer(Self.message("예", chat: -222), status: nil, dropped: 0, now: 201 * Self.second).contains(
                "Unknown"
            )
        )
        #expect(remote.killed == 0, "another chat cannot confirm")
        #expect(desk.answer(Self.message("예"), status: nil, dropped: 0, now: 229 * Self.second).contains("armed"))
        #expect(remote.killed == 1)
    }

    // MARK: Notifications from the status

    @Test func theWatchTellsEachEventOnce() {
        var watch = StatusWatch(dailyLossLimit: 100_000)
        var status = EngineStatus()
        #expect(watch.observe(status).isEmpty, "a feed not yet subscribed is starting, not lost")
        status.subscribedCodes = 3
        #expect(watch.observe(status).isEmpty)
        status.subscribedCodes = 0
        status.notes = ["feed disconnected: timeout"]
        #expect(watch.observe(status) == [.connectionLost, .error("feed disconnected: timeout")])
        #expect(watch.observe(status).isEmpty)
        status.subscribedCodes = 3
        status.notes.append("12 records of codes this engine does not trade, skipped")
        #expect(watch.observe(status) == [.connectionRestored])

        status.realisedPnL = -80_000
        status.unrealisedPnL = -30_000
        #expect(watch.observe(status) == [.dailyLossLimit(pnl: -110_000, limit: 100_000)])
        #expect(watch.observe(status).isEmpty)

        status.killSwitch = true
        #expect(watch.observe(status) == [.killSwitchArmed])
        #expect(watch.observe(status).isEmpty)
    }

    @Test func theCloseOfDayIsSummarisedOnce() throws {
        var watch = StatusWatch(dailyLossLimit: 100_000)
        var status = EngineStatus()
        let day = try #require(KST.epochSeconds(date: 20_261_127, time: 152_959))
        status.marketTime = day * Self.second
        status.realisedPnL = 5_000
        #expect(watch.observe(status).isEmpty)
        status.marketTime = (day + 1) * Self.second
        #expect(watch.observe(status) == [.dailySummary(DaySummary(status))])
        status.marketTime = (day + 60) * Self.second
        #expect(watch.observe(status).isEmpty)
    }

    // MARK: Text

    @Test func wonAndLongMessages() {
        #expect(Phrasebook.won(0) == "₩0")
        #expect(Phrasebook.won(999) == "₩999")
        #expect(Phrasebook.won(1_000) == "₩1,000")
        #expect(Phrasebook.won(-1_234_567) == "-₩1,234,567")
        #expect(Phrasebook.clock(90_420) == "09:04:20")
        #expect(Phrasebook.clock(153_000) == "15:30:00")
        let long = (0..<1_000).map { "line \($0)" }.joined(separator: "\n")
        let cut = TelegramBot<FakeRemote>.fit(long)
        #expect(cut.utf16.count <= 4_096 && cut.utf16.count > 4_000)
        #expect(cut.hasPrefix("line 0\nline 1\n"))
        #expect(cut.hasSuffix("\n…"))
        #expect(TelegramBot<FakeRemote>.fit("short") == "short")
        let emoji = Array(repeating: "📡 시세 005930", count: 500).joined(separator: "\n")
        #expect(TelegramBot<FakeRemote>.fit(emoji).utf16.count <= 4_096)
    }
}
