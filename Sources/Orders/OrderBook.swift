public import TickCore

/// The engine's orders: a state machine per order, fed the dispatcher's answers, KIS's notices and KIS's daily
/// orders, in whatever order they come.
///
/// Every intent (new, modify, cancel) has its own slot and, once KIS accepts it, its own ODNO. A modify or cancel
/// takes effect on its target when KIS accepts it: the target's remainder moves to the modify, or ends.
/// Quantities balance in every slot:
///
/// ```
/// quantity = filled + released + remaining
///            │        │          └ still working at KIS
///            │        └ moved to a modify, ended by a cancel or a rejection
///            └ executed (never past quantity: an overfill is refused)
/// ```
///
/// A fill that raced a cancel or modify (executed before KIS moved the remainder) is still applied: it takes its
/// shares back from `released` and from the amendment that got them.
///
/// A fill notice identical to one already applied is held outside the balance (`doubtful`), counted nowhere, until
/// KIS's daily orders say how much the order filled: then as many held fills as KIS counts are applied, each at its
/// own price and time, and the rest dropped as notices delivered twice. Positions therefore never count a fill
/// twice, and count a genuine one as soon as KIS confirms it.
///
/// ```
/// held = doubtful fills ≤ quantity − filled     (each waiting for KIS's count; not in the balance above)
/// ```
///
/// Tables are preallocated; no event allocates. Terminal orders stay (so late notices still find them) until
/// their slot is needed again, oldest first.
///
/// Thread-confined: one thread (the engine's) owns the book.
public struct OrderBook {
    private var slots: [Slot]
    /// Slots of the orders not yet terminal, in no order (a slot knows its place, `openIndex`): what risk, the
    /// kill switch and the status read, without a scan of every slot.
    private var open: [Int32]
    private var ids: IndexTable
    private var numbers: IndexTable
    /// Never-used slots, taken from the end.
    private var free: [Int]
    /// Slots that went terminal, oldest first: a ring of `slots.count`.
    private var retired: [Int]
    private var retiredHead = 0
    private var retiredCount = 0
    /// Notices for ODNOs no order has yet, in arrival order.
    private var held: [Notice]
    private var heldCount = 0
    /// Orders in `new`, `sent` or `unknown`: while none is, an unknown ODNO cannot be ours.
    private var awaiting = 0
    /// Orders flagged for reconciliation.
    public private(set) var needsReconciliationCount = 0
    /// Orders holding doubtful fills, which only KIS's count of their fills settles.
    public private(set) var doubtfulCount = 0
    /// The account (8 + 2 digits) whose notices are ours; 0 takes every account's.
    public let account: UInt64

    /// - Parameters:
    ///   - capacity: orders held at once, terminal ones included until their slots are reused.
    ///   - heldNotices: notices kept while their REST ack is on the way.
    ///   - account: H0STCNI0 carries every account of the HTS id; notices of others are foreign.
    public init(capacity: Int, heldNotices: Int = 64, account: UInt64 = 0) {
        precondition(capacity > 0 && capacity <= 1 << 20, "OrderBook capacity \(capacity) is out of 1...1M")
        precondition(heldNotices > 0, "OrderBook needs room for at least one held notice")
        self.slots = Array(repeating: Slot(), count: capacity)
        self.open = []
        self.open.reserveCapacity(capacity)
        self.ids = IndexTable(capacity: capacity)
        self.numbers = IndexTable(capacity: capacity)
        self.free = (0..<capacity).reversed()
        self.retired = Array(repeating: -1, count: capacity)
        self.held = Array(repeating: Notice(), count: heldNotices)
        self.account = account
    }

    // MARK: - Intents

    /// Takes a new order, modify or cancel before it is sent, and says what the dispatcher needs to send it.
    ///
    /// Call before the intent goes to the dispatcher: the book then knows the order before any answer or notice.
    /// - Throws: `.full`, `.duplicateID`, `.invalidIntent`, and for a modify or cancel `.unknownOrder`,
    ///   `.targetNotWorking` (no ODNO yet, or terminal) or `.targetBusy` (another amendment in flight).
    /// - Complexity: O(1); no allocation.
    public mutating func submit<S: OrderSink>(
        _ intent: OrderIntent,
        into sink: inout S
    ) throws(OrderRefusal) -> OrderDispatch {
        guard intent.quantity >= 0, intent.price >= 0, intent.action != .new || intent.quantity > 0 else {
            throw .invalidIntent
        }
        guard self.ids.find(Self.key(intent.id)) == nil else { throw .duplicateID }
        var dispatch = OrderDispatch(intent: intent, targetOrderNumber: 0, targetOrganization: 0)
        var target = -1
        if intent.action != .new {
            guard let t = self.ids.find(Self.key(intent.target)) else { throw .unknownOrder }
            guard self.slots[t].state.isWorking else { throw .targetNotWorking }
            guard !self.slots[t].amendmentInFlight else { throw .targetBusy }
            target = t
            dispatch.targetOrderNumber = self.slots[t].orderNumber
            dispatch.targetOrganization = self.slots[t].organization
            // KIS finds the order on the venue it went to; an amendment cannot move it.
            dispatch.intent.route = self.slots[t].route
        }
        let s = try self.takeSlot()
        self.slots[s] = Slot(dispatch.intent, targetSlot: target)
        self.enlist(s)
        _ = self.ids.insert(Self.key(intent.id), s)
        self.awaiting += 1
        if target >= 0 {
            self.slots[target].amendmentInFlight = true
            self.slots[target].amendmentSlot = s
            self.slots[target].amendmentID = intent.id
        }
        sink.orderChanged(self.change(s))
        self.checkInvariants()
        return dispatch
    }

    // MARK: - Events

    /// Applies one event; changes and fills go to `sink`.
    /// - Complexity: O(1), except a REST ack, which also scans the held notices (O(held)); no allocation.
    public mutating func apply<S: OrderSink>(_ event: OrderEvent, into sink: inout S) -> EventOutcome {
        let outcome: EventOutcome
        switch event {
        case .written(let id, _):
            outcome = self.withOrder(id) { book, s in book.written(s, into: &sink) }
        case .acknowledged(let id, let number, let organization):
            outcome = self.withOrder(id) { book, s in
                book.acknowledge(s, number: number, organization: organization, into: &sink)
            }
        case .refused(let id, _):
            outcome = self.withOrder(id) { book, s in book.end(s, as: .rejected, into: &sink) }
        case .lost(let id):
            outcome = self.withOrder(id) { book, s in book.lose(s, into: &sink) }
        case .notPlaced(let id):
            outcome = self.withOrder(id) { book, s in book.end(s, as: .notPlaced, into: &sink) }
        case .notice(let notice):
            outcome = self.receive(notice, into: &sink)
        case .reconciled(let record, let localTs):
            outcome = self.reconcile(record, localTs: localTs, into: &sink)
        }
        // With no order awaiting a number, no held notice can become ours.
        if self.awaiting == 0 { self.heldCount = 0 }
        self.checkInvariants()
        return outcome
    }

    /// Every slot balances (`quantity = filled + released + remaining`, none negative) and the counters agree
    /// with the slots. O(capacity), so only when `InternalChecks.enabled`.
    private func checkInvariants() {
        #if DEBUG || TICK_INTERNAL_CHECKS
        guard InternalChecks.enabled else { return }
        var awaiting = 0
        var flagged = 0
        var open = 0
        var doubtful = 0
        for (s, order) in self.slots.enumerated() where order.occupied {
            precondition(order.filled >= 0 && order.released >= 0 && order.remaining >= 0, "\(order.id) unbalanced")
            precondition(order.filled <= order.quantity, "\(order.id) filled past its quantity")
            precondition(!order.state.isTerminal || order.remaining == 0, "\(order.id) terminal with shares working")
            precondition(order.doubts.quantity <= order.quantity - order.filled, "\(order.id) holds past its quantity")
            if order.state.awaitsNumber { awaiting += 1 }
            if order.needsReconciliation { flagged += 1 }
            if order.doubts.count > 0 { doubtful += 1 }
            if !order.state.isTerminal {
                open += 1
                precondition(
                    order.openIndex >= 0 && self.open[Int(order.openIndex)] == s,
                    "\(order.id) not listed open"
                )
            }
        }
        precondition(
            awaiting == self.awaiting && flagged == self.needsReconciliationCount && doubtful == self.doubtfulCount,
            "book counters drifted"
        )
        precondition(open == self.open.count, "the open list holds terminal or free slots")
        #endif
    }

    private mutating func withOrder(_ id: OrderID, _ body: (inout OrderBook, Int) -> EventOutcome) -> EventOutcome {
        guard let s = self.ids.find(Self.key(id)) else { return .refused(.unknownOrder) }
        return body(&self, s)
    }

    private mutating func written<S: OrderSink>(_ s: Int, into sink: inout S) -> EventOutcome {
        guard self.slots[s].state == .new else { return .unchanged }
        self.transition(s, to: .sent)
        sink.orderChanged(self.change(s))
        return .applied
    }

    private mutating func lose<S: OrderSink>(_ s: Int, into sink: inout S) -> EventOutcome {
        guard self.slots[s].state == .new || self.slots[s].state == .sent else { return .unchanged }
        self.transition(s, to: .unknown)
        self.flag(s)
        sink.orderChanged(self.change(s))
        return .applied
    }

    /// Ends an order that KIS does not have (refused by REST, or never placed): nothing of it works.
    private mutating func end<S: OrderSink>(_ s: Int, as state: OrderState, into sink: inout S) -> EventOutcome {
        guard self.slots[s].state.awaitsNumber else { return .unchanged }
        self.slots[s].released = self.slots[s].quantity - self.slots[s].filled
        self.transition(s, to: state)
        self.unflag(s)
        // A refused cancel or modify usually means its target is done already and a notice of that was missed or
        // taken for a duplicate: only KIS's daily orders can say what the target is.
        if state == .rejected, self.slots[s].action != .new, let t = self.target(of: s) { self.flag(t) }
        self.releaseTarget(of: s)
        sink.orderChanged(self.change(s))
        return .applied
    }

    private mutating func acknowledge<S: OrderSink>(
        _ s: Int,
        number: UInt64,
        organization: UInt32,
        into sink: inout S
    ) -> EventOutcome {
        guard number != 0 else { return .refused(.conflictingNumber) }
        let known = self.slots[s].orderNumber
        if known != 0 {
            if known == number { return .unchanged }
            self.flag(s)
            return .refused(.conflictingNumber)
        }
        if let other = self.numbers.find(number), other != s {
            self.flag(s)
            return .refused(.conflictingNumber)
        }
        guard self.slots[s].state.awaitsNumber || self.slots[s].state == .notPlaced else { return .unchanged }
        self.number(s, number, organization: organization)
        self.unflag(s)
        if self.slots[s].action == .new {
            self.slots[s].released = 0
            self.transition(s, to: .accepted)
            sink.orderChanged(self.change(s))
        } else {
            self.takeEffect(s, into: &sink)
        }
        self.replayHeld(number, into: &sink)
        return .applied
    }

    /// Applies, in arrival order, the notices that came before the REST ack naming `number`.
    private mutating func replayHeld<S: OrderSink>(_ number: UInt64, into sink: inout S) {
        guard let s = self.numbers.find(number) else { return }
        var kept = 0
        for i in 0..<self.heldCount {
            let notice = self.held[i]
            if notice.orderNumber == number {
                _ = self.applyNotice(notice, to: s, into: &sink)
            } else {
                self.held[kept] = notice
                kept += 1
            }
        }
        self.heldCount = kept
    }

    // MARK: - Notices

    private mutating func receive<S: OrderSink>(_ notice: Notice, into sink: inout S) -> EventOutcome {
        if self.account != 0 && notice.account != 0 && notice.account != self.account { return .foreign }
        guard notice.orderNumber != 0 else { return .foreign }
        if let s = self.numbers.find(notice.orderNumber) { return self.applyNotice(notice, to: s, into: &sink) }
        guard self.awaiting > 0 else { return .foreign }
        guard self.heldCount < self.held.count else {
            // The dropped notice may be any awaiting order's: all of them need KIS's word.
            for s in self.slots.indices where self.slots[s].occupied && self.slots[s].state.awaitsNumber {
                self.flag(s)
            }
            return .refused(.heldNoticesFull)
        }
        self.held[self.heldCount] = notice
        self.heldCount += 1
        return .held
    }

    private mutating func applyNotice<S: OrderSink>(_ notice: Notice, to s: Int, into sink: inout S) -> EventOutcome {
        if notice.isFill {
            guard notice.quantity > 0, notice.price >= 0 else { return .refused(.invalidEvent) }
            let mark = FillMark(quantity: notice.quantity, price: notice.price, time: notice.exchangeTime)
            if self.slots[s].marks.contains(mark) {
                return self.doubt(s, notice, into: &sink)
            }
            let outcome = self.fill(
                s,
                quantity: notice.quantity,
                price: notice.price,
                exchangeTime: notice.exchangeTime,
                localTs: notice.localTs,
                venue: notice.venue,
                into: &sink
            )
            if outcome == .applied { self.slots[s].marks.record(mark) }
            return outcome
        }
        if notice.rejected { return self.rejectAccepted(s, into: &sink) }
        if self.slots[s].action != .new {
            guard !self.slots[s].amendmentApplied, self.slots[s].state != .rejected else { return .unchanged }
            self.takeEffect(s, into: &sink)
            return .applied
        }
        // ACPT_YN 3: KIS ended the unfilled rest of an IOC/FOK order.
        if notice.acceptCode == 3 && self.slots[s].state.isWorking {
            self.slots[s].released += self.slots[s].remaining
            self.transition(s, to: .cancelled)
            sink.orderChanged(self.change(s))
            return .applied
        }
        return .unchanged
    }

    /// Holds a fill notice identical to one applied: a second fill or the same notice twice, which KIS's count of the
    /// order's fills will tell. One that cannot be a further fill (the order has no room for it) is a repeat.
    private mutating func doubt<S: OrderSink>(_ s: Int, _ notice: Notice, into sink: inout S) -> EventOutcome {
        guard notice.quantity <= self.slots[s].quantity - self.slots[s].filled - self.slots[s].doubts.quantity else {
            return .unchanged
        }
        let held = HeldFill(
            quantity: notice.quantity,
            price: notice.price,
            time: notice.exchangeTime,
            localTs: notice.localTs
        )
        if self.slots[s].doubts.count == 0 { self.doubtfulCount += 1 }
        if !self.slots[s].doubts.hold(held) {
            // More doubts than there is room to keep: the daily orders still count them, as one averaged fill.
            self.flag(s)
        }
        sink.orderChanged(self.change(s))
        return .doubtful
    }

    /// Drops the fills held in doubt that no longer fit in what the order has left to fill: once a different fill
    /// took their room they can only have been notices delivered twice (without this, a duplicate held before the
    /// order's last fill would count as shares it can never get).
    private mutating func trimDoubts(_ s: Int) {
        let room = self.slots[s].quantity - self.slots[s].filled
        let doubts = self.slots[s].doubts
        guard doubts.quantity > room else { return }
        var kept = HeldFills()
        for i in 0..<doubts.count where kept.quantity + doubts[i].quantity <= room { _ = kept.hold(doubts[i]) }
        if kept.count == 0 {
            self.clearDoubts(s)
        } else {
            self.slots[s].doubts = kept
        }
    }

    /// Drops what an order holds in doubt, once KIS's count has settled it.
    private mutating func clearDoubts(_ s: Int) {
        guard self.slots[s].doubts.count > 0 else { return }
        self.slots[s].doubts = HeldFills()
        self.doubtfulCount -= 1
    }

    /// A rejection notice for an order KIS had numbered: an order the exchange refused, or an amendment that
    /// did not go through (its effect is undone).
    private mutating func rejectAccepted<S: OrderSink>(_ s: Int, into sink: inout S) -> EventOutcome {
        guard self.slots[s].state != .rejected else { return .unchanged }
        if self.slots[s].action != .new && self.slots[s].amendmentApplied {
            guard self.slots[s].filled == 0, let t = self.target(of: s) else {
                self.flag(s)
                return .refused(.conflictingNumber)
            }
            let moved = self.slots[s].action == .modify ? self.slots[s].quantity : self.slots[s].released
            self.slots[t].released -= moved
            self.slots[s].amendmentApplied = false
            self.transition(t, to: self.slots[t].filled > 0 ? .partiallyFilled : .accepted)
            self.settle(t)
            sink.orderChanged(self.change(t))
        }
        self.slots[s].released = self.slots[s].quantity - self.slots[s].filled
        self.transition(s, to: .rejected)
        self.releaseTarget(of: s)
        sink.orderChanged(self.change(s))
        return .applied
    }

    // MARK: - Fills and amendments

    /// Applies a fill of `quantity` at `price`, bounded by the order's quantity.
    private mutating func fill<S: OrderSink>(
        _ s: Int,
        quantity: Int32,
        price: Int32,
        exchangeTime: UInt32,
        localTs: Int64,
        venue: Venue? = nil,
        into sink: inout S
    ) -> EventOutcome {
        assert(quantity > 0 && price >= 0, "fills are checked where they come in")
        guard self.slots[s].filled + quantity <= self.slots[s].quantity else {
            self.flag(s)
            sink.orderChanged(self.change(s))
            return .refused(.overfill)
        }
        self.slots[s].filled += quantity
        self.slots[s].fillValue += Int64(quantity) * Int64(price)
        let excess = -self.slots[s].remaining
        if excess > 0 {
            // Executed before KIS moved or ended the remainder: the shares come back from the amendment.
            self.slots[s].released -= excess
            self.reclaim(excess, from: s, into: &sink)
        }
        self.settle(s)
        self.trimDoubts(s)
        let order = self.slots[s]
        sink.filled(
            Fill(
                id: order.id,
                code: order.code,
                side: order.side,
                quantity: quantity,
                price: price,
                orderNumber: order.orderNumber,
                exchangeTime: exchangeTime,
                localTs: localTs,
                venue: venue ?? order.route.venue
            )
        )
        var change = self.change(s)
        change.lastFillQuantity = quantity
        change.lastFillPrice = price
        sink.orderChanged(change)
        return .applied
    }

    /// Takes `shares` back from the accepted amendment of `s` after a fill that raced it.
    private mutating func reclaim<S: OrderSink>(_ shares: Int32, from s: Int, into sink: inout S) {
        guard let a = self.amendment(of: s), self.slots[a].amendmentApplied else {
            self.flag(s)
            return
        }
        self.slots[a].quantity -= shares
        if self.slots[a].action == .cancel {
            self.slots[a].released -= shares
        } else if self.slots[a].remaining < 0 {
            // The modify was filled on shares the original had already executed: KIS's records decide.
            self.slots[a].quantity += shares
            self.flag(a)
            self.flag(s)
            return
        } else if self.slots[a].quantity == 0 {
            self.transition(a, to: .rejected)
        } else {
            self.settle(a)
        }
        sink.orderChanged(self.change(a))
    }

    /// The modify or cancel `a` takes effect: its target's remainder (or the part it names) moves to it, or ends.
    private mutating func takeEffect<S: OrderSink>(_ a: Int, into sink: inout S) {
        guard !self.slots[a].amendmentApplied else { return }
        guard let t = self.target(of: a) else {
            self.flag(a)
            return
        }
        let remaining = self.slots[t].remaining
        let asked = self.slots[a].quantity
        let moved = asked > 0 ? min(asked, remaining) : remaining
        let isModify = self.slots[a].action == .modify
        self.slots[t].released += moved
        self.slots[t].amendmentInFlight = false
        self.slots[a].amendmentApplied = true
        self.slots[a].quantity = moved
        // A cancel's quantity is what it ended; a modify's is what it now works.
        self.slots[a].released = isModify ? 0 : moved
        if moved == 0 {
            self.slots[a].released = 0
            self.transition(a, to: .rejected)
        } else {
            self.transition(a, to: isModify ? .accepted : .cancelled)
        }
        if self.slots[t].remaining == 0 && self.slots[t].filled < self.slots[t].quantity {
            self.transition(t, to: isModify ? .replaced : .cancelled)
        }
        sink.orderChanged(self.change(t))
        sink.orderChanged(self.change(a))
    }

    /// Moves a working (or raced-terminal) order to filled or partially filled after its quantities changed.
    private mutating func settle(_ s: Int) {
        let order = self.slots[s]
        if order.filled == order.quantity && order.released == 0 && order.quantity > 0 {
            self.transition(s, to: .filled)
        } else if order.state == .accepted && order.filled > 0 {
            self.transition(s, to: .partiallyFilled)
        }
    }

    // MARK: - Reconciliation

    /// KIS's daily orders are the authority: fills the notices missed are applied, a lost order is found, the
    /// remainder is KIS's.
    private mutating func reconcile<S: OrderSink>(
        _ record: BrokerOrder,
        localTs: Int64,
        into sink: inout S
    ) -> EventOutcome {
        guard record.orderNumber != 0 else { return .foreign }
        guard record.filled >= 0, record.remaining >= 0, record.filledValue >= 0 else { return .refused(.invalidEvent) }
        var found = self.numbers.find(record.orderNumber)
        if found == nil, let s = self.lostMatch(record) {
            self.number(s, record.orderNumber, organization: record.organization)
            if self.slots[s].action == .new {
                self.slots[s].released = 0
                self.transition(s, to: .accepted)
            } else {
                self.takeEffect(s, into: &sink)
            }
            // Notices held while the answer was lost come first; the record then settles what they missed.
            self.replayHeld(record.orderNumber, into: &sink)
            found = s
        }
        guard let s = found else { return .foreign }
        if self.slots[s].organization == 0 { self.slots[s].organization = record.organization }
        let filled = min(record.filled, self.slots[s].quantity)
        if filled > self.slots[s].filled {
            var missing = filled - self.slots[s].filled
            var value = record.filledValue - self.slots[s].fillValue
            // The fills held in doubt were fills, as many as KIS counts: each at its own price and time.
            let doubts = self.slots[s].doubts
            for i in 0..<doubts.count where doubts[i].quantity <= missing {
                let held = doubts[i]
                _ = self.fill(
                    s,
                    quantity: held.quantity,
                    price: held.price,
                    exchangeTime: held.time,
                    localTs: held.localTs,
                    into: &sink
                )
                missing -= held.quantity
                value -= Int64(held.quantity) * Int64(held.price)
            }
            if missing > 0 {
                let price = Int32(clamping: (max(0, value) + Int64(missing) / 2) / Int64(missing))
                _ = self.fill(s, quantity: missing, price: price, exchangeTime: 0, localTs: localTs, into: &sink)
            }
        } else if filled < self.slots[s].filled {
            // More was applied than KIS executed; positions are put right from the balance (broker wins).
            self.slots[s].filled = filled
            self.slots[s].fillValue = record.filledValue
        }
        // KIS has counted every fill there was: what is still held was a notice delivered twice.
        self.clearDoubts(s)
        // A cancel works nothing, whatever its row says.
        let remaining =
            self.slots[s].action == .cancel
            ? 0 : max(0, min(record.remaining, self.slots[s].quantity - self.slots[s].filled))
        self.slots[s].released = self.slots[s].quantity - self.slots[s].filled - remaining
        let state = self.slots[s].state
        if self.slots[s].filled == self.slots[s].quantity && self.slots[s].quantity > 0 {
            self.transition(s, to: .filled)
        } else if remaining == 0 {
            if state != .replaced && state != .cancelled && state != .rejected {
                self.transition(s, to: record.rejected && self.slots[s].filled == 0 ? .rejected : .cancelled)
            }
        } else {
            self.transition(s, to: self.slots[s].filled > 0 ? .partiallyFilled : .accepted)
        }
        self.unflag(s)
        sink.orderChanged(self.change(s))
        return .applied
    }

    /// The oldest order whose answer was lost that `record` describes: same code, side, quantity and price (or the same
    /// target, for a modify or cancel).
    private func lostMatch(_ record: BrokerOrder) -> Int? {
        var best: Int?
        for i in self.slots.indices {
            let order = self.slots[i]
            // Only a lost answer: an order still `sent` gets its ODNO from its own answer.
            guard order.occupied, order.state == .unknown, order.code == record.code,
                order.side == record.side
            else { continue }
            let matches: Bool
            switch order.action {
            case .new:
                matches =
                    record.originalOrderNumber == 0 && record.quantity == order.quantity
                    && record.price == order.price
            case .modify, .cancel:
                let target = self.target(of: i).map { self.slots[$0].orderNumber } ?? 0
                matches =
                    target != 0 && record.originalOrderNumber == target
                    && record.amendCode == (order.action == .modify ? 1 : 2)
            }
            if matches, best.map({ order.id < self.slots[$0].id }) ?? true { best = i }
        }
        return best
    }

    // MARK: - Queries (cold)

    /// The order's current snapshot, or nil if the book does not hold it.
    public func order(_ id: OrderID) -> OrderSnapshot? {
        self.ids.find(Self.key(id)).map { self.snapshot($0) }
    }

    /// Whether a modify or cancel of `id` would be taken now: KIS has numbered it, it still works, and no other
    /// amendment of it is on its way (`submit` refuses otherwise).
    /// - Complexity: O(1); no allocation.
    public func canAmend(_ id: OrderID) -> Bool {
        guard let s = self.ids.find(Self.key(id)) else { return false }
        return self.slots[s].state.isWorking && !self.slots[s].amendmentInFlight
    }

    /// Every order the book holds, terminal ones included, by id.
    public func orders() -> [OrderSnapshot] {
        self.slots.indices.filter { self.slots[$0].occupied }.map { self.snapshot($0) }.sorted { $0.id < $1.id }
    }

    /// Orders not yet terminal, by id.
    public func openOrders() -> [OrderSnapshot] { self.orders().filter { !$0.state.isTerminal } }

    /// Passes every order that is not terminal to `body`, in no particular order: the orders working at KIS and those
    /// on their way there or awaiting their answer.
    /// - Complexity: O(open orders); no allocation.
    public func forEachOpen(_ body: (OrderSnapshot) -> Void) {
        for s in self.open { body(self.snapshot(Int(s))) }
    }

    /// Orders that are not terminal.
    public var openCount: Int { self.open.count }

    /// Orders only KIS's daily orders can settle: answer lost, a doubtful notice, a notice dropped.
    public func ordersNeedingReconciliation() -> [OrderSnapshot] {
        self.slots.indices.filter { self.slots[$0].occupied && self.slots[$0].needsReconciliation }
            .map { self.snapshot($0) }.sorted { $0.id < $1.id }
    }

    /// Notices held for an ODNO no order has yet.
    public var heldNoticeCount: Int { self.heldCount }

    /// Calls `body` with the order number of each order holding a doubtful fill, for the query that settles it.
    /// - Complexity: O(capacity); no allocation. Called when `doubtfulCount` grows, which a sweep or a repeated
    ///   notice does, not on every event.
    public func forEachDoubtful(_ body: (UInt64) -> Void) {
        for slot in self.slots where slot.occupied && slot.doubts.count > 0 { body(slot.orderNumber) }
    }

    /// Puts back an order from the journal, targets before their amendments (ascending id does it).
    /// - Throws: `.full`, `.duplicateID`, `.conflictingNumber`, `.unknownOrder` (a target not restored first),
    ///   `.invalidEvent` (quantities that cannot be).
    public mutating func restore(_ order: OrderSnapshot) throws(OrderRefusal) {
        guard order.filled >= 0, order.remaining >= 0, order.filled + order.remaining <= order.quantity else {
            throw .invalidEvent
        }
        guard self.ids.find(Self.key(order.id)) == nil else { throw .duplicateID }
        if order.orderNumber != 0 && self.numbers.find(order.orderNumber) != nil { throw .conflictingNumber }
        var target = -1
        if order.action != .new {
            guard let t = self.ids.find(Self.key(order.target)) else { throw .unknownOrder }
            target = t
        }
        let s = try self.takeSlot()
        var slot = Slot()
        slot.occupied = true
        slot.id = order.id
        slot.targetID = order.target
        slot.targetSlot = target
        slot.code = order.code
        slot.side = order.side
        slot.action = order.action
        slot.purpose = order.purpose
        slot.route = order.route
        slot.quantity = order.quantity
        slot.price = order.price
        slot.filled = order.filled
        slot.fillValue = order.fillValue
        // A terminal order works nothing, whatever its snapshot says.
        slot.released = order.quantity - order.filled - (order.state.isTerminal ? 0 : order.remaining)
        slot.orderNumber = order.orderNumber
        slot.organization = order.organization
        slot.state = .new
        slot.amendmentApplied =
            order.action != .new && !order.state.awaitsNumber
            && order.state != .rejected && order.state != .notPlaced
        self.slots[s] = slot
        self.enlist(s)
        _ = self.ids.insert(Self.key(order.id), s)
        if order.orderNumber != 0 { _ = self.numbers.insert(order.orderNumber, s) }
        self.awaiting += 1
        self.transition(s, to: order.state)
        if order.needsReconciliation || order.state == .unknown { self.flag(s) }
        if target >= 0 {
            self.slots[target].amendmentSlot = s
            self.slots[target].amendmentID = order.id
            self.slots[target].amendmentInFlight = order.state.awaitsNumber
        }
        self.checkInvariants()
    }

    // MARK: - Slots

    private static func key(_ id: OrderID) -> UInt64 { UInt64(id.rawValue) + 1 }

    private mutating func takeSlot() throws(OrderRefusal) -> Int {
        if let s = self.free.popLast() { return s }
        while self.retiredCount > 0 {
            let s = self.retired[self.retiredHead]
            self.retiredHead = (self.retiredHead + 1) % self.retired.count
            self.retiredCount -= 1
            self.slots[s].inRetired = false
            // A late fill or an undone amendment can bring a terminal order back; it is queued again when it ends.
            guard self.slots[s].state.isTerminal else { continue }
            self.ids.remove(Self.key(self.slots[s].id))
            if self.slots[s].orderNumber != 0 { self.numbers.remove(self.slots[s].orderNumber) }
            self.unflag(s)
            self.clearDoubts(s)
            self.slots[s].occupied = false
            return s
        }
        throw .full
    }

    private mutating func number(_ s: Int, _ number: UInt64, organization: UInt32) {
        self.slots[s].orderNumber = number
        self.slots[s].organization = organization
        _ = self.numbers.insert(number, s)
    }

    /// The one place states change, so the counters and the retirement queue stay right.
    private mutating func transition(_ s: Int, to state: OrderState) {
        let old = self.slots[s].state
        guard old != state else { return }
        if old.awaitsNumber { self.awaiting -= 1 }
        if state.awaitsNumber { self.awaiting += 1 }
        self.slots[s].state = state
        if state.isTerminal && !old.isTerminal { self.delist(s) }
        if !state.isTerminal && old.isTerminal { self.enlist(s) }
        if state.isTerminal && !self.slots[s].inRetired {
            self.slots[s].inRetired = true
            self.retired[(self.retiredHead + self.retiredCount) % self.retired.count] = s
            self.retiredCount += 1
        }
    }

    /// Puts an order that is not terminal on the open list.
    private mutating func enlist(_ s: Int) {
        guard self.slots[s].openIndex < 0 else { return }
        self.slots[s].openIndex = Int32(self.open.count)
        self.open.append(Int32(s))
    }

    /// Takes a terminal order off the open list: the last entry moves into its place.
    private mutating func delist(_ s: Int) {
        let i = Int(self.slots[s].openIndex)
        guard i >= 0 else { return }
        let last = Int(self.open.removeLast())
        if last != s {
            self.open[i] = Int32(last)
            self.slots[last].openIndex = Int32(i)
        }
        self.slots[s].openIndex = -1
    }

    private mutating func flag(_ s: Int) {
        guard !self.slots[s].needsReconciliation else { return }
        self.slots[s].needsReconciliation = true
        self.needsReconciliationCount += 1
    }

    private mutating func unflag(_ s: Int) {
        guard self.slots[s].needsReconciliation else { return }
        self.slots[s].needsReconciliation = false
        self.needsReconciliationCount -= 1
    }

    /// An amendment that ended without effect frees its target for another.
    private mutating func releaseTarget(of a: Int) {
        guard let t = self.target(of: a), self.slots[t].amendmentID == self.slots[a].id else { return }
        self.slots[t].amendmentInFlight = false
    }

    /// The slot an amendment acts on, if it still holds that order.
    private func target(of a: Int) -> Int? {
        let t = self.slots[a].targetSlot
        guard t >= 0, self.slots[t].occupied, self.slots[t].id == self.slots[a].targetID else { return nil }
        return t
    }

    /// The slot of the last amendment of `s`, if it still holds that amendment.
    private func amendment(of s: Int) -> Int? {
        let a = self.slots[s].amendmentSlot
        guard a >= 0, self.slots[a].occupied, self.slots[a].id == self.slots[s].amendmentID else { return nil }
        return a
    }

    private func change(_ s: Int) -> OrderChange {
        let order = self.slots[s]
        return OrderChange(
            id: order.id,
            target: order.targetID,
            code: order.code,
            orderNumber: order.orderNumber,
            fillValue: order.fillValue,
            quantity: order.quantity,
            filled: order.filled,
            remaining: order.remaining,
            lastFillQuantity: 0,
            lastFillPrice: 0,
            organization: order.organization,
            side: order.side,
            action: order.action,
            state: order.state,
            needsReconciliation: order.needsReconciliation
        )
    }

    private func snapshot(_ s: Int) -> OrderSnapshot {
        let order = self.slots[s]
        return OrderSnapshot(
            id: order.id,
            target: order.targetID,
            code: order.code,
            side: order.side,
            action: order.action,
            purpose: order.purpose,
            quantity: order.quantity,
            price: order.price,
            state: order.state,
            orderNumber: order.orderNumber,
            organization: order.organization,
            filled: order.filled,
            fillValue: order.fillValue,
            remaining: order.remaining,
            needsReconciliation: order.needsReconciliation,
            route: order.route
        )
    }
}

@available(*, unavailable)
extension OrderBook: Sendable {}

/// The identity KIS gives a fill notice: none. Quantity, price and the exchange second are what tell two apart.
struct FillMark: Equatable, BitwiseCopyable {
    var quantity: Int32
    var price: Int32
    var time: UInt32
}

/// A fill notice held in doubt: identical to one already applied.
struct HeldFill: BitwiseCopyable {
    var quantity: Int32
    var price: Int32
    var time: UInt32
    var localTs: Int64
}

/// The doubtful fills of one order, in arrival order; room for a sweep of a few resting orders at one price.
struct HeldFills: BitwiseCopyable {
    private var fills: InlineArray<4, HeldFill> = .init(repeating: HeldFill(quantity: 0, price: 0, time: 0, localTs: 0))
    private(set) var count = 0
    /// Shares held, all fills together.
    private(set) var quantity: Int32 = 0

    subscript(i: Int) -> HeldFill { self.fills[i] }

    /// Keeps `fill`; false when there is no room.
    mutating func hold(_ fill: HeldFill) -> Bool {
        guard self.count < self.fills.count else { return false }
        self.fills[self.count] = fill
        self.count += 1
        self.quantity += fill.quantity
        return true
    }
}

/// The last few fills of one order, for spotting a notice delivered twice.
struct FillMarks: BitwiseCopyable {
    private var marks: InlineArray<4, FillMark> = .init(repeating: FillMark(quantity: 0, price: 0, time: 0))
    private var next: UInt8 = 0

    func contains(_ mark: FillMark) -> Bool {
        for i in self.marks.indices where self.marks[i] == mark { return true }
        return false
    }

    mutating func record(_ mark: FillMark) {
        self.marks[Int(self.next)] = mark
        self.next = (self.next + 1) & 3
    }
}

/// One order's row in the book.
private struct Slot {
    var code = SymbolCode(rawValue: 0)
    var orderNumber: UInt64 = 0
    var fillValue: Int64 = 0
    var id = OrderID(rawValue: 0)
    var targetID = OrderID(rawValue: 0)
    var amendmentID = OrderID(rawValue: 0)
    var targetSlot = -1
    /// The amendment in flight, or the last one accepted.
    var amendmentSlot = -1
    var quantity: Int32 = 0
    var price: Int32 = 0
    var filled: Int32 = 0
    var released: Int32 = 0
    var organization: UInt32 = 0
    var marks = FillMarks()
    var doubts = HeldFills()
    var side = OrderSide.buy
    var action = OrderIntent.Action.new
    var purpose = OrderIntent.Purpose.entry
    var route = OrderRoute.krx
    var state = OrderState.new
    var occupied = false
    var inRetired = false
    /// Where the slot sits in the book's list of open orders; -1 while terminal or free.
    var openIndex: Int32 = -1
    var needsReconciliation = false
    /// On a target: a modify or cancel of it is not yet accepted or refused.
    var amendmentInFlight = false
    /// On an amendment: it has moved or ended its target's remainder.
    var amendmentApplied = false

    init() {}

    init(_ intent: OrderIntent, targetSlot: Int) {
        self.occupied = true
        self.id = intent.id
        self.targetID = intent.target
        self.targetSlot = targetSlot
        self.code = intent.code
        self.side = intent.side
        self.action = intent.action
        self.purpose = intent.purpose
        self.route = intent.route
        self.quantity = intent.quantity
        self.price = intent.price
        // An amendment holds nothing until it takes effect.
        self.released = intent.action == .new ? 0 : intent.quantity
    }

    var remaining: Int32 { self.quantity - self.filled - self.released }
}
