import Journal
import KIS
import Orders
import Pipeline
import TickCore

/// Sends orders over a warm `OrderLane`, one at a time, on the thread that owns it, and reports each as order
/// events for the order book: written, then acknowledged, refused, or lost and what the lookup found.
///
/// Each order is journaled as pending while its answer is on its way (`OrderLane.place`'s `whileWaiting`): after
/// the request is out, so the journal's write lock (the journal thread's batches hold it for hundreds of
/// microseconds) never stands between the decision and the wire, and before the answer is read. A crash before
/// that commit leaves an order the journal lacks, which the restart's reconciliation adopts from KIS's daily
/// orders; an order is never sent twice either way. An order whose answer is lost is looked up among today's
/// orders, never sent again (`OrderRecovery`).
struct Dispatcher: ~Copyable {
    private var lane: OrderLane
    private let recovery: OrderRecovery
    private let pending: PendingRecorder
    /// Order numbers this process was given, which a lookup for a lost answer must not mistake for it.
    private var known: Set<UInt64> = []
    /// Wall minus monotonic clock, to put the lane's monotonic send stamps on the pipeline's wall-clock axis.
    private let wallOffset: Int64
    /// Pending rows that could not be written (the order went out regardless; reconciliation adopts it).
    private(set) var pendingFailures = 0

    init(client: KISClient, pending: PendingRecorder) throws(KISError) {
        self.lane = try client.makeOrderLane()
        self.recovery = OrderRecovery(client: client)
        self.pending = pending
        self.wallOffset = WallClock().now() - MonotonicClock().now()
    }

    /// Reopens a connection KIS closed while idle and keeps the order path in cache; call between orders.
    mutating func idle() {
        try? self.lane.keepWarm()
    }

    /// Sends one order and reports what became of it, in order, to `emit`. Blocks for the round trip, and for the
    /// lookup after a lost answer.
    mutating func send(_ slot: DispatchSlot, emit: (OrderEventSlot) -> Void) {
        let dispatch = slot.dispatch
        let intent = dispatch.intent
        // KIS stamps the order when it takes it, so a lookup after a lost answer looks from here, not from when the
        // answer was given up on (a timeout later), and by the market's clock, which KIS stamps by.
        let stamp = slot.marketTime != 0 ? slot.marketTime : WallClock().now()
        let sentAt = KST.time(epochSeconds: stamp / 1_000_000_000)
        let pending = self.pending
        var journalFailed = false
        func journal() {
            do {
                try pending.recordPending(intent, at: WallClock().now())
            } catch {
                journalFailed = true
            }
        }
        do {
            let ack: OrderAck
            switch intent.action {
            case .new:
                ack = try self.lane.place(
                    OrderTicket(
                        side: intent.side,
                        code: intent.code,
                        quantity: Int64(intent.quantity),
                        price: Int64(intent.price),
                        route: intent.route
                    ),
                    whileWaiting: journal
                )
            case .modify, .cancel:
                ack = try self.lane.revise(
                    organization: dispatch.targetOrganization,
                    orderNumber: dispatch.targetOrderNumber,
                    intent.action == .cancel ? .cancel : .modify(price: Int64(intent.price)),
                    quantity: intent.quantity > 0 ? Int64(intent.quantity) : nil,
                    route: intent.route,
                    whileWaiting: journal
                )
            }
            let answered = WallClock().now()
            let written = ack.sentAt &+ self.wallOffset
            emit(OrderEventSlot(.written(intent.id, at: written), at: written, decided: slot.decided, written: written))
            self.known.insert(ack.orderNumber)
            emit(
                OrderEventSlot(
                    .acknowledged(intent.id, orderNumber: ack.orderNumber, organization: ack.organization),
                    at: answered,
                    written: written
                )
            )
        } catch {
            self.failed(error, dispatch, sentAt: sentAt, emit: emit)
        }
        if journalFailed { self.pendingFailures += 1 }
    }

    private mutating func failed(
        _ error: KISError,
        _ dispatch: OrderDispatch,
        sentAt: UInt32,
        emit: (OrderEventSlot) -> Void
    ) {
        let id = dispatch.intent.id
        let now = WallClock().now()
        switch error {
        case .rejected(let failure):
            emit(OrderEventSlot(.written(id, at: now), at: now))
            let code = PackedASCII(String(failure.msgCd.prefix(8))) ?? PackedASCII(ascii: "REJECTED")
            emit(OrderEventSlot(.refused(id, messageCode: code), at: now))
        case .responseLost:
            emit(OrderEventSlot(.written(id, at: now), at: now))
            emit(OrderEventSlot(.lost(id), at: now))
            if dispatch.intent.action == .new { self.recover(dispatch.intent, sentAt: sentAt, emit: emit) }
        default:
            // Unreachable, token trouble, malformed before sending: nothing reached KIS's order book.
            emit(OrderEventSlot(.refused(id, messageCode: PackedASCII(ascii: "NOTSENT")), at: now))
        }
    }

    /// Looks a lost order up; a lost modify or cancel is left to the notices and the next reconciliation.
    private mutating func recover(_ intent: OrderIntent, sentAt: UInt32, emit: (OrderEventSlot) -> Void) {
        let ticket = OrderTicket(
            side: intent.side,
            code: intent.code,
            quantity: Int64(intent.quantity),
            price: Int64(intent.price),
            route: intent.route
        )
        switch try? self.recovery.resolve(ticket, sentAtKST: sentAt, known: self.known) {
        case .placed(let record):
            // A row whose numbers do not read leaves the order unknown for the housekeeper's reconciliation.
            guard let row = BrokerOrder(record) else { break }
            self.known.insert(row.orderNumber)
            let now = WallClock().now()
            emit(
                OrderEventSlot(
                    .acknowledged(intent.id, orderNumber: row.orderNumber, organization: row.organization),
                    at: now
                )
            )
            emit(OrderEventSlot(.reconciled(row, localTs: now), at: now))
        case .notPlaced:
            emit(OrderEventSlot(.notPlaced(intent.id), at: WallClock().now()))
        case nil:
            // The lookup failed too: the order stays unknown until the housekeeper's reconciliation settles it.
            break
        }
    }
}

@available(*, unavailable)
extension Dispatcher: Sendable {}
