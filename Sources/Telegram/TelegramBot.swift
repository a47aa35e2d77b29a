public import Engine
import KIS
public import Ring
import Synchronization
import TickCore

/// What the bot has done, for the status display and the tests.
public struct TelegramCounters: Sendable, Equatable {
    /// Messages Telegram accepted.
    public var sent = 0
    /// Messages dropped because the queue was full (Telegram slow or down for long).
    public var dropped = 0
    /// Messages given up after failed attempts or refused by Telegram.
    public var failed = 0
    /// 429 answers, each honoured by waiting its `retry_after`.
    public var throttled = 0
    /// Messages from chats not in `telegram_chat_ids`, ignored.
    public var ignored = 0
    /// Commands answered.
    public var commands = 0
}

/// The operator's Telegram chat: notifications of what the engine does, and commands to it.
///
/// ```
///  control loop ── observe(status, fills) ──▶ StatusWatch ──▶ Outbox (bounded) ──▶ sender thread ──▶ sendMessage
///  poller thread ◀── getUpdates (long poll) ── allowed chats only ──▶ CommandDesk ──▶ EngineRemote, Outbox
/// ```
/// No engine thread ever calls into the bot: the control loop hands it the status it already reads once a second
/// and the fills the engine's journal thread passed on (`Engine.takeFills`). `observe` takes a lock held only for
/// a queue append and never waits on the network; when Telegram is slow or down the queue fills and further
/// messages are dropped and counted.
public final class TelegramBot<Remote: EngineRemote>: Sendable {
    private let settings: TelegramSettings
    private let limits: SendLimits
    private let remote: Remote
    private let phrases: Phrasebook
    private let log: @Sendable (String) -> Void
    private let clock = MonotonicClock()
    private let outbox = Outbox(capacity: 256)
    private let watch: Mutex<StatusWatch>
    private let latest = Mutex<EngineStatus?>(nil)
    private let threads = Mutex<[StageThread]>([])
    private let pollerStop = StopFlag()
    private let senderStop = StopFlag()
    private let sentCount = Atomic<Int>(0)
    private let failedCount = Atomic<Int>(0)
    private let throttledCount = Atomic<Int>(0)
    private let ignoredCount = Atomic<Int>(0)
    private let commandCount = Atomic<Int>(0)

    /// Telegram's limit on one message's length, in UTF-16 code units (an emoji takes two).
    static var maxText: Int { 4_096 }

    /// - Parameters:
    ///   - settings: the token, the allowed chats, the language, the API's URL.
    ///   - remote: what commands act on.
    ///   - dailyLossLimit: the run's `RiskLimits.dailyLossLimit`, KRW, to tell when it is reached.
    ///   - log: where the bot writes what it ignored or failed to do (one line each; never the token).
    public convenience init(
        settings: TelegramSettings,
        remote: Remote,
        dailyLossLimit: Int64,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.init(settings: settings, remote: remote, dailyLossLimit: dailyLossLimit, limits: .telegram, log: log)
    }

    /// The same with other sending limits (tests that send many messages to one chat).
    init(
        settings: TelegramSettings,
        remote: Remote,
        dailyLossLimit: Int64,
        limits: SendLimits,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.limits = limits
        self.settings = settings
        self.remote = remote
        self.phrases = Phrasebook(language: settings.language)
        self.watch = Mutex(StatusWatch(dailyLossLimit: dailyLossLimit))
        self.log = log
    }

    /// Starts the poller and the sender, and tells the chats the engine started trading `codes`.
    public func start(codes: [String]) throws(StageThreadError) {
        try self.threads.withLock { threads throws(StageThreadError) in
            threads.append(try StageThread(name: "ks-tg-poll") { self.poll() })
            do throws(StageThreadError) {
                threads.append(try StageThread(name: "ks-tg-send") { self.send() })
            } catch {
                self.pollerStop.set()
                threads.removeFirst().join()
                throw error
            }
        }
        self.broadcast(.started(codes: codes))
    }

    /// The control loop's news: the status it just read, and the fills taken from the engine since the last call.
    /// Never waits on Telegram.
    public func observe(_ status: EngineStatus, fills: [FillReport] = []) {
        let found = self.watch.withLock { $0.observe(status) }
        self.latest.withLock { $0 = status }
        if !fills.isEmpty { self.broadcast(.fills(fills)) }
        for notification in found { self.broadcast(notification) }
    }

    /// Tells the chats the run ended with `final`'s figures (the report's status), waits up to `flushSeconds` for
    /// the queue to empty, then stops both threads.
    public func stop(final status: EngineStatus?, flushSeconds: Double = 5) {
        if let status { self.broadcast(.stopped(DaySummary(status))) }
        self.pollerStop.set()
        let deadline = self.clock.now() + Int64(flushSeconds * 1e9)
        while self.outbox.count > 0, self.clock.now() < deadline { self.clock.sleep(nanoseconds: 20_000_000) }
        self.senderStop.set()
        for thread in self.threads.withLock({ $0 }) { thread.join() }
    }

    public var counters: TelegramCounters {
        TelegramCounters(
            sent: self.sentCount.load(ordering: .relaxed),
            dropped: self.outbox.dropped,
            failed: self.failedCount.load(ordering: .relaxed),
            throttled: self.throttledCount.load(ordering: .relaxed),
            ignored: self.ignoredCount.load(ordering: .relaxed),
            commands: self.commandCount.load(ordering: .relaxed)
        )
    }

    private func broadcast(_ notification: Notification) {
        let text = Self.fit(self.phrases.text(notification))
        for chat in self.settings.chats { self.outbox.push(chat: chat, text: text) }
    }

    /// `text` cut to Telegram's limit at a line end.
    static func fit(_ text: String) -> String {
        guard text.utf16.count > Self.maxText else { return text }
        var kept = ""
        var length = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            // The line, its line break, and room for the closing "\n…".
            guard length + line.utf16.count + 3 <= Self.maxText else { break }
            kept += (kept.isEmpty ? "" : "\n") + line
            length += line.utf16.count + 1
        }
        return kept + "\n…"
    }

    // MARK: Threads

    /// The poller thread: long polls for messages and answers the allowed chats'.
    private func poll() {
        guard let http = BotHTTP(stop: self.pollerStop) else {
            self.log("telegram: libcurl could not make a handle; no commands will be read")
            return
        }
        let api = BotAPI(http: http, apiURL: self.settings.apiURL, token: self.settings.token)
        var desk = CommandDesk(remote: self.remote, phrases: self.phrases)
        // Nil until the backlog is skipped: a command sent while no engine ran is stale, and a stale /stop yes must
        // not flatten today's run.
        var offset: Int64?
        var failures = 0
        while !self.pollerStop.isSet {
            do {
                guard let current = offset else {
                    let skipped = try api.getUpdates(offset: -1, timeout: 0)
                    offset = max(skipped.next, 0)
                    continue
                }
                let (messages, next) = try api.getUpdates(offset: current, timeout: self.settings.pollSeconds)
                offset = next
                failures = 0
                for message in messages { self.handle(message, desk: &desk) }
            } catch {
                if self.pollerStop.isSet { break }
                failures += 1
                if failures == 1 { self.log("telegram: \(error); polling again") }
                let seconds: Int
                if case .tooManyRequests(let retryAfter) = error {
                    seconds = retryAfter
                } else {
                    seconds = min(1 << min(failures - 1, 5), 30)
                }
                self.sleep(seconds: seconds, unless: self.pollerStop)
            }
        }
    }

    private func handle(_ message: IncomingMessage, desk: inout CommandDesk<Remote>) {
        guard self.settings.chats.contains(message.chat) else {
            self.ignoredCount.add(1, ordering: .relaxed)
            self.log("telegram: ignored a message from chat \(message.chat), which is not in telegram_chat_ids")
            return
        }
        self.commandCount.add(1, ordering: .relaxed)
        let status = self.latest.withLock { $0 }
        let reply = desk.answer(message, status: status, dropped: self.outbox.dropped, now: self.clock.now())
        self.outbox.push(chat: message.chat, text: Self.fit(reply))
    }

    /// The sender thread: the queue's messages, oldest first, as fast as Telegram's limits allow.
    private func send() {
        guard let http = BotHTTP(stop: self.senderStop) else {
            self.log("telegram: libcurl could not make a handle; nothing will be sent")
            return
        }
        let api = BotAPI(http: http, apiURL: self.settings.apiURL, token: self.settings.token)
        var pacer = SendPacer(limits: self.limits)
        var failing = false
        while !self.senderStop.isSet {
            guard let message = self.outbox.peek() else {
                self.clock.sleep(nanoseconds: 10_000_000)
                continue
            }
            let now = self.clock.now()
            let at = pacer.earliest(chat: message.chat, now: now)
            if at > now {
                self.clock.sleep(nanoseconds: min(at - now, 50_000_000))
                continue
            }
            do {
                try api.sendMessage(chat: message.chat, text: message.text)
                pacer.sent(chat: message.chat, at: self.clock.now())
                self.outbox.removeFirst()
                self.sentCount.add(1, ordering: .relaxed)
                failing = false
            } catch .tooManyRequests(let retryAfter) {
                self.throttledCount.add(1, ordering: .relaxed)
                pacer.backOff(seconds: retryAfter, now: self.clock.now())
            } catch .refused(let status, let description) {
                self.outbox.removeFirst()
                self.failedCount.add(1, ordering: .relaxed)
                self.log("telegram: a message to chat \(message.chat) was refused (\(status)): \(description)")
            } catch {
                if self.senderStop.isSet { break }
                if !failing { self.log("telegram: \(error); messages wait, and are dropped if it lasts") }
                failing = true
                if !self.outbox.failedFirst() { self.failedCount.add(1, ordering: .relaxed) }
                pacer.backOff(seconds: 1, now: self.clock.now())
            }
        }
    }

    /// Sleeps `seconds`, waking early once `flag` is set.
    private func sleep(seconds: Int, unless flag: StopFlag) {
        let deadline = self.clock.now() + Int64(seconds) * 1_000_000_000
        while !flag.isSet, self.clock.now() < deadline { self.clock.sleep(nanoseconds: 50_000_000) }
    }
}
