import Foundation
import JSON
import KIS
import ScriptedServer
import Synchronization

@testable import Telegram

/// A Bot API on loopback: getUpdates with Telegram's offset rules (and a long poll that answers as soon as a
/// message arrives), sendMessage recorded, 429s on cue, 404 for a wrong token.
final class FakeBotAPI: Sendable {
    static let token = "123456789:AAH-fake_secret_token_for_tests_0123"

    struct Sent: Equatable {
        var chat: Int64
        var text: String
    }

    private struct State {
        var updates: [(id: Int64, chat: Int64, text: String)] = []
        var nextID: Int64 = 100
        var sent: [Sent] = []
        var sendTimes: [ContinuousClock.Instant] = []
        var throttle: [Int] = []
        var skips = 0
        var requestsWithoutToken = 0
    }

    /// The state the server's threads and the test share.
    private final class Board: Sendable {
        let state = Mutex(State())
    }

    private let board: Board
    private let server: ScriptedServer

    init() {
        let board = Board()
        self.board = board
        self.server = ScriptedServer { request, _ in
            .respond(FakeBotAPI.answer(request, state: board.state))
        }
    }

    var url: String { self.server.url }

    func stop() { self.server.stop() }

    /// A message from `chat` for the bot's next getUpdates.
    func say(_ text: String, from chat: Int64) {
        self.board.state.withLock { state in
            state.updates.append((state.nextID, chat, text))
            state.nextID += 1
        }
    }

    /// The next `count` sendMessage calls get 429 with `retry_after` seconds.
    func throttle(_ count: Int, retryAfter: Int) {
        self.board.state.withLock { $0.throttle += Array(repeating: retryAfter, count: count) }
    }

    var sent: [Sent] { self.board.state.withLock { $0.sent } }
    var sendTimes: [ContinuousClock.Instant] { self.board.state.withLock { $0.sendTimes } }
    /// getUpdates calls with offset -1: the bot skipping what was sent before it started.
    var skips: Int { self.board.state.withLock { $0.skips } }
    var requestsWithoutToken: Int { self.board.state.withLock { $0.requestsWithoutToken } }

    /// Waits until a message to `chat` satisfies `match`, at most `seconds`.
    func waitForMessage(to chat: Int64, seconds: Double = 5, _ match: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let found = self.sent.first(where: { $0.chat == chat && match($0.text) }) { return found.text }
            usleep(5_000)
        }
        return nil
    }

    /// Waits until the bot has skipped its backlog, so what is said next reaches it.
    func waitUntilPolling(seconds: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if self.skips > 0 { return true }
            usleep(5_000)
        }
        return false
    }

    private static func answer(_ request: [UInt8], state: borrowing Mutex<State>) -> [UInt8] {
        let text = String(decoding: request, as: UTF8.self)
        let path = text.split(separator: " ", maxSplits: 2).dropFirst().first.map(String.init) ?? ""
        let body = text.range(of: "\r\n\r\n").map { Array(text[$0.upperBound...].utf8) } ?? []
        let json = JSON(parsing: body) ?? .null
        guard path.hasPrefix("/bot\(Self.token)/") else {
            state.withLock { $0.requestsWithoutToken += 1 }
            return ScriptedServer.response(
                status: 404,
                body: #"{"ok":false,"error_code":404,"description":"Not Found"}"#
            )
        }
        switch path.dropFirst("/bot\(Self.token)/".count) {
        case "getUpdates":
            let offset = json["offset"]?.scalarText.flatMap { Int64($0) } ?? 0
            let timeout = json["timeout"]?.scalarText.flatMap { Double($0) } ?? 0
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                let found: [(id: Int64, chat: Int64, text: String)] = state.withLock { state in
                    if offset == -1 {
                        state.skips += 1
                        return state.updates.last.map { [$0] } ?? []
                    }
                    state.updates.removeAll { $0.id < offset }
                    return state.updates
                }
                if !found.isEmpty || offset == -1 || Date() >= deadline {
                    return ScriptedServer.response(body: Self.updates(found))
                }
                usleep(5_000)
            }
        case "sendMessage":
            let chat = json["chat_id"]?.scalarText.flatMap { Int64($0) } ?? 0
            let message = json["text"]?.text ?? ""
            let throttled: Int? = state.withLock { state in
                guard !state.throttle.isEmpty else {
                    state.sent.append(Sent(chat: chat, text: message))
                    state.sendTimes.append(.now)
                    return nil
                }
                return state.throttle.removeFirst()
            }
            if let seconds = throttled {
                return ScriptedServer.response(
                    status: 429,
                    body:
                        #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after \#(seconds)","parameters":{"retry_after":\#(seconds)}}"#
                )
            }
            if chat == 404 {
                // An echo of the token, which the bot must never pass on.
                return ScriptedServer.response(
                    status: 400,
                    body: #"{"ok":false,"error_code":400,"description":"chat not found for \#(Self.token)"}"#
                )
            }
            return ScriptedServer.response(body: #"{"ok":true,"result":{"message_id":1}}"#)
        default:
            return ScriptedServer.response(
                status: 404,
                body: #"{"ok":false,"error_code":404,"description":"Not Found"}"#
            )
        }
    }

    private static func updates(_ updates: [(id: Int64, chat: Int64, text: String)]) -> String {
        let items = updates.map { update in
            JSON.obj([
                "update_id": .number(String(update.id)),
                "message": .obj([
                    "message_id": .number(String(update.id)), "chat": .obj(["id": .number(String(update.chat))]),
                    "text": .string(update.text),
                ]),
            ])
        }
        return String(decoding: JSON.obj(["ok": .bool(true), "result": .array(items)]).bytes, as: UTF8.self)
    }
}

/// An engine stand-in that records what the bot asked of it.
final class FakeRemote: EngineRemote {
    private struct State {
        var paused = false
        var killed = 0
        var failing = false
    }

    private let state = Mutex(State())

    func pauseEntries() { self.state.withLock { $0.paused = true } }
    func resumeEntries() { self.state.withLock { $0.paused = false } }
    var entriesPaused: Bool { self.state.withLock { $0.paused } }
    func armKillSwitch() { self.state.withLock { $0.killed += 1 } }
    var killed: Int { self.state.withLock { $0.killed } }

    /// Makes the broker queries fail.
    func failQueries() { self.state.withLock { $0.failing = true } }

    struct Unreachable: Error, CustomStringConvertible {
        var description: String { "KIS unreachable" }
    }

    func account() throws -> AccountSummary {
        if self.state.withLock({ $0.failing }) { throw Unreachable() }
        return AccountSummary(
            cash: 9_500_000,
            totalValue: 10_120_000,
            profit: 20_000,
            holdings: [.init(code: "005930", name: "삼성전자", quantity: 10, price: 62_000, profit: 20_000)]
        )
    }

    func openOrders() throws -> [OpenOrder] {
        if self.state.withLock({ $0.failing }) { throw Unreachable() }
        return [
            OpenOrder(code: "000660", side: .buy, quantity: 3, filled: 1, price: 201_000, orderNumber: "0000012345")
        ]
    }
}

/// Log lines the bot wrote.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    var sink: @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }
    var all: [String] { self.lines.withLock { $0 } }
}

extension TelegramSettings {
    /// Settings for `fake`, two allowed chats, short long polls.
    static func testing(_ fake: FakeBotAPI, language: BotLanguage = .korean) -> TelegramSettings {
        var settings = TelegramSettings(token: .init(FakeBotAPI.token), chats: [111, -222])
        settings.apiURL = fake.url
        settings.pollSeconds = 1
        settings.language = language
        return settings
    }
}

extension SendLimits {
    /// No waiting between messages: tests that exchange many with one chat.
    static let unlimited = SendLimits(perChatGap: 0, groupPerMinute: 1_000_000, perSecond: 1_000_000)
}
