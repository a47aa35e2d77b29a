import JSON
import KIS

/// A text message the bot received.
public struct IncomingMessage: Sendable, Equatable {
    public var chat: Int64
    public var messageID: Int64
    public var text: String

    public init(chat: Int64, messageID: Int64, text: String) {
        self.chat = chat
        self.messageID = messageID
        self.text = text
    }
}

/// Why a Bot API call failed. No case carries the URL or the token.
enum BotAPIError: Error, CustomStringConvertible {
    /// No HTTP answer: refused, timed out, or the bot is stopping.
    case transport(String)
    /// 429: Telegram asks for a pause of this many seconds.
    case tooManyRequests(retryAfter: Int)
    /// Any other refusal, with Telegram's description.
    case refused(status: Int, description: String)
    /// An answer that is not the Bot API's JSON.
    case malformed(status: Int)

    var description: String {
        switch self {
        case .transport(let reason): "Telegram unreachable: \(reason)"
        case .tooManyRequests(let seconds): "Telegram asks to wait \(seconds) s (429)"
        case .refused(let status, let text): "Telegram refused (\(status)): \(text)"
        case .malformed(let status): "Telegram answered \(status) with something that is not the Bot API's JSON"
        }
    }
}

/// The two Bot API methods the bot uses, over one thread's `BotHTTP`.
struct BotAPI {
    private let http: BotHTTP
    private let base: String
    private let token: Secret

    init(http: BotHTTP, apiURL: String, token: Secret) {
        self.http = http
        self.base = apiURL + "/bot" + token.reveal + "/"
        self.token = token
    }

    /// Waits up to `timeout` seconds for updates after `offset` (which confirms every earlier one to Telegram).
    /// - Returns: the text messages received, and the offset for the next call.
    func getUpdates(offset: Int64, timeout: Int) throws(BotAPIError) -> (messages: [IncomingMessage], next: Int64) {
        let request = JSON.obj([
            "offset": .number(String(offset)), "timeout": .number(String(timeout)),
            "allowed_updates": .array(["message"]),
        ])
        let result = try self.call("getUpdates", request, timeoutSeconds: timeout + 10)
        guard let updates = result.items else { throw .malformed(status: 200) }
        var next = offset
        var messages: [IncomingMessage] = []
        for update in updates {
            guard let id = update["update_id"]?.scalarText.flatMap({ Int64($0) }) else { throw .malformed(status: 200) }
            next = max(next, id + 1)
            guard let message = update["message"], let text = message["text"]?.text,
                let chat = message["chat"]?["id"]?.scalarText.flatMap({ Int64($0) }),
                let messageID = message["message_id"]?.scalarText.flatMap({ Int64($0) })
            else { continue }
            messages.append(IncomingMessage(chat: chat, messageID: messageID, text: text))
        }
        return (messages, next)
    }

    /// Sends `text` to `chat`.
    func sendMessage(chat: Int64, text: String) throws(BotAPIError) {
        let request = JSON.obj(["chat_id": .number(String(chat)), "text": .string(text)])
        _ = try self.call("sendMessage", request, timeoutSeconds: 15)
    }

    private func call(_ method: String, _ request: JSON, timeoutSeconds: Int) throws(BotAPIError) -> JSON {
        let answer: HTTPAnswer
        do {
            answer = try self.http.post(self.base + method, body: request.bytes, timeoutSeconds: timeoutSeconds)
        } catch {
            throw .transport(error.reason)
        }
        guard let json = JSON(parsing: answer.body), case .bool(let ok)? = json["ok"] else {
            throw .malformed(status: answer.status)
        }
        if ok, let result = json["result"] { return result }
        if answer.status == 429 || json["error_code"]?.scalarText == "429" {
            let seconds = json["parameters"]?["retry_after"]?.scalarText.flatMap { Int($0) } ?? 1
            throw .tooManyRequests(retryAfter: max(seconds, 1))
        }
        let text = json["description"]?.text ?? ""
        // Telegram's descriptions do not quote the URL, but an echo of the token must never reach a log.
        throw .refused(status: answer.status, description: text.replacing(self.token.reveal, with: "<redacted>"))
    }
}
