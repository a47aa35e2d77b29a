public import TickCore

/// How simulated time moves.
public enum ClockMode: Sendable, Equatable {
    /// Only `Simulator.advance(seconds:)` (or `POST /sim/advance`) moves time: tests drive it step by step.
    case manual
    /// Market time runs `speed` times faster than the wall clock.
    case realtime(speed: Double)
    /// Market time runs as fast as the slowest subscriber takes the data (throughput measurements).
    case maximum
}

/// Everything that shapes a simulator run. Two runs with the same configuration and the same client requests
/// produce the same bytes.
public struct SimConfig: Sendable {
    public var seed: UInt64 = 1
    /// KRX short codes; unknown codes get a synthetic listing derived from the code.
    public var symbols: [String] = Catalog.defaultCodes
    /// A recorded market to trade instead of the generated one (`kistick sim --capture`): its codes replace
    /// `symbols`, and its frames go out at their offsets from the capture's start, scaled by the clock's speed
    /// (the capture's own time axis is its recording's wall clock). Orders are dated `date`; `seed` and
    /// `startTime` shape nothing. Nil: the generated market.
    public var market: RecordedMarket?
    public var clock: ClockMode = .realtime(speed: 1)
    /// The first simulated trading day (`YYYYMMDD`); nil: today in KST, or the next trading day.
    public var date: UInt32?
    /// Market time of day at start (`HHMMSS`, KST). The day is simulated from 08:30 up to it first.
    public var startTime: UInt32 = 90_000
    /// A real-time clock jumps from each close to the next pre-open, so an accelerated run spends its wall time
    /// trading (a load test at hundreds of times real time would otherwise idle through every night).
    public var skipsClosedHours = false
    /// Market time between flushes of batched records. KIS packs the trades of a moment into one frame and sends
    /// a busy code's book about as often: a real 180-second recording of 005930 (Soochol/hoga-ops, whose first
    /// frames are in Tests/Fixtures/kis) has 851 trade frames of 1–20 records and 837 book frames, one of each
    /// about every 0.2 s.
    public var publishInterval: Double = 0.2
    /// Idle time after which a session gets a PINGPONG, and how long an unanswered one is tolerated.
    public var pingInterval: Double = 10
    public var pongTimeout: Double = 100
    public var initialCash: Int64 = 100_000_000
    public var costs = Costs()
    /// Which servers to run and on which loopback ports (0: any free port).
    public var servers: [Environment: Ports] = [.real: Ports()]
    public var host = "127.0.0.1"
    /// Faults armed from the start (the command line's flags); the control endpoint changes them later.
    public var faults = FaultSettings()

    public init() {}

    public struct Ports: Sendable, Equatable {
        public var rest: Int
        public var webSocket: Int

        public init(rest: Int = 0, webSocket: Int = 0) {
            self.rest = rest
            self.webSocket = webSocket
        }
    }

    /// The KST date the run starts on.
    var firstDay: UInt32 {
        let date = self.date ?? KST.date(epochSeconds: WallClock().epochSeconds())
        return KRX.isTradingDay(date) ? date : KRX.nextTradingDay(after: date)
    }
}

/// Persistent faults. One-shot faults (drop a connection, expire tokens, …) are requests, not settings.
public struct FaultSettings: Sendable, Equatable {
    /// Extra `^0` fields appended to every published record (schema drift).
    public var extraFields = 0
    /// Send every order notice twice.
    public var duplicateNotices = false
    /// Seconds to hold each order response (the order is processed at once, as on the real server).
    public var orderDelay: Double = 0
    /// Stop sending anything on every WebSocket session (connections stay open).
    public var silent = false

    public init() {}
}
