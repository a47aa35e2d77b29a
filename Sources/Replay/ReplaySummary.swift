import Orders
import TickCore

/// What a replay did: orders, fills and PnL per code and in total. Holds no wall-clock figure, so one file and
/// one setting always give the same summary, byte for byte, in `json` and `table`.
public struct ReplaySummary: Sendable, Equatable {
    /// What was fed.
    public struct Counts: Sendable, Equatable {
        public var messages: Int
        public var records: Int
        public var malformed: Int
        public var skippedNotices: Int
        public var disconnects: Int
        /// Orders still resting at the simulated exchange when the capture ended.
        public var restingAtEnd: Int
    }

    /// One order the strategy sent (new orders only; cancels show in `state`), as it ended.
    public struct Order: Sendable, Equatable {
        public var id: UInt32
        public var code: String
        public var side: String
        public var quantity: Int32
        public var filled: Int32
        public var state: String
    }

    /// One fill, as the order state machine applied it.
    public struct Fill: Sendable, Equatable {
        public var id: UInt32
        public var code: String
        public var side: String
        public var quantity: Int32
        public var price: Int32
        /// Exchange time, seconds since the Unix epoch.
        public var exchangeTime: UInt32
    }

    /// One code's result, whole KRW.
    public struct CodeResult: Sendable, Equatable {
        public var code: String
        public var orders: Int
        public var fills: Int
        public var bought: Int64
        public var sold: Int64
        public var position: Int64
        public var realised: Int64
        public var unrealised: Int64
        public var fees: Int64
        public var taxes: Int64
        public var pnl: Int64 { self.realised + self.unrealised }
    }

    public var counts: Counts
    public var marketSpeed: Double
    public var latency: ReplayLatency
    /// Strategy and risk settings given, by key.
    public var parameters: [(key: String, value: String)]
    public var orders: [Order]
    public var fills: [Fill]
    public var codes: [CodeResult]

    public var total: CodeResult {
        var total = CodeResult(
            code: "total",
            orders: 0,
            fills: 0,
            bought: 0,
            sold: 0,
            position: 0,
            realised: 0,
            unrealised: 0,
            fees: 0,
            taxes: 0
        )
        for code in self.codes {
            total.orders += code.orders
            total.fills += code.fills
            total.bought += code.bought
            total.sold += code.sold
            total.position += code.position
            total.realised += code.realised
            total.unrealised += code.unrealised
            total.fees += code.fees
            total.taxes += code.taxes
        }
        return total
    }

    /// Orders by the state they ended in, in `OrderState` order.
    public var ordersByState: [(state: String, count: Int)] {
        OrderState.allCases.compactMap { state in
            let count = self.orders.count { $0.state == "\(state)" }
            return count == 0 ? nil : ("\(state)", count)
        }
    }

    public static func == (lhs: ReplaySummary, rhs: ReplaySummary) -> Bool { lhs.json() == rhs.json() }

    /// The summary as one JSON document, keys in a fixed order.
    public func json() -> String {
        func result(_ r: CodeResult) -> String {
            #"{"code":"\#(r.code)","orders":\#(r.orders),"fills":\#(r.fills),"bought":\#(r.bought),"sold":\#(r.sold),"#
                + #""position":\#(r.position),"realised":\#(r.realised),"unrealised":\#(r.unrealised),"#
                + #""fees":\#(r.fees),"taxes":\#(r.taxes),"pnl":\#(r.pnl)}"#
        }
        let parameters = self.parameters.map { #""\#(Self.escaped($0.key))":"\#(Self.escaped($0.value))""# }
        let states = self.ordersByState.map { #""\#($0.state)":\#($0.count)"# }
        let orders = self.orders.map {
            #"{"id":\#($0.id),"code":"\#($0.code)","side":"\#($0.side)","quantity":\#($0.quantity),"#
                + #""filled":\#($0.filled),"state":"\#($0.state)"}"#
        }
        let fills = self.fills.map {
            #"{"id":\#($0.id),"code":"\#($0.code)","side":"\#($0.side)","quantity":\#($0.quantity),"#
                + #""price":\#($0.price),"exchange_time":\#($0.exchangeTime)}"#
        }
        let c = self.counts
        return "{"
            + #""settings":{"market_speed":\#(self.marketSpeed),"entry_latency_ns":\#(self.latency.entry),"#
            + #""ack_latency_ns":\#(self.latency.ack),"parameters":{\#(parameters.joined(separator: ","))}},"#
            + #""input":{"messages":\#(c.messages),"records":\#(c.records),"malformed":\#(c.malformed),"#
            + #""skipped_notices":\#(c.skippedNotices),"disconnects":\#(c.disconnects)},"#
            + #""orders":{"sent":\#(self.orders.count),"by_state":{\#(states.joined(separator: ","))},"#
            + #""resting_at_end":\#(c.restingAtEnd),"list":[\#(orders.joined(separator: ","))]},"#
            + #""fills":[\#(fills.joined(separator: ","))],"#
            + #""codes":[\#(self.codes.map(result).joined(separator: ","))],"#
            + #""total":\#(result(self.total))}"#
    }

    /// The summary as aligned text lines, for a terminal.
    public func table() -> [String] {
        var lines: [String] = []
        let c = self.counts
        lines.append(
            "replayed \(c.messages) messages (\(c.records) records, \(c.malformed) malformed, "
                + "\(c.skippedNotices) recorded notices skipped, \(c.disconnects) disconnects)"
        )
        let states = self.ordersByState.map { "\($0.count) \($0.state)" }.joined(separator: ", ")
        lines.append(
            "orders: \(self.orders.count) sent\(states.isEmpty ? "" : ": " + states); \(self.fills.count) fills; "
                + "\(c.restingAtEnd) resting at the end"
        )
        func pad(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - text.count)) + text
        }
        let header = [
            "code", "orders", "fills", "bought", "sold", "position", "realised", "unrealised", "fees", "taxes", "pnl",
        ]
        lines.append(header.map { pad($0, 11) }.joined())
        for r in self.codes + [self.total] {
            let cells: [String] = [
                r.code, "\(r.orders)", "\(r.fills)", "\(r.bought)", "\(r.sold)", "\(r.position)", "\(r.realised)",
                "\(r.unrealised)", "\(r.fees)", "\(r.taxes)", "\(r.pnl)",
            ]
            lines.append(cells.map { pad($0, 11) }.joined())
        }
        return lines
    }

    private static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                out +=
                    "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Gathers the journal rows the strategy stage writes into the summary's orders and fills. Off the engine's path:
/// it runs between polls, and grows with the orders sent.
struct ReplayCollector {
    private var orders: [UInt32: ReplaySummary.Order] = [:]
    private var fills: [ReplaySummary.Fill] = []

    mutating func record(_ event: JournalEvent) {
        switch event {
        case .change(let change, _) where change.action == .new:
            self.orders[change.id.rawValue] = ReplaySummary.Order(
                id: change.id.rawValue,
                code: change.code.description,
                side: Self.side(change.side),
                quantity: change.quantity,
                filled: change.filled,
                state: "\(change.state)"
            )
        case .fill(let fill):
            self.fills.append(
                ReplaySummary.Fill(
                    id: fill.id.rawValue,
                    code: fill.code.description,
                    side: Self.side(fill.side),
                    quantity: fill.quantity,
                    price: fill.price,
                    exchangeTime: fill.exchangeTime
                )
            )
        default:
            break
        }
    }

    func summary(settings: ReplaySettings, positions: [Position], counts: ReplaySummary.Counts) -> ReplaySummary {
        let orders = self.orders.values.sorted { $0.id < $1.id }
        let codes = settings.codes.map { code in
            let name = code.description
            let position = positions.first { $0.code == code } ?? Position(code: code)
            let fills = self.fills.filter { $0.code == name }
            return ReplaySummary.CodeResult(
                code: name,
                orders: orders.count { $0.code == name },
                fills: fills.count,
                bought: fills.filter { $0.side == "buy" }.reduce(0) { $0 + Int64($1.quantity) },
                sold: fills.filter { $0.side == "sell" }.reduce(0) { $0 + Int64($1.quantity) },
                position: position.quantity,
                realised: position.realised,
                unrealised: position.unrealised,
                fees: position.fees,
                taxes: position.taxes
            )
        }
        return ReplaySummary(
            counts: counts,
            marketSpeed: settings.marketSpeed,
            latency: settings.latency,
            parameters: settings.parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            orders: orders,
            fills: self.fills,
            codes: codes
        )
    }

    private static func side(_ side: OrderSide) -> String { side == .buy ? "buy" : "sell" }
}
