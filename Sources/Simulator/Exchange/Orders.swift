import Crypto
import JSON
import TickCore
import Wire

/// An order-cash request after its JSON was read (format checks passed).
struct OrderRequest {
    var environment: Environment
    var appKey: String
    var account: String
    var code: String
    var side: Side
    /// ORD_DVSN.
    var orderType: String
    var quantity: Int64
    /// ORD_UNPR; 0 for market-type orders.
    var price: Int64
    /// EXCG_ID_DVSN_CD.
    var route: OrderRoute = .krx
}

/// An order-rvsecncl request.
struct ReviseRequest {
    var environment: Environment
    var appKey: String
    var account: String
    var originalNumber: Int64
    var cancel: Bool
    var orderType: String
    var quantity: Int64
    var price: Int64
    /// QTY_ALL_ORD_YN: the whole remainder.
    var all: Bool
}

/// A business rejection: HTTP 200 with `rt_cd` other than "0" (docs/kis-protocol.md §3.4). APBK0952 (rt_cd 7) and
/// APBK0656 are seen in real traffic; the other codes are ours, in KIS's style, until a capture shows the real ones.
struct Rejection: Error, Equatable {
    var returnCode: String
    var messageCode: String
    var message: String

    static let unknownSymbol = Rejection(returnCode: "1", messageCode: "APBK0656", message: "해당 종목 정보가 없습니다.")
    static let insufficientCash = Rejection(returnCode: "7", messageCode: "APBK0952", message: "주문가능금액을 초과 했습니다")
    static let insufficientHoldings = Rejection(returnCode: "7", messageCode: "APBK0400", message: "주문가능수량을 초과 했습니다")
    static let badTick = Rejection(returnCode: "1", messageCode: "APBK0506", message: "호가단위가 맞지 않습니다.")
    static let outsideLimits = Rejection(returnCode: "1", messageCode: "APBK0507", message: "상하한가를 벗어난 주문입니다.")
    static let marketClosed = Rejection(returnCode: "1", messageCode: "APBK0919", message: "장운영시간이 아닙니다.")
    static let unsupportedType = Rejection(returnCode: "1", messageCode: "APBK1680", message: "주문구분을 확인하시기 바랍니다.")
    static let badQuantity = Rejection(returnCode: "1", messageCode: "APBK0550", message: "주문수량을 확인하시기 바랍니다.")
    static let nothingToRevise = Rejection(returnCode: "1", messageCode: "APBK0344", message: "정정/취소할 수량이 없습니다.")
    /// The paper server takes KRX orders only (docs/kis-protocol.md §8). KIS's own answer to an NXT or SOR order on
    /// paper is not in any capture we have; this code and text are ours.
    static let paperVenue = Rejection(
        returnCode: "1",
        messageCode: "KSIM0001",
        message: "모의투자는 KRX 주문만 가능합니다."
    )
    static let noSuchOrder = Rejection(returnCode: "1", messageCode: "APBK0345", message: "원주문번호를 확인하시기 바랍니다.")
}

extension ExchangeState {
    /// ORD_DVSN codes the simulator matches: limit, market, best-limit, top-priority and the IOC/FOK variants.
    static let supportedOrderTypes: Set<String> = ["00", "01", "03", "04", "11", "12", "13", "14"]

    func accountKey(_ environment: Environment, _ account: String) -> String {
        environment.rawValue + ":" + account
    }

    /// The account, opened with the configured cash the first time it is named (every app key owns the accounts
    /// it uses; there is no account master to register with).
    mutating func account(_ environment: Environment, _ number: String) -> Account {
        let key = self.accountKey(environment, number)
        if let existing = self.accounts[key] { return existing }
        let account = Account(environment: environment, number: number, initialCash: self.config.initialCash)
        self.accounts[key] = account
        return account
    }

    // MARK: Entry

    /// Validates and enters a new order: every accepted or rejected order gets a number and a notice.
    mutating func submit(_ request: OrderRequest) -> Result<OrderRecord, Rejection> {
        guard let symbol = self.symbolIndex[request.code] else { return .failure(.unknownSymbol) }
        let record = self.newRecord(
            request,
            kind: .new,
            originalNumber: 0,
            venue: self.venue(of: request, symbol: symbol)
        )
        if let rejection = self.check(request, venue: record.venue, symbol: symbol) {
            self.reject(record, rejection)
            return .failure(rejection)
        }
        self.orders.append(record)
        self.orderIndex[record.number] = self.orders.count - 1
        self.notice(self.orders.count - 1, event: .accepted)
        self.work(self.orders.count - 1, symbol: symbol)
        return .success(self.orders[self.orderIndex[record.number]!])
    }

    /// Modifies or cancels a working order. A modify withdraws quantity from the original and enters it again
    /// at the new price under a new number; a cancel gets a number of its own too, as on KRX.
    mutating func revise(_ request: ReviseRequest) -> Result<OrderRecord, Rejection> {
        guard let index = self.orderIndex[request.originalNumber],
            self.orders[index].environment == request.environment,
            self.orders[index].account == request.account,
            self.orders[index].kind != .cancel
        else { return .failure(.noSuchOrder) }
        let original = self.orders[index]
        guard original.isOpen else { return .failure(.nothingToRevise) }
        let quantity = request.all ? original.remaining : request.quantity
        guard quantity > 0, quantity <= original.remaining else { return .failure(.nothingToRevise) }
        guard let symbol = self.symbolIndex[original.code] else { return .failure(.unknownSymbol) }
        let newPrice = request.cancel ? original.price : request.price
        var derived = OrderRequest(
            environment: original.environment,
            appKey: request.appKey,
            account: original.account,
            code: original.code,
            side: original.side,
            orderType: request.cancel ? original.orderType : request.orderType,
            quantity: quantity,
            price: newPrice,
            route: original.route
        )
        if !request.cancel {
            guard Self.supportedOrderTypes.contains(derived.orderType) else { return .failure(.unsupportedType) }
            if derived.orderType == "00",
                let rejection = self.checkPrice(derived.price, in: self.market(original.venue, symbol))
            {
                return .failure(rejection)
            }
            if derived.orderType != "00" { derived.price = 0 }
        }
        self.withdraw(index, quantity: quantity, symbol: symbol)
        let record = self.newRecord(
            derived,
            kind: request.cancel ? .cancel : .modify,
            originalNumber: original.number,
            venue: original.venue
        )
        self.orders.append(record)
        self.orderIndex[record.number] = self.orders.count - 1
        let revised = self.orders.count - 1
        if request.cancel {
            self.orders[revised].cancelled = quantity
            self.notice(revised, event: .cancelled)
        } else {
            self.notice(revised, event: .modified)
            self.work(revised, symbol: symbol)
        }
        self.flush(symbol: symbol)
        return .success(self.orders[revised])
    }

    private mutating func newRecord(
        _ request: OrderRequest,
        kind: OrderRecord.Kind,
        originalNumber: Int64,
        venue: Venue
    ) -> OrderRecord {
        let number = self.nextOrderNumber
        self.nextOrderNumber += 1
        let condition: OrderRecord.Condition =
            switch request.orderType {
            case "11", "13": .ioc
            case "12", "14": .fok
            default: .none
            }
        return OrderRecord(
            owner: Owner(truncatingIfNeeded: self.orders.count + 1),
            number: number,
            originalNumber: originalNumber,
            kind: kind,
            environment: request.environment,
            appKey: request.appKey,
            account: request.account,
            code: request.code,
            name: self.symbolIndex[request.code].map { self.symbols[$0].listing.name } ?? "",
            side: request.side,
            orderType: request.orderType,
            condition: condition,
            price: request.price,
            quantity: request.quantity,
            date: self.day,
            time: self.marketTime,
            route: request.route,
            venue: venue
        )
    }

    /// The book a new order works in. SOR takes the venue whose opposite touch is better for the order (the lower
    /// ask for a buy, the higher bid for a sell), KRX on a tie or when NXT does not quote, and the only one
    /// trading continuously when just one does.
    private func venue(of request: OrderRequest, symbol: Int) -> Venue {
        switch request.route {
        case .krx: return .krx
        case .nxt: return .nxt
        case .sor:
            let (krxOpen, nxtOpen) = (self.phase == .continuous, self.nxtPhase == .continuous)
            if krxOpen != nxtOpen { return krxOpen ? .krx : .nxt }
            let (krx, nxt) = (self.symbols[symbol].book, self.nxtSymbols[symbol].book)
            switch request.side {
            case .buy:
                guard let nxtAsk = nxt.bestAsk?.price else { return .krx }
                return nxtAsk < (krx.bestAsk?.price ?? .max) ? .nxt : .krx
            case .sell:
                guard let nxtBid = nxt.bestBid?.price else { return .krx }
                return nxtBid > (krx.bestBid?.price ?? .min) ? .nxt : .krx
            }
        }
    }

    /// `venue`'s phase now.
    func phase(of venue: Venue) -> KRX.Phase { venue == .nxt ? self.nxtPhase : self.phase }

    /// Runs `body` on `venue`'s market of `symbol`.
    mutating func withMarket<R>(_ venue: Venue, _ symbol: Int, _ body: (inout SymbolMarket) -> R) -> R {
        venue == .nxt ? body(&self.nxtSymbols[symbol]) : body(&self.symbols[symbol])
    }

    func market(_ venue: Venue, _ symbol: Int) -> SymbolMarket {
        venue == .nxt ? self.nxtSymbols[symbol] : self.symbols[symbol]
    }

    /// ORD_EXG_GB: 1 KRX, 2 NXT, 3 SOR filled on KRX, 4 SOR filled on NXT.
    static func exchangeCode(_ order: OrderRecord) -> Int64 {
        (order.route == .sor ? 2 : 0) + (order.venue == .nxt ? 2 : 1)
    }

    /// Rejected orders are kept (inquire-daily-ccld lists them with `rjct_qty`) and notified with RFUS_YN 1.
    private mutating func reject(_ record: OrderRecord, _ rejection: Rejection) {
        var record = record
        record.rejected = record.quantity
        self.orders.append(record)
        self.orderIndex[record.number] = self.orders.count - 1
        self.notice(self.orders.count - 1, event: .rejected)
    }

    private mutating func check(_ request: OrderRequest, venue: Venue, symbol: Int) -> Rejection? {
        guard Self.supportedOrderTypes.contains(request.orderType) else { return .unsupportedType }
        guard request.quantity > 0 else { return .badQuantity }
        switch self.phase(of: venue) {
        case .closed: return .marketClosed
        case .preOpen, .closingAuction:
            // KRX takes no IOC/FOK, best-limit or top-priority orders into a call auction.
            guard request.orderType == "00" || request.orderType == "01" else { return .unsupportedType }
        case .continuous:
            // Nor into a volatility interruption's call.
            if self.market(venue, symbol).isInterrupted, request.orderType != "00", request.orderType != "01" {
                return .unsupportedType
            }
        }
        // The venue's own market: both venues' limits have KRX's previous close as their basis, but NXT's day (and
        // its limits) starts at 08:00, KRX's at its 08:30 pre-open.
        let market = self.market(venue, symbol)
        if Self.isLimitType(request.orderType), let rejection = self.checkPrice(request.price, in: market) {
            return rejection
        }
        switch request.side {
        case .buy:
            // Market-type buys are margined at the upper limit, as KIS does.
            let unit = Self.isLimitType(request.orderType) ? request.price : market.upper
            let available = self.buyingPower(request.environment, request.account)
            guard self.config.costs.withFee(unit * request.quantity) <= available else { return .insufficientCash }
        case .sell:
            guard request.quantity <= self.sellable(request.environment, request.account, code: request.code) else {
                return .insufficientHoldings
            }
        }
        return nil
    }

    static func isLimitType(_ orderType: String) -> Bool { orderType == "00" || orderType == "11" || orderType == "12" }

    private func checkPrice(_ price: Int64, in market: SymbolMarket) -> Rejection? {
        guard KRX.isOnTick(price) else { return .badTick }
        guard price >= market.lower, price <= market.upper else { return .outsideLimits }
        return nil
    }

    /// Cash an account can still commit to buys: everything after settlement less what open buys hold.
    mutating func buyingPower(_ environment: Environment, _ number: String) -> Int64 {
        let account = self.account(environment, number)
        let reserved = self.orders.lazy
            .filter { $0.isOpen && $0.side == .buy && $0.environment == environment && $0.account == number }
            .reduce(0) { $0 + self.config.costs.withFee(($1.restingPrice ?? $1.price) * $1.remaining) }
        return account.projectedCash - reserved
    }

    /// Shares an account can still sell: held less what open sells hold.
    mutating func sellable(_ environment: Environment, _ number: String, code: String) -> Int64 {
        let held = self.account(environment, number).holdings[code]?.quantity ?? 0
        let reserved = self.orders.lazy
            .filter {
                $0.isOpen && $0.side == .sell && $0.environment == environment && $0.account == number
                    && $0.code == code
            }
            .reduce(0) { $0 + $1.remaining }
        return held - reserved
    }

    // MARK: Matching client orders

    /// Runs order `index` against the book: in continuous trading it takes what it can and rests the rest (or
    /// cancels it, for IOC/FOK); in a call auction it waits for the uncross.
    private mutating func work(_ index: Int, symbol: Int) {
        var order = self.orders[index]
        let venue = order.venue
        let market = self.market(venue, symbol)
        var limit: Int64? =
            switch order.orderType {
            case "00", "11", "12": order.price
            case "03": (order.side == .buy ? market.book.bestAsk?.price : market.book.bestBid?.price)
            case "04": (order.side == .buy ? market.book.bestBid?.price : market.book.bestAsk?.price)
            default: nil
            }
        if limit == nil, order.orderType == "03" || order.orderType == "04" {
            limit = order.side == .buy ? market.upper : market.lower
        }
        if self.config.market != nil {
            self.workRecorded(index, symbol: symbol, limit: limit)
            return
        }
        if self.phase(of: venue) != .continuous || market.isInterrupted {
            let price = limit ?? (order.side == .buy ? market.upper : market.lower)
            self.rest(index, at: price, symbol: symbol)
            return
        }
        if order.condition == .fok, market.book.available(to: order.side, limit: limit) < order.remaining {
            self.orders[index].cancelled = order.remaining
            self.notice(index, event: .expired)
            return
        }
        let format = self.sessions.tradeFormat(symbol: symbol, venue: venue, faults: self.faults)
        let now = self.now
        let result = self.withMarket(venue, symbol) {
            $0.aggress(order.side, limit: limit, quantity: order.remaining, at: now, format: format)
        }
        for (price, quantity) in result.filled {
            self.fill(index, price: price, quantity: quantity)
        }
        self.applyPassiveFills(result.passiveFills, symbol: symbol)
        order = self.orders[index]
        if order.remaining > 0 {
            if order.condition != .none {
                self.orders[index].cancelled += order.remaining
                self.notice(index, event: .expired)
            } else {
                // A market order's remainder rests at its last fill price (or the band edge if nothing filled).
                let price = limit ?? result.filled.last?.price ?? (order.side == .buy ? market.upper : market.lower)
                self.rest(index, at: price, symbol: symbol)
            }
        }
        self.withMarket(venue, symbol) { $0.keepDepth() }
        self.flush(symbol: symbol)
    }

    private mutating func rest(_ index: Int, at price: Int64, symbol: Int) {
        self.orders[index].restingPrice = price
        let order = self.orders[index]
        self.withMarket(order.venue, symbol) {
            $0.book.add(order.side, price: price, owner: order.owner, quantity: order.remaining)
            $0.bookChanged = true
        }
    }

    private mutating func withdraw(_ index: Int, quantity: Int64, symbol: Int) {
        let order = self.orders[index]
        guard let price = order.restingPrice else { return }
        self.withMarket(order.venue, symbol) {
            $0.book.reduce(order.side, owner: order.owner, price: price, by: quantity)
            $0.bookChanged = true
        }
        self.orders[index].cancelled += quantity
        if self.orders[index].remaining == 0 { self.orders[index].restingPrice = nil }
    }

    /// Books fills of resting client orders that the crowd or another client traded against.
    mutating func applyPassiveFills(_ fills: [ClientFill], symbol: Int) {
        for fill in fills {
            let index = Int(fill.owner) - 1
            guard self.orders.indices.contains(index) else { continue }
            self.fill(index, price: fill.price, quantity: fill.quantity)
        }
    }

    /// One fill of order `index`: order, holdings and the settlement ledger move together, then a notice.
    mutating func fill(_ index: Int, price: Int64, quantity: Int64) {
        self.orders[index].filled += quantity
        self.orders[index].filledValue += price * quantity
        if self.orders[index].remaining == 0 { self.orders[index].restingPrice = nil }
        let order = self.orders[index]
        let key = self.accountKey(order.environment, order.account)
        var account = self.account(order.environment, order.account)
        let value = price * quantity
        let fee = self.config.costs.fee(value)
        let settles = KRX.nextTradingDay(after: KRX.nextTradingDay(after: self.day))
        var holding = account.holdings[order.code] ?? Holding()
        switch order.side {
        case .buy:
            holding.quantity += quantity
            holding.cost += value
            holding.boughtToday += quantity
            account.boughtToday += value
            account.costsToday += fee
            account.flows.append((settles, -(value + fee)))
        case .sell:
            let tax = self.config.costs.tax(value)
            holding.cost -= holding.quantity > 0 ? holding.cost * quantity / holding.quantity : 0
            holding.quantity -= quantity
            holding.soldToday += quantity
            account.soldToday += value
            account.costsToday += fee + tax
            account.flows.append((settles, value - fee - tax))
        }
        account.holdings[order.code] = holding
        self.accounts[key] = account
        self.notice(index, event: .filled(price: price, quantity: quantity))
    }

    mutating func startOfDayForAccounts() {
        for key in self.accounts.keys { self.accounts[key]!.rollDay() }
    }

    /// Orders are day orders: what is left at `venue`'s close (KRX 15:30, NXT 20:00) lapses without a notice.
    mutating func expireDayOrders(on venue: Venue) {
        for i in self.orders.indices where self.orders[i].isOpen && self.orders[i].venue == venue {
            self.orders[i].cancelled += self.orders[i].remaining
            self.orders[i].restingPrice = nil
        }
    }

    // MARK: Notices

    enum NoticeEvent {
        case accepted, modified, cancelled, rejected
        /// An IOC/FOK remainder cancelled by the exchange.
        case expired
        case filled(price: Int64, quantity: Int64)
    }

    /// Sends the H0STCNI0/H0STCNI9 notice for `event` to each session of the order's app key that subscribed to
    /// its environment's notice TR, encrypted with that session's key and iv.
    mutating func notice(_ index: Int, event: NoticeEvent) {
        let order = self.orders[index]
        let tr = order.environment.noticeTR
        let subscribers = self.sessions.noticeSubscribers(appKey: order.appKey, tr: tr)
        guard !subscribers.isEmpty, !self.faults.silent else { return }
        let isFill: Bool
        let quantity: Int64
        let price: Int64
        let rctf: String
        let accept: String
        switch event {
        case .filled(let p, let q):
            (isFill, quantity, price, rctf, accept) = (true, q, p, order.kind == .modify ? "1" : "0", "2")
        case .accepted: (isFill, quantity, price, rctf, accept) = (false, order.quantity, order.price, "0", "1")
        case .modified: (isFill, quantity, price, rctf, accept) = (false, order.quantity, order.price, "1", "2")
        case .cancelled: (isFill, quantity, price, rctf, accept) = (false, order.quantity, order.price, "2", "2")
        case .rejected: (isFill, quantity, price, rctf, accept) = (false, order.quantity, order.price, "0", "1")
        case .expired:
            (isFill, quantity, price, rctf, accept) = (false, order.remaining + order.cancelled, order.price, "0", "3")
        }
        for (session, htsID) in subscribers {
            var text: [UInt8] = []
            text.append(htsID)
            text.caret()  // 0 CUST_ID
            text.append(order.account)
            text.caret()  // 1 ACNT_NO
            text.append(order.numberText)
            text.caret()  // 2 ODER_NO
            text.appendPadded(order.originalNumber, width: 10)
            text.caret()  // 3 OODER_NO: zeros for a new order
            text.append(order.side.kisCode)
            text.caret()  // 4 SELN_BYOV_CLS
            text.append(rctf)
            text.caret()  // 5 RCTF_CLS
            text.append(order.orderType)
            text.caret()  // 6 ODER_KIND
            text.append(order.condition == .ioc ? "1" : order.condition == .fok ? "2" : "0")
            text.caret()  // 7
            text.append(order.code)
            text.caret()  // 8 STCK_SHRN_ISCD
            text.appendInt(quantity)
            text.caret()  // 9 CNTG_QTY
            text.appendInt(price)
            text.caret()  // 10 CNTG_UNPR
            text.appendPadded(Int64(self.marketTime), width: 6)
            text.caret()  // 11 STCK_CNTG_HOUR
            text.append(event.isRejection ? "1" : "0")
            text.caret()  // 12 RFUS_YN
            text.append(isFill ? "2" : "1")
            text.caret()  // 13 CNTG_YN
            text.append(accept)
            text.caret()  // 14 ACPT_YN
            text.append(order.environment.branch)
            text.caret()  // 15 BRNC_NO
            text.appendInt(order.quantity)
            text.caret()  // 16 ODER_QTY
            text.append("모의계좌")
            text.caret()  // 17 ACNT_NAME
            text.append("0")
            text.caret()  // 18 ORD_COND_PRC
            text.appendInt(Self.exchangeCode(order))
            text.caret()  // 19 ORD_EXG_GB
            text.append("Y")
            text.caret()  // 20 POPUP_YN
            text.caret()  // 21 FILLER
            text.caret()  // 22 CRDT_CLS
            text.caret()  // 23 CRDT_LOAN_DATE
            text.append(order.name)
            text.caret()  // 24 CNTG_ISNM40
            text.appendInt(order.price)  // 25 ODER_PRC
            for _ in 0..<self.faults.extraFields { text.append("^0") }
            guard let cipher = try? NoticeCipher.encrypt(text, key: session.key, iv: session.iv) else { continue }
            let frame = Self.frame(tr: tr, count: 1, payload: Array(Base64.encode(cipher).utf8)[...], encrypted: true)
            session.sendText(frame, at: self.wallMicros)
            if self.faults.duplicateNotices { session.sendText(frame, at: self.wallMicros) }
        }
    }
}

extension ExchangeState.NoticeEvent {
    var isRejection: Bool {
        if case .rejected = self { return true }
        return false
    }
}
