/// How fast messages may go out.
struct SendLimits: Sendable {
    /// Nanoseconds between two messages to one chat.
    var perChatGap: Int64
    /// Messages to one group chat per minute.
    var groupPerMinute: Int
    /// Messages to all chats per second.
    var perSecond: Int

    /// Telegram's (core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): about one message a
    /// second to a chat, at most 20 a minute to a group, about 30 a second in all.
    static let telegram = SendLimits(perChatGap: SendPacer.second, groupPerMinute: 20, perSecond: 30)
}

/// Keeps the sender within `SendLimits`, and after a 429 sends nothing until its `retry_after` has passed. Pure:
/// time is given, nanoseconds on any monotonic scale.
struct SendPacer {
    static let second: Int64 = 1_000_000_000
    let limits: SendLimits

    private var lastToChat: [Int64: Int64] = [:]
    /// Send times to each group chat within the last minute, oldest first.
    private var groupSends: [Int64: [Int64]] = [:]
    /// Send times to any chat within the last second, oldest first.
    private var recent: [Int64] = []
    private var pausedUntil: Int64 = .min

    init(limits: SendLimits = .telegram) {
        self.limits = limits
    }

    /// The earliest time a message to `chat` may go, at or after `now`.
    func earliest(chat: Int64, now: Int64) -> Int64 {
        var at = max(now, self.pausedUntil)
        if let last = self.lastToChat[chat] { at = max(at, last + self.limits.perChatGap) }
        if chat < 0, let sends = self.groupSends[chat], sends.count >= self.limits.groupPerMinute {
            at = max(at, sends[sends.count - self.limits.groupPerMinute] + 60 * Self.second)
        }
        if self.recent.count >= self.limits.perSecond {
            at = max(at, self.recent[self.recent.count - self.limits.perSecond] + Self.second)
        }
        return at
    }

    /// Records a message sent to `chat` at `now`.
    mutating func sent(chat: Int64, at now: Int64) {
        self.lastToChat[chat] = now
        if chat < 0 {
            self.groupSends[chat, default: []].append(now)
            self.groupSends[chat]!.removeAll { $0 + 60 * Self.second <= now }
        }
        self.recent.append(now)
        self.recent.removeAll { $0 + Self.second <= now }
    }

    /// Telegram answered 429: nothing goes before `retryAfter` seconds from `now`.
    mutating func backOff(seconds retryAfter: Int, now: Int64) {
        self.pausedUntil = max(self.pausedUntil, now + Int64(retryAfter) * Self.second)
    }
}
