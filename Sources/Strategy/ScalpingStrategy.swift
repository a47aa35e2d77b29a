public import Candles
public import TickCore

/// Where a code stands in the scalper's cycle: flat → entering → long → exiting → flat.
public enum ScalpingStage: UInt8, BitwiseCopyable, Sendable, Equatable {
    /// No position and no order; entries allowed after the cooldown.
    case flat
    /// A buy limit is working.
    case entering
    /// Holding shares, no order working.
    case long
    /// A sell is working.
    case exiting
}

/// Why a position is being closed.
public enum ScalpingExit: UInt8, BitwiseCopyable, Sendable, Equatable {
    case none
    case takeProfit
    case stopLoss
    case timeStop
    /// `flattenBeforeCloseSeconds` before the end of the day's last trading window (KRX's closing auction).
    case close
}

/// Long-only 5-minute breakout scalper (KRX retail accounts cannot sell short). Rules in docs/strategy.md.
///
/// Thread-confined to the strategy stage. Per-code state lives in a table sized at `init` and indexed by the
/// `SymbolTable` index; no event allocates. Each code has at most one order working and one position.
public struct ScalpingStrategy<B: Broker, C: EngineClock>: TradingStrategy {
    public typealias OrderBroker = B
    public typealias TimeSource = C

    public let parameters: ScalpingParameters
    public let symbols: SymbolTable
    private var states: [SymbolState]
    /// Per code, the previous trading day's volume of each minute of continuous trading (09:00–15:30), flat:
    /// code `i`'s minute `m` at `i * minutesPerDay + m`. Zero when no past bars were given.
    private var pastVolumes: [Int64]
    private static var minutesPerDay: Int { Int(KRX.closeTime - KRX.openTime) / 60 }
    /// The continuous windows the strategy enters in (each from `noEntryAfterOpenSeconds` after its start to
    /// `noEntryBeforeCloseSeconds` before its end), and the end of the last, which positions are flattened before.
    private let windows: [VenueCalendar.Window]
    private let dayClose: Int64

    /// - Parameter windows: the stretches of continuous trading the venues traded offer
    ///   (`VenueCalendar.continuousWindows`): KRX's 09:00–15:20 by default; with NXT, its pre- and after-market too.
    public init(
        parameters: ScalpingParameters,
        symbols: SymbolTable,
        windows: [VenueCalendar.Window] = VenueCalendar.standard.continuousWindows(.krx)
    ) {
        self.parameters = parameters
        self.symbols = symbols
        self.windows = windows
        self.dayClose = windows.last.map { Int64($0.end) } ?? KRX.closingAuctionStart
        self.states = Array(repeating: SymbolState(), count: symbols.count)
        self.pastVolumes = Array(
            repeating: 0,
            count: parameters.wantsPastMinuteBars ? symbols.count * Self.minutesPerDay : 0
        )
    }

    /// The stage of the code at `symbol`.
    public func stage(of symbol: SymbolIndex) -> ScalpingStage { self.states[self.checked(symbol)].stage }

    /// The reason the position of the code at `symbol` is being closed, `.none` when it is not.
    public func exitReason(of symbol: SymbolIndex) -> ScalpingExit { self.states[self.checked(symbol)].exitReason }

    /// Records the last price, runs the code's exit and timeout rules, then checks for a breakout entry.
    /// - Complexity: O(1), no allocation.
    public mutating func onTrade(_ trade: Tick, broker: inout B, clock: C) {
        let now = clock.now
        let symbol = self.checked(trade.symbol)
        self.states[symbol].lastPrice = trade.price
        self.manage(symbol, broker: &broker, now: now)
        self.enterIfBreakout(trade, symbol: symbol, broker: &broker, now: now)
    }

    /// Keeps the book's features for the entry checks and exit prices, then runs the code's exit rules.
    /// - Complexity: O(1), no allocation.
    public mutating func onBook(_ book: BookFeatures, symbol index: SymbolIndex, broker: inout B, clock: C) {
        let symbol = self.checked(index)
        self.states[symbol].book = book
        self.manage(symbol, broker: &broker, now: clock.now)
    }

    /// Forgets the code's book, so no entry is taken off one from before a reconnect (entries need a book; exits
    /// mark at the last trade meanwhile), then runs the code's exit rules.
    /// - Complexity: O(1), no allocation.
    public mutating func onGap(symbol index: SymbolIndex, broker: inout B, clock: C) {
        let symbol = self.checked(index)
        self.states[symbol].book = BookFeatures()
        self.manage(symbol, broker: &broker, now: clock.now)
    }

    /// The book features the code's entries and exits read now; empty (`bestAsk` 0) before any book and after a
    /// gap until the next.
    public func book(of symbol: SymbolIndex) -> BookFeatures { self.states[self.checked(symbol)].book }

    /// A completed bar of the entry interval sets the breakout level for the next bar; an incomplete or auction
    /// bar clears it, so no entry is taken off a bar with missing trades, and so does one lighter than
    /// `minRelativeVolume` of the same minutes the day before.
    /// - Complexity: O(1), no allocation.
    public mutating func onCandle(_ candle: Candle, symbol index: SymbolIndex, broker: inout B, clock: C) {
        let i = self.checked(index)
        if Int32(candle.seconds) == self.parameters.entryIntervalSeconds {
            if candle.flags.isRegularAndComplete, self.isHeavyEnough(candle, symbol: i) {
                self.states[i].breakoutLevel = candle.high
                self.states[i].levelExpiry = candle.end + UInt32(candle.seconds)
            } else {
                self.states[i].breakoutLevel = 0
            }
        }
        self.manage(i, broker: &broker, now: clock.now)
    }

    /// Applies a fill, cancel or reject of the code's working order. Updates of orders this strategy is not
    /// tracking (another strategy's, or a stale one) are ignored.
    /// - Complexity: O(symbols) to find the code, no allocation.
    public mutating func onOrderUpdate(_ update: OrderUpdate, broker: inout B, clock: C) {
        guard let symbol = self.symbols.index(of: update.code)?.offset else { return }
        let now = clock.now
        let working = self.states[symbol].stage == .entering || self.states[symbol].stage == .exiting
        guard working, self.states[symbol].order == update.id else { return }
        switch update.kind {
        case .accepted:
            return
        case .partiallyFilled, .filled:
            self.states[symbol].applyFill(update, now: now)
            if update.kind == .filled {
                self.finishOrder(symbol, now: now)
            }
        case .cancelled, .rejected:
            self.finishOrder(symbol, now: now)
        case .throttled:
            self.decideAgain(symbol, now: now)
        }
        self.manage(symbol, broker: &broker, now: now)
    }

    /// Adds the minute's volume to the code's profile of the previous day; bars outside continuous trading, or when
    /// the parameters want no history, are ignored.
    /// - Complexity: O(1), no allocation.
    public mutating func onPastMinute(_ bar: Candle, symbol index: SymbolIndex) {
        let i = self.checked(index)
        guard let minute = Self.minuteOfSession(bar.start), !self.pastVolumes.isEmpty else { return }
        self.pastVolumes[i * Self.minutesPerDay + minute] += Int64(bar.volume)
    }

    /// The minute of continuous trading (0 at 09:00) that starts at exchange time `start`, or nil outside it.
    private static func minuteOfSession(_ start: UInt32) -> Int? {
        let minute = Int(Self.secondOfDay(Int64(start) * 1_000_000_000) - KRX.openTime) / 60
        return (0..<Self.minutesPerDay).contains(minute) ? minute : nil
    }

    /// Whether `candle` traded at least `minRelativeVolume` percent of its minutes' volume the day before; always
    /// when the check is off, never when the day before is unknown (no entry on a check that cannot be made).
    private func isHeavyEnough(_ candle: Candle, symbol: Int) -> Bool {
        let percent = Int64(self.parameters.minRelativeVolume)
        guard percent > 0 else { return true }
        guard let first = Self.minuteOfSession(candle.start) else { return false }
        let last = min(first + max(1, Int(candle.seconds) / 60), Self.minutesPerDay)
        var past: Int64 = 0
        for minute in first..<last { past += self.pastVolumes[symbol * Self.minutesPerDay + minute] }
        return past > 0 && Int64(candle.volume) * 100 >= percent * past
    }

    /// Runs every code's timeout, time-stop and close rules.
    /// - Complexity: O(symbols), no allocation.
    public mutating func onTimer(broker: inout B, clock: C) {
        let now = clock.now
        for symbol in self.states.indices {
            self.manage(symbol, broker: &broker, now: now)
        }
    }

    private func checked(_ symbol: SymbolIndex) -> Int {
        precondition(
            symbol.offset < self.states.count,
            "symbol index \(symbol.offset) outside 0..<\(self.states.count)"
        )
        return symbol.offset
    }

    /// Seconds after KST midnight at engine time `now`.
    private static func secondOfDay(_ now: Int64) -> Int64 {
        (now / 1_000_000_000 + KST.offsetSeconds) % 86_400
    }

    private mutating func enterIfBreakout(_ trade: Tick, symbol: Int, broker: inout B, now: Int64) {
        let p = self.parameters
        let state = self.states[symbol]
        guard state.stage == .flat, now >= state.cooldownUntil, !trade.halted, trade.side != .preMarket else { return }
        guard self.entersAt(secondOfDay: Self.secondOfDay(now)) else { return }
        guard state.breakoutLevel > 0, trade.exchangeTime < state.levelExpiry, trade.price > state.breakoutLevel,
            trade.strength >= p.minStrength
        else { return }
        let book = state.book
        guard !book.isAuction, book.bestAsk > 0, book.spreadTicks <= p.maxSpreadTicks,
            book.topImbalance >= p.minImbalance
        else { return }
        guard broker.position(of: trade.code).quantity == 0, broker.openOrders(of: trade.code).isEmpty else { return }
        let price = KRX.ceilToTick(Int64(book.bestAsk))
        let quantity = min(p.budgetKRW / price, Int64(Int32.max))
        guard quantity >= 1 else { return }
        let id = broker.nextOrderID()
        let intent = OrderIntent(
            id: id,
            code: trade.code,
            side: .buy,
            quantity: Int32(quantity),
            price: Int32(price),
            purpose: .entry,
            decidedAt: now
        )
        if broker.submit(intent) == .accepted {
            self.states[symbol].startOrder(id, stage: .entering, at: now)
        } else {
            self.states[symbol].cooldownUntil = now + p.cooldownSeconds * 1_000_000_000
        }
    }

    /// Whether `secondOfDay` lies in a window's entry stretch.
    /// - Complexity: O(windows), a handful; no allocation.
    private func entersAt(secondOfDay: Int64) -> Bool {
        let p = self.parameters
        for window in self.windows
        where secondOfDay >= Int64(window.start) + p.noEntryAfterOpenSeconds
            && secondOfDay < Int64(window.end) - p.noEntryBeforeCloseSeconds
        {
            return true
        }
        return false
    }

    /// Timeouts of working orders, and the exit rules of a position.
    private mutating func manage(_ symbol: Int, broker: inout B, now: Int64) {
        let p = self.parameters
        let state = self.states[symbol]
        switch state.stage {
        case .flat:
            return
        case .entering, .exiting:
            let timeout = state.stage == .entering ? p.entryTimeoutMilliseconds : p.exitTimeoutMilliseconds
            if !state.cancelSent, now - state.orderSentAt >= timeout * 1_000_000,
                broker.cancel(state.order, decidedAt: now) == .accepted
            {
                self.states[symbol].cancelSent = true
            }
        case .long:
            // After a throttled exit the reason is decided afresh, once KIS's second is over.
            if state.exitReason == .none && now >= state.retryAt {
                self.states[symbol].exitReason = self.exitSignal(state, now: now)
            }
            if self.states[symbol].exitReason != .none && now >= state.retryAt {
                self.sendExit(symbol, broker: &broker, now: now)
            }
        }
    }

    private func exitSignal(_ state: SymbolState, now: Int64) -> ScalpingExit {
        let p = self.parameters
        if Self.secondOfDay(now) >= self.dayClose - p.flattenBeforeCloseSeconds {
            return .close
        }
        if now - state.openedAt >= p.timeStopSeconds * 1_000_000_000 {
            return .timeStop
        }
        let mark = state.mark
        guard mark > 0 else { return .none }
        let entry = state.entryValue / Int64(state.entryQuantity)
        var target = KRX.ceilToTick(entry)
        for _ in 0..<p.takeProfitTicks { target = KRX.up(target) }
        if mark >= target {
            return .takeProfit
        }
        var stop = KRX.floorToTick(entry)
        for _ in 0..<p.stopLossTicks { stop = KRX.down(stop) }
        return mark <= stop ? .stopLoss : .none
    }

    private mutating func sendExit(_ symbol: Int, broker: inout B, now: Int64) {
        let state = self.states[symbol]
        let code = self.symbols[SymbolIndex(symbol)]
        var price = state.mark
        if state.exitReason != .takeProfit {
            for _ in 0..<self.parameters.exitSlippageTicks where price > 1 { price = KRX.down(price) }
        }
        let id = broker.nextOrderID()
        let intent = OrderIntent(
            id: id,
            code: code,
            side: .sell,
            quantity: state.held,
            price: Int32(price),
            purpose: .exit,
            decidedAt: now
        )
        if broker.submit(intent) == .accepted {
            self.states[symbol].startOrder(id, stage: .exiting, at: now)
        } else {
            self.states[symbol].retryAt = now + self.parameters.exitTimeoutMilliseconds * 1_000_000
        }
    }

    /// An order KIS refused unplaced for the key's budget: as if it had never been sent. No cooldown and no exit
    /// reason carry over: after KIS's second of penalty (a decision inside it would only wait in the rate limiter
    /// while its prices went stale) the next event decides again, an entry only if the breakout still holds, an
    /// exit by the rules and at the bid of that moment.
    private mutating func decideAgain(_ symbol: Int, now: Int64) {
        let after = now + Self.throttlePenaltyNanoseconds
        if self.states[symbol].held > 0 {
            self.states[symbol].stage = .long
            self.states[symbol].exitReason = .none
            self.states[symbol].retryAt = after
        } else {
            self.states[symbol].reset(cooldownUntil: after)
        }
    }

    /// How long KIS refuses every request after an EGW00201: it counts per second.
    static var throttlePenaltyNanoseconds: Int64 { 1_000_000_000 }

    /// The working order is done (filled, cancelled or rejected): the code holds shares or it does not.
    private mutating func finishOrder(_ symbol: Int, now: Int64) {
        if self.states[symbol].held > 0 {
            self.states[symbol].stage = .long
            self.states[symbol].retryAt = now
        } else {
            self.states[symbol].reset(cooldownUntil: now + self.parameters.cooldownSeconds * 1_000_000_000)
        }
    }
}

/// One code's scalping state.
private struct SymbolState: BitwiseCopyable {
    var stage: ScalpingStage = .flat
    var exitReason: ScalpingExit = .none
    var cancelSent = false
    /// The working order, when `stage` is entering or exiting.
    var order = OrderID(rawValue: 0)
    var orderSentAt: Int64 = 0
    /// Shares held, from this strategy's fills.
    var held: Int32 = 0
    /// Shares and Σ price × shares of the entry's fills, for the average entry price.
    var entryQuantity: Int32 = 0
    var entryValue: Int64 = 0
    /// Engine time of the entry's first fill.
    var openedAt: Int64 = 0
    /// No exit is sent before this engine time (after a refused one), nor, after a throttled one, decided.
    var retryAt: Int64 = 0
    var cooldownUntil: Int64 = 0
    /// High of the last complete bar of the entry interval, 0 for none, and the exchange time from which it is no
    /// longer the previous bar.
    var breakoutLevel: Int32 = 0
    var levelExpiry: UInt32 = 0
    var lastPrice: Int32 = 0
    var book = BookFeatures()

    /// The price a sell would get: the best bid, or the last trade before any book.
    var mark: Int64 { Int64(self.book.bestBid > 0 ? self.book.bestBid : self.lastPrice) }

    mutating func startOrder(_ id: OrderID, stage: ScalpingStage, at now: Int64) {
        self.stage = stage
        self.order = id
        self.orderSentAt = now
        self.cancelSent = false
    }

    mutating func applyFill(_ update: OrderUpdate, now: Int64) {
        switch update.side {
        case .buy:
            if self.entryQuantity == 0 {
                self.openedAt = now
            }
            self.held += update.fillQuantity
            self.entryQuantity += update.fillQuantity
            self.entryValue += Int64(update.fillQuantity) * Int64(update.fillPrice)
        case .sell:
            self.held -= update.fillQuantity
        }
    }

    /// Back to flat, keeping what describes the market rather than the position.
    mutating func reset(cooldownUntil: Int64) {
        self = SymbolState(
            cooldownUntil: cooldownUntil,
            breakoutLevel: self.breakoutLevel,
            levelExpiry: self.levelExpiry,
            lastPrice: self.lastPrice,
            book: self.book
        )
    }
}
