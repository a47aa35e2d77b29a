/// Telegram's sending limits (core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): about one
/// message a second to a chat, at most 20 a minute to a group, about 30 a second in all; and after a 429, nothing
/// until its `retry_after` has passed. Pure: time is given, nanoseconds on any monotonic scale.
struct RateLimiter {
    static let second: Int64 = 1_000_000_000
    static let perChatGap = Self.second
    static let groupPerMinute = 20
    static let perSecond = 30

    private var lastToChat: [Int64: Int64] = [:]
    /// Send times to each group chat within the last minute, oldest first.
    private var groupSends: [Int64: [Int64]] = [:]
    /// Send times to any chat within the last second, oldest first.
    private var recent: [Int64] = []
    private var pausedUntil: Int64 = .min

    /// The earliest time a message to `chat` may go, at or after `now`.
    func earliest(chat: Int64, now: Int64) -> Int64 {
        var at = max(now, self.pausedUntil)
        if let last = self.lastToChat[chat] { at = max(at, last + Self.perChatGap) }
        if chat < 0, let sends = self.groupSends[chat], sends.count >= Self.groupPerMinute {
            at = max(at, sends[sends.count - Self.groupPerMinute] + 60 * Self.second)
        }
        if self.recent.count >= Self.perSecond { at = max(at, self.recent[self.recent.count - Self.perSecond] + Self.second) }
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
