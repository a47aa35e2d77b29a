import EventLog
import KIS
import Pipeline
import Synchronization

/// What the feed thread learns besides records, for the engine's status and the housekeeper: reconnects, refusals,
/// how many codes KIS acknowledged.
final class FeedNews: Sendable {
    /// Set by the feed thread after a reconnect re-registered the notices: some may have been missed.
    let noticesMayHaveBeenMissed = Atomic<Bool>(false)
    /// WebSocket sessions open now.
    let connectedSessions = Atomic<Int>(0)
    /// Codes whose trade registration KIS acknowledged, over every session.
    let subscribedCodes = Atomic<Int>(0)
    /// The session's rare events, for the status notes; written by the feed thread, read by the control thread.
    let notes = Mutex<[String]>([])

    func note(_ text: String) {
        self.notes.withLock { notes in
            notes.append(text)
            if notes.count > 5 { notes.removeFirst(notes.count - 5) }
        }
    }
}

/// A feed thread's observer: gap marks into the pipeline (between the last print before a reconnect and the first
/// after it), reconnects and refusals into the notes, and each into the run's log.
struct FeedWatcher: WebSocketObserver {
    var router: FeedRouter
    let news: FeedNews
    let log: LogProducer?
    /// This session's share of `news.subscribedCodes`, which a disconnect takes back (the other sessions' stay).
    private var held = 0
    /// Connections opened so far.
    private var connects = 0
    /// Whether this session is open, as counted in `news.connectedSessions`.
    private var up = false

    init(router: FeedRouter, news: FeedNews, log: LogProducer? = nil) {
        self.router = router
        self.news = news
        self.log = log
    }

    mutating func event(_ event: WebSocketEvent) {
        if event == .connected { self.connects += 1 }
        if case .disconnected = event, self.up {
            self.up = false
            self.news.connectedSessions.subtract(1, ordering: .relaxed)
        }
        if event == .connected, !self.up {
            self.up = true
            self.news.connectedSessions.add(1, ordering: .relaxed)
        }
        self.log?.recordFeed(event, connects: self.connects)
        switch event {
        case .gap(let code):
            self.router.markGap(code)
        case .noticesMayHaveBeenMissed:
            self.news.noticesMayHaveBeenMissed.store(true, ordering: .releasing)
        case .subscribed(let subscription) where subscription.tr == .h0stcnt0 || subscription.tr == .h0uncnt0:
            self.held += 1
            self.news.subscribedCodes.add(1, ordering: .relaxed)
        case .unsubscribed(let subscription) where subscription.tr == .h0stcnt0 || subscription.tr == .h0uncnt0:
            self.held -= 1
            self.news.subscribedCodes.subtract(1, ordering: .relaxed)
        case .disconnected(.stopped):
            break
        case .disconnected(let reason):
            self.news.subscribedCodes.subtract(self.held, ordering: .relaxed)
            self.held = 0
            self.news.note("feed disconnected: \(reason)")
        case .subscribeFailed(let subscription, let error):
            self.news.note("\(subscription): \(error)")
        case .serverError(let code, let message):
            self.news.note("KIS \(code): \(message)")
        case .approvalKeyUnavailable(let error):
            self.news.note("approval key: \(error)")
        default:
            break
        }
    }
}
