import Orders
import TickCore

/// Keeps everything the book emits, for the tests to look at.
struct Recorder: OrderSink {
    var changes: [OrderChange] = []
    var fills: [Fill] = []

    mutating func orderChanged(_ change: OrderChange) { self.changes.append(change) }
    mutating func filled(_ fill: Fill) { self.fills.append(fill) }

    var filledQuantity: Int32 { self.fills.reduce(0) { $0 + $1.quantity } }
    var filledValue: Int64 { self.fills.reduce(0) { $0 + Int64($1.quantity) * Int64($1.price) } }
}

enum Make {
    static let code = SymbolCode(ascii: "005930")
    static let account: UInt64 = 50_000_000_01

    static func intent(
        _ id: UInt32,
        quantity: Int32 = 10,
        price: Int32 = 70_000,
        side: OrderSide = .buy,
        action: OrderIntent.Action = .new,
        target: UInt32? = nil
    ) -> OrderIntent {
        OrderIntent(
            id: OrderID(rawValue: id),
            code: Self.code,
            side: side,
            quantity: quantity,
            price: price,
            purpose: .entry,
            action: action,
            target: target.map { OrderID(rawValue: $0) }
        )
    }

    /// An acknowledgement notice (CNTG_YN 1) of order `number`.
    static func ack(
        _ number: UInt64,
        original: UInt64 = 0,
        amend: UInt8 = 0,
        quantity: Int32 = 10,
        rejected: Bool = false,
        acceptCode: UInt8 = 2
    ) -> Notice {
        var notice = Notice()
        notice.code = Self.code
        notice.account = Self.account
        notice.orderNumber = number
        notice.originalOrderNumber = original
        notice.amendCode = amend
        notice.quantity = quantity
        notice.orderQuantity = quantity
        notice.price = 70_000
        notice.rejected = rejected
        notice.acceptCode = acceptCode
        notice.sideCode = OrderSide.buy.rawValue
        return notice
    }

    /// A fill notice (CNTG_YN 2) of order `number`.
    static func fill(
        _ number: UInt64,
        _ quantity: Int32,
        at price: Int32 = 70_000,
        time: UInt32 = 1_800_000_000
    )
        -> Notice
    {
        var notice = Self.ack(number)
        notice.isFill = true
        notice.quantity = quantity
        notice.price = price
        notice.exchangeTime = time
        return notice
    }

    static func acknowledged(_ id: UInt32, _ number: UInt64) -> OrderEvent {
        .acknowledged(OrderID(rawValue: id), orderNumber: number, organization: 6590)
    }

    static func record(
        _ number: UInt64,
        quantity: Int32 = 10,
        price: Int32 = 70_000,
        filled: Int32,
        value: Int64,
        remaining: Int32,
        cancelled: Bool = false,
        original: UInt64 = 0,
        amend: UInt8 = 0,
        side: OrderSide = .buy
    ) -> OrderEvent {
        .reconciled(
            BrokerOrder(
                orderNumber: number,
                originalOrderNumber: original,
                code: Self.code,
                side: side,
                quantity: quantity,
                price: price,
                filled: filled,
                filledValue: value,
                remaining: remaining,
                cancelled: cancelled,
                amendCode: amend,
                time: 90_001,
                organization: 6590
            ),
            localTs: 0
        )
    }
}

extension OrderBook {
    /// Submits and marks written, as the dispatcher would.
    mutating func send(_ intent: OrderIntent, into sink: inout Recorder) throws(OrderRefusal) {
        _ = try self.submit(intent, into: &sink)
        _ = self.apply(.written(intent.id, at: 1), into: &sink)
    }

    func state(_ id: UInt32) -> OrderState? { self.order(OrderID(rawValue: id))?.state }
}

/// Every ordering of `items` (n! of them; fine up to 6 or 7).
func permutations<T>(_ items: [T]) -> [[T]] {
    guard items.count > 1 else { return [items] }
    var result: [[T]] = []
    for (i, item) in items.enumerated() {
        var rest = items
        rest.remove(at: i)
        for tail in permutations(rest) { result.append([item] + tail) }
    }
    return result
}
