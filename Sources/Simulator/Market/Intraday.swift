import Foundation
import TickCore

/// The intraday profile of KRX activity: busiest at the 09:00 open, quiet at midday, busy again before the 15:20
/// closing call (the U shape of every equity market's volume), normalised to a mean of 1 over the continuous session.
enum Intraday {
    private static let openScale = 0.035
    private static let closeScale = 0.05
    private static let floor = 0.6
    private static let openPeak = 2.4
    private static let closePeak = 1.0
    /// The integral of the unnormalised profile over the session, so the profile averages 1.
    private static let norm =
        floor + openPeak * openScale * (1 - exp(-1 / openScale)) + closePeak * closeScale * (1 - exp(-1 / closeScale))

    /// Share of the continuous session elapsed at `secondOfDay`, 0…1.
    private static func position(_ secondOfDay: Int64) -> Double {
        min(1, max(0, Double(secondOfDay - KRX.openTime) / Double(KRX.continuousSeconds)))
    }

    /// Activity at `secondOfDay` relative to the session's mean: about 4 at 09:00, 0.8 at midday, 2 at 15:20.
    static func activity(secondOfDay: Int64) -> Double {
        let x = Self.position(secondOfDay)
        return
            (Self.floor + Self.openPeak * exp(-x / Self.openScale) + Self.closePeak * exp(-(1 - x) / Self.closeScale))
            / Self.norm
    }

    /// Share of the continuous session's activity that has happened by `secondOfDay`, 0…1.
    static func elapsed(secondOfDay: Int64) -> Double {
        let x = Self.position(secondOfDay)
        let open = Self.openPeak * Self.openScale * (1 - exp(-x / Self.openScale))
        let close = Self.closePeak * Self.closeScale * (exp(-(1 - x) / Self.closeScale) - exp(-1 / Self.closeScale))
        return (Self.floor * x + open + close) / Self.norm
    }
}

extension KST {
    /// Seconds since KST midnight at `epochMicros` (microseconds since the Unix epoch).
    static func secondsOfDay(epochMicros: Int64) -> Int64 {
        ((epochMicros / 1_000_000 + Self.offsetSeconds) % 86_400 + 86_400) % 86_400
    }
}
