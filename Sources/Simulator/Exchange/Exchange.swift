import TickCore

/// The whole simulated world: market, accounts, orders, credentials and live sessions. It is one value behind one
/// lock (`Simulator.state`), so every request, every market step and every delivery to a session happens in one
/// order, and the bytes each session receives depend only on the seed and on what clients asked, in what order.
struct ExchangeState {
    let config: SimConfig
    /// Market time, microseconds since the Unix epoch.
    var now: Int64
    /// Wall time in manual mode (auth expiry, rate windows, PINGPONG); the system clock otherwise.
    var manualWall: Int64?
    var symbols: [SymbolMarket]
    var symbolIndex: [String: Int]
    /// Each code's NXT market, index for index with `symbols`: a book and crowd of its own, a fraction as busy as
    /// KRX's, trading towards KRX's fair value while KRX trades, open in `VenueCalendar.standard`'s NXT windows.
    /// Its random streams are drawn from a seed of its own, so KRX's market is what it was before NXT.
    var nxtSymbols: [SymbolMarket]
    var nxtPhase = KRX.Phase.closed
    /// The day NXT's markets opened last (0 before the first).
    var nxtDay: UInt32 = 0
    var nextNXTStageAt: Int64
    var day: UInt32
    /// `SimConfig.firstDay`, a trading day whatever the calendar says.
    let firstDay: UInt32
    var stage = Stage.beforeOpen
    var nextStageAt: Int64
    var nextFlushAt: Int64
    let flushInterval: Int64

    var orders: [OrderRecord] = []
    var orderIndex: [Int64: Int] = [:]
    var nextOrderNumber: Int64 = 1
    var accounts: [String: Account] = [:]

    var faults: FaultSettings
    var dropNextFrame = false
    var malformNextFrame = false
    var pendingOrderTimeouts = 0
    /// Queries still to answer with a server error (the `server_error` fault).
    var pendingServerErrors = 0
    var auth: AuthState
    var sessions = SessionRegistry()
    var sessionLog = SessionLog()
    /// Requests that reached an endpoint's handler, per tr_id (what a client spent of its rate limit).
    var answered: [String: Int] = [:]

    /// A recorded market (`SimConfig.market`): market time of the capture's start, the next frame to play, each
    /// code's last recorded book, and the exchange time of the last recorded record (what notices are stamped with).
    var recordedStart: Int64 = 0
    var recordedCursor = 0
    var recordedBooks: [Book?] = []
    var recordedTime: UInt32 = 0

    /// Where the trading day is; each stage ends at a fixed time of day.
    enum Stage {
        case beforeOpen, preOpen, continuous, closingAuction

        var phase: KRX.Phase {
            switch self {
            case .beforeOpen: .closed
            case .preOpen: .preOpen
            case .continuous: .continuous
            case .closingAuction: .closingAuction
            }
        }
    }

    init(config: SimConfig) {
        self.config = config
        let day = config.firstDay
        self.day = day
        self.firstDay = day
        var seen = Set<String>()
        let codes = (config.market?.codes ?? config.symbols).filter { seen.insert($0).inserted }
        self.symbols = codes.enumerated().map {
            SymbolMarket(listing: Catalog.listing($1), index: $0, seed: config.seed, date: day)
        }
        self.nxtSymbols = codes.enumerated().map {
            SymbolMarket(
                listing: Catalog.listing($1),
                index: $0,
                seed: config.seed ^ Self.nxtSeed,
                date: day,
                activity: Self.nxtActivity
            )
        }
        self.symbolIndex = Dictionary(uniqueKeysWithValues: codes.enumerated().map { ($1, $0) })
        self.faults = config.faults
        self.auth = AuthState(seed: config.seed)
        self.sessions.codes = codes
        // At maximum speed a market day passes in seconds; flushing every 10 s of market time fills frames to the
        // 20 records KIS sends when busy instead of paying a frame per handful of prints.
        let interval = config.clock == .maximum ? 10.0 : config.publishInterval
        self.flushInterval = max(1_000, Int64(interval * 1e6))
        // The generated day starts at the first window of either venue (NXT's 08:00 pre-market), so NXT trades from
        // the first simulated minute; KRX's stages still begin at its pre-open. A recorded market plays from KRX's
        // pre-open, where its captures were laid out.
        let dayStart = Self.micros(day, second: config.market == nil ? Self.dayStartSecond : KRX.preOpenStart)
        self.now = dayStart
        self.nextStageAt = Self.micros(day, second: KRX.preOpenStart)
        self.nextFlushAt = dayStart
        self.nextNXTStageAt = config.market == nil ? dayStart : .max
        if config.clock == .manual { self.manualWall = WallClock().now() / 1_000 }
        if let recorded = config.market {
            self.recordedStart = dayStart
            self.openRecorded(recorded)
            return
        }
        let start = Self.micros(day, second: KST.secondsOfDay(time: config.startTime) ?? KRX.openTime)
        self.advanceMarket(to: max(start, dayStart))
    }

    /// NXT's crowd draws from `seed ^ nxtSeed` ("NXT" in its top bytes), and is this busy against KRX's: NXT's
    /// share of the two venues' volume was about a tenth to a sixth in 2025.
    static let nxtSeed: UInt64 = 0x4E58_5400_0000_0000
    static let nxtActivity = 0.15
    /// 08:00, NXT's pre-market, with the standard calendar.
    static let dayStartSecond = min(KRX.preOpenStart, VenueCalendar.standard.firstWindowStart ?? KRX.preOpenStart)

    static func micros(_ date: UInt32, second: Int64) -> Int64 {
        (KST.epochSeconds(date: date, time: 0)! + second) * 1_000_000
    }

    var wallMicros: Int64 { self.manualWall ?? WallClock().now() / 1_000 }
    var phase: KRX.Phase { self.stage.phase }
    var marketSeconds: Int64 { self.now / 1_000_000 }
    var marketTime: UInt32 {
        self.config.market == nil ? KST.time(epochSeconds: self.marketSeconds) : self.recordedTime
    }

    // MARK: Running the market

    /// Processes every market event up to `target` in time order: stage changes, the crowd's orders, and the
    /// batched publication that ends each interval. The result does not depend on how time is cut into calls.
    mutating func advanceMarket(to target: Int64) {
        if let recorded = self.config.market {
            self.advanceRecorded(recorded, to: target)
            return
        }
        while true {
            var next = self.nextStageAt
            var symbol = -1
            for i in self.symbols.indices where self.symbols[i].nextEventAt < next {
                next = self.symbols[i].nextEventAt
                symbol = i
            }
            // KRX first on a tie, so NXT's events never reorder KRX's.
            var venue = Venue.krx
            if self.nextNXTStageAt < next {
                next = self.nextNXTStageAt
                symbol = -1
                venue = .nxt
            }
            for i in self.nxtSymbols.indices where self.nxtSymbols[i].nextEventAt < next {
                next = self.nxtSymbols[i].nextEventAt
                symbol = i
                venue = .nxt
            }
            if self.nextFlushAt <= next {
                guard self.nextFlushAt <= target else { break }
                self.now = max(self.now, self.nextFlushAt)
                if !self.flush() {
                    // Nothing was waiting: jump over idle intervals (nights, quiet spells) in one step.
                    let idleUntil = min(next, target)
                    self.nextFlushAt = max(self.nextFlushAt, idleUntil - idleUntil % self.flushInterval)
                }
                self.nextFlushAt += self.flushInterval
                continue
            }
            guard next <= target else { break }
            self.now = max(self.now, next)
            if venue == .nxt {
                self.runNXTEvent(symbol: symbol)
            } else if symbol < 0 {
                self.runStage()
            } else {
                self.runBackgroundEvent(venue: .krx, symbol: symbol)
            }
        }
        self.now = max(self.now, target)
    }

    /// Handles the stage boundary due now.
    private mutating func runStage() {
        switch self.stage {
        case .beforeOpen:
            for i in self.symbols.indices {
                self.symbols[i].startDay(self.day, at: self.now)
            }
            self.startOfDayForAccounts()
            self.enter(.preOpen, until: KRX.openTime)
        case .preOpen:
            self.runAuctions(.opening)
            self.enter(.continuous, until: KRX.closingAuctionStart)
        case .continuous:
            // The closing call takes over a volatility interruption that is still running: it clears at 15:30.
            for i in self.symbols.indices {
                self.symbols[i].interruptedUntil = nil
                self.symbols[i].viCode = "N"
            }
            self.enter(.closingAuction, until: KRX.closeTime)
        case .closingAuction:
            self.runAuctions(.closing)
            self.flush()
            for i in self.symbols.indices { self.symbols[i].endDay() }
            self.expireDayOrders(on: .krx)
            self.day = KRX.nextTradingDay(after: self.day)
            self.stage = .beforeOpen
            self.nextStageAt = Self.micros(self.day, second: KRX.preOpenStart)
            for i in self.symbols.indices { self.symbols[i].nextEventAt = .max }
        }
    }

    /// NXT's session boundary (symbol −1) or one of its crowd's events. Each boundary reads the phase from the
    /// calendar, so a simulator started mid-session opens NXT's day where the calendar says it is.
    private mutating func runNXTEvent(symbol: Int) {
        guard symbol >= 0 else {
            let seconds = self.now / 1_000_000
            let date = KST.date(epochSeconds: seconds)
            let second = KST.secondsOfDay(epochMicros: self.now)
            let calendar = VenueCalendar.standard
            let trading = KRX.isTradingDay(date) || date == self.firstDay
            let phase = trading ? calendar.phase(.nxt, secondOfDay: second) : .closed
            let opens = phase != .closed && self.nxtDay != date
            if opens { self.nxtDay = date }
            for i in self.nxtSymbols.indices {
                if opens {
                    // One basis for both venues: KRX's previous close (its history has not taken today's yet).
                    self.nxtSymbols[i].history = self.symbols[i].history.filter { $0.date < date }
                    self.nxtSymbols[i].startDay(date, at: self.now)
                }
                if phase == .closed {
                    self.nxtSymbols[i].interruptedUntil = nil
                    self.nxtSymbols[i].viCode = "N"
                }
                self.nxtSymbols[i].scheduleNext(after: self.now, phase: phase)
            }
            let next = calendar.nxt.flatMap { [Int64($0.start), Int64($0.end)] }.first { $0 > second }
            if next == nil, self.nxtPhase != .closed { self.expireDayOrders(on: .nxt) }
            self.nxtPhase = phase
            self.nextNXTStageAt = (seconds - second) * 1_000_000 + (next ?? 86_400) * 1_000_000
            return
        }
        if self.phase == .continuous {
            self.nxtSymbols[symbol].crowd.follow(self.symbols[symbol].crowd)
        }
        self.runBackgroundEvent(venue: .nxt, symbol: symbol)
    }

    /// The crowd's event due now on `venue`'s market of `symbol`, and the next one scheduled.
    private mutating func runBackgroundEvent(venue: Venue, symbol: Int) {
        let format = self.sessions.tradeFormat(symbol: symbol, venue: venue, faults: self.faults)
        let (now, phase) = (self.now, self.phase(of: venue))
        let fills = self.withMarket(venue, symbol) { $0.backgroundEvent(at: now, phase: phase, format: format) }
        self.applyPassiveFills(fills, symbol: symbol)
        self.withMarket(venue, symbol) { $0.scheduleNext(after: now, phase: phase) }
    }

    private mutating func enter(_ stage: Stage, until second: Int64) {
        self.stage = stage
        self.nextStageAt = Self.micros(self.day, second: second)
        for i in self.symbols.indices {
            self.symbols[i].scheduleNext(after: self.now, phase: stage.phase)
        }
    }

    private mutating func runAuctions(_ kind: SymbolMarket.AuctionKind) {
        for i in self.symbols.indices {
            let format = self.sessions.tradeFormat(symbol: i, faults: self.faults)
            let fills = self.symbols[i].runAuction(at: self.now, kind: kind, format: format)
            self.applyPassiveFills(fills, symbol: i)
            if kind == .opening { self.symbols[i].keepDepth() }
        }
    }

    // MARK: Publication

    /// Sends each symbol's batched trades (frames of at most 20 records) and, if it changed, its book, in symbol
    /// order. Returns whether anything was pending.
    @discardableResult
    mutating func flush() -> Bool {
        var any = false
        for i in self.symbols.indices {
            any = self.flush(symbol: i) || any
        }
        return any
    }

    @discardableResult
    mutating func flush(symbol i: Int) -> Bool {
        // A recorded market publishes only what was recorded.
        guard self.config.market == nil else { return false }
        var any = false
        for venue in [Venue.krx, .nxt] {
            let (records, count, changed) = self.withMarket(venue, i) { market in
                defer {
                    market.pendingTrades = []
                    market.pendingCount = 0
                    market.bookChanged = false
                }
                return (market.pendingTrades, market.pendingCount, market.bookChanged)
            }
            if count > 0 {
                any = true
                self.publishTrades(records, count: count, tr: venue == .nxt ? "H0NXCNT0" : "H0STCNT0", symbol: i)
                self.publishTrades(records, count: count, tr: "H0UNCNT0", symbol: i)
            }
            if changed {
                any = true
                self.publishBook(venue: venue, symbol: i)
            }
        }
        return any
    }

    /// Sends `venue`'s book of `symbol` to its own TR's subscribers (H0STASP0 in 62 fields, H0NXASP0 in 65) and
    /// to the combined TR's (H0UNASP0, 65 fields). The combined book is each venue's book as it changes, not one
    /// merged ladder: a client sees both venues' quotes, one frame per venue.
    private mutating func publishBook(venue: Venue, symbol i: Int) {
        let own = venue == .nxt ? "H0NXASP0" : "H0STASP0"
        let mine = self.sessions.subscribers(own, symbol: i)
        let combined = self.sessions.subscribers("H0UNASP0", symbol: i)
        guard !mine.isEmpty || !combined.isEmpty else { return }
        let phase = venue == .nxt ? self.nxtPhase : self.phase
        let format = RecordFormat(extraFields: self.faults.extraFields, midPoints: venue == .nxt)
        let now = self.now
        let record = self.withMarket(venue, i) { $0.bookRecord(at: now, phase: phase, format: format) }
        self.deliver(Self.frame(tr: own, count: 1, payload: record[...]), to: mine)
        guard !combined.isEmpty else { return }
        // KRX's 62 fields gain NXT's three mid-point fields (empty on KRX) before any drift fault's extras.
        var wide = record
        if venue == .krx {
            let core = record.count - 2 * self.faults.extraFields
            wide = Array(record[..<core]) + Array("^0^0^0".utf8) + Array(record[core...])
        }
        self.deliver(Self.frame(tr: "H0UNASP0", count: 1, payload: wide[...]), to: combined)
    }

    /// Splits `records` (`count` records joined by `^`) into frames of at most 20 records.
    private mutating func publishTrades(_ records: [UInt8], count: Int, tr: String, symbol: Int) {
        let subscribers = self.sessions.subscribers(tr, symbol: symbol)
        guard !subscribers.isEmpty else { return }
        let width = 46 + self.faults.extraFields
        var start = records.startIndex
        var left = count
        var fields = 0
        var index = records.startIndex
        while left > 0 {
            let take = min(20, left)
            // Find the caret that ends record `take` of this frame.
            let end: Int
            if take == left {
                end = records.endIndex
            } else {
                while true {
                    if records[index] == UInt8(ascii: "^") {
                        fields += 1
                        if fields == take * width { break }
                    }
                    index += 1
                }
                end = index
                index += 1
                fields = 0
            }
            self.deliver(Self.frame(tr: tr, count: take, payload: records[start..<end]), to: subscribers)
            start = end + 1
            left -= take
        }
    }

    static func frame(tr: String, count: Int, payload: ArraySlice<UInt8>, encrypted: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 20)
        out.append(encrypted ? UInt8(ascii: "1") : UInt8(ascii: "0"))
        out.append(UInt8(ascii: "|"))
        out.append(tr)
        out.append(UInt8(ascii: "|"))
        out.appendPadded(Int64(count), width: 3)
        out.append(UInt8(ascii: "|"))
        out.append(contentsOf: payload)
        return out
    }

    /// Hands a data frame to sessions, applying the one-shot frame faults.
    mutating func deliver(_ frame: [UInt8], to sessions: [Session]) {
        guard !sessions.isEmpty, !self.faults.silent else { return }
        var frame = frame
        if self.malformNextFrame {
            self.malformNextFrame = false
            // Cut the last three fields: a record short of its width, as a truncated frame would be.
            var carets = 0
            var i = frame.count - 1
            while i > 0 {
                if frame[i] == UInt8(ascii: "^") {
                    carets += 1
                    if carets == 3 { break }
                }
                i -= 1
            }
            frame.removeSubrange(i...)
        }
        let cut = self.dropNextFrame
        self.dropNextFrame = false
        let wall = self.wallMicros
        if cut { self.sessionLog.cut(at: wall) }
        for session in sessions {
            if cut {
                session.dropMidFrame(frame)
            } else {
                session.sendText(frame, at: wall)
            }
        }
    }
}
