import Candles
import Journal
import Metrics
import Orders
import Ring
import Risk
import Strategy
import TickCore

/// An order on its way to the dispatcher, with the wall-clock time the strategy decided it.
struct DispatchSlot: BitwiseCopyable {
    var dispatch: OrderDispatch
    var decided: Int64
}

/// An order event from the dispatcher or the housekeeper, with the wall-clock time it happened.
struct OrderEventSlot: BitwiseCopyable {
    var event: OrderEvent
    var at: Int64
}

/// One order the engine has working or in flight: what risk and the exposure sums need, and its stamps.
struct Working: BitwiseCopyable {
    var order: WorkingOrder
    var symbol: SymbolIndex
    /// Buying power held for it (buys).
    var reserved: Int64
    /// Wall-clock ns: decided by the strategy, written to the socket (0 until then).
    var decided: Int64
    var written: Int64
    /// Whether a notice of it has been timed yet: only the first counts for written→notice.
    var noticed: Bool
    /// The last state the book reported, so the status counts transitions, not repeats.
    var state: OrderState = .new
}

/// The strategy's broker in a live (or simulator) run: the risk gate, the order state machine, positions and
/// exposure, in front of the ring to the dispatcher.
///
/// Owned by the strategy stage's thread. Every table is sized at start; submitting, applying events and the
/// exposure sums never allocate.
struct LiveBroker: Broker {
    let symbols: SymbolTable
    var gate: RiskGate
    var board: MarketBoard
    var book: OrderBook
    var positions: Positions
    var account = AccountExposure()
    /// Orders in flight or working, at most `capacity`; a linear table, since a scalper has a few at a time.
    private var working: [Working]
    private(set) var workingCount = 0
    private let dispatch: SPSCRing<DispatchSlot>
    let journal: SpillingProducer<JournalEvent>
    /// Changes the book produced while the strategy could not be told (inside `submit`), delivered after.
    var pending = ChangeBuffer(capacity: 256)
    private var nextID: UInt32
    /// Market time of the event being handled (engine clock), stamped on intents and journal rows.
    var now: Int64 = 0
    var counters = BrokerCounters()
    /// The run is ending: only cancels go out, so what KIS holds when the last reconciliation runs is final.
    var closing = false

    init(
        symbols: SymbolTable, gate: RiskGate, board: MarketBoard, book: OrderBook, positions: Positions,
        dispatch: SPSCRing<DispatchSlot>, journal: SpillingProducer<JournalEvent>, nextID: OrderID
    ) {
        self.symbols = symbols
        self.gate = gate
        self.board = board
        self.book = book
        self.positions = positions
        self.working = Array(repeating: Working(order: WorkingOrder(id: OrderID(rawValue: 0), code: SymbolCode(rawValue: 0), side: .buy, remaining: 0, price: 0, purpose: .entry), symbol: 0, reserved: 0, decided: 0, written: 0, noticed: false), count: 256)
        self.dispatch = dispatch
        self.journal = journal
        self.nextID = max(nextID.rawValue, 1)
    }

    // MARK: Broker

    mutating func nextOrderID() -> OrderID {
        defer { self.nextID &+= 1 }
        return OrderID(rawValue: self.nextID)
    }

    mutating func submit(_ intent: OrderIntent) -> SubmitResult {
        guard let symbol = self.symbols.index(of: intent.code) else { return .refused }
        guard !self.closing || intent.action == .cancel else { return .refused }
        self.refreshAccount()
        let target = intent.action == .new ? nil : self.find(intent.target).map { self.working[$0].order }
        let decision = self.gate.check(
            intent, market: self.board[symbol], phase: self.board.phase, position: self.exposure(symbol),
            account: self.account, replacing: target)
        guard case .accept = decision else {
            self.counters.riskRejections += 1
            if case .reject(let reason) = decision { self.counters.lastRejection = reason }
            return .refused
        }
        let dispatch: OrderDispatch
        do {
            dispatch = try self.book.submit(intent, into: &self.pending)
        } catch {
            self.counters.bookRefusals += 1
            return .refused
        }
        let decided = WallClock().now()
        let reservation = self.gate.reservation(for: intent, market: self.board[symbol], replacing: target)
        if intent.action == .new {
            guard self.workingCount < self.working.count else {
                // The book took it but nothing will send it: tell the book, so it ends as rejected.
                _ = self.book.apply(.refused(intent.id, messageCode: PackedASCII(ascii: "FULL")), into: &self.pending)
                self.counters.bookRefusals += 1
                return .refused
            }
            self.working[self.workingCount] = Working(
                order: WorkingOrder(
                    id: intent.id, code: intent.code, side: intent.side, remaining: intent.quantity,
                    price: intent.price, purpose: intent.purpose),
                symbol: symbol, reserved: max(0, reservation), decided: decided,
                written: 0, noticed: false)
            self.workingCount += 1
        } else if let t = self.find(intent.target), intent.action == .modify {
            self.working[t].reserved += reservation
        }
        if reservation > 0 { self.account.buyingPower.reserve(reservation) }
        if reservation < 0 { self.account.buyingPower.release(-reservation) }
        guard self.dispatch.tryPush(DispatchSlot(dispatch: dispatch, decided: decided)) else {
            _ = self.book.apply(.refused(intent.id, messageCode: PackedASCII(ascii: "RINGFULL")), into: &self.pending)
            return .refused
        }
        self.counters.sent += 1
        return .accepted
    }

    mutating func cancel(_ id: OrderID, decidedAt: Int64) -> SubmitResult {
        guard let t = self.find(id) else { return .refused }
        let order = self.working[t].order
        return self.submit(
            OrderIntent(
                id: self.nextOrderID(), code: order.code, side: order.side, quantity: 0, price: order.price,
                purpose: order.purpose, action: .cancel, target: id, decidedAt: decidedAt))
    }

    func position(of code: SymbolCode) -> Position {
        self.positions.position(code) ?? Position(code: code)
    }

    func openOrders(of code: SymbolCode) -> OpenOrders {
        var open = OpenOrders()
        for i in 0..<self.workingCount where self.working[i].order.code == code {
            let order = self.working[i].order
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

    // MARK: Exposure

    /// The exposure risk sees in the code at `symbol`: shares held and the working orders' shares and value.
    func exposure(_ symbol: SymbolIndex) -> SymbolExposure {
        let code = self.symbols[symbol]
        var exposure = SymbolExposure()
        exposure.held = Int32(clamping: self.positions.position(code)?.quantity ?? 0)
        for i in 0..<self.workingCount where self.working[i].symbol == symbol {
            let order = self.working[i].order
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
        for i in 0..<self.workingCount where self.working[i].order.side == .buy {
            buyValue += Int64(self.working[i].order.remaining) * Int64(self.working[i].order.price)
        }
        self.account.workingBuyValue = buyValue
        self.account.openOrders = Int32(self.workingCount)
        var value: Int64 = 0
        for position in self.positions.all { value += position.quantity * position.lastPrice }
        self.account.positionValue = value
    }

    // MARK: Working orders

    func find(_ id: OrderID) -> Int? {
        for i in 0..<self.workingCount where self.working[i].order.id == id { return i }
        return nil
    }

    func stamps(of id: OrderID) -> Working? { self.find(id).map { self.working[$0] } }

    /// The orders working at KIS that may be amended, for the kill switch's plan and the last cancels of a run: not
    /// those still awaiting their answer, nor those only a reconciliation can settle (KIS refused to cancel one,
    /// say). A kill switch that cancelled such an order again each second would take the order slots of a paper
    /// account's 2 requests a second, and the reconciliation's query would never get one.
    func workingOrders() -> [WorkingOrder] {
        (0..<self.workingCount).map { self.working[$0].order }.filter { order in
            self.book.order(order.id).map { $0.state.isWorking && !$0.needsReconciliation } ?? false
        }
    }

    /// Moves the id counter past ids handed out elsewhere (the kill switch planner's).
    mutating func skip(to next: OrderID) {
        self.nextID = max(self.nextID, next.rawValue)
    }

    mutating func written(_ id: OrderID, at: Int64) {
        if let i = self.find(id) { self.working[i].written = at }
    }

    /// Marks the first notice of `id`; true when this one is it.
    mutating func firstNotice(_ id: OrderID) -> Bool {
        guard let i = self.find(id), !self.working[i].noticed else { return false }
        self.working[i].noticed = true
        return true
    }

    /// Whether `update` moves its order to a state it was not in, or fills more of it: what the status counts.
    func isTransition(_ update: OrderChange) -> Bool {
        guard let i = self.find(update.id) else { return false }
        return self.working[i].state != update.state || update.lastFillQuantity > 0
    }

    /// Keeps the working table and the buying power in step with an update from the book.
    ///
    /// KIS gives a modify its own ODNO and moves the remainder there: when the modify is working, it takes over its
    /// target's entry (id, price, remainder), and the target's `replaced` update then finds nothing to end.
    mutating func track(_ update: OrderChange) {
        if update.action == .modify, update.state.isWorking, self.find(update.id) == nil, let t = self.find(update.target) {
            self.working[t].order.id = update.id
            if let price = self.book.order(update.id)?.price { self.working[t].order.price = price }
        }
        guard let i = self.find(update.id) else { return }
        let previous = self.working[i].order.remaining
        self.working[i].order.remaining = update.remaining
        self.working[i].state = update.state
        if update.lastFillQuantity > 0, self.working[i].order.side == .buy, previous > 0 {
            let share = self.working[i].reserved * Int64(min(update.lastFillQuantity, previous)) / Int64(previous)
            self.account.buyingPower.fill(
                reserved: share,
                cost: self.positions.costs.withFee(Int64(update.lastFillQuantity) * Int64(update.lastFillPrice)))
            self.working[i].reserved -= share
        }
        if update.state.isTerminal, update.state != .replaced {
            if self.working[i].reserved > 0 { self.account.buyingPower.release(self.working[i].reserved) }
            self.workingCount -= 1
            self.working[i] = self.working[self.workingCount]
        }
    }
}

/// What the broker counted, for the status.
struct BrokerCounters: BitwiseCopyable {
    var sent = 0
    var riskRejections = 0
    var bookRefusals = 0
    var lastRejection: RiskRejection?
}

/// Order changes and fills collected while the strategy cannot be called, in order. The arrays keep their capacity,
/// so after the first events nothing here allocates.
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
