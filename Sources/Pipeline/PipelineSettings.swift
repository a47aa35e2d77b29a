public import EventLog
public import Orders
public import Ring
import Risk
import Strategy
public import TickCore

/// What a pipeline is built from: the codes, the strategy's and risk's parameters, and the market's speed.
public struct PipelineSettings: Sendable {
    /// The codes the pipeline trades: its symbol table (at most `SymbolTable.capacity`).
    public var codes: [SymbolCode]
    /// Strategy and risk parameters (`ScalpingParameters.Key`, `RiskLimits.keys`), as read from `settingsPath`.
    public var parameters: [String: String] = [:]
    /// Where `parameters` came from, for error messages.
    public var settingsPath = "the settings"
    /// Market seconds per wall (or replay) second: 1 live and against KIS's own recordings, more against an
    /// accelerated simulator.
    public var speed: Double = 1
    /// Trade ring slots, a power of two.
    public var ringCapacity = 1 << 14
    /// Threads that decode a feed into the pipeline, each into a lane of its own (`FeedPorts`): one per WebSocket
    /// session live, one for a replay or a benchmark.
    public var feedLanes = 1
    /// The market stage's ring into the run's log, for risk refusals (`reasons`: `PipelineSettings.refusalNames`);
    /// nil logs none (a replay, a benchmark).
    public var log: LogProducer?

    public init(codes: [SymbolCode]) {
        self.codes = codes
    }

    /// Every key a settings file may hold.
    public static var knownKeys: Set<String> {
        Set(ScalpingParameters.Key.allCases.map(\.rawValue)).union(RiskLimits.keys).union(VenueSettings.keys)
    }

    /// What a risk refusal's log record names its reason, by `RiskRejection` raw value: the market stage's producer
    /// is made with these `reasons`.
    public static let refusalNames: [String] = {
        var names = [String](repeating: "", count: RiskRejection.allCases.count)
        for reason in RiskRejection.allCases { names[Int(reason.rawValue)] = reason.description }
        return names
    }()

    /// The bar lengths the market stage builds, seconds; a strategy's entry interval must be one of them.
    public static let candleIntervals = [60, 300]

    /// The venue keys of `parameters`, read (`VenueSettings.keys`); a bad one names the key and `settingsPath`.
    public func venues() throws(PipelineError) -> VenueSettings {
        do {
            return try VenueSettings(parameters: self.parameters.filter { VenueSettings.keys.contains($0.key) })
        } catch {
            throw .settings(path: self.settingsPath, reason: "\(error)")
        }
    }

    /// `parameters` read into the strategy's and risk's own types, each taking its own keys.
    func strategyAndRisk() throws(PipelineError) -> (ScalpingParameters, RiskLimits) {
        let strategyKeys = Set(ScalpingParameters.Key.allCases.map(\.rawValue))
        let read: (ScalpingParameters, RiskLimits)
        do {
            read = (
                try ScalpingParameters(self.parameters.filter { strategyKeys.contains($0.key) }),
                try RiskLimits(
                    parameters: self.parameters.filter {
                        !strategyKeys.contains($0.key) && !VenueSettings.keys.contains($0.key)
                    }
                )
            )
        } catch {
            throw .settings(path: self.settingsPath, reason: "\(error)")
        }
        // A breakout level comes only from bars the market stage builds; any other length would never trade.
        guard Self.candleIntervals.contains(Int(read.0.entryIntervalSeconds)) else {
            throw .settings(
                path: self.settingsPath,
                reason: "\(ScalpingParameters.Key.entryIntervalSeconds.rawValue) must be one of the candle intervals "
                    + Self.candleIntervals.map(String.init).joined(separator: ", ")
            )
        }
        return read
    }
}

/// The venue part of a settings file: which venues the engine watches and trades, their timetables, and which
/// prints build the bars (docs/venues.md).
public struct VenueSettings: Sendable, Equatable {
    /// `venue`: krx (default), nxt, sor or combined.
    public var mode: VenueMode = .krx
    /// `krx_sessions`, `nxt_sessions`: each venue's windows (`VenueCalendar.windows(parsing:venue:)`).
    public var calendar: VenueCalendar = .standard
    /// `candle_venue`: the one venue whose prints build bars, or nil (`combined`, the default) for every print the
    /// feed brings, KRX's and NXT's in one bar.
    public var candleVenue: Venue?
    /// `market_status`: `yes` subscribes each watched venue's market-status TR per code (one more registration
    /// each); `no` (default) leaves halts and VIs to the trades and books.
    public var marketStatus = false

    public init() {}

    public static let keys: Set<String> = ["venue", "krx_sessions", "nxt_sessions", "candle_venue", "market_status"]

    /// The defaults, overridden by `parameters`.
    /// - Throws: `VenueSettingsError` naming the key.
    public init(parameters: [String: String]) throws(VenueSettingsError) {
        for key in parameters.keys.sorted() where !Self.keys.contains(key) { throw .unknownKey(key) }
        if let text = parameters["venue"] {
            guard let mode = VenueMode(rawValue: text) else {
                throw .badValue(key: "venue", reason: "'\(text)' is not krx, nxt, sor or combined")
            }
            self.mode = mode
        }
        let krx = try Self.windows(parameters, "krx_sessions", .krx) ?? VenueCalendar.standard.krx
        let nxt = try Self.windows(parameters, "nxt_sessions", .nxt) ?? VenueCalendar.standard.nxt
        do {
            self.calendar = try VenueCalendar(krx: krx, nxt: nxt)
        } catch {
            // Each list was checked as it was read; a calendar of two checked lists cannot fail.
            preconditionFailure("\(error)")
        }
        switch parameters["market_status"] {
        case nil, "no": self.marketStatus = false
        case "yes": self.marketStatus = true
        case let text?: throw .badValue(key: "market_status", reason: "'\(text)' is not yes or no")
        }
        switch parameters["candle_venue"] {
        case nil, "combined": self.candleVenue = nil
        case "krx": self.candleVenue = .krx
        case "nxt": self.candleVenue = .nxt
        case let text?: throw .badValue(key: "candle_venue", reason: "'\(text)' is not combined, krx or nxt")
        }
    }

    private static func windows(
        _ parameters: [String: String],
        _ key: String,
        _ venue: Venue
    ) throws(VenueSettingsError) -> [VenueCalendar.Window]? {
        guard let text = parameters[key] else { return nil }
        do {
            return try VenueCalendar.windows(parsing: text, venue: venue)
        } catch {
            throw .badValue(key: key, reason: "\(error)")
        }
    }
}

/// A venue setting that cannot be used; each case names the key.
public enum VenueSettingsError: Error, Equatable, CustomStringConvertible {
    case unknownKey(String)
    case badValue(key: String, reason: String)

    public var description: String {
        switch self {
        case .unknownKey(let key): "unknown venue setting '\(key)'"
        case .badValue(let key, let reason): "\(key): \(reason)"
        }
    }
}

/// Where a pipeline's day starts: what the journal and the broker said, or nothing for a replay or a benchmark.
public struct PipelineOpening: ~Copyable {
    /// Orders of the day so far (terminal ones too, so late notices find theirs).
    public var book: OrderBook
    public var positions: Positions
    /// The first id not yet used.
    public var nextOrderID: OrderID
    /// KIS's buying power (`inquire-psbl-order`), KRW.
    public var buyingPower: Int64
    /// The session's second of the day (KST) to start the risk board's phase at; nil lets the first print set it
    /// (an accelerated simulator's time of day is not the wall's).
    public var secondOfDay: Int64?
    /// The account (8 + 2 digits) whose notices are ours.
    public var account: UInt64

    public init(
        book: consuming OrderBook,
        positions: consuming Positions,
        nextOrderID: OrderID,
        buyingPower: Int64,
        secondOfDay: Int64? = nil,
        account: UInt64 = 0
    ) {
        self.book = book
        self.positions = positions
        self.nextOrderID = nextOrderID
        self.buyingPower = buyingPower
        self.secondOfDay = secondOfDay
        self.account = account
    }

    /// A day with no orders yet: replay, the benchmark.
    public static func empty(buyingPower: Int64) -> PipelineOpening {
        PipelineOpening(
            book: OrderBook(capacity: 4_096),
            positions: Positions(capacity: 64),
            nextOrderID: OrderID(rawValue: 1),
            buyingPower: buyingPower
        )
    }
}

/// Why a pipeline could not be built or started.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
    /// A bad setting: where it came from, and what is wrong with it.
    case settings(path: String, reason: String)
    case thread(StageThreadError)

    public var description: String {
        switch self {
        case .settings(let path, let reason): "\(path): \(reason)"
        case .thread(let error): "cannot start a stage thread: \(error)"
        }
    }
}
