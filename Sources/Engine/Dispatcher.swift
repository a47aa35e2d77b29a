import KIS
import Net
import Orders
import Pipeline
import TickCore

/// Sends orders over a warm `OrderLane`, one at a time, on the thread that owns it, and reports each as order
/// events for the state machine: written, then acknowledged, refused, or lost and what the lookup found.
///
/// An order whose answer is lost is looked up among today's orders, never sent again (`OrderRecovery`).
struct Dispatcher: ~Copyable {
    private var lane: OrderLane
    private let recovery: OrderRecovery
    /// Order numbers this process was given, which a lookup for a lost answer must not mistake for it.
    private var known: Set<String> = []
    /// Wall minus monotonic clock, to put the lane's monotonic send stamps on the pipeline's wall-clock axis.
    private let wallOffset: Int64

    init(client: KISClient) throws(KISError) {
        self.lane = try client.makeOrderLane()
        self.recovery = OrderRecovery(client: client)
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
        do {
            let ack: OrderAck
            switch intent.action {
            case .new:
                ack = try self.lane.place(
                    OrderTicket(
                        side: intent.side, code: intent.code, quantity: Int64(intent.quantity),
                        price: Int64(intent.price)))
            case .modify, .cancel:
                ack = try self.lane.revise(
                    organization: Self.padded(UInt64(dispatch.targetOrganization), digits: 5),
                    orderNumber: Self.padded(dispatch.targetOrderNumber, digits: 10),
                    intent.action == .cancel ? .cancel : .modify(price: Int64(intent.price)),
                    quantity: intent.quantity > 0 ? Int64(intent.quantity) : nil)
            }
            let answered = WallClock().now()
            // KIS took the order (rt_cd 0); an order number or branch that is not a number leaves it as unknown as
            // a lost answer, and the lookup finds what KIS holds.
            guard let number = UInt64(ack.orderNumber), number != 0, let organization = UInt32(ack.organization)
            else {
                let reason = "ODNO \"\(ack.orderNumber)\", KRX_FWDG_ORD_ORGNO \"\(ack.organization)\""
                let lost = KISError.responseLost(trID: "order", cause: .malformedResponse(reason: reason))
                self.failed(lost, dispatch, emit: emit)
                return
            }
            let written = ack.sentAt &+ self.wallOffset
            emit(OrderEventSlot(.written(intent.id, at: written), at: written, decided: slot.decided, written: written))
            self.known.insert(ack.orderNumber)
            emit(
                OrderEventSlot(
                    .acknowledged(intent.id, orderNumber: number, organization: organization), at: answered,
                    written: written))
        } catch {
            self.failed(error, dispatch, emit: emit)
        }
    }

    private mutating func failed(_ error: KISError, _ dispatch: OrderDispatch, emit: (OrderEventSlot) -> Void) {
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
            if dispatch.intent.action == .new { self.recover(dispatch.intent, emit: emit) }
        default:
            // Unreachable, token trouble, malformed before sending: nothing reached KIS's order book.
            emit(OrderEventSlot(.refused(id, messageCode: PackedASCII(ascii: "NOTSENT")), at: now))
        }
    }

    /// Looks a lost order up; a lost modify or cancel is left to the notices and the next reconciliation.
    private mutating func recover(_ intent: OrderIntent, emit: (OrderEventSlot) -> Void) {
        let ticket = OrderTicket(
            side: intent.side, code: intent.code, quantity: Int64(intent.quantity), price: Int64(intent.price))
        let sentAt = KST.time(epochSeconds: WallClock().now() / 1_000_000_000)
        switch try? self.recovery.resolve(ticket, sentAtKST: sentAt, known: self.known) {
        case .placed(let record):
            self.known.insert(record.orderNumber)
            // A row whose numbers do not read leaves the order unknown for the housekeeper's reconciliation.
            guard let row = BrokerOrder(record) else { break }
            let now = WallClock().now()
            emit(
                OrderEventSlot(
                    .acknowledged(intent.id, orderNumber: row.orderNumber, organization: row.organization), at: now))
            emit(OrderEventSlot(.reconciled(row, localTs: now), at: now))
        case .notPlaced:
            emit(OrderEventSlot(.notPlaced(intent.id), at: WallClock().now()))
        case nil:
            // The lookup failed too: the order stays unknown until the housekeeper's reconciliation settles it.
            break
        }
    }

    /// KIS prints order numbers and branch numbers zero-padded.
    static func padded(_ number: UInt64, digits: Int) -> String {
        let text = String(number)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

@available(*, unavailable)
extension Dispatcher: Sendable {}
