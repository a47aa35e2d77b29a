import Engine

/// The commands the bot obeys.
enum Command: String, CaseIterable {
    case status, balance, positions, pnl, orders, pause, resume, stop, help, start
}

/// Answers an allowed chat's messages: each command to its reply, and the two-step /stop. Time is given (monotonic
/// nanoseconds), so the confirmation window is tested without waiting. One caller thread (the poller).
struct CommandDesk<Remote: EngineRemote> {
    static var confirmationWindow: Int64 { 30 * 1_000_000_000 }

    let remote: Remote
    let phrases: Phrasebook
    /// Per chat: when its /stop stops waiting for a yes.
    private var stopAsked: [Int64: Int64] = [:]

    init(remote: Remote, phrases: Phrasebook) {
        self.remote = remote
        self.phrases = phrases
    }

    /// The answer to `message`; `status` is the latest the control loop saw (nil before the first), `dropped` the
    /// messages the bot's queue has dropped.
    mutating func answer(_ message: IncomingMessage, status: EngineStatus?, dropped: Int, now: Int64) -> String {
        let words = message.text.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = words.first else { return self.phrases.unknown(message.text) }
        let argument = words.dropFirst().first.map { $0.lowercased() }
        if !first.hasPrefix("/") {
            // A plain yes (or a reply saying yes) answers a pending /stop; anything else is not a command.
            if self.stopAsked[message.chat] != nil, Self.isYes(first.lowercased()) {
                return self.confirmStop(chat: message.chat, now: now)
            }
            if self.stopAsked[message.chat] != nil, Self.isNo(first.lowercased()) {
                self.stopAsked[message.chat] = nil
                return self.phrases.stopCancelled
            }
            return self.phrases.unknown(message.text)
        }
        // "/status@kistick_bot" in a group names the bot.
        let name = first.dropFirst().split(separator: "@").first.map { $0.lowercased() } ?? ""
        guard let command = Command(rawValue: name) else { return self.phrases.unknown(String(first)) }
        switch command {
        case .help, .start:
            return self.phrases.help
        case .status:
            guard let status else { return self.phrases.notReady }
            return self.phrases.status(status, paused: self.remote.entriesPaused, telegramDropped: dropped)
        case .positions:
            guard let status else { return self.phrases.notReady }
            return self.phrases.positions(status)
        case .pnl:
            guard let status else { return self.phrases.notReady }
            return self.phrases.pnl(status)
        case .balance:
            do {
                return self.phrases.balance(try self.remote.account())
            } catch {
                return self.phrases.queryFailed(error)
            }
        case .orders:
            do {
                return self.phrases.orders(try self.remote.openOrders())
            } catch {
                return self.phrases.queryFailed(error)
            }
        case .pause:
            guard !self.remote.entriesPaused else { return self.phrases.alreadyPaused }
            self.remote.pauseEntries()
            return self.phrases.paused
        case .resume:
            guard self.remote.entriesPaused else { return self.phrases.notPaused }
            self.remote.resumeEntries()
            return self.phrases.resumed
        case .stop:
            if let argument, Self.isYes(argument) { return self.confirmStop(chat: message.chat, now: now) }
            if let argument, Self.isNo(argument) {
                self.stopAsked[message.chat] = nil
                return self.phrases.stopCancelled
            }
            self.stopAsked[message.chat] = now + Self.confirmationWindow
            return self.phrases.stopAsk(seconds: Int(Self.confirmationWindow / 1_000_000_000))
        }
    }

    private mutating func confirmStop(chat: Int64, now: Int64) -> String {
        guard let deadline = self.stopAsked.removeValue(forKey: chat) else { return self.phrases.stopNotAsked }
        guard now <= deadline else { return self.phrases.stopExpired }
        self.remote.armKillSwitch()
        return self.phrases.stopArmed
    }

    private static func isYes(_ word: String) -> Bool { ["yes", "y", "예", "네", "확인"].contains(word) }

    private static func isNo(_ word: String) -> Bool { ["no", "n", "아니오", "아니요", "취소"].contains(word) }
}
