/// Korea Standard Time (UTC+9, no daylight saving) conversions between KIS's `YYYYMMDD`/`HHMMSS` fields and
/// Unix time, in integer arithmetic so the feed path never touches a calendar library.
public enum KST {
    /// KST is UTC+9 all year.
    public static let offsetSeconds: Int64 = 9 * 3600

    /// Seconds since the Unix epoch of `date` (`YYYYMMDD`) at `time` (`HHMMSS`) in KST, or nil if either is not a
    /// valid calendar value.
    @inlinable
    public static func epochSeconds(date: UInt32, time: UInt32) -> Int64? {
        let year = Int64(date / 10_000)
        let month = Int64(date / 100 % 100)
        let day = Int64(date % 100)
        let hour = Int64(time / 10_000)
        let minute = Int64(time / 100 % 100)
        let second = Int64(time % 100)
        guard (1970...9999).contains(year), (1...12).contains(month), day >= 1,
            day <= Self.daysInMonth(year: year, month: month), hour < 24, minute < 60, second < 60
        else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        return days * 86_400 + hour * 3600 + minute * 60 + second - Self.offsetSeconds
    }

    /// The KST calendar date (`YYYYMMDD`) at `epochSeconds`.
    @inlinable
    public static func date(epochSeconds: Int64) -> UInt32 {
        let days = Self.floorDiv(epochSeconds + Self.offsetSeconds, 86_400)
        let (year, month, day) = Self.civilFromDays(days)
        return UInt32(year * 10_000 + month * 100 + day)
    }

    /// The KST time of day (`HHMMSS`) at `epochSeconds`.
    @inlinable
    public static func time(epochSeconds: Int64) -> UInt32 {
        let seconds =
            (epochSeconds + Self.offsetSeconds) - Self.floorDiv(epochSeconds + Self.offsetSeconds, 86_400) * 86_400
        return UInt32(seconds / 3600 * 10_000 + seconds / 60 % 60 * 100 + seconds % 60)
    }

    /// Seconds since the Unix epoch of KST midnight starting the day that contains `epochSeconds`.
    @inlinable
    public static func midnight(containing epochSeconds: Int64) -> Int64 {
        Self.floorDiv(epochSeconds + Self.offsetSeconds, 86_400) * 86_400 - Self.offsetSeconds
    }

    /// Seconds from KST midnight for `time` (`HHMMSS`), or nil if it is not a valid time of day.
    @inlinable
    public static func secondsOfDay(time: UInt32) -> Int64? {
        let hour = Int64(time / 10_000)
        let minute = Int64(time / 100 % 100)
        let second = Int64(time % 100)
        guard hour < 24, minute < 60, second < 60 else { return nil }
        return hour * 3600 + minute * 60 + second
    }

    /// `time` (HHMMSS) as KIS writes it: six digits, zero-padded.
    public static func text(time: UInt32) -> String {
        let digits = String(time)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// HHMMSS of a second of the day (0..<86400).
    public static func time(secondsOfDay seconds: Int64) -> UInt32 {
        UInt32(seconds / 3600 * 10_000 + seconds % 3600 / 60 * 100 + seconds % 60)
    }

    /// 28 to 31: a 30 February is not a day, whatever `daysFromCivil` would make of it (2 March).
    @inlinable
    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    @inlinable
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian), valid for the whole Int64 range
    // we use: http://howardhinnant.github.io/date_algorithms.html
    @inlinable
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = Self.floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    @inlinable
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = Self.floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
