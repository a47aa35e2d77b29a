import GRDB
import Orders
import TickCore

/// The journal's tables and statements. Codes, ODNOs and enums are stored as integers, as the engine holds them.
enum Schema {
    static let create = """
        CREATE TABLE IF NOT EXISTS orders (
            id INTEGER PRIMARY KEY,
            target INTEGER NOT NULL,
            code INTEGER NOT NULL,
            side INTEGER NOT NULL,
            action INTEGER NOT NULL,
            purpose INTEGER NOT NULL DEFAULT 0,
            quantity INTEGER NOT NULL,
            price INTEGER NOT NULL DEFAULT 0,
            state INTEGER NOT NULL,
            order_number INTEGER NOT NULL DEFAULT 0,
            organization INTEGER NOT NULL DEFAULT 0,
            filled INTEGER NOT NULL DEFAULT 0,
            fill_value INTEGER NOT NULL DEFAULT 0,
            remaining INTEGER NOT NULL DEFAULT 0,
            needs_reconciliation INTEGER NOT NULL DEFAULT 0,
            decided_at INTEGER NOT NULL DEFAULT 0,
            -- Set by recordPending: the intent was durable before it could be sent.
            pending_at INTEGER,
            updated_at INTEGER NOT NULL DEFAULT 0,
            -- The KIS trading day (KST YYYYMMDD) the order was first journaled on; never changed afterwards.
            day INTEGER NOT NULL DEFAULT 0,
            -- OrderRoute (0 KRX, 1 NXT, 2 SOR): where it went, so a restored order is amended at its venue.
            route INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS order_events (
            seq INTEGER PRIMARY KEY,
            id INTEGER NOT NULL,
            state INTEGER NOT NULL,
            order_number INTEGER NOT NULL,
            quantity INTEGER NOT NULL,
            filled INTEGER NOT NULL,
            fill_value INTEGER NOT NULL,
            remaining INTEGER NOT NULL,
            last_fill_quantity INTEGER NOT NULL,
            last_fill_price INTEGER NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS fills (
            seq INTEGER PRIMARY KEY,
            id INTEGER NOT NULL,
            order_number INTEGER NOT NULL,
            code INTEGER NOT NULL,
            side INTEGER NOT NULL,
            quantity INTEGER NOT NULL,
            price INTEGER NOT NULL,
            exchange_time INTEGER NOT NULL,
            local_ts INTEGER NOT NULL,
            day INTEGER NOT NULL DEFAULT 0,
            -- Venue (1 KRX, 2 NXT, 3 a SOR fill no notice placed): where it executed.
            venue INTEGER NOT NULL DEFAULT 1
        );
        -- The last snapshot per symbol, and the last fill it includes: recovery replays the fills after it.
        CREATE TABLE IF NOT EXISTS positions (
            code INTEGER PRIMARY KEY,
            quantity INTEGER NOT NULL,
            cost INTEGER NOT NULL,
            entry_fees INTEGER NOT NULL,
            realised INTEGER NOT NULL,
            fees INTEGER NOT NULL,
            taxes INTEGER NOT NULL,
            turnover INTEGER NOT NULL,
            last_price INTEGER NOT NULL,
            fill_seq INTEGER NOT NULL,
            at INTEGER NOT NULL,
            -- The day of the snapshot: the day's totals (realised, fees, taxes, turnover) are that day's.
            day INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS orders_day ON orders (day);
        CREATE INDEX IF NOT EXISTS fills_day ON fills (day);
        """

    /// Creates the tables, and brings a journal of an earlier schema up to this one: rows written before they
    /// carried their day get a `day` column filled from each row's own wall-clock stamp: `pending_at` (the
    /// dispatcher's wall clock) or `updated_at` for orders, `local_ts` for fills, `at` for positions (the engine
    /// clock, which is the wall clock live); orders and fills written before kistick traded NXT get their route and
    /// venue, KRX, the only one there was.
    static func migrate(_ db: Database) throws {
        let kstDay = { (nanoseconds: String) in
            "CAST(strftime('%Y%m%d', \(nanoseconds) / 1000000000 + 32400, 'unixepoch') AS INTEGER)"
        }
        var added: [String] = []
        for (table, stamp) in [
            ("orders", "COALESCE(pending_at, updated_at)"), ("fills", "local_ts"), ("positions", "at"),
        ] where try db.tableExists(table) && !(try db.columns(in: table).contains { $0.name == "day" }) {
            try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN day INTEGER NOT NULL DEFAULT 0")
            added.append("UPDATE \(table) SET day = \(kstDay(stamp));")
        }
        for (table, column, definition) in [
            ("orders", "route", "INTEGER NOT NULL DEFAULT 0"), ("fills", "venue", "INTEGER NOT NULL DEFAULT 1"),
        ] where try db.tableExists(table) && !(try db.columns(in: table).contains { $0.name == column }) {
            try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN \(column) \(definition)")
        }
        try db.execute(sql: Self.create)
        for update in added { try db.execute(sql: update) }
    }

    private static let orderColumns = """
        id, target, code, side, action, purpose, quantity, price, state, order_number, organization, filled, \
        fill_value, remaining, needs_reconciliation, updated_at, day, route
        """

    /// The engine's view wins for state and quantities; the intent's price, purpose and times come from
    /// `recordPending` (which may commit before or after the engine's first update of the order).
    private static let upsertUpdate = """
        INSERT INTO orders (\(orderColumns)) VALUES (?, ?, ?, ?, ?, 0, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, order_number = excluded.order_number,
            organization = excluded.organization, quantity = excluded.quantity, filled = excluded.filled,
            fill_value = excluded.fill_value, remaining = excluded.remaining,
            needs_reconciliation = excluded.needs_reconciliation, updated_at = excluded.updated_at
        """

    private static let upsertOrder = """
        INSERT INTO orders (\(orderColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, order_number = excluded.order_number,
            organization = excluded.organization, quantity = excluded.quantity, price = excluded.price,
            purpose = excluded.purpose, filled = excluded.filled, fill_value = excluded.fill_value,
            remaining = excluded.remaining, needs_reconciliation = excluded.needs_reconciliation,
            updated_at = excluded.updated_at, route = excluded.route
        """

    private static let insertEvent = """
        INSERT INTO order_events (id, state, order_number, quantity, filled, fill_value, remaining,
            last_fill_quantity, last_fill_price, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    private static let insertFill = """
        INSERT INTO fills (id, order_number, code, side, quantity, price, exchange_time, local_ts, day, venue)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    private static let upsertPosition = """
        INSERT OR REPLACE INTO positions (code, quantity, cost, entry_fees, realised, fees, taxes, turnover,
            last_price, fill_seq, at, day)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE((SELECT MAX(seq) FROM fills), 0), ?, ?)
        """

    static let pending = """
        INSERT INTO orders (id, target, code, side, action, purpose, quantity, price, state, remaining, decided_at,
            pending_at, updated_at, day, route) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET purpose = excluded.purpose, price = excluded.price,
            decided_at = excluded.decided_at, pending_at = excluded.pending_at, route = excluded.route
        """

    static func pendingArguments(_ intent: OrderIntent, day: UInt32, at: Int64) -> StatementArguments {
        [
            intent.id.rawValue, intent.target.rawValue, Self.column(intent.code), intent.side.rawValue,
            intent.action.rawValue, intent.purpose.rawValue, intent.quantity, intent.price, OrderState.new.rawValue,
            intent.action == .new ? intent.quantity : 0, intent.decidedAt, at, at, day, intent.route.rawValue,
        ]
    }

    static func write(_ event: JournalEvent, day: UInt32, _ db: Database) throws {
        switch event {
        case .change(let u, let at):
            try db.cachedStatement(sql: Self.upsertUpdate).execute(arguments: [
                u.id.rawValue, u.target.rawValue, Self.column(u.code), u.side.rawValue, u.action.rawValue, u.quantity,
                u.state.rawValue, Self.column(u.orderNumber), u.organization, u.filled, u.fillValue, u.remaining,
                u.needsReconciliation, at, day,
            ])
            try db.cachedStatement(sql: Self.insertEvent).execute(arguments: [
                u.id.rawValue, u.state.rawValue, Self.column(u.orderNumber), u.quantity, u.filled, u.fillValue,
                u.remaining, u.lastFillQuantity, u.lastFillPrice, at,
            ])
        case .order(let o, let at):
            try db.cachedStatement(sql: Self.upsertOrder).execute(arguments: [
                o.id.rawValue, o.target.rawValue, Self.column(o.code), o.side.rawValue, o.action.rawValue,
                o.purpose.rawValue, o.quantity, o.price, o.state.rawValue, Self.column(o.orderNumber), o.organization,
                o.filled, o.fillValue, o.remaining, o.needsReconciliation, at, day, o.route.rawValue,
            ])
            try db.cachedStatement(sql: Self.insertEvent).execute(arguments: [
                o.id.rawValue, o.state.rawValue, Self.column(o.orderNumber), o.quantity, o.filled, o.fillValue,
                o.remaining, 0, 0, at,
            ])
        case .fill(let f):
            try db.cachedStatement(sql: Self.insertFill).execute(arguments: [
                f.id.rawValue, Self.column(f.orderNumber), Self.column(f.code), f.side.rawValue, f.quantity, f.price,
                f.exchangeTime, f.localTs, day, f.venue.rawValue,
            ])
        case .position(let p, let at):
            try db.cachedStatement(sql: Self.upsertPosition).execute(arguments: [
                Self.column(p.code), p.quantity, p.cost, p.entryFees, p.realised, p.fees, p.taxes, p.turnover,
                p.lastPrice, at, day,
            ])
        }
    }

    static func recover(_ db: Database, day: UInt32, costs: Costs) throws -> RecoveredState {
        var orders: [OrderSnapshot] = []
        // Past every id of every day: ids are the table's key.
        let next = (try UInt32.fetchOne(db, sql: "SELECT MAX(id) FROM orders")).map { $0 &+ 1 } ?? 0
        for row in try Row.fetchAll(db, sql: "SELECT * FROM orders WHERE day = ? ORDER BY id", arguments: [day]) {
            let id = OrderID(rawValue: row["id"])
            var order = OrderSnapshot(
                id: id,
                target: OrderID(rawValue: row["target"]),
                code: Self.code(row["code"]),
                side: OrderSide(rawValue: row["side"]) ?? .buy,
                action: OrderIntent.Action(rawValue: row["action"]) ?? .new,
                purpose: OrderIntent.Purpose(rawValue: row["purpose"]) ?? .entry,
                quantity: row["quantity"],
                price: row["price"],
                state: OrderState(rawValue: row["state"]) ?? .unknown,
                orderNumber: Self.number(row["order_number"]),
                organization: row["organization"],
                filled: row["filled"],
                fillValue: row["fill_value"],
                remaining: row["remaining"],
                needsReconciliation: row["needs_reconciliation"],
                route: OrderRoute(rawValue: row["route"]) ?? .krx
            )
            if order.state.awaitsNumber && order.orderNumber == 0 {
                // Journaled pending means it may have been sent; never journaled pending means it never was.
                let pending = (row["pending_at"] as Int64?) != nil
                order.state = pending ? .unknown : .notPlaced
                order.needsReconciliation = pending
                if !pending { order.remaining = 0 }
            }
            orders.append(order)
        }

        var snapshots: [(position: Position, fillSequence: Int64, day: UInt32)] = []
        for row in try Row.fetchAll(db, sql: "SELECT * FROM positions ORDER BY rowid") {
            var position = Position(code: Self.code(row["code"]))
            position.quantity = row["quantity"]
            position.cost = row["cost"]
            position.entryFees = row["entry_fees"]
            position.realised = row["realised"]
            position.fees = row["fees"]
            position.taxes = row["taxes"]
            position.turnover = row["turnover"]
            position.lastPrice = row["last_price"]
            snapshots.append((position, row["fill_seq"], row["day"]))
        }
        // Fills are journaled in order, so a code's fills of earlier days come before today's: the shares they
        // moved are carried, then the day's figures start again from zero, then today's fills count.
        let fills = try Row.fetchAll(db, sql: "SELECT * FROM fills ORDER BY seq")
        let codes = Set(snapshots.map(\.position.code)).union(fills.map { Self.code($0["code"]) })
        var positions = Positions(capacity: max(1, codes.count), costs: costs)
        var after: [SymbolCode: Int64] = [:]
        var overnight = Set(snapshots.filter { $0.day != day }.map(\.position.code))
        for snapshot in snapshots {
            try positions.restore(snapshot.position)
            after[snapshot.position.code] = snapshot.fillSequence
        }
        for row in fills {
            let code = Self.code(row["code"])
            guard (row["seq"] as Int64) > after[code, default: 0] else { continue }
            if (row["day"] as UInt32) != day {
                overnight.insert(code)
            } else if overnight.remove(code) != nil, var position = positions.position(code) {
                (position.realised, position.fees, position.taxes, position.turnover) = (0, 0, 0, 0)
                try positions.restore(position)
            }
            try positions.apply(
                Fill(
                    id: OrderID(rawValue: row["id"]),
                    code: code,
                    side: OrderSide(rawValue: row["side"]) ?? .buy,
                    quantity: row["quantity"],
                    price: row["price"],
                    orderNumber: Self.number(row["order_number"]),
                    exchangeTime: row["exchange_time"],
                    localTs: row["local_ts"],
                    venue: Venue(rawValue: row["venue"]) ?? .krx
                )
            )
        }
        for code in overnight {
            guard var position = positions.position(code) else { continue }
            (position.realised, position.fees, position.taxes, position.turnover) = (0, 0, 0, 0)
            try positions.restore(position)
        }
        return RecoveredState(
            orders: orders,
            positions: positions.all,
            totals: positions.totals,
            nextOrderID: OrderID(rawValue: next)
        )
    }

    /// SQLite integers are signed; codes are ASCII and ODNOs at most ten digits, so neither uses bit 63.
    static func column(_ code: SymbolCode) -> Int64 { Int64(bitPattern: code.rawValue) }
    static func column(_ number: UInt64) -> Int64 { Int64(bitPattern: number) }
    static func code(_ value: Int64) -> SymbolCode { SymbolCode(rawValue: UInt64(bitPattern: value)) }
    static func number(_ value: Int64) -> UInt64 { UInt64(bitPattern: value) }
}
