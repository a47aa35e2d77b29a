import EventLog
public import Orders
public import Risk
public import Strategy
public import TickCore

/// The strategy's broker in every run, live, replayed or benchmarked: the risk gate in front of the order ring, the
/// order book, positions and the buying power, and the updates the strategy is told.
///
/// It owns the day's order state: an intent passes risk, enters the book, goes to the dispatch ring; an event from
/// the dispatcher, a notice or a row of KIS's daily orders goes through the book, whose changes reach positions, the
/// journal and the buying power at once and wait in `nextUpdate()` for the strategy. Working orders are the book's
/// (`OrderBook.forEachOpen`); the broker keeps beside them only what the book has no business holding: the buying
/// power each buy holds back, and the last state each order was counted in for the status.
///
/// Owned by the market stage's thread. Every table is sized at start; nothing per event allocates.
public struct PipelineBroker: Broker {
    public let symbols: SymbolTable
    var gate: RiskGate
    public internal(set) var board: MarketBoard
    /// Which venue a new order goes to (`VenueMode.route`).
    let venueMode: VenueMode
    public internal(set) var book: OrderBook
    public internal(set) var positions: Positions
    var account = AccountExposure()
    private var holds: Holds
    private let orders: OrderPorts
    private var changes = ChangeBuffer(capacity: 256)
    /// Updates of the strategy's orders not yet handed to it, oldest first.
    private var updates: UpdateQueue
    private var nextID: UInt32
    /// Market time of the event being handled (engine clock), stamped on intents and journal rows.
    var now: Int64 = 0
    public private(set) var counters = BrokerCounters()
    /// The run is ending: only cancels go out, so what KIS holds when the last reconciliation runs is final.
    var closing = false
    /// Where risk refusals are logged, if anywhere.
    private let log: LogProducer?
    /// When a refusal for each reason (by raw value) was last logged, wall clock; inline, so a copied broker's first
    /// refusal allocates nothing either.
    private var refusalLogged = InlineArray<32, Int64>(repeating: 0)

    init(
        symbols: SymbolTable,
        gate: RiskGate,
        board: MarketBoard,
        venueMode: VenueMode = .krx,
        opening: consuming PipelineOpening,
        orders: OrderPorts,
        log: LogProducer? = nil
    ) {
        precondition(RiskRejection.allCases.count <= 32, "a refusal reason has no slot in refusalLogged")
        self.log = log
        self.symbols = symbols
        self.gate = gate
        self.board = board
        self.venueMode = venueMode
        self.nextID = max(opening.nextOrderID.rawValue, 1)
        self.account.buyingPower = BuyingPower(reported: opening.buyingPower)
        self.book = opening.book
        self.positions = opening.positions
        self.holds = Holds(capacity: 256)
        self.updates = UpdateQueue(capacity: 256)
        self.orders = orders
        // Orders the journal brought back hold what they held before the restart; KIS's figure already counts them.
        self.book.forEachOpen { order in
            if order.remaining > 0 { _ = self.holds.insert(order.id, reserved: 0, remaining: order.remaining) }
        }
    }

    // MARK: Broker

    public mutating func nextOrderID() -> OrderID {
        defer { self.nextID &+= 1 }
        return OrderID(rawValue: self.nextID)
    }

    public mutating func submit(_ asked: OrderIntent) -> SubmitResult {
        var intent = asked
        if intent.action == .new {
            intent.route = self.venueMode.route(krx: self.board.phase, nxt: self.board.phase(for: .nxt))
        } else if let order = self.book.order(intent.target) {
            // Checked against the venue the target works on; the book sends it there too.
            intent.route = order.route
        }
        guard let symbol = self.symbols.index(of: intent.code) else { return self.decline(intent) }
        guard !self.closing || intent.action == .cancel else { return self.decline(intent) }
        self.refreshAccount()
        let target = intent.action == .new ? nil : self.workingOrder(intent.target)
        let decision = self.gate.check(
            intent,
            market: self.board[symbol, route: intent.route],
            phase: self.board.phase(for: intent.route),
            position: self.exposure(symbol),
            account: self.account,
            replacing: target
        )
        guard case .accept = decision else {
            self.counters.riskRejections += 1
            if case .reject(let reason) = decision {
                self.counters.rejections.add(reason)
                self.logRefusal(intent, reason)
            }
            return self.decline(intent)
        }
        let dispatch: OrderDispatch
        do {
            dispatch = try self.book.submit(intent, into: &self.changes)
        } catch {
            self.counters.bookRefusals += 1
            // A duplicate id is the book's already; any other refusal leaves the id unused.
            return error == .duplicateID ? .refused : self.decline(intent)
        }
        let decided = WallClock().now()
        let reservation = self.gate.reservation(
            for: intent,
            market: self.board[symbol, route: intent.route],
            replacing: target
        )
        if intent.action == .new {
            guard self.holds.insert(intent.id, reserved: max(0, reservation), remaining: intent.quantity) else {
                // The book took it but nothing will send it: tell the book, so it ends as rejected.
                self.refuse(intent.id, "FULL")
                self.counters.bookRefusals += 1
                return .refused
            }
        } else if intent.action == .modify {
            self.holds.add(reservation, to: intent.target)
        }
        if reservation > 0 { self.account.buyingPower.reserve(reservation) }
        if reservation < 0 { self.account.buyingPower.release(-reservation) }
        guard self.orders.dispatch.tryPush(DispatchSlot(dispatch: dispatch, decided: decided, marketTime: self.now))
        else {
            self.refuse(intent.id, "RINGFULL")
            return .refused
        }
        self.orders.dispatchBell.ring()
        self.counters.sent += 1
        self.settle()
        return .accepted
    }

    /// Hands an order notice to the log, with what it tells and the order of ours it was matched to (0: none).
    private func logNotice(_ notice: Notice, order: OrderID?) {
        guard let log = self.log else { return }
        // RCTF_CLS: 0 new, 1 modify, 2 cancel.
        let tells: StaticString =
            notice.rejected
            ? "rejected"
            : notice.isFill ? "fill" : notice.amendCode == 2 ? "cancel" : notice.amendCode == 1 ? "modify" : "accepted"

        log.record(
            .notice,
            order: order ?? OrderID(rawValue: 0),
            code: notice.code,
            side: notice.side ?? .buy,
            quantity: notice.isFill ? notice.quantity : notice.orderQuantity,
            price: notice.isFill ? notice.price : notice.orderPrice,
            number: notice.orderNumber,
            message: PackedASCII(ascii: tells)
        )
    }

    /// Hands a risk refusal to the log. A strategy may ask again on every event what risk just refused (entries on
    /// every code while the market is closed): a refusal within a second of the last one logged for its reason is
    /// only counted (`counters.rejections`), so the log holds a line a second per reason, not thousands.
    private mutating func logRefusal(_ intent: OrderIntent, _ reason: RiskRejection) {
        guard let log = self.log else { return }
        let now = WallClock().now()
        let slot = Int(reason.rawValue)
        guard now - self.refusalLogged[slot] >= 1_000_000_000 else { return }
        self.refusalLogged[slot] = now
        log.record(
            LogRecord(
                .riskRefused,
                time: now,
                code: intent.code,
                side: intent.side,
                quantity: intent.quantity,
                price: intent.price,
                value: Int64(reason.rawValue)
            )
        )
    }

    /// Refuses `intent`, which nothing but risk has seen: its id, if the last one handed out, is handed out again, so
    /// a strategy retrying a refused order on every event does not use up ids.
    private mutating func decline(_ intent: OrderIntent) -> SubmitResult {
        if intent.id.rawValue &+ 1 == self.nextID { self.nextID = intent.id.rawValue }
        return .refused
    }

    public mutating func cancel(_ id: OrderID, decidedAt: Int64) -> SubmitResult {
        // Not before KIS has numbered the order, nor while another amendment of it is on its way: the book would
        // refuse it, and a strategy retrying on every event (an entry past its timeout while its answer is held)
        // would send a refused cancel through risk and the book about 1,000 times a second.
        guard let order = self.workingOrder(id), self.book.canAmend(id) else { return .refused }
        return self.submit(
            OrderIntent(
                id: self.nextOrderID(),
                code: order.code,
                side: order.side,
                quantity: 0,
                price: order.price,
                purpose: order.purpose,
                action: .cancel,
                target: id,
                decidedAt: decidedAt
            )
        )
    }

    public func position(of code: SymbolCode) -> Position {
        self.positions.position(code) ?? Position(code: code)
    }

    public func openOrders(of code: SymbolCode) -> OpenOrders {
        var open = OpenOrders()
        self.book.forEachOpen { order in
            guard order.code == code, order.remaining > 0 else { return }
            if order.side == .buy {
                open.buyOrders += 1
                open.buyQuantity += order.remaining
            } else {
                open.sellOrders += 1
                open.sellQuantity += order.remaining
            }
        }
        return open
    }

    // MARK: Events

    /// Applies what became of an order (the dispatcher's report, a notice, a row of KIS's daily orders): the book
    /// changes, and positions, the journal and the buying power follow; the strategy's updates wait in
    /// `nextUpdate()`.
    /// - Returns: what the book made of it, and the first order it changed.
    @discardableResult
    mutating func apply(_ event: OrderEvent) -> (outcome: EventOutcome, order: OrderID?) {
        var throttled: OrderID?
        if case .refused(let id, let code) = event {
            self.counters.lastRefusal = code
            if code == Self.budgetRefusal { throttled = id }
        }
        let doubts = self.book.doubtfulCount
        let outcome = self.book.apply(event, into: &self.changes)
        let order = self.changes.count > 0 ? self.changes.changes[0].id : nil
        if case .notice(let notice) = event { self.logNotice(notice, order: order) }
        self.settle(throttled: throttled)
        // A doubtful fill (a notice of its own, or one held for the REST answer that came) is settled by KIS's count
        // of that one order's fills: one query, where the whole day's orders take a page per 15 orders on paper.
        if self.book.doubtfulCount > doubts {
            self.book.forEachDoubtful { number in
                if !self.orders.checks.tryPush(number) {
                    self.orders.wantsReconciliation.store(true, ordering: .relaxed)
                }
            }
        }
        if self.book.needsReconciliationCount > 0 {
            self.orders.wantsReconciliation.store(true, ordering: .relaxed)
        }
        return (outcome, order)
    }

    /// KIS's buying power, as the housekeeper last asked it.
    mutating func buyingPowerReported(_ reported: Int64) {
        self.refreshAccount()
        self.account.buyingPower.refresh(reported: reported, inFlight: self.account.workingBuyValue)
    }

    /// The next update of one of the strategy's orders, oldest first; nil when there is none.
    mutating func nextUpdate() -> OrderUpdate? {
        self.updates.pop()
    }

    /// A print of a traded code: the risk board and the position's mark.
    mutating func mark(_ tick: Tick) {
        self.board.apply(tick)
        self.positions.mark(tick.code, price: Int64(tick.price))
    }

    private mutating func refuse(_ id: OrderID, _ reason: StaticString) {
        _ = self.book.apply(.refused(id, messageCode: PackedASCII(ascii: reason)), into: &self.changes)
        self.settle()
    }

    /// KIS's gateway refusing a request over the app key's per-second budget: an order refused so was never placed.
    static let budgetRefusal = PackedASCII(ascii: "EGW00201")

    /// Hands the book's changes and fills to positions, the journal, the buying power and the status counts, and
    /// queues the strategy's updates.
    /// - Parameter throttled: a new order KIS refused for the budget (`budgetRefusal`): the strategy hears
    ///   `throttled`, not `rejected`, and decides again on the prices to come.
    private mutating func settle(throttled: OrderID? = nil) {
        for i in 0..<self.changes.fillCount {
            let fill = self.changes.fills[i]
            try? self.positions.apply(fill)
            self.counters.fills += 1
            self.orders.journal.push(.fill(fill))
            if let position = self.positions.position(fill.code) {
                self.orders.journal.push(.position(position, at: self.now))
            }
        }
        for i in 0..<self.changes.count {
            let change = self.changes.changes[i]
            self.count(change)
            self.track(change)
            self.orders.journal.push(.change(change, at: self.now))
            if var kind = Self.kind(change.state), change.action == .new || change.action == .modify {
                if kind == .rejected, change.action == .new, change.id == throttled { kind = .throttled }
                self.updates.push(
                    OrderUpdate(
                        id: change.id,
                        code: change.code,
                        kind: kind,
                        side: change.side,
                        fillQuantity: change.lastFillQuantity,
                        fillPrice: change.lastFillPrice,
                        remainingQuantity: change.remaining
                    )
                )
            }
        }
        self.changes.clear()
    }

    private static func kind(_ state: OrderState) -> OrderUpdate.Kind? {
        switch state {
        case .accepted: .accepted
        case .partiallyFilled: .partiallyFilled
        case .filled: .filled
        case .cancelled, .replaced: .cancelled
        case .rejected, .notPlaced: .rejected
        case .new, .sent, .unknown: nil
        }
    }

    /// Counts an order moving to a state it was not in, or filling more: what the status shows.
    private mutating func count(_ change: OrderChange) {
        guard let counted = self.holds.counted(change.id), counted != change.state || change.lastFillQuantity > 0
        else { return }
        switch change.state {
        case .accepted: self.counters.accepted += 1
        case .partiallyFilled: if change.lastFillQuantity > 0 { self.counters.partiallyFilled += 1 }
        case .filled: self.counters.filled += 1
        case .cancelled: self.counters.cancelled += 1
        case .rejected, .notPlaced: self.counters.rejected += 1
        case .new, .sent, .unknown, .replaced: break
        }
    }

    /// Keeps the holds in step with a change: a fill turns part of a buy's hold into its cost, an order that ends
    /// gives back what it held.
    ///
    /// KIS gives a modify its own ODNO and moves the remainder there: when the modify is working, it takes over its
    /// target's hold, and the target's `replaced` change then finds nothing to give back.
    private mutating func track(_ change: OrderChange) {
        if change.action == .modify, change.state.isWorking, !self.holds.contains(change.id) {
            self.holds.rename(change.target, to: change.id)
        }
        guard let previous = self.holds.update(change.id, remaining: change.remaining, state: change.state) else {
            return
        }
        if change.lastFillQuantity > 0, change.side == .buy, previous > 0 {
            let cost = self.positions.costs.withFee(Int64(change.lastFillQuantity) * Int64(change.lastFillPrice))
            let share = self.holds.take(change.id, shares: min(change.lastFillQuantity, previous), of: previous)
            self.account.buyingPower.fill(reserved: share, cost: cost)
        }
        if change.state.isTerminal, change.state != .replaced {
            let held = self.holds.remove(change.id)
            if held > 0 { self.account.buyingPower.release(held) }
        }
    }

    // MARK: Exposure

    /// The exposure risk sees in the code at `symbol`: shares held and the working orders' shares and value.
    func exposure(_ symbol: SymbolIndex) -> SymbolExposure {
        let code = self.symbols[symbol]
        var exposure = SymbolExposure()
        exposure.held = Int32(clamping: self.positions.position(code)?.quantity ?? 0)
        self.book.forEachOpen { order in
            guard order.code == code, order.remaining > 0 else { return }
            exposure.openOrders += 1
            if order.side == .buy {
                exposure.workingBuyQuantity += order.remaining
                exposure.workingBuyValue += Int64(order.remaining) * Int64(order.price)
            } else {
                exposure.workingSellQuantity += order.remaining
            }
        }
        return exposure
    }

    /// Refreshes the account sums risk reads from positions and working orders.
    mutating func refreshAccount() {
        let totals = self.positions.totals
        self.account.realisedPnL = totals.realised
        self.account.unrealisedPnL = totals.unrealised
        var buyValue: Int64 = 0
        var open: Int32 = 0
        self.book.forEachOpen { order in
            guard order.remaining > 0 else { return }
            open += 1
            if order.side == .buy { buyValue += Int64(order.remaining) * Int64(order.price) }
        }
        self.account.workingBuyValue = buyValue
        self.account.openOrders = open
        var value: Int64 = 0
        for position in self.positions.all { value += position.quantity * position.lastPrice }
        self.account.positionValue = value
    }

    /// Orders working or in flight (shares still to fill at KIS or on their way there).
    var workingCount: Int {
        var count = 0
        self.book.forEachOpen { order in if order.remaining > 0 { count += 1 } }
        return count
    }

    // MARK: Working orders

    /// The order `id` as risk and the kill switch see it, if it is open with shares to fill.
    private func workingOrder(_ id: OrderID) -> WorkingOrder? {
        guard let order = self.book.order(id), !order.state.isTerminal, order.remaining > 0 else { return nil }
        return WorkingOrder(
            id: order.id,
            code: order.code,
            side: order.side,
            remaining: order.remaining,
            price: order.price,
            purpose: order.purpose
        )
    }

    /// The orders working at KIS that may be amended, for the kill switch's plan and the last cancels of a run: not
    /// those still awaiting their answer, nor those only a reconciliation can settle (KIS refused to cancel one,
    /// say). A kill switch that cancelled such an order again each second would take the order slots of a paper
    /// account's 2 requests a second, and the reconciliation's query would never get one.
    func amendableOrders() -> [WorkingOrder] {
        var orders: [WorkingOrder] = []
        self.book.forEachOpen { order in
            guard order.remaining > 0, order.state.isWorking, !order.needsReconciliation else { return }
            orders.append(
                WorkingOrder(
                    id: order.id,
                    code: order.code,
                    side: order.side,
                    remaining: order.remaining,
                    price: order.price,
                    purpose: order.purpose
                )
            )
        }
        return orders.sorted { $0.id < $1.id }
    }

    /// The kill switch's plan: every amendable order cancelled, every position sold at a marketable limit. Off the
    /// hot path: it runs once a second at most, while armed, and allocates.
    mutating func flatten(_ planner: KillSwitchPlanner, decidedAt: Int64) {
        var held: [HeldPosition] = []
        for position in self.positions.all where position.quantity > 0 {
            if let symbol = self.symbols.index(of: position.code) {
                held.append(
                    HeldPosition(code: position.code, index: symbol, quantity: Int32(clamping: position.quantity))
                )
            }
        }
        var intents: [OrderIntent] = []
        var next = OrderID(rawValue: self.nextID)
        planner.plan(
            openOrders: self.amendableOrders(),
            positions: held,
            market: self.board,
            nextID: &next,
            decidedAt: decidedAt
        ) { intents.append($0) }
        self.nextID = max(self.nextID, next.rawValue)
        for intent in intents { _ = self.submit(intent) }
    }

    /// Cancels every amendable order: the end of a run.
    mutating func cancelAmendable(decidedAt: Int64) {
        for order in self.amendableOrders() { _ = self.cancel(order.id, decidedAt: decidedAt) }
    }
}

/// What the broker counted, for the status.
public struct BrokerCounters: BitwiseCopyable, Sendable {
    public var sent = 0
    public var riskRejections = 0
    public var bookRefusals = 0
    /// `riskRejections` by reason.
    public var rejections = RiskRejectionCounts()
    /// `msg_cd` of the last order KIS (or the dispatcher) refused.
    public var lastRefusal = PackedASCII(rawValue: 0)
    public var accepted = 0
    public var filled = 0
    public var partiallyFilled = 0
    public var cancelled = 0
    public var rejected = 0
    public var fills = 0
}

/// What each order the broker sent holds back: the buying power reserved for a buy, the shares it was last known to
/// have working (fills take their share of the reservation in proportion), and the state the status last counted.
/// A linear table: a scalper has a few orders at a time.
struct Holds {
    private struct Entry {
        var id: OrderID
        var reserved: Int64
        var remaining: Int32
        var counted: OrderState
    }

    private var entries: [Entry]
    private var count = 0

    init(capacity: Int) {
        self.entries = Array(
            repeating: Entry(id: OrderID(rawValue: 0), reserved: 0, remaining: 0, counted: .new),
            count: capacity
        )
    }

    private func find(_ id: OrderID) -> Int? {
        for i in 0..<self.count where self.entries[i].id == id { return i }
        return nil
    }

    func contains(_ id: OrderID) -> Bool { self.find(id) != nil }

    func counted(_ id: OrderID) -> OrderState? { self.find(id).map { self.entries[$0].counted } }

    /// - Returns: false when the table is full.
    mutating func insert(_ id: OrderID, reserved: Int64, remaining: Int32) -> Bool {
        guard self.count < self.entries.count else { return false }
        self.entries[self.count] = Entry(id: id, reserved: reserved, remaining: remaining, counted: .new)
        self.count += 1
        return true
    }

    mutating func add(_ reservation: Int64, to id: OrderID) {
        if let i = self.find(id) { self.entries[i].reserved += reservation }
    }

    mutating func rename(_ id: OrderID, to new: OrderID) {
        if let i = self.find(id) { self.entries[i].id = new }
    }

    /// Records the order's shares still working and its state.
    /// - Returns: the shares it had working before, or nil for an order the table does not hold.
    mutating func update(_ id: OrderID, remaining: Int32, state: OrderState) -> Int32? {
        guard let i = self.find(id) else { return nil }
        let previous = self.entries[i].remaining
        self.entries[i].remaining = remaining
        self.entries[i].counted = state
        return previous
    }

    /// Takes the share of `id`'s reservation that `shares` of its `previous` working shares held.
    mutating func take(_ id: OrderID, shares: Int32, of previous: Int32) -> Int64 {
        guard let i = self.find(id) else { return 0 }
        let share = self.entries[i].reserved * Int64(shares) / Int64(previous)
        self.entries[i].reserved -= share
        return share
    }

    /// Drops `id`, returning what it still held.
    mutating func remove(_ id: OrderID) -> Int64 {
        guard let i = self.find(id) else { return 0 }
        let held = self.entries[i].reserved
        self.count -= 1
        self.entries[i] = self.entries[self.count]
        return held
    }
}

/// The book's changes and fills of one event, in order. The arrays keep their capacity, so after the first events
/// nothing here allocates.
struct ChangeBuffer: OrderSink {
    private(set) var changes: [OrderChange] = []
    private(set) var fills: [Fill] = []

    init(capacity: Int) {
        self.changes.reserveCapacity(capacity)
        self.fills.reserveCapacity(capacity)
    }

    var count: Int { self.changes.count }
    var fillCount: Int { self.fills.count }

    mutating func orderChanged(_ change: OrderChange) { self.changes.append(change) }

    mutating func filled(_ fill: Fill) { self.fills.append(fill) }

    mutating func clear() {
        self.changes.removeAll(keepingCapacity: true)
        self.fills.removeAll(keepingCapacity: true)
    }
}

/// Updates waiting for the strategy, a FIFO of fixed capacity. The strategy's reactions to one update can produce
/// more (its cancel's answer comes later, but a refusal comes at once), so it is a queue, not a list per event.
struct UpdateQueue {
    private var slots: [OrderUpdate]
    private var head = 0
    private var count = 0

    init(capacity: Int) {
        self.slots = Array(
            repeating: OrderUpdate(
                id: OrderID(rawValue: 0),
                code: SymbolCode(rawValue: 0),
                kind: .accepted,
                side: .buy
            ),
            count: capacity
        )
    }

    mutating func push(_ update: OrderUpdate) {
        // A strategy that made more than `capacity` updates in one event would lose the oldest: it cannot, since
        // each of its orders changes a few times at most and it keeps one working per code.
        precondition(self.count < self.slots.count, "more than \(self.slots.count) order updates waiting")
        self.slots[(self.head + self.count) % self.slots.count] = update
        self.count += 1
    }

    mutating func pop() -> OrderUpdate? {
        guard self.count > 0 else { return nil }
        let update = self.slots[self.head]
        self.head = (self.head + 1) % self.slots.count
        self.count -= 1
        return update
    }
}
