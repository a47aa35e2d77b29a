import Foundation
import TickCore

/// A client order's share of a match: who, at what price, how much.
struct ClientFill {
    var owner: Owner
    var price: Int64
    var quantity: Int64
}

/// One print on the tape `inquire-ccnl` shows: time, price, quantity and the session's trade strength after it.
struct TapePrint {
    var time: UInt32
    var price: Int64
    var quantity: Int64
    /// CTTR in hundredths.
    var strength: Int64
}

/// One symbol's market: its book, the seeded crowd that trades on it, today's statistics, and the H0STCNT0 and
/// H0STASP0 records that describe it. Every derived field comes from the same counters, so the chains a client
/// checks (cumulative volume and value, VWAP, trade strength, book totals) hold by construction, and every price
/// the market produces comes from the book, whose prices are all on the KRX ladder.
struct SymbolMarket {
    let listing: Listing
    let index: Int
    let seed: UInt64
    var random: SimRandom

    // MARK: The day

    var date: UInt32 = 0
    /// Previous close (`stck_sdpr`) and the band around it.
    var base: Int64 = 0
    var upper: Int64 = 0
    var lower: Int64 = 0
    var width: Int64 = 0
    var history: [DailyBar]
    /// What `inquire-price` marks on the code (warning, halt, administrative issue).
    let designation: Designation
    var book = MatchingBook()

    var open: Int64 = 0
    var high: Int64 = 0
    var low: Int64 = 0
    var last: Int64 = 0
    var openTime: UInt32 = 0
    var highTime: UInt32 = 0
    var lowTime: UInt32 = 0
    var volume: Int64 = 0
    var value: Int64 = 0
    var sellVolume: Int64 = 0
    var buyVolume: Int64 = 0
    var sellCount: Int64 = 0
    var buyCount: Int64 = 0
    /// Volume of today's opening auction (reported as ANTC_VOL once continuous trading starts).
    var openingAuctionVolume: Int64 = 0
    /// Single-price prints today (the calls and volatility interruptions).
    var auctionPrints: Int64 = 0
    var minutes: [MinuteBar] = []
    /// Minute bars of the earlier days this simulator ran, by date.
    var pastMinutes: [UInt32: [MinuteBar]] = [:]
    /// The latest prints, a ring of `tapeCapacity` (`inquire-ccnl`).
    var tape: [TapePrint] = []
    var tapeNext = 0
    static let tapeCapacity = 30
    /// The ten levels of each side a client was last shown (feed or REST), for the per-level changes of the REST book.
    var shownAsks: [(price: Int64, total: Int64)] = []
    var shownBids: [(price: Int64, total: Int64)] = []

    // MARK: Volatility interruptions

    /// The price of the last single-price call (the open, or the last VI's): the static VI's reference.
    var staticBase: Int64 = 0
    /// While a volatility interruption's call runs: when it ends.
    var interruptedUntil: Int64?
    /// The dynamic VI threshold: 3 % for KOSPI 200 constituents (the catalogued large caps), 6 % for other codes.
    let dynamicLimit: Double
    static let staticLimit = 0.10

    /// `vi_cls_code` while a volatility interruption runs: `1` static, `2` dynamic; `N` otherwise (not checked
    /// against a real answer).
    var viCode = "N"

    var isInterrupted: Bool { self.interruptedUntil != nil }

    // MARK: The crowd

    var crowd: Crowd
    var lastEventAt: Int64 = 0
    var nextCrowdAt: Int64 = .max
    var nextEventAt: Int64 = .max
    /// Events per second at the session's mean activity.
    let baseRate: Double
    /// Median resting size of a background level, and median and cap of a background aggressor, in shares.
    let depthMedian: Double
    let tradeMedian: Double
    let tradeCap: Int64

    // MARK: Publication

    /// Formatted H0STCNT0 records waiting for the next flush, and how many.
    var pendingTrades: [UInt8] = []
    var pendingCount = 0
    var bookChanged = false
    var publishedAskTotal: Int64 = 0
    var publishedBidTotal: Int64 = 0

    /// `activity` scales how busy the crowd is: 1 for KRX, a fraction for NXT's thinner market.
    init(listing: Listing, index: Int, seed: UInt64, date: UInt32, activity: Double = 1) {
        self.listing = listing
        self.index = index
        self.seed = seed
        self.random = SimRandom(seed: seed, stream: UInt64(index) + 1)
        var historyRandom = SimRandom(seed: seed, stream: 0x1000 + UInt64(index))
        let (trend, designation) = History.profile(seed: seed, index: index)
        self.history = History.make(listing, trend: trend, before: date, random: &historyRandom)
        self.designation = designation
        let cap = Double(listing.listedShares) * Double(listing.basePrice)
        // Activity grows with size, the leaders most: about 14 events a second for Samsung Electronics, 2–3 for the
        // smallest catalogued caps (real 005930 prints 8 times a second even at 11:48).
        let rate = 0.6 + 14 * pow(cap / 4e14, 0.75)
        self.baseRate = rate * activity
        // A level holds about 3 ppm of the market cap, as in the real books of Tests/Fixtures/kis (005930 at
        // 314,000: 5,876–41,390 shares a level, a median of 3.2 ppm).
        let levelValue = max(3e7, cap * 3.2e-6)
        self.depthMedian = max(5, levelValue / Double(listing.basePrice))
        // Aggressor sizes are log-normal with σ 2.2, so the mean is about 11 times the median, as in real prints
        // (005930: median 2–3 shares, mean about 60). The mean is set so a day's prints add up to a typical day's
        // volume (`History.typicalTurnover` of the listed shares); the largest take a level and a half.
        let aggressorsPerDay = Self.marketShare * rate * Double(KRX.continuousSeconds)
        let meanSize = Double(listing.listedShares) * History.typicalTurnover / aggressorsPerDay
        self.tradeMedian = max(1, meanSize / exp(Self.tradeSpread * Self.tradeSpread / 2))
        self.tradeCap = Int64(1.5 * self.depthMedian)
        self.dynamicLimit = Catalog.isLargeCap(listing.code) ? 0.03 : 0.06
        self.date = date
        self.crowd = Crowd(base: listing.basePrice, at: 0, random: &self.random)
    }

    var code: String { self.listing.code }
    var tick: Int64 { KRX.tick(at: max(self.last, self.base)) }
    /// The price quotes are relative to: the last trade, or the base before the first one.
    var reference: Int64 { self.last > 0 ? self.last : self.base }

    /// Share of continuous-session events that are market orders (the rest add or cancel limit orders).
    static let marketShare = 0.35
    /// σ of the log-normal aggressor size.
    static let tradeSpread = 2.2

    // MARK: Day boundaries

    /// Opens `date` at 08:30: new base and band, a fresh book around the base, counters reset.
    mutating func startDay(_ date: UInt32, at time: Int64) {
        self.date = date
        self.base = self.history.last?.close ?? self.listing.basePrice
        (self.lower, self.upper, self.width) = KRX.limits(base: self.base)
        self.book = MatchingBook()
        self.open = 0
        self.high = 0
        self.low = 0
        self.last = 0
        (self.openTime, self.highTime, self.lowTime) = (0, 0, 0)
        (self.volume, self.value, self.sellVolume, self.buyVolume, self.sellCount, self.buyCount) = (0, 0, 0, 0, 0, 0)
        self.openingAuctionVolume = 0
        self.auctionPrints = 0
        self.minutes = []
        self.tape = []
        self.tapeNext = 0
        self.staticBase = self.base
        self.interruptedUntil = nil
        self.crowd = Crowd(base: self.base, at: Self.sessionTime(date, KRX.openTime), random: &self.random)
        self.lastEventAt = time
        self.seedBook()
        self.publishedAskTotal = self.book.total(.sell)
        self.publishedBidTotal = self.book.total(.buy)
        self.bookChanged = true
    }

    /// Closes the day into the history (a day without trades repeats the base as its close) and keeps its minutes.
    mutating func endDay() {
        let close = self.last > 0 ? self.last : self.base
        self.history.append(
            DailyBar(
                date: self.date,
                open: self.open > 0 ? self.open : close,
                high: max(self.high, close),
                low: self.low > 0 ? self.low : close,
                close: close,
                volume: self.volume,
                value: self.value
            )
        )
        self.pastMinutes[self.date] = self.minutes
        self.interruptedUntil = nil
        self.viCode = "N"
    }

    /// Minute bars of `date`, oldest first: today's so far, a simulated day's, or ones drawn around a day of the
    /// seeded history (`History.minutes`); empty for a day the code did not trade.
    func minuteBars(on date: UInt32) -> [MinuteBar] {
        if date == self.date { return self.minutes }
        if let bars = self.pastMinutes[date] { return bars }
        guard let day = self.history.lastIndex(where: { $0.date == date }) else { return [] }
        let previous = day > 0 ? self.history[day - 1].close : self.history[day].open
        var random = SimRandom(seed: self.seed, stream: 0x3000_0000 + UInt64(self.index) << 32 + UInt64(date))
        return History.minutes(of: self.history[day], previousClose: previous, random: &random)
    }

    static func sessionTime(_ date: UInt32, _ second: Int64) -> Int64 {
        ((KST.epochSeconds(date: date, time: 0) ?? 0) + second) * 1_000_000
    }

    private mutating func seedBook() {
        var bid = KRX.down(self.base)
        var ask = self.base
        for level in 0..<10 {
            // The touch is thinner than the levels behind it, as in the real books.
            let median = level == 0 ? self.depthMedian * 0.4 : self.depthMedian
            if bid >= self.lower {
                self.book.add(.buy, price: bid, owner: .background, quantity: self.levelSize(median: median))
            }
            if ask <= self.upper {
                self.book.add(.sell, price: ask, owner: .background, quantity: self.levelSize(median: median))
            }
            bid = KRX.down(bid)
            ask = KRX.up(ask)
        }
    }

    private mutating func levelSize(median: Double) -> Int64 {
        max(1, Int64((median * exp(0.5 * self.random.normal())).rounded()))
    }

    // MARK: The crowd's events

    /// Schedules the next background event after `time` in `phase`: the crowd's next order, the next news item
    /// or the end of a volatility interruption, whichever comes first.
    mutating func scheduleNext(after time: Int64, phase: KRX.Phase) {
        let multiplier: Double =
            switch phase {
            case .closed: 0
            // Call auctions collect interest slowly; together with the small auction order size below this leaves
            // a book of normal depth after the uncross (Samsung's real opening auction traded ~0.7 M shares).
            case .preOpen, .closingAuction: 0.05
            case .continuous:
                self.isInterrupted ? 0.3 : self.crowd.intensity(secondOfDay: KST.secondsOfDay(epochMicros: time))
            }
        guard multiplier > 0 else {
            self.nextCrowdAt = .max
            self.nextEventAt = .max
            return
        }
        let gap = self.random.exponential(mean: 1 / (self.baseRate * multiplier))
        self.nextCrowdAt = time + max(1, Int64(gap * 1e6))
        let news = phase == .continuous && !self.isInterrupted ? self.crowd.nextNewsAt : .max
        self.nextEventAt = min(self.nextCrowdAt, news, self.interruptedUntil ?? .max)
    }

    /// The background event due at `time`: the end of a volatility interruption, a news item, or one of the
    /// crowd's orders (a market order, a new limit order or a cancel). Returns the client orders it filled; prints
    /// are recorded (and formatted when `format` is given).
    mutating func backgroundEvent(at time: Int64, phase: KRX.Phase, format: RecordFormat?) -> [ClientFill] {
        self.evolve(to: time, phase: phase)
        self.bookChanged = true
        if let until = self.interruptedUntil, time >= until {
            return self.runAuction(at: time, kind: .volatility, format: format)
        }
        if phase == .continuous, !self.isInterrupted, time >= self.crowd.nextNewsAt {
            let jump = self.crowd.news(at: time, lower: self.lower, upper: self.upper, random: &self.random)
            // A jump that big would trip the dynamic VI on the first order that chased it; KRX would not call a
            // VI into the closing call, so none starts in the last three minutes before it.
            if abs(jump) >= self.dynamicLimit, KST.secondsOfDay(epochMicros: time) < KRX.closingAuctionStart - 180 {
                self.interrupt(at: time, code: "2")
            }
            return []
        }
        var fills: [ClientFill] = []
        let u = self.random.unit()
        if phase == .continuous && !self.isInterrupted {
            if u < Self.marketShare {
                let side: Side = self.random.chance(self.buyProbability) ? .buy : .sell
                let drawn = self.tradeMedian * exp(Self.tradeSpread * self.random.normal())
                let quantity = min(self.tradeCap, max(1, Int64(drawn.rounded())))
                fills = self.aggress(side, limit: nil, quantity: quantity, at: time, format: format).passiveFills
                self.replenish(side.opposite)
            } else if u < 0.75 {
                self.addBackground(auction: false)
            } else {
                self.cancelBackground()
            }
            self.keepDepth()
        } else if u < 0.8 {
            self.addBackground(auction: true)
        } else {
            self.cancelBackground()
        }
        return fills
    }

    /// Moves the crowd forward to `time` (in continuous trading only: the fair value does not move overnight or in
    /// the scheduled calls).
    private mutating func evolve(to time: Int64, phase: KRX.Phase) {
        let dt = Double(max(0, time - self.lastEventAt)) / 1e6
        self.lastEventAt = time
        guard phase == .continuous else { return }
        self.crowd.evolve(
            seconds: dt,
            to: time,
            secondOfDay: KST.secondsOfDay(epochMicros: time),
            lower: self.lower,
            upper: self.upper,
            random: &self.random
        )
    }

    /// Starts a volatility interruption at `time`: a two-minute single-price call that ends at a random moment
    /// within the following 30 seconds, as on KRX. Orders collect, the book publishes HOUR_CLS_CODE `C` with the
    /// expected price, and no continuous print happens until the call clears.
    mutating func interrupt(at time: Int64, code: String) {
        guard self.interruptedUntil == nil else { return }
        self.viCode = code
        self.interruptedUntil = time + Int64((120 + 30 * self.random.unit()) * 1e6)
        self.nextEventAt = min(self.nextEventAt, self.interruptedUntil!)
        self.bookChanged = true
    }

    /// The volatility interruption a print at `price` would trip, as its `vi_cls_code`: `2` (dynamic) when `price`
    /// is the dynamic threshold away from `reference` (the last print before the order that would make it), `1`
    /// (static) when it is 10 % from the last single-price call; nil when it trips none.
    private func trips(_ price: Int64, reference: Int64) -> String? {
        guard reference > 0, self.staticBase > 0 else { return nil }
        if Double(abs(price - self.staticBase)) / Double(self.staticBase) >= Self.staticLimit { return "1" }
        if Double(abs(price - reference)) / Double(reference) >= self.dynamicLimit { return "2" }
        return nil
    }

    /// The side the crowd's market orders take: towards the fair value (a few ticks away is near certainty), plus
    /// the regime's lean.
    private var buyProbability: Double {
        guard let bid = self.book.bestBid?.price, let ask = self.book.bestAsk?.price else {
            return self.book.bestAsk == nil ? 0.2 : 0.8
        }
        // Never one-sided: even a crowd chasing news meets some selling.
        return min(0.85, max(0.15, 0.5 + 0.35 * tanh(self.gapTicks(bid: bid, ask: ask) / 1.5) + self.crowd.lean))
    }

    /// The fair value's distance from the middle of the spread, in ticks.
    private func gapTicks(bid: Int64, ask: Int64) -> Double {
        (self.crowd.fair - Double(bid + ask) / 2) / Double(KRX.tick(at: ask))
    }

    /// How strongly the resting crowd leans to the buying side: bids are added, and asks withdrawn, when the fair
    /// value is above the middle and in a rising regime, so a book's imbalance leads its price, as in real books.
    private var bidLean: Double {
        guard let bid = self.book.bestBid?.price, let ask = self.book.bestAsk?.price else { return 0 }
        return 0.3 * tanh(self.gapTicks(bid: bid, ask: ask) / 2) + 0.5 * self.crowd.lean
    }

    /// One new background limit order. In a call it lands within four ticks of the fair value. In continuous
    /// trading it steps into a spread wider than a tick most of the time; otherwise it joins one of the ten levels,
    /// mostly near the touch, sized to bring the level back towards its typical depth (the touch about 0.6 of the
    /// others, as in the real books), so the book's shape stays stationary through the day.
    private mutating func addBackground(auction: Bool) {
        let side: Side = self.random.chance(0.5 + self.bidLean) ? .buy : .sell
        guard !auction, let bid = self.book.bestBid?.price, let ask = self.book.bestAsk?.price else {
            var price = auction ? KRX.floorToTick(Int64(self.crowd.fair)) : self.reference
            if auction {
                let offset = self.random.int(-4...4)
                for _ in 0..<abs(offset) { price = offset > 0 ? KRX.up(price) : KRX.down(price) }
            }
            price = min(max(price, self.lower), self.upper)
            let quantity = self.random.size(median: self.depthMedian * (auction ? 0.05 : 0.3))
            self.book.add(side, price: price, owner: .background, quantity: quantity)
            return
        }
        if KRX.up(bid) < ask && self.random.chance(0.6) {
            let price = side == .buy ? KRX.up(bid) : KRX.down(ask)
            let quantity = self.random.size(median: self.depthMedian * 0.3)
            self.book.add(side, price: price, owner: .background, quantity: quantity)
            return
        }
        // Nobody quotes on the wrong side of the value: when the fair value has left the touch behind, new orders
        // of that side go at the fair value (the stale touch itself is being withdrawn, `cancelBackground`).
        let level = min(9, self.random.geometric(0.35) - 1)
        var price =
            side == .buy
            ? min(bid, max(KRX.floorToTick(Int64(self.crowd.fair)), self.lower))
            : max(ask, min(KRX.ceilToTick(Int64(self.crowd.fair)), self.upper))
        price = side == .buy ? min(price, KRX.down(ask)) : max(price, KRX.up(bid))
        for _ in 0..<level { price = side == .buy ? KRX.down(price) : KRX.up(price) }
        guard price >= self.lower, price <= self.upper else { return }
        let resting = self.book.levels(side).first { $0.price == price }?.total ?? 0
        let typical = self.depthMedian * (level == 0 ? 0.6 : 1)
        let median = max(0.1 * self.depthMedian, typical - Double(resting))
        self.book.add(side, price: price, owner: .background, quantity: self.levelSize(median: median))
    }

    /// After an order swept the touch of `side`, liquidity providers step into the gap it left, most of the time
    /// before anyone else trades: large caps spend nearly all the session at a one-tick spread.
    private mutating func replenish(_ side: Side) {
        guard let bid = self.book.bestBid?.price, let ask = self.book.bestAsk?.price, KRX.up(bid) < ask,
            self.random.chance(0.7)
        else { return }
        let price = side == .buy ? KRX.up(bid) : KRX.down(ask)
        let quantity = self.random.size(median: self.depthMedian * 0.3)
        self.book.add(side, price: price, owner: .background, quantity: quantity)
    }

    /// Withdraws part of one background level, mostly near the touch; the share withdrawn is proportional to what
    /// rests there, so the book's depth stays stationary through the day.
    private mutating func cancelBackground() {
        let side: Side = self.random.chance(0.5 + self.bidLean) ? .sell : .buy
        let levels = self.book.levels(side)
        guard let touch = levels.first else { return }
        // A touch more than a tick on the wrong side of the fair value is stale: it is withdrawn whole, so prices
        // follow the value by quotes moving, as on a real book, more than by being traded through.
        let stale =
            side == .buy
            ? Double(touch.price - self.tick) > self.crowd.fair : Double(touch.price + self.tick) < self.crowd.fair
        if stale {
            self.book.cancelBackground(side, level: 0, quantity: touch.total)
            return
        }
        let index = min(levels.count - 1, self.random.geometric(0.35) - 1)
        let resting = levels[index].lots.reduce(0) { $0 + ($1.owner == .background ? $1.quantity : 0) }
        guard resting > 0 else { return }
        let share = 0.2 + 0.4 * self.random.unit()
        self.book.cancelBackground(side, level: index, quantity: max(1, Int64(Double(resting) * share)))
    }

    /// Refills each side to ten levels inside the band, continuing the ladder beyond the deepest level.
    mutating func keepDepth() {
        for side in [Side.buy, .sell] {
            var levels = self.book.levels(side).count
            var price = self.book.levels(side).last?.price
            while levels < 10 {
                if let p = price {
                    price = side == .buy ? KRX.down(p) : KRX.up(p)
                } else {
                    let opposite = self.book.levels(side.opposite).first?.price
                    price =
                        side == .buy ? KRX.down(opposite ?? self.reference) : (opposite.map(KRX.up) ?? self.reference)
                }
                guard let p = price, p >= self.lower, p <= self.upper else { break }
                self.book.add(side, price: p, owner: .background, quantity: self.levelSize(median: self.depthMedian))
                levels += 1
            }
        }
    }

    // MARK: Matching

    /// Runs an aggressor of `side` for `quantity` against the book in continuous trading, down to `limit`, one
    /// print per resting order it meets. A print that would trip a volatility interruption is not made: the
    /// interruption starts instead and what is left of the aggressor is not matched.
    ///
    /// - Returns: client lots filled passively, and the aggressor's own fills (price, quantity).
    mutating func aggress(
        _ side: Side,
        limit: Int64?,
        quantity: Int64,
        at time: Int64,
        format: RecordFormat?
    ) -> (passiveFills: [ClientFill], filled: [(price: Int64, quantity: Int64)]) {
        var passiveFills: [ClientFill] = []
        var filled: [(price: Int64, quantity: Int64)] = []
        var remaining = quantity
        let reference = self.reference
        while remaining > 0, !self.isInterrupted {
            let ask = self.book.bestAsk
            let bid = self.book.bestBid
            if let next = (side == .buy ? ask : bid)?.price, let code = self.trips(next, reference: reference) {
                self.interrupt(at: time, code: code)
                break
            }
            guard let match = self.book.matchHead(side, limit: limit, quantity: remaining) else { break }
            remaining -= match.quantity
            filled.append((match.price, match.quantity))
            if match.passive != .background {
                passiveFills.append(ClientFill(owner: match.passive, price: match.price, quantity: match.quantity))
            }
            self.recordTrade(
                price: match.price,
                quantity: match.quantity,
                kind: side == .buy ? .buyInitiated : .sellInitiated,
                ask: ask,
                bid: bid,
                at: time,
                format: format
            )
        }
        self.bookChanged = true
        return (passiveFills, filled)
    }

    enum AuctionKind { case opening, volatility, closing }

    /// Clears a single-price call (the 09:00 open, a volatility interruption, the 15:30 close) at the price with the
    /// most volume: one print, the new static VI reference.
    mutating func runAuction(at time: Int64, kind: AuctionKind, format: RecordFormat?) -> [ClientFill] {
        if kind == .volatility {
            self.interruptedUntil = nil
            self.viCode = "N"
        }
        self.bookChanged = true
        guard let (price, volume) = self.book.auctionPrice(reference: self.reference), volume > 0 else { return [] }
        let ask = self.book.bestAsk
        let bid = self.book.bestBid
        let (buys, sells) = self.book.uncross(at: price, volume: volume)
        if kind == .opening { self.openingAuctionVolume = volume }
        self.staticBase = price
        self.recordTrade(price: price, quantity: volume, kind: .auction, ask: ask, bid: bid, at: time, format: format)
        if kind == .volatility { self.keepDepth() }
        return (buys + sells).filter { $0.owner != .background }.map {
            ClientFill(owner: $0.owner, price: price, quantity: $0.quantity)
        }
    }

    enum TradeKind {
        case buyInitiated, sellInitiated, auction

        /// CCLD_DVSN: 1 buy-initiated, 5 sell-initiated, 3 for a single-price auction print.
        var code: Int64 {
            switch self {
            case .buyInitiated: 1
            case .sellInitiated: 5
            case .auction: 3
            }
        }
    }

    /// Books one print into today's counters, minute bars and tape, and formats its H0STCNT0 record when asked.
    private mutating func recordTrade(
        price: Int64,
        quantity: Int64,
        kind: TradeKind,
        ask: Level?,
        bid: Level?,
        at time: Int64,
        format: RecordFormat?
    ) {
        let hhmmss = KST.time(epochSeconds: time / 1_000_000)
        if self.open == 0 {
            self.open = price
            self.openTime = hhmmss
        }
        if price > self.high {
            self.high = price
            self.highTime = hhmmss
        }
        if self.low == 0 || price < self.low {
            self.low = price
            self.lowTime = hhmmss
        }
        self.last = price
        self.volume += quantity
        self.value += price * quantity
        switch kind {
        case .buyInitiated:
            self.buyVolume += quantity
            self.buyCount += 1
        case .sellInitiated:
            self.sellVolume += quantity
            self.sellCount += 1
        case .auction:
            self.auctionPrints += 1
        }
        let minute = hhmmss / 100 * 100
        if let lastMinute = self.minutes.last, lastMinute.time == minute {
            self.minutes[self.minutes.count - 1].high = max(lastMinute.high, price)
            self.minutes[self.minutes.count - 1].low = min(lastMinute.low, price)
            self.minutes[self.minutes.count - 1].close = price
            self.minutes[self.minutes.count - 1].volume += quantity
            self.minutes[self.minutes.count - 1].cumulativeValue = self.value
        } else {
            self.minutes.append(
                MinuteBar(
                    time: minute,
                    open: price,
                    high: price,
                    low: price,
                    close: price,
                    volume: quantity,
                    cumulativeValue: self.value
                )
            )
        }
        let strength = Decimal2.percent(self.buyVolume, self.sellVolume)
        let print = TapePrint(time: hhmmss, price: price, quantity: quantity, strength: strength)
        if self.tape.count < Self.tapeCapacity {
            self.tape.append(print)
        } else {
            self.tape[self.tapeNext] = print
        }
        self.tapeNext = (self.tapeNext + 1) % Self.tapeCapacity
        if let format {
            self.appendTradeRecord(
                price: price,
                quantity: quantity,
                kind: kind,
                ask: ask,
                bid: bid,
                hhmmss: hhmmss,
                format: format
            )
            self.pendingCount += 1
        }
    }

    /// The tape, newest print first.
    var latestPrints: [TapePrint] {
        guard self.tape.count == Self.tapeCapacity else { return self.tape.reversed() }
        return Array((self.tape[self.tapeNext...] + self.tape[..<self.tapeNext]).reversed())
    }

    // MARK: Records

    /// Previous day's volume, and the share of it traded by `secondOfDay`: about 1 % in the opening call, then the
    /// intraday profile the crowd follows (`Intraday`), and the closing call's 5 % at 15:30.
    var previousDayVolume: Int64 { self.history.last?.volume ?? 0 }

    func previousDayVolume(atSecond secondOfDay: Int64) -> Int64 {
        let share = secondOfDay >= KRX.closeTime ? 1 : 0.01 + 0.94 * Intraday.elapsed(secondOfDay: secondOfDay)
        return Int64(Double(self.previousDayVolume) * share)
    }

    /// H0STCNT0, 46 documented fields (docs/kis-protocol.md §6.1) plus `format.extraFields`.
    private mutating func appendTradeRecord(
        price: Int64,
        quantity: Int64,
        kind: TradeKind,
        ask: Level?,
        bid: Level?,
        hhmmss: UInt32,
        format: RecordFormat
    ) {
        if self.pendingCount > 0 { self.pendingTrades.caret() }
        var out = self.pendingTrades
        self.pendingTrades = []
        let change = price - self.base
        let secondOfDay = KST.secondsOfDay(time: hhmmss) ?? 0
        let sameTime = self.previousDayVolume(atSecond: secondOfDay)
        out.append(self.code)
        out.caret()  // 0 MKSC_SHRN_ISCD
        out.appendPadded(Int64(hhmmss), width: 6)
        out.caret()  // 1 STCK_CNTG_HOUR
        out.appendInt(price)
        out.caret()  // 2 STCK_PRPR
        out.appendInt(KRX.sign(price: price, base: self.base, upper: self.upper, lower: self.lower))
        out.caret()  // 3
        out.appendInt(change)
        out.caret()  // 4 PRDY_VRSS
        out.appendFixed2(Decimal2.percent(change, self.base))
        out.caret()  // 5 PRDY_CTRT
        out.appendFixed2(Decimal2.ratio(self.value, self.volume))
        out.caret()  // 6 WGHN_AVRG_STCK_PRC
        out.appendInt(self.open)
        out.caret()  // 7
        out.appendInt(self.high)
        out.caret()  // 8
        out.appendInt(self.low)
        out.caret()  // 9
        out.appendInt(ask?.price ?? 0)
        out.caret()  // 10 ASKP1
        out.appendInt(bid?.price ?? 0)
        out.caret()  // 11 BIDP1
        out.appendInt(quantity)
        out.caret()  // 12 CNTG_VOL
        out.appendInt(self.volume)
        out.caret()  // 13 ACML_VOL
        out.appendInt(self.value)
        out.caret()  // 14 ACML_TR_PBMN
        out.appendInt(self.sellCount)
        out.caret()  // 15 SELN_CNTG_CSNU
        out.appendInt(self.buyCount)
        out.caret()  // 16 SHNU_CNTG_CSNU
        out.appendInt(self.buyCount - self.sellCount)
        out.caret()  // 17 NTBY_CNTG_CSNU
        out.appendFixed2(Decimal2.percent(self.buyVolume, self.sellVolume))
        out.caret()  // 18 CTTR
        out.appendInt(self.sellVolume)
        out.caret()  // 19 SELN_CNTG_SMTN
        out.appendInt(self.buyVolume)
        out.caret()  // 20 SHNU_CNTG_SMTN
        out.appendInt(kind.code)
        out.caret()  // 21 CCLD_DVSN
        // 22 SHNU_RATE: no ratio we can derive matches the real samples' 0.49; we send the buy-initiated share.
        out.appendFixed2(Decimal2.ratio(self.buyVolume, self.buyVolume + self.sellVolume))
        out.caret()
        out.appendFixed2(Decimal2.percent(self.volume, self.previousDayVolume))
        out.caret()  // 23
        out.appendPadded(Int64(self.openTime), width: 6)
        out.caret()  // 24 OPRC_HOUR
        out.appendInt(KRX.sign(price - self.open))
        out.caret()  // 25
        out.appendInt(price - self.open)
        out.caret()  // 26 OPRC_VRSS_PRPR
        out.appendPadded(Int64(self.highTime), width: 6)
        out.caret()  // 27 HGPR_HOUR
        out.appendInt(KRX.sign(price - self.high))
        out.caret()  // 28
        out.appendInt(price - self.high)
        out.caret()  // 29
        out.appendPadded(Int64(self.lowTime), width: 6)
        out.caret()  // 30 LWPR_HOUR
        out.appendInt(KRX.sign(price - self.low))
        out.caret()  // 31
        out.appendInt(price - self.low)
        out.caret()  // 32
        out.appendInt(Int64(self.date))
        out.caret()  // 33 BSOP_DATE
        out.append(kind == .auction && secondOfDay >= KRX.closeTime ? "21" : "20")
        out.caret()  // 34 NEW_MKOP_CLS_CODE
        out.append("N")
        out.caret()  // 35 TRHT_YN
        out.appendInt(ask?.total ?? 0)
        out.caret()  // 36 ASKP_RSQN1
        out.appendInt(bid?.total ?? 0)
        out.caret()  // 37 BIDP_RSQN1
        out.appendInt(self.book.total(.sell))
        out.caret()  // 38 TOTAL_ASKP_RSQN
        out.appendInt(self.book.total(.buy))
        out.caret()  // 39 TOTAL_BIDP_RSQN
        out.appendFixed2(Decimal2.percent(self.volume, self.listing.listedShares))
        out.caret()  // 40 VOL_TNRT
        out.appendInt(sameTime)
        out.caret()  // 41 PRDY_SMNS_HOUR_ACML_VOL
        out.appendFixed2(Decimal2.percent(self.volume, sameTime))
        out.caret()  // 42
        out.append("0")
        out.caret()  // 43 HOUR_CLS_CODE
        out.caret()  // 44 MRKT_TRTM_CLS_CODE: empty, as in real data
        out.appendInt(self.staticBase)  // 45 VI_STND_PRC: the last single-price call's price (the static VI base)
        for _ in 0..<format.extraFields { out.append("^0") }
        self.pendingTrades = out
    }

    /// H0STASP0: the 59 documented fields and the three KRX mid-point fields that real frames carry today (62),
    /// plus `format.extraFields`. During a call auction the expected price and volume are filled in.
    mutating func bookRecord(at time: Int64, phase: KRX.Phase, format: RecordFormat) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(400)
        let hhmmss = KST.time(epochSeconds: time / 1_000_000)
        let asks = self.book.asks.prefix(10)
        let bids = self.book.bids.prefix(10)
        let askTotal = self.book.total(.sell)
        let bidTotal = self.book.total(.buy)
        let auction = phase == .preOpen || phase == .closingAuction || self.isInterrupted
        let expected = auction ? self.book.auctionPrice(reference: self.reference) : nil
        out.append(self.code)
        out.caret()  // 0
        out.appendPadded(Int64(hhmmss), width: 6)
        out.caret()  // 1 BSOP_HOUR
        out.append(self.hourClass(phase))
        out.caret()  // 2 HOUR_CLS_CODE
        for i in 0..<10 {
            out.appendInt(i < asks.count ? asks[asks.startIndex + i].price : 0)
            out.caret()
        }  // 3–12
        for i in 0..<10 {
            out.appendInt(i < bids.count ? bids[bids.startIndex + i].price : 0)
            out.caret()
        }  // 13–22
        for i in 0..<10 {
            out.appendInt(i < asks.count ? asks[asks.startIndex + i].total : 0)
            out.caret()
        }  // 23–32
        for i in 0..<10 {
            out.appendInt(i < bids.count ? bids[bids.startIndex + i].total : 0)
            out.caret()
        }  // 33–42
        out.appendInt(askTotal)
        out.caret()  // 43
        out.appendInt(bidTotal)
        out.caret()  // 44
        out.append("0^0^")  // 45–46 after-hours totals
        let expectedPrice = expected?.price ?? 0
        out.appendInt(expectedPrice)
        out.caret()  // 47 ANTC_CNPR
        out.appendInt(expected?.volume ?? 0)
        out.caret()  // 48 ANTC_CNQN
        out.appendInt(expected?.volume ?? self.openingAuctionVolume)
        out.caret()  // 49 ANTC_VOL
        let expectedChange = expectedPrice - self.base
        out.appendInt(expectedChange)
        out.caret()  // 50 ANTC_CNTG_VRSS (−base outside auctions, as real data)
        out.appendInt(KRX.sign(expectedChange))
        out.caret()  // 51
        out.appendFixed2(Decimal2.percent(expectedChange, self.base))
        out.caret()  // 52
        out.appendInt(self.volume)
        out.caret()  // 53 ACML_VOL
        out.appendInt(askTotal - self.publishedAskTotal)
        out.caret()  // 54 TOTAL_ASKP_RSQN_ICDC
        out.appendInt(bidTotal - self.publishedBidTotal)
        out.caret()  // 55
        out.append("0^0^0^")  // 56–57 after-hours changes, 58 STCK_DEAL_CLS_CODE
        let mid = asks.isEmpty || bids.isEmpty ? 0 : (asks[asks.startIndex].price + bids[bids.startIndex].price) / 2
        out.appendInt(mid)
        out.caret()  // 59 KMID_PRC
        out.append("0^0")  // 60 KMID_TOTAL_RSQN, 61 KMID_CLS_CODE
        if format.midPoints {
            // 62–64 NMID_PRC, NMID_TOTAL_RSQN, NMID_CLS_CODE: the 65-field NXT and combined layout.
            out.caret()
            out.appendInt(mid)
            out.append("^0^0")
        }
        for _ in 0..<format.extraFields { out.append("^0") }
        self.publishedAskTotal = askTotal
        self.publishedBidTotal = bidTotal
        self.showLevels()
        return out
    }

    /// HOUR_CLS_CODE: `B` in the pre-open call, `A` in the closing call, `C` in a volatility interruption's call,
    /// `0` in continuous trading (docs/kis-protocol.md §6, common codes).
    func hourClass(_ phase: KRX.Phase) -> String {
        phase == .preOpen ? "B" : phase == .closingAuction ? "A" : self.isInterrupted ? "C" : "0"
    }

    /// Remembers the ten levels of each side as a client sees them now.
    mutating func showLevels() {
        self.shownAsks = self.book.asks.prefix(10).map { ($0.price, $0.total) }
        self.shownBids = self.book.bids.prefix(10).map { ($0.price, $0.total) }
    }
}

/// What the published records look like: the `schema drift` fault appends fields to every record, and the NXT and
/// combined books carry three more mid-point fields than KRX's (65 against 62).
struct RecordFormat {
    var extraFields = 0
    var midPoints = false
}
