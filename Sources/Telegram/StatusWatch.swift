public import Engine
import TickCore

/// Something the operator is told about.
public enum Notification: Sendable, Equatable {
    case started(codes: [String])
    /// The run ended; its day's figures.
    case stopped(DaySummary)
    case fills([FillReport])
    case killSwitchArmed
    /// Today's profit and loss passed `-limit`: risk refuses every entry from now on.
    case dailyLossLimit(pnl: Int64, limit: Int64)
    case connectionLost
    case connectionRestored
    /// A note the engine made (a failed reconciliation, a refused order, KIS's error).
    case error(String)
    /// The market closed (15:30 KST); the day's figures.
    case dailySummary(DaySummary)
}

/// A day's figures, KRW.
public struct DaySummary: Sendable, Equatable {
    public var realised: Int64
    public var unrealised: Int64
    public var fees: Int64
    public var taxes: Int64
    public var fills: Int
    public var ordersSent: Int
    public var openPositions: Int

    public init(_ status: EngineStatus) {
        self.realised = status.realisedPnL
        self.unrealised = status.unrealisedPnL
        self.fees = status.fees
        self.taxes = status.taxes
        self.fills = status.orders.fills
        self.ordersSent = status.orders.sent
        self.openPositions = status.positions.count
    }
}

/// Turns the engine's successive status snapshots (what the control loop already reads once a second) into
/// notifications: nothing here touches the engine's threads. Pure; one caller at a time.
struct StatusWatch {
    /// `RiskLimits.dailyLossLimit` of the run, KRW.
    let dailyLossLimit: Int64
    private var previous: EngineStatus?
    private var feedUp = false
    private var feedLost = false
    private var lossLimitReported = false
    /// The KST date whose closing summary was sent.
    private var summarisedDate: UInt32 = 0
    /// Notes already reported, so a note the status repeats every second is told once.
    private var seenNotes: [String] = []

    static let closingSecondOfDay: Int64 = 15 * 3_600 + 30 * 60

    init(dailyLossLimit: Int64) {
        self.dailyLossLimit = dailyLossLimit
    }

    /// What changed since the last status.
    mutating func observe(_ status: EngineStatus) -> [Notification] {
        var found: [Notification] = []
        defer { self.previous = status }
        if status.killSwitch, !(self.previous?.killSwitch ?? false) { found.append(.killSwitchArmed) }

        let pnl = status.realisedPnL + status.unrealisedPnL
        if pnl < -self.dailyLossLimit, !self.lossLimitReported {
            self.lossLimitReported = true
            found.append(.dailyLossLimit(pnl: pnl, limit: self.dailyLossLimit))
        }

        // The feed watcher sets the acknowledged codes to zero when the socket drops; they come back with the acks
        // of the resubscription. Before the first ack the feed is starting, not lost.
        if status.subscribedCodes > 0 {
            if self.feedLost { found.append(.connectionRestored) }
            self.feedUp = true
            self.feedLost = false
        } else if self.feedUp, !self.feedLost {
            self.feedLost = true
            found.append(.connectionLost)
        }

        for note in status.notes where Self.isWorthTelling(note) && !self.seenNotes.contains(note) {
            self.seenNotes.append(note)
            if self.seenNotes.count > 64 { self.seenNotes.removeFirst() }
            found.append(.error(note))
        }

        if status.marketTime > 0 {
            let seconds = status.marketTime / 1_000_000_000
            let date = KST.date(epochSeconds: seconds)
            let secondOfDay = (seconds + KST.offsetSeconds) % 86_400
            if secondOfDay >= Self.closingSecondOfDay, date != self.summarisedDate {
                self.summarisedDate = date
                found.append(.dailySummary(DaySummary(status)))
            }
        }
        return found
    }

    /// The count of skipped records of other codes changes every second and says nothing is wrong.
    private static func isWorthTelling(_ note: String) -> Bool {
        !note.hasSuffix("records of codes this engine does not trade, skipped")
    }
}
