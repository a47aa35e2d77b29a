/// Everything the page and `/metrics` show, as one value the control loop publishes once a second
/// (`DashboardServer.publish`). Built from what the engine already hands its status line, so serving the page never
/// reaches into a stage. Encoded as the JSON the page reads (`/api/state`, and each server-sent event).
public struct DashboardSnapshot: Sendable, Encodable, Equatable {
    /// `paper` or `live`.
    public var mode = "paper"
    /// The KIS environment traded: `paper` or `real`.
    public var environment = "paper"
    /// When the snapshot was taken and the market time then, milliseconds since the Unix epoch.
    public var wallTime: Int64 = 0
    public var marketTime: Int64 = 0
    public var uptimeSeconds: Double = 0
    public var connection = Connection()
    public var pnl = PnL()
    public var positions: [Position] = []
    public var workingOrders: [WorkingOrder] = []
    /// The latest fills, newest last.
    public var fills: [Fill] = []
    public var orders = OrderCounts()
    /// Feed, ring and log counters, in display order.
    public var counters: [Counter] = []
    public var latency: [LatencyRow] = []
    /// One chart per live code.
    public var charts: [Chart] = []
    public var killSwitch = false
    public var entriesPaused = false
    public var notes: [String] = []

    public init() {}

    public struct Connection: Sendable, Encodable, Equatable {
        /// `connected`, or `reconnecting` while the market-data session is down.
        public var state = "connecting"
        public var reconnects = 0
        /// Codes whose trades KIS has acknowledged.
        public var subscribedCodes = 0
        public var frames = 0
        public var records = 0
        public var recordsPerSecond: Double = 0
        public var malformedFrames = 0
        public init() {}
    }

    /// KRW, after fees and taxes where the name says so.
    public struct PnL: Sendable, Encodable, Equatable {
        public var realised: Int64 = 0
        public var unrealised: Int64 = 0
        public var fees: Int64 = 0
        public var taxes: Int64 = 0
        public init() {}
    }

    public struct Position: Sendable, Encodable, Equatable {
        public var code: String
        public var quantity: Int64
        public var averagePrice: Double
        public var lastPrice: Int64
        public var unrealised: Int64

        public init(code: String, quantity: Int64, averagePrice: Double, lastPrice: Int64, unrealised: Int64) {
            self.code = code
            self.quantity = quantity
            self.averagePrice = averagePrice
            self.lastPrice = lastPrice
            self.unrealised = unrealised
        }
    }

    public struct WorkingOrder: Sendable, Encodable, Equatable {
        /// The engine's order id.
        public var id: Int
        public var code: String
        /// `buy` or `sell`.
        public var side: String
        public var quantity: Int64
        public var filled: Int64
        /// KRW; 0 for a market order.
        public var price: Int64
        /// Where the order stands: `sent`, `accepted`, `partially filled`, `unknown`, …
        public var state: String

        public init(id: Int, code: String, side: String, quantity: Int64, filled: Int64, price: Int64, state: String) {
            self.id = id
            self.code = code
            self.side = side
            self.quantity = quantity
            self.filled = filled
            self.price = price
            self.state = state
        }
    }

    public struct Fill: Sendable, Encodable, Equatable {
        /// Milliseconds since the Unix epoch.
        public var time: Int64
        public var code: String
        public var side: String
        public var quantity: Int64
        public var price: Int64

        public init(time: Int64, code: String, side: String, quantity: Int64, price: Int64) {
            self.time = time
            self.code = code
            self.side = side
            self.quantity = quantity
            self.price = price
        }
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
        public var riskRejections = 0
        public init() {}
    }

    /// A running count, as the page lists it and `/metrics` exports it.
    public struct Counter: Sendable, Encodable, Equatable {
        /// The Prometheus metric name, without the `kistick_` prefix (`records_total`, `ring_lost_total`, …).
        public var metric: String
        /// What a person reads on the page.
        public var label: String
        public var value: Int64
        /// `counter` (only grows) or `gauge`.
        public var type: String

        public init(metric: String, label: String, value: Int64, type: String = "counter") {
            self.metric = metric
            self.label = label
            self.value = value
            self.type = type
        }
    }

    /// One pipeline interval's latency since the start, nanoseconds.
    public struct LatencyRow: Sendable, Encodable, Equatable {
        /// As the status line names it (`read→decoded`).
        public var stage: String
        public var count: Int64
        public var p50: Int64
        public var p90: Int64
        public var p99: Int64
        public var p999: Int64
        public var max: Int64
        /// Sum of every latency recorded.
        public var sum: Int64
        /// Latencies at or below each of `LatencyRow.bucketBounds`, cumulative as Prometheus counts them.
        public var buckets: [Int64]

        public init(
            stage: String,
            count: Int64,
            p50: Int64,
            p90: Int64,
            p99: Int64,
            p999: Int64,
            max: Int64,
            sum: Int64,
            buckets: [Int64]
        ) {
            self.stage = stage
            self.count = count
            self.p50 = p50
            self.p90 = p90
            self.p99 = p99
            self.p999 = p999
            self.max = max
            self.sum = sum
            self.buckets = buckets
        }

        /// The histogram's bucket bounds, nanoseconds: 1-2.5-5 steps from 1 µs to 10 s.
        public static let bucketBounds: [Int64] =
            (0..<7).flatMap { decade -> [Int64] in
                let unit = [Int64](repeating: 10, count: decade).reduce(1_000, *)
                return [unit, unit * 5 / 2, unit * 5]
            } + [10_000_000_000]
    }

    public struct Chart: Sendable, Encodable, Equatable {
        public var code: String
        /// Completed 1-minute bars, oldest first.
        public var candles: [Candle]
        /// The bot's fills of this code: its entries (buys) and exits (sells).
        public var marks: [Fill]

        public init(code: String, candles: [Candle], marks: [Fill]) {
            self.code = code
            self.candles = candles
            self.marks = marks
        }
    }

    public struct Candle: Sendable, Encodable, Equatable {
        /// The bar's start, milliseconds since the Unix epoch (market time).
        public var time: Int64
        public var open: Int64
        public var high: Int64
        public var low: Int64
        public var close: Int64
        public var volume: Int64

        public init(time: Int64, open: Int64, high: Int64, low: Int64, close: Int64, volume: Int64) {
            self.time = time
            self.open = open
            self.high = high
            self.low = low
            self.close = close
            self.volume = volume
        }
    }
}
