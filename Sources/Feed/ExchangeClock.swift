import TickCore

/// Turns KIS's `YYYYMMDD` and `HHMMSS` fields into Unix seconds, remembering the last day's KST midnight so that
/// the calendar arithmetic runs once per day instead of once per record.
struct ExchangeClock {
    private var date: Int64 = -1
    private var dateMidnight: Int64 = 0
    /// KST midnight of the day that holds the last local receive time, and where that day ends.
    private var localMidnight: Int64 = 1
    private var localDayEnd: Int64 = 0

    /// `date` (`YYYYMMDD`) at `time` (`HHMMSS`) in KST, or nil if either is invalid.
    @inline(__always)
    mutating func epochSeconds(date: Int64, time: Int64) -> Int64? {
        guard let seconds = Self.secondsOfDay(time) else { return nil }
        if date != self.date {
            guard date >= 0, date <= 99_999_999, let midnight = KST.epochSeconds(date: UInt32(date), time: 0) else {
                return nil
            }
            self.date = date
            self.dateMidnight = midnight
        }
        return self.dateMidnight + seconds
    }

    /// `time` (`HHMMSS`) on the KST date of `localTs` (ns): books and notices carry no date of their own.
    @inline(__always)
    mutating func epochSeconds(time: Int64, localTs: Int64) -> Int64? {
        guard let seconds = Self.secondsOfDay(time) else { return nil }
        let local = localTs >= 0 ? localTs / 1_000_000_000 : (localTs + 1) / 1_000_000_000 - 1
        if local < self.localMidnight || local >= self.localDayEnd {
            self.localMidnight = KST.midnight(containing: local)
            self.localDayEnd = self.localMidnight + 86_400
        }
        return self.localMidnight + seconds
    }

    @inline(__always)
    private static func secondsOfDay(_ time: Int64) -> Int64? {
        guard time >= 0, time <= 999_999 else { return nil }
        return KST.secondsOfDay(time: UInt32(truncatingIfNeeded: time))
    }
}
