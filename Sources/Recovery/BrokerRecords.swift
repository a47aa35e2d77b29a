public import Journal
public import KIS
public import Orders
import TickCore

extension BrokerOrder {
    /// Reads a row of `dailyOrders` or `cancellableOrders`; nil when its numbers do not parse.
    ///
    /// KIS's rows do not say whether an amendment is a modify or a cancel; a row with an original order number
    /// is read as a cancel when KIS marks it cancelled (`cncl_yn`), as a modify otherwise.
    public init?(_ record: OrderRecord) {
        let value = (record.averageFillPrice * Double(record.filledQuantity)).rounded()
        guard let number = UInt64(record.orderNumber), number != 0, let code = SymbolCode(record.code),
            record.sideCode == "01" || record.sideCode == "02", let quantity = Int32(exactly: record.quantity),
            let price = Int32(exactly: record.price), let filled = Int32(exactly: record.filledQuantity),
            let remaining = Int32(exactly: record.remainingQuantity), let filledValue = Int64(exactly: value)
        else { return nil }
        let side: OrderSide = record.sideCode == "01" ? .sell : .buy
        let original = UInt64(record.originalOrderNumber) ?? 0
        self.init(
            orderNumber: number,
            originalOrderNumber: original,
            code: code,
            side: side,
            quantity: quantity,
            price: price,
            filled: filled,
            filledValue: filledValue,
            remaining: remaining,
            cancelled: record.cancelled,
            rejected: record.rejectedQuantity > 0 && filled == 0,
            amendCode: original == 0 ? 0 : (record.cancelled ? 2 : 1),
            time: UInt32(record.time) ?? 0,
            organization: UInt32(record.organization) ?? 0
        )
    }
}

extension BrokerHolding {
    /// Reads a holding of `balance()`; nil when its code does not pack.
    public init?(_ holding: Holding) {
        guard let code = SymbolCode(holding.code) else { return nil }
        self.init(code: code, quantity: holding.quantity, cost: holding.purchaseAmount)
    }
}

extension Reconciler {
    /// Reconciles against KIS's own answers: `balance()` and `dailyOrders(from: today, to: today)`.
    public func reconcile(
        _ recovered: RecoveredState,
        balance: Balance,
        orders: [OrderRecord],
        localTs: Int64 = 0
    ) -> Reconciliation {
        var unreadable: [Discrepancy] = []
        var records: [BrokerOrder] = []
        for record in orders {
            if let order = BrokerOrder(record) {
                records.append(order)
            } else {
                unreadable.append(.unreadable(orderNumber: record.orderNumber))
            }
        }
        let holdings = balance.holdings.compactMap(BrokerHolding.init)
        var result = self.reconcile(recovered, holdings: holdings, orders: records, localTs: localTs)
        result.discrepancies += unreadable
        return result
    }
}
