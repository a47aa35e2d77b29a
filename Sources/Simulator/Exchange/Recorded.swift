import TickCore

/// The capture-fed market (`SimConfig.market` set): the simulated crowd and the simulator's own publication
/// are off; the recorded trade and book frames go out byte for byte at their recorded times, and client orders
/// match the recorded market without moving it, by the rules of the replay's exchange (`ReplayExchange`), so a
/// replay of the capture and a live run against this simulator meet the same fills:
///
/// - an order that arrives takes the last recorded book level by level up to its limit; the rest rests (an IOC or
///   FOK remainder is cancelled);
/// - a resting buy fills at its limit when a recorded trade prints strictly below it (a sell: above), up to the
///   trade's volume over all the orders it crosses; at equal prices the queue ahead is unknown, so it waits;
/// - a new recorded book that crosses a resting order fills it level by level, as on arrival.
///
/// A recorded book is not depleted by what client orders take from it: the next recorded book says what was left.
extension ExchangeState {
    /// Opens the recorded day: each code's band from its recorded previous close, no crowd, continuous trading
    /// from the start (the capture carries the market's phases in its records).
    mutating func openRecorded(_ recorded: RecordedMarket) {
        for i in self.symbols.indices {
            let close = recorded.previousClose[self.symbols[i].code] ?? self.symbols[i].listing.basePrice
            self.symbols[i].adopt(day: self.day, close: close)
        }
        self.recordedBooks = Array(repeating: nil, count: self.symbols.count)
        self.recordedTime =
            recorded.frames.first.map { $0.trades.first?.exchangeTime ?? $0.book?.exchangeTime ?? 0 } ?? 0
        self.stage = .continuous
        self.nextStageAt = .max
    }

    /// Plays every recorded frame due by market time `target`, in recorded order. The recorded day starts when
    /// a client first subscribes to its trades: a client that connects after the simulator starts still sees the
    /// day from its first message, as a replay of the capture does.
    /// - Complexity: O(frames played × open orders).
    mutating func advanceRecorded(_ recorded: RecordedMarket, to target: Int64) {
        if self.recordedCursor == 0, self.sessions.tradeRegisteredCodes.isEmpty {
            self.recordedStart = max(self.recordedStart, target)
            self.now = max(self.now, target)
            return
        }
        while self.recordedCursor < recorded.frames.count {
            let due = self.recordedStart + recorded.frames[self.recordedCursor].offsetNs / 1_000
            guard due <= target else { break }
            self.now = max(self.now, due)
            self.play(recorded.frames[self.recordedCursor])
            self.recordedCursor += 1
        }
        self.now = max(self.now, target)
    }

    private mutating func play(_ frame: RecordedMarket.Frame) {
        guard let symbol = self.symbolIndex[frame.code] else { return }
        if let book = frame.book {
            self.recordedTime = max(self.recordedTime, book.exchangeTime)
            self.deliver(frame.bytes, to: self.sessions.subscribers("H0STASP0", symbol: symbol))
            self.recordedBooks[symbol] = book
            self.symbols[symbol].mirror(book)
            for i in self.orders.indices where self.orders[i].isOpen && self.orders[i].code == frame.code {
                self.takeRecordedBook(i, symbol: symbol, limit: self.orders[i].restingPrice)
            }
        } else {
            self.deliver(frame.bytes, to: self.sessions.subscribers("H0STCNT0", symbol: symbol))
            for trade in frame.trades {
                self.recordedTime = max(self.recordedTime, trade.exchangeTime)
                self.symbols[symbol].record(trade)
                self.fillResting(on: trade, symbol: symbol, code: frame.code)
            }
        }
    }

    /// A recorded trade fills the resting orders it printed through, at their limits, up to its volume.
    private mutating func fillResting(on trade: Trade, symbol: Int, code: String) {
        var volume = Int64(trade.volume)
        let price = Int64(trade.price)
        for i in self.orders.indices where volume > 0 && self.orders[i].isOpen && self.orders[i].code == code {
            guard let limit = self.orders[i].restingPrice else { continue }
            let crossed = self.orders[i].side == .buy ? price < limit : price > limit
            guard crossed else { continue }
            let quantity = min(self.orders[i].remaining, volume)
            volume -= quantity
            self.fill(i, price: limit, quantity: quantity)
        }
    }

    /// Order `index` takes the last recorded book of its code, best level first, up to `limit` (nil: any price).
    /// Returns the price of its last fill, if it took anything.
    @discardableResult
    private mutating func takeRecordedBook(_ index: Int, symbol: Int, limit: Int64?) -> Int64? {
        guard let book = self.recordedBooks[symbol] else { return nil }
        var last: Int64?
        let side = self.orders[index].side
        for level in 0..<10 where self.orders[index].remaining > 0 {
            let price = Int64(side == .buy ? book.askPrices[level] : book.bidPrices[level])
            let available = Int64(side == .buy ? book.askQuantities[level] : book.bidQuantities[level])
            guard price > 0, available > 0 else { break }
            if let limit, side == .buy ? price > limit : price < limit { break }
            self.fill(index, price: price, quantity: min(self.orders[index].remaining, available))
            last = price
        }
        return last
    }

    /// What the last recorded book offers an order of `side` up to `limit` (the FOK check).
    private func recordedAvailable(symbol: Int, side: Side, limit: Int64?) -> Int64 {
        guard let book = self.recordedBooks[symbol] else { return 0 }
        var sum: Int64 = 0
        for level in 0..<10 {
            let price = Int64(side == .buy ? book.askPrices[level] : book.bidPrices[level])
            guard price > 0 else { break }
            if let limit, side == .buy ? price > limit : price < limit { break }
            sum += Int64(side == .buy ? book.askQuantities[level] : book.bidQuantities[level])
        }
        return sum
    }

    /// Works a new order against the recorded market (continuous trading throughout): it takes the book, and its
    /// remainder rests at its limit, or at the last fill price (the band edge) for a market-type order, as the
    /// generated market rests it; an IOC/FOK remainder is cancelled.
    mutating func workRecorded(_ index: Int, symbol: Int, limit: Int64?) {
        let order = self.orders[index]
        if order.condition == .fok,
            self.recordedAvailable(symbol: symbol, side: order.side, limit: limit) < order.remaining
        {
            self.orders[index].cancelled = order.remaining
            self.notice(index, event: .expired)
            return
        }
        let lastFill = self.takeRecordedBook(index, symbol: symbol, limit: limit)
        let remaining = self.orders[index].remaining
        guard remaining > 0 else { return }
        if order.condition != .none {
            self.orders[index].cancelled += remaining
            self.notice(index, event: .expired)
            return
        }
        let market = self.symbols[symbol]
        self.orders[index].restingPrice = limit ?? lastFill ?? (order.side == .buy ? market.upper : market.lower)
    }
}

extension SymbolMarket {
    /// Opens `day` for a recorded market: band from the recorded previous close, an empty book, no crowd events.
    mutating func adopt(day: UInt32, close: Int64) {
        self.date = day
        self.base = close
        (self.lower, self.upper, self.width) = KRX.limits(base: close)
        self.book = MatchingBook()
        self.nextEventAt = .max
    }

    /// A recorded trade moves the quote fields the quotation endpoints answer from.
    mutating func record(_ trade: Trade) {
        let price = Int64(trade.price)
        self.last = price
        self.open = trade.open > 0 ? Int64(trade.open) : (self.open > 0 ? self.open : price)
        self.high = max(self.high, trade.high > 0 ? Int64(trade.high) : price)
        self.low =
            self.low > 0
            ? min(self.low, trade.low > 0 ? Int64(trade.low) : price) : (trade.low > 0 ? Int64(trade.low) : price)
        self.volume = trade.cumulativeVolume > 0 ? trade.cumulativeVolume : self.volume + Int64(trade.volume)
        self.value = trade.cumulativeValue > 0 ? trade.cumulativeValue : self.value + price * Int64(trade.volume)
    }

    /// The recorded book becomes the book the quotation endpoints show (client orders never rest in it: they
    /// match the recorded market without moving it). A level off the KRX ladder, which no real book has, is left
    /// out rather than trusted.
    mutating func mirror(_ recorded: Book) {
        var book = MatchingBook()
        for level in 0..<10 {
            if KRX.isOnTick(Int64(recorded.askPrices[level])), recorded.askQuantities[level] > 0 {
                book.add(
                    .sell,
                    price: Int64(recorded.askPrices[level]),
                    owner: .background,
                    quantity: Int64(recorded.askQuantities[level])
                )
            }
            if KRX.isOnTick(Int64(recorded.bidPrices[level])), recorded.bidQuantities[level] > 0 {
                book.add(
                    .buy,
                    price: Int64(recorded.bidPrices[level]),
                    owner: .background,
                    quantity: Int64(recorded.bidQuantities[level])
                )
            }
        }
        self.book = book
    }
}
