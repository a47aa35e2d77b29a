public import Metrics

/// What the engine is doing, for the live status line and the end-of-run report. Assembled on the control
/// thread from snapshots the stages publish; reading it never touches a stage's hot path.
public struct EngineStatus: Sendable, Encodable {
    /// Market time, nanoseconds since the Unix epoch.
    public var marketTime: Int64 = 0
    public var wallSeconds: Double = 0
    /// Trade and book records decoded, and WebSocket messages received.
    public var records = 0
    public var frames = 0
    public var malformedFrames = 0
    public var reconnects = 0
    /// WebSocket sessions open now, of `sessions`.
    public var connectedSessions = 0
    /// Codes whose trade stream KIS has acknowledged, over every session.
    public var subscribedCodes = 0
    /// Codes with at least one trade through the market stage so far.
    public var codesTraded = 0
    /// WebSocket sessions: one per app key.
    public var sessions = 1
    public var positions: [PositionLine] = []
    /// Orders working or in flight, by id.
    public var workingOrders: [WorkingOrderLine] = []
    public var realisedPnL: Int64 = 0
    public var unrealisedPnL: Int64 = 0
    public var fees: Int64 = 0
    public var taxes: Int64 = 0
    public var orders = OrderCounts()
    public var riskRejections = 0
    /// `riskRejections` by reason, most frequent first.
    public var refusals: [RefusalLine] = []
    public var latency: [LatencyLine] = []
    public var drops = Drops()
    public var killSwitch = false
    public var entriesPaused = false
    public var notes: [String] = []

    public init() {}

    public struct PositionLine: Sendable, Encodable, Equatable {
        public var code: String
        public var quantity: Int64
        public var averagePrice: Double
        public var lastPrice: Int64
        public var unrealisedPnL: Int64

        public init(code: String, quantity: Int64, averagePrice: Double, lastPrice: Int64, unrealisedPnL: Int64) {
            self.code = code
            self.quantity = quantity
            self.averagePrice = averagePrice
            self.lastPrice = lastPrice
            self.unrealisedPnL = unrealisedPnL
        }
    }

    public struct WorkingOrderLine: Sendable, Encodable, Equatable {
        /// The engine's order id.
        public var id: Int
        public var code: String
        /// `buy` or `sell`.
        public var side: String
        public var quantity: Int
        public var filled: Int
        /// KRW; 0 for a market order.
        public var price: Int
        /// Where the order stands (`OrderState`'s name: `sent`, `accepted`, `partiallyFilled`, `unknown`, …).
        public var state: String
    }

    public struct OrderCounts: Sendable, Encodable, Equatable {
        public var sent = 0
        public var accepted = 0
        public var filled = 0
        public var partiallyFilled = 0
        public var cancelled = 0
        public var rejected = 0
        public var open = 0
        public var fills = 0
    }

    /// Intents the risk gate refused for one reason.
    public struct RefusalLine: Sendable, Encodable, Equatable {
        public var reason: String
        public var count: Int
    }

    /// One latency interval's distribution, nanoseconds: the histogram's summary, and for `/metrics` its sum and
    /// buckets.
    public struct LatencyLine: Sendable, Encodable, Equatable {
        public var stage: String
        public var summary: LatencySummary
        /// Every latency added up, at the histogram's precision.
        public var sum: Int64
        /// Latencies at or below each of `bucketBounds`, cumulative as Prometheus counts them.
        public var buckets: [Int64]

        public init(stage: String, summary: LatencySummary, sum: Int64, buckets: [Int64]) {
            self.stage = stage
            self.summary = summary
            self.sum = sum
            self.buckets = buckets
        }

        private enum CodingKeys: String, CodingKey {
            case stage, count, p50, p90, p99, p999, max, sum, buckets
        }

        /// Flat, as reports have always been read (`scripts/soak`, the page).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.stage, forKey: .stage)
            try container.encode(self.summary.count, forKey: .count)
            try container.encode(self.summary.p50, forKey: .p50)
            try container.encode(self.summary.p90, forKey: .p90)
            try container.encode(self.summary.p99, forKey: .p99)
            try container.encode(self.summary.p999, forKey: .p999)
            try container.encode(self.summary.max, forKey: .max)
            try container.encode(self.sum, forKey: .sum)
            try container.encode(self.buckets, forKey: .buckets)
        }

        /// The bounds of `buckets`, nanoseconds: 1-2.5-5 steps from 1 µs to 10 s.
        public static let bucketBounds: [Int64] =
            (0..<7).flatMap { decade -> [Int64] in
                let unit = [Int64](repeating: 10, count: decade).reduce(1_000, *)
                return [unit, unit * 5 / 2, unit * 5]
            } + [10_000_000_000]
    }

    /// What the full-ring policy gave up, counted (never silent).
    public struct Drops: Sendable, Encodable, Equatable {
        /// Books replaced by a newer book of the same code before the candle stage read them.
        public var booksConflated = 0
        /// Trades and notices that waited in a stage's overflow queue because its ring was full (delayed, not lost).
        public var spilled = 0
        /// Records lost because a ring and its overflow queue were both full.
        public var lost = 0
        /// Trades older than their candle, which update nothing.
        public var lateTrades = 0
        /// Log records and lines dropped because the log's writer fell behind (the run never waits for it).
        public var logRecords = 0
    }
}

/// The end of a run: the final status and what it adds up to.
public struct EngineReport: Sendable, Encodable {
    public var status: EngineStatus
    public var startedAt: String
    public var endedAt: String
    public var codes: [String]
    /// Records decoded per wall second over the run.
    public var recordsPerSecond: Double
    /// What reconciliation with KIS found at the end, or at a restart.
    public var discrepancies: [String]
}
