import TickCore

/// Which KIS server a host, an app key, an order or an account belongs to.
public enum Environment: String, Sendable, CaseIterable {
    /// 실전투자: openapi.koreainvestment.com / ops…:21000.
    case real
    /// 모의투자: openapivts.koreainvestment.com / ops…:31000.
    case paper

    /// The order-notice TR of this environment's orders.
    var noticeTR: String { self == .real ? "H0STCNI0" : "H0STCNI9" }
    /// `KRX_FWDG_ORD_ORGNO` / `BRNC_NO` as the real and paper servers print them.
    var branch: String { self == .real ? "06590" : "00950" }
}

/// A client order (or a modify/cancel request, which KIS numbers like an order) and everything that happened to it.
struct OrderRecord {
    enum Kind { case new, modify, cancel }
    enum Condition { case none, ioc, fok }

    let owner: Owner
    /// ODNO, and ORGN_ODNO for a modify or cancel (0 otherwise).
    let number: Int64
    let originalNumber: Int64
    let kind: Kind
    let environment: Environment
    let appKey: String
    let account: String
    let code: String
    let name: String
    let side: Side
    /// ORD_DVSN text (`00` limit, `01` market, …) and the resulting IOC/FOK condition.
    let orderType: String
    let condition: Condition
    /// Limit price; 0 for market-type orders.
    let price: Int64
    let quantity: Int64
    let date: UInt32
    let time: UInt32
    /// EXCG_ID_DVSN_CD as sent, and the book the order works in: its route's, or for SOR the one SOR chose.
    let route: OrderRoute
    let venue: Venue

    var filled: Int64 = 0
    var filledValue: Int64 = 0
    /// Quantity withdrawn by a cancel, a modify, IOC/FOK or the end of the day.
    var cancelled: Int64 = 0
    var rejected: Int64 = 0
    /// Where the remainder rests in the book, if it does.
    var restingPrice: Int64?

    /// ODNO as the server prints it: ten digits, zero-padded.
    var numberText: String { Self.padded(self.number) }
    /// ORGN_ODNO: blank for a new order.
    var originalNumberText: String { self.originalNumber > 0 ? Self.padded(self.originalNumber) : "" }

    private static func padded(_ number: Int64) -> String {
        var text: [UInt8] = []
        text.appendPadded(number, width: 10)
        return String(decoding: text, as: UTF8.self)
    }

    var remaining: Int64 { self.quantity - self.filled - self.cancelled - self.rejected }
    var isOpen: Bool { self.kind != .cancel && self.remaining > 0 && self.restingPrice != nil }
}

struct Holding {
    var quantity: Int64 = 0
    /// Purchase amount of what is held (`pchs_amt`), average-cost method.
    var cost: Int64 = 0
    var boughtToday: Int64 = 0
    var soldToday: Int64 = 0
    var boughtYesterday: Int64 = 0
    var soldYesterday: Int64 = 0
}

/// One brokerage account: cash as a ledger of flows that settle two trading days after the trade, and holdings.
struct Account {
    let environment: Environment
    /// `CANO` + `ACNT_PRDT_CD`.
    let number: String
    let initialCash: Int64
    /// (settlement date, amount): purchases negative, sales positive, fees and tax included.
    var flows: [(settles: UInt32, amount: Int64)] = []
    var holdings: [String: Holding] = [:]
    /// Today's totals for `thdt_buy_amt`, `thdt_sll_amt`, `thdt_tlex_amt`, and yesterday's.
    var boughtToday: Int64 = 0
    var soldToday: Int64 = 0
    var costsToday: Int64 = 0
    var boughtYesterday: Int64 = 0
    var soldYesterday: Int64 = 0
    var costsYesterday: Int64 = 0

    /// Cash settled by `date` (`dnca_tot_amt` for today, `nxdy_excc_amt` for tomorrow).
    func cash(settledBy date: UInt32) -> Int64 {
        self.initialCash + self.flows.lazy.filter { $0.settles <= date }.reduce(0) { $0 + $1.amount }
    }

    /// Cash after everything traded so far settles (`prvs_rcdl_excc_amt`, D+2).
    var projectedCash: Int64 { self.initialCash + self.flows.reduce(0) { $0 + $1.amount } }

    mutating func rollDay() {
        self.boughtYesterday = self.boughtToday
        self.soldYesterday = self.soldToday
        self.costsYesterday = self.costsToday
        (self.boughtToday, self.soldToday, self.costsToday) = (0, 0, 0)
        for code in self.holdings.keys {
            self.holdings[code]!.boughtYesterday = self.holdings[code]!.boughtToday
            self.holdings[code]!.soldYesterday = self.holdings[code]!.soldToday
            self.holdings[code]!.boughtToday = 0
            self.holdings[code]!.soldToday = 0
        }
    }
}
