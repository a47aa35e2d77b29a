public import Orders
public import TickCore

/// A holding as KIS's balance reports it.
public struct BrokerHolding: BitwiseCopyable, Sendable, Equatable {
    public var code: SymbolCode
    public var quantity: Int64
    /// `pchs_amt`: what the shares held cost, KRW, fees excluded.
    public var cost: Int64

    public init(code: SymbolCode, quantity: Int64, cost: Int64) {
        self.code = code
        self.quantity = quantity
        self.cost = cost
    }
}

/// Where the journal and KIS disagreed, and what was done. KIS wins every time; each is logged.
public enum Discrepancy: Sendable, Equatable {
    /// The journal's holding differed from the balance; the balance's quantity and cost were taken.
    case position(SymbolCode, journal: Int64, broker: Int64)
    /// An order journaled as pending, without an ODNO, is at KIS: its ODNO and fills were adopted.
    case pendingFound(OrderID, orderNumber: UInt64)
    /// An order journaled as pending is not at KIS: it never reached KIS (marked `notPlaced`, not resent).
    case pendingNotPlaced(OrderID)
    /// KIS has an open order the journal never knew (placed by hand, or sent before its journal row was durable
    /// by a build without the write-ahead rule): adopted under a new id and flagged.
    case adopted(OrderID, orderNumber: UInt64)
    /// KIS reported fills the journal lacked.
    case fillsFound(OrderID, quantity: Int32)
    /// The journal counted more filled than KIS reports; KIS's figure was taken.
    case filledReduced(OrderID, journal: Int32, broker: Int32)
    /// A journaled order could not be put back (its ODNO appears twice, or its target is missing).
    case unrestorable(OrderID)
    /// A KIS row whose numbers do not parse.
    case unreadable(orderNumber: String)
}

/// The corrected state, the fills to journal, and what was corrected.
public struct Reconciliation: Sendable {
    public var state: RecoveredState
    /// Fills KIS reported that the journal lacked: journal them (`Journal.append(.fill)`).
    public var fills: [Fill]
    public var discrepancies: [Discrepancy]
}

/// Puts the recovered journal right against what KIS reports after a restart: the balance's holdings and the
/// day's orders (`inquire-daily-ccld`, which lists every order of the day, open ones included).
public struct Reconciler: Sendable {
    public var costs: Costs

    public init(costs: Costs = Costs()) {
        self.costs = costs
    }

    /// - Parameters:
    ///   - recovered: what `Journal.recover` returned.
    ///   - holdings: the balance's holdings (all of them: a symbol missing is a holding of zero).
    ///   - orders: today's orders at KIS.
    ///   - localTs: stamped on the fills reconciliation finds.
    public func reconcile(
        _ recovered: RecoveredState,
        holdings: [BrokerHolding],
        orders: [BrokerOrder],
        localTs: Int64 = 0
    ) -> Reconciliation {
        var discrepancies: [Discrepancy] = []
        var book = OrderBook(capacity: max(16, 2 * (recovered.orders.count + orders.count)))
        var sink = Collector()
        for order in recovered.orders {
            do { try book.restore(order) } catch { discrepancies.append(.unrestorable(order.id)) }
        }
        let pending = recovered.orders.filter { $0.state == .unknown }.map(\.id)
        var next = recovered.nextOrderID.rawValue
        // New orders first, so a modify or cancel finds its target numbered.
        let byTarget = orders.sorted {
            ($0.originalOrderNumber, $0.orderNumber) < ($1.originalOrderNumber, $1.orderNumber)
        }
        for record in byTarget {
            guard book.apply(.reconciled(record, localTs: localTs), into: &sink) == .foreign else { continue }
            guard record.originalOrderNumber == 0, record.remaining > 0, !record.cancelled, !record.rejected else {
                continue
            }
            let id = OrderID(rawValue: next)
            next += 1
            let adopted = OrderSnapshot(
                id: id,
                target: id,
                code: record.code,
                side: record.side,
                action: .new,
                purpose: .entry,
                quantity: record.quantity,
                price: record.price,
                state: record.filled > 0 ? .partiallyFilled : .accepted,
                orderNumber: record.orderNumber,
                organization: record.organization,
                filled: record.filled,
                fillValue: record.filledValue,
                remaining: record.remaining,
                needsReconciliation: true
            )
            do {
                try book.restore(adopted)
                discrepancies.append(.adopted(id, orderNumber: record.orderNumber))
            } catch {
                discrepancies.append(.unrestorable(id))
            }
        }
        for id in pending {
            if let order = book.order(id), order.orderNumber != 0 {
                discrepancies.append(.pendingFound(id, orderNumber: order.orderNumber))
            } else {
                _ = book.apply(.notPlaced(id), into: &sink)
                discrepancies.append(.pendingNotPlaced(id))
            }
        }
        for before in recovered.orders {
            guard let after = book.order(before.id) else { continue }
            if after.filled > before.filled {
                discrepancies.append(.fillsFound(before.id, quantity: after.filled - before.filled))
            } else if after.filled < before.filled {
                discrepancies.append(.filledReduced(before.id, journal: before.filled, broker: after.filled))
            }
        }

        let symbols = recovered.positions.count + holdings.count + sink.fills.count + 1
        var positions = Positions(capacity: symbols, costs: self.costs)
        // Capacity covers every symbol that can appear, so neither call can refuse.
        for position in recovered.positions { try? positions.restore(position) }
        for fill in sink.fills { try? positions.apply(fill) }
        let broker = Dictionary(holdings.map { ($0.code, $0) }) { a, b in
            BrokerHolding(code: a.code, quantity: a.quantity + b.quantity, cost: a.cost + b.cost)
        }
        let codes = Set(broker.keys).union(positions.all.map(\.code)).sorted()
        for code in codes {
            let held = broker[code] ?? BrokerHolding(code: code, quantity: 0, cost: 0)
            var position = positions.position(code) ?? Position(code: code)
            guard position.quantity != held.quantity else { continue }
            discrepancies.append(.position(code, journal: position.quantity, broker: held.quantity))
            position.quantity = held.quantity
            position.cost = held.cost
            position.entryFees = 0
            if position.lastPrice == 0 && held.quantity != 0 { position.lastPrice = held.cost / held.quantity }
            try? positions.restore(position)
        }
        let state = RecoveredState(
            orders: book.orders(),
            positions: positions.all,
            totals: positions.totals,
            nextOrderID: OrderID(rawValue: next)
        )
        return Reconciliation(state: state, fills: sink.fills, discrepancies: discrepancies)
    }
}

/// Gathers what the book emits during reconciliation.
private struct Collector: OrderSink {
    var fills: [Fill] = []

    mutating func orderChanged(_ change: OrderChange) {}
    mutating func filled(_ fill: Fill) { self.fills.append(fill) }
}
