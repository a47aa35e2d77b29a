import TickCore

/// Finds out what became of an order whose answer was lost (timeout, reset, EGW00302), by asking KIS for today's
/// orders instead of sending it again: a resend after a lost answer is how a trader ends up with twice the position.
public struct OrderRecovery: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// KIS has the order: here it is, with its number, fills and remainder.
        case placed(OrderRecord)
        /// KIS shows no such order after `attempts` looks: it was not placed, and a new decision may send it.
        case notPlaced
    }

    public let client: KISClient
    /// Looks before concluding "not placed", and the pause between them: KIS may list an order a moment late.
    public var attempts = 3
    public var pauseMilliseconds = 300

    public init(client: KISClient) {
        self.client = client
    }

    /// - Parameters:
    ///   - ticket: the order that was sent.
    ///   - sentAtKST: HHMMSS when it was sent; orders stamped earlier (less a few seconds of clock skew) are not it.
    ///   - known: order numbers this process already owns, which cannot be the lost one.
    public func resolve(_ ticket: OrderTicket, sentAtKST: UInt32, known: Set<UInt64>) throws(KISError) -> Outcome {
        let code = ticket.code.description
        let sideCode = ticket.side == .sell ? "01" : "02"
        let earliest = Self.secondsBefore(sentAtKST, 5)
        for attempt in 0..<self.attempts {
            if attempt > 0 { MonotonicClock().sleep(nanoseconds: Int64(self.pauseMilliseconds) * 1_000_000) }
            let today = KST.date(epochSeconds: WallClock().epochSeconds())
            let orders = try self.client.dailyOrders(from: today, to: today, code: code, as: .reconciliation)
            let candidates = orders.filter { record in
                record.code == code && record.sideCode == sideCode && record.quantity == ticket.quantity
                    && (ticket.isMarket ? record.orderType == "01" : record.price == ticket.price)
                    && record.originalOrderNumber.allSatisfy { $0 == "0" }
                    && UInt64(record.orderNumber).map { !known.contains($0) } ?? true
                    && (UInt32(record.time) ?? 0) >= earliest
            }
            // Several identical orders in the window: the newest is the one whose answer we missed.
            if let match = candidates.max(by: { ($0.time, $0.orderNumber) < ($1.time, $1.orderNumber) }) {
                return .placed(match)
            }
        }
        return .notPlaced
    }

    static func secondsBefore(_ time: UInt32, _ seconds: Int64) -> UInt32 {
        guard let of = KST.secondsOfDay(time: time), of >= seconds else { return 0 }
        return KST.time(secondsOfDay: of - seconds)
    }
}
