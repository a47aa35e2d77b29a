public import Candles
public import Engine
public import TickCore

/// Everything the page and `/metrics` show, as one value the control loop publishes once a second
/// (`DashboardServer.publish`): the engine's status, the very value the status line reads, with what a page adds
/// to it (the fills, each live code's bars, counters named for Prometheus). Serving the page never reaches into a
/// stage. Encoded as the JSON the page reads (`/api/state`, and each server-sent event).
public struct DashboardSnapshot: Sendable, Encodable {
    /// `paper` or `live`.
    public var mode = "paper"
    /// The KIS environment traded: `paper` or `real`.
    public var environment = "paper"
    /// When the snapshot was taken, milliseconds since the Unix epoch.
    public var wallTime: Int64 = 0
    public var status = EngineStatus()
    /// Records decoded per wall second since the last snapshot.
    public var recordsPerSecond: Double = 0
    /// The latest fills, newest last.
    public var fills: [FillReport] = []
    /// Feed, ring and log counters, in display order.
    public var counters: [Counter] = []
    /// One chart per live code.
    public var charts: [Chart] = []

    public init() {}

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

    public struct Chart: Sendable, Encodable {
        public var code: String
        /// Completed 1-minute bars, oldest first.
        public var candles: [Candle]
        /// The bot's fills of this code: its entries (buys) and exits (sells).
        public var marks: [FillReport]

        public init(code: String, candles: [Candle], marks: [FillReport]) {
            self.code = code
            self.candles = candles
            self.marks = marks
        }
    }
}

/// What the page shows that the engine hands over only once (its fills, its completed bars): kept by the control
/// loop, which adds what it takes each second and makes each snapshot from it and the status.
public struct DashboardHistory: Sendable {
    /// Bars kept per code: a trading day of minutes.
    static let barsKept = 390
    static let fillsKept = 200
    public let mode: String
    public let environment: String
    private var fills: [FillReport] = []
    private var bars: [SymbolCode: [Candle]] = [:]
    private var last: (records: Int, wallSeconds: Double)?

    public init(mode: String, environment: String) {
        self.mode = mode
        self.environment = environment
    }

    public mutating func add(fills: [FillReport]) {
        self.fills.append(contentsOf: fills)
        if self.fills.count > Self.fillsKept { self.fills.removeFirst(self.fills.count - Self.fillsKept) }
    }

    public mutating func add(bar: Candle) {
        self.bars[bar.code, default: []].append(bar)
        if self.bars[bar.code]!.count > Self.barsKept { self.bars[bar.code]!.removeFirst() }
    }

    /// The page's view of `status`, with a chart for each of `live` (the codes subscribed now).
    /// - Parameters:
    ///   - droppedFills: fills the control loop was too slow to take (`Engine.droppedFillReports`).
    ///   - droppedBars: bars it was too slow to take (`Engine.droppedBars`).
    public mutating func snapshot(
        _ status: EngineStatus,
        live: [SymbolCode],
        wallTime: Int64,
        droppedFills: Int = 0,
        droppedBars: Int = 0
    ) -> DashboardSnapshot {
        var snapshot = DashboardSnapshot()
        snapshot.mode = self.mode
        snapshot.environment = self.environment
        snapshot.wallTime = wallTime
        snapshot.status = status
        if let last = self.last, status.wallSeconds > last.wallSeconds {
            snapshot.recordsPerSecond = Double(status.records - last.records) / (status.wallSeconds - last.wallSeconds)
        }
        self.last = (status.records, status.wallSeconds)
        snapshot.fills = self.fills
        snapshot.charts = live.map { code in
            DashboardSnapshot.Chart(
                code: code.description,
                candles: self.bars[code] ?? [],
                marks: self.fills.filter { $0.code == code }
            )
        }
        let drops = status.drops
        snapshot.counters = [
            .init(metric: "frames_total", label: "frames", value: Int64(status.frames)),
            .init(metric: "records_total", label: "records", value: Int64(status.records)),
            .init(metric: "malformed_frames_total", label: "malformed frames", value: Int64(status.malformedFrames)),
            .init(metric: "reconnects_total", label: "reconnects", value: Int64(status.reconnects)),
            .init(
                metric: "subscribed_codes",
                label: "codes subscribed",
                value: Int64(status.subscribedCodes),
                type: "gauge"
            ),
            .init(metric: "books_conflated_total", label: "books conflated", value: Int64(drops.booksConflated)),
            .init(metric: "ring_spilled_total", label: "records spilled", value: Int64(drops.spilled)),
            .init(metric: "ring_lost_total", label: "records lost", value: Int64(drops.lost)),
            .init(metric: "late_trades_total", label: "late trades", value: Int64(drops.lateTrades)),
            .init(metric: "log_dropped_total", label: "log lines dropped", value: Int64(drops.logRecords)),
            .init(metric: "page_fills_dropped_total", label: "fills the page missed", value: Int64(droppedFills)),
            .init(metric: "page_bars_dropped_total", label: "bars the page missed", value: Int64(droppedBars)),
        ]
        return snapshot
    }
}

extension Candle: Encodable {
    private enum CodingKeys: String, CodingKey {
        case start, open, high, low, close, volume
    }

    /// As the page draws it: the start (Unix seconds) and the prices and shares; the rest is the strategy's.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.start, forKey: .start)
        try container.encode(self.open, forKey: .open)
        try container.encode(self.high, forKey: .high)
        try container.encode(self.low, forKey: .low)
        try container.encode(self.close, forKey: .close)
        try container.encode(self.volume, forKey: .volume)
    }
}
