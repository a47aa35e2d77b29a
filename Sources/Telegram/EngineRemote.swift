public import Engine
public import KIS
import Risk
public import TickCore

/// The account as /balance shows it, KRW.
public struct AccountSummary: Sendable, Equatable {
    public var cash: Int64
    public var totalValue: Int64
    public var profit: Int64
    public var holdings: [Holding]

    public struct Holding: Sendable, Equatable {
        public var code: String
        public var name: String
        public var quantity: Int64
        public var price: Int64
        public var profit: Int64

        public init(code: String, name: String, quantity: Int64, price: Int64, profit: Int64) {
            self.code = code
            self.name = name
            self.quantity = quantity
            self.price = price
            self.profit = profit
        }
    }

    public init(cash: Int64, totalValue: Int64, profit: Int64, holdings: [Holding]) {
        self.cash = cash
        self.totalValue = totalValue
        self.profit = profit
        self.holdings = holdings
    }
}

/// An order still working at the broker, as /orders shows it.
public struct OpenOrder: Sendable, Equatable {
    public var code: String
    public var side: OrderSide
    public var quantity: Int64
    public var filled: Int64
    /// KRW; 0 for a market order.
    public var price: Int64
    public var orderNumber: String

    public init(code: String, side: OrderSide, quantity: Int64, filled: Int64, price: Int64, orderNumber: String) {
        self.code = code
        self.side = side
        self.quantity = quantity
        self.filled = filled
        self.price = price
        self.orderNumber = orderNumber
    }
}

/// What the bot may do to a running engine, and the broker queries it answers with. Called from the bot's poller
/// thread, never from an engine thread.
public protocol EngineRemote: Sendable {
    /// No new entries; exits and the kill switch go on.
    func pauseEntries()
    func resumeEntries()
    var entriesPaused: Bool { get }
    /// Cancel everything, flatten, refuse entries.
    func armKillSwitch()
    /// The account at the broker.
    func account() throws -> AccountSummary
    /// Today's orders still working at the broker.
    func openOrders() throws -> [OpenOrder]
}

/// A running `Engine` and the KIS client it trades through.
public struct EngineLink: EngineRemote {
    public let engine: Engine
    public let client: KISClient

    public init(engine: Engine, client: KISClient) {
        self.engine = engine
        self.client = client
    }

    public func pauseEntries() { self.engine.pauseEntries() }

    public func resumeEntries() { self.engine.resumeEntries() }

    public var entriesPaused: Bool { self.engine.entriesPaused }

    public func armKillSwitch() { self.engine.armKillSwitch() }

    public func account() throws -> AccountSummary {
        let balance = try self.client.balance()
        return AccountSummary(
            cash: balance.cash,
            totalValue: balance.totalValue,
            profit: balance.profit,
            holdings: balance.holdings.filter { $0.quantity != 0 }.map {
                AccountSummary.Holding(
                    code: $0.code,
                    name: $0.name,
                    quantity: $0.quantity,
                    price: $0.price,
                    profit: $0.profit
                )
            }
        )
    }

    public func openOrders() throws -> [OpenOrder] {
        let today = KST.date(epochSeconds: WallClock().epochSeconds())
        return try self.client.dailyOrders(from: today, to: today).compactMap { record in
            guard record.remainingQuantity > 0, !record.cancelled else { return nil }
            return OpenOrder(
                code: record.code,
                side: record.sideCode == "02" ? .buy : .sell,
                quantity: record.quantity,
                filled: record.filledQuantity,
                price: record.price,
                orderNumber: record.orderNumber
            )
        }
    }

    /// The run's daily loss limit, as risk reads it from the engine's settings.
    public var dailyLossLimit: Int64 {
        let risk = self.engine.settings.parameters.filter { RiskLimits.keys.contains($0.key) }
        return ((try? RiskLimits(parameters: risk)) ?? RiskLimits()).dailyLossLimit
    }
}
