import EventLog
import KIS
import Logging
import Orders
import Pipeline
import Synchronization
import TickCore

/// A run's way into its log (`EngineSettings.log`): a ring per thread that records (a `LogProducer` takes one
/// producer thread), and a swift-log logger for what the control thread says in words.
///
///     feed threads ── feed, feed2, … ─┐  (one per WebSocket session: connects, drops, gaps)
///     market stage ───── market ────────┤  (risk refusals; `PipelineSettings.log`)
///     dispatcher ─────── orders ────────┤  (each order sent, and KIS's answer)
///     journal thread ─── journal ───────┼──▶ EventLog's writer thread ──▶ the day's JSON-lines file, stderr
///     housekeeper ────── house ─────────┤  (reconciliations)
///     any caller ─lock── control ───────┘  (kill switch, pause, resume: rare, never from a stage)
///
/// Each ring drops and counts what a writer that fell behind leaves no room for
/// (`EngineStatus.Drops.logRecords`); no stage ever waits for the log.
final class EngineLog: Sendable {
    let log: EventLog
    /// One per feed thread, in the order of the engine's sessions.
    let feeds: [LogProducer]
    let market: LogProducer
    let orders: LogProducer
    let journal: LogProducer
    let house: LogProducer
    private let control: Mutex<LogProducer>
    let words: Logger

    init(_ log: EventLog, feedSessions: Int) {
        self.log = log
        self.feeds = (0..<feedSessions).map { log.producer(stage: $0 == 0 ? "feed" : "feed\($0 + 1)") }
        self.market = log.producer(stage: "market", reasons: PipelineSettings.refusalNames)
        self.orders = log.producer(stage: "orders")
        self.journal = log.producer(stage: "journal")
        self.house = log.producer(stage: "house")
        self.control = Mutex(log.producer(stage: "control", capacity: 64))
        self.words = log.logger(label: "kistick.engine")
    }

    /// Records `kind` from whichever thread calls (the control loop, Telegram's, the page's).
    func control(_ kind: LogRecord.Kind, value: Int64 = 0) {
        self.control.withLock { $0.record(kind, value: value) }
    }
}

extension LogProducer {
    /// An order the dispatcher took from the market stage: a new order's decision, or an amendment of one, stamped
    /// with when the strategy decided it.
    func recordSent(_ slot: DispatchSlot) {
        let intent = slot.dispatch.intent
        let isNew = intent.action == .new
        self.record(
            LogRecord(
                isNew ? .orderSent : .amendSent,
                time: slot.decided,
                order: intent.id,
                code: intent.code,
                side: intent.side,
                quantity: intent.quantity,
                price: intent.price,
                message: isNew ? Self.purpose(intent.purpose) : PackedASCII(rawValue: 0),
                value: isNew ? 0 : Int64(intent.target.rawValue)
            )
        )
    }

    /// What became of an order the dispatcher sent, as it reports it to the broker. `afterLoss` is set by a lost
    /// answer, so the acknowledgement that its lookup finds reads as found rather than accepted.
    func recordAnswer(_ slot: OrderEventSlot, code: SymbolCode, afterLoss: inout Bool) {
        switch slot.event {
        case .acknowledged(let id, let number, _):
            self.record(afterLoss ? .orderFound : .orderAccepted, order: id, code: code, number: number)
        case .refused(let id, let message):
            self.record(.orderRefused, order: id, code: code, message: message)
        case .lost(let id):
            afterLoss = true
            self.record(.orderLost, order: id, code: code)
        case .notPlaced(let id):
            self.record(.orderNotPlaced, order: id, code: code)
        case .written, .notice, .reconciled:
            break
        }
    }

    /// What the journal thread learns of an order: its fills, and its end when the end is not the dispatcher's to
    /// tell (a cancel, a rejection by the exchange after KIS numbered it).
    func recordJournaled(_ event: JournalEvent) {
        switch event {
        case .fill(let fill):
            self.record(
                .fill,
                order: fill.id,
                code: fill.code,
                side: fill.side,
                quantity: fill.quantity,
                price: fill.price
            )
        // A late fill after the cancel repeats the state with a fill attached: the fill line tells it.
        case .change(let change, _) where change.state == .cancelled && change.lastFillQuantity == 0:
            guard change.action != .cancel else { break }
            self.record(.orderCancelled, order: change.id, code: change.code, quantity: change.quantity - change.filled)
        // Without an ODNO the refusal was KIS's answer, which the dispatcher logged with its code.
        case .change(let change, _) where change.state == .rejected && change.orderNumber != 0:
            self.record(.orderRejected, order: change.id, code: change.code)
        case .change, .order, .position:
            break
        }
    }

    /// A feed event worth a line: connects, drops, gaps, missed notices and KIS's complaints.
    /// - Parameter connects: connections opened so far, this one included.
    func recordFeed(_ event: WebSocketEvent, connects: Int) {
        switch event {
        case .connected:
            self.record(.connected, value: Int64(connects - 1))
        case .disconnected(.stopped):
            break
        case .disconnected(let reason):
            self.record(.disconnected, message: Self.code(reason))
        case .gap(let code):
            self.record(.gap, code: code)
        case .noticesMayHaveBeenMissed:
            self.record(.noticesMayBeMissed)
        case .subscribeFailed(let subscription, let error):
            let message: PackedASCII =
                switch error {
                case .budgetExceeded: PackedASCII(ascii: "OPSP0008")
                case .invalidKey: PackedASCII(ascii: "BADKEY")
                case .rejected(let code, _): Self.packed(code, else: "REFUSED")
                }
            self.record(.feedError, code: SymbolCode(subscription.key) ?? SymbolCode(rawValue: 0), message: message)
        case .serverError(let code, _):
            self.record(.feedError, message: Self.packed(code, else: "SERVER"))
        case .approvalKeyUnavailable(let error):
            self.record(.feedError, message: Self.code(error))
        case .reconnectScheduled, .subscribed, .unsubscribed:
            break
        }
    }

    /// KIS's `msg_cd` when it answered, else what kind of failure it was.
    static func code(_ error: KISError) -> PackedASCII {
        if case .rejected(let failure) = error { return Self.packed(failure.msgCd, else: "REJECTED") }
        return PackedASCII(ascii: "NOANSWER")
    }

    private static func code(_ reason: DisconnectReason) -> PackedASCII {
        switch reason {
        case .connectFailed: PackedASCII(ascii: "CONNECT")
        case .handshakeFailed: PackedASCII(ascii: "UPGRADE")
        case .closed: PackedASCII(ascii: "CLOSED")
        case .network: PackedASCII(ascii: "NETWORK")
        case .protocolViolation: PackedASCII(ascii: "PROTOCOL")
        case .silence: PackedASCII(ascii: "SILENCE")
        case .approvalKeyRejected: PackedASCII(ascii: "OPSP0011")
        case .appKeyInUse: PackedASCII(ascii: "OPSP8996")
        case .stopped: PackedASCII(ascii: "STOPPED")
        }
    }

    private static func purpose(_ purpose: OrderIntent.Purpose) -> PackedASCII {
        switch purpose {
        case .entry: PackedASCII(ascii: "entry")
        case .exit: PackedASCII(ascii: "exit")
        case .flatten: PackedASCII(ascii: "flatten")
        }
    }

    private static func packed(_ text: String, else fallback: StaticString) -> PackedASCII {
        PackedASCII(text.prefix(8)) ?? PackedASCII(ascii: fallback)
    }
}
