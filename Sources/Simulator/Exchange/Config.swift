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
    /// Market time of day at start (`HHMMSS`, KST). The day is simulated from 08:00 (NXT's pre-market) up to it
    /// first.
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

    /// Checks every setting a run depends on, so that a bad one is a clear error before the run instead of a trap,
    /// a port taken modulo 65536 or a PINGPONG flood during it. Errors name the command-line option of `kistick
    /// sim` (and of `paper` and `record`, which share them) that sets the value.
    public func validate() throws(SimConfigError) {
        if let date = self.date {
            guard (19_900_101...29_991_231).contains(date), KST.epochSeconds(date: date, time: 0) != nil else {
                let reason = "\(date) is not a calendar date YYYYMMDD from 1990 to 2999"
                throw SimConfigError(option: "--date", reason: reason)
            }
        }
        guard KST.secondsOfDay(time: self.startTime) != nil else {
            throw SimConfigError(option: "--start", reason: "\(self.startTime) is not a time of day HHMMSS")
        }
        if case .realtime(let speed) = self.clock {
            guard speed > 0, speed.isFinite else {
                throw SimConfigError(option: "--speed", reason: "\(speed) is not a positive number")
            }
        }
        // A second is the shortest interval a server that mimics KIS has any reason to ping at; the longest is far
        // beyond a session and still fits the microsecond arithmetic of the ping timer.
        guard (1...1e9).contains(self.pingInterval) else {
            throw SimConfigError(option: "--ping-interval", reason: "takes 1 to 1e9 seconds, not \(self.pingInterval)")
        }
        guard self.pongTimeout > 0, self.pongTimeout <= 1e9 else {
            throw SimConfigError(option: "pongTimeout", reason: "takes more than 0 and at most 1e9 seconds")
        }
        guard self.publishInterval > 0, self.publishInterval <= 60 else {
            throw SimConfigError(option: "publishInterval", reason: "takes more than 0 and at most 60 seconds")
        }
        guard self.initialCash >= 0 else {
            throw SimConfigError(option: "initialCash", reason: "cannot be negative")
        }
        // The CLI serves the paper environment on the main ports when there is one, and the real one beside it.
        let primary: Environment = self.servers[.paper] != nil ? .paper : .real
        for (environment, ports) in self.servers {
            let prefix = environment == primary ? "--" : "--real-"
            for (port, name) in [(ports.rest, "rest-port"), (ports.webSocket, "ws-port")]
            where !(0...65_535).contains(port) {
                let reason = "\(port) is not a TCP port (0 to 65535; 0 picks a free one)"
                throw SimConfigError(option: prefix + name, reason: reason)
            }
        }
        try self.faults.validate()
    }

    /// The KST date the run starts on: `date`, or the next trading day when it is not one; without `date`, today,
    /// even on a weekend or a holiday. Clients read "today" from their own clock (today's orders, a journal's day), so
    /// a simulator that moved on to Monday on a Saturday would show them none of their own orders. The days after the
    /// first follow KRX's calendar.
    var firstDay: UInt32 {
        guard let date = self.date else { return KST.date(epochSeconds: WallClock().epochSeconds()) }
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

    /// Checks the numbers: a negative field count or a delay beyond a day would trap or hang the server.
    public func validate() throws(SimConfigError) {
        guard (0...1_000).contains(self.extraFields) else {
            let reason = "takes 0 to 1000 extra fields, not \(self.extraFields)"
            throw SimConfigError(option: "--schema-drift", reason: reason)
        }
        guard self.orderDelay >= 0, self.orderDelay <= 86_400 else {
            throw SimConfigError(option: "--order-delay", reason: "takes 0 to 86400 seconds, not \(self.orderDelay)")
        }
    }
}

/// A `SimConfig` value the simulator cannot run with, named by the command-line option that sets it.
public struct SimConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--date`, `--start`, … (or the field's name for settings no option sets).
    public var option: String
    public var reason: String

    public init(option: String, reason: String) {
        self.option = option
        self.reason = reason
    }

    public var description: String { "\(self.option): \(self.reason)" }
}
