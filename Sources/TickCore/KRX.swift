/// KRX market rules: the tick ladder, daily price limits and the session timetable. The simulator enforces them
/// and the engine's risk checks obey them, so both read this one copy.
public enum KRX {
    /// The price step at `price` (KOSPI and KOSDAQ share one ladder since 2023-01-25).
    public static func tick(at price: Int64) -> Int64 {
        switch price {
        case ..<2_000: 1
        case ..<5_000: 5
        case ..<20_000: 10
        case ..<50_000: 50
        case ..<200_000: 100
        case ..<500_000: 500
        default: 1_000
        }
    }

    public static func isOnTick(_ price: Int64) -> Bool {
        price > 0 && price % Self.tick(at: price) == 0
    }

    /// The highest ladder price ≤ `price`.
    public static func floorToTick(_ price: Int64) -> Int64 {
        price - price % Self.tick(at: price)
    }

    /// The lowest ladder price ≥ `price`.
    public static func ceilToTick(_ price: Int64) -> Int64 {
        let floor = Self.floorToTick(price)
        return floor == price ? price : floor + Self.tick(at: floor)
    }

    /// The next ladder price above `price`.
    public static func up(_ price: Int64) -> Int64 { price + Self.tick(at: price) }

    /// The next ladder price below `price`.
    public static func down(_ price: Int64) -> Int64 {
        let below = price - 1
        return below - below % Self.tick(at: below)
    }

    /// The ±30 % band around `base`: the width is 30 % of the base cut to the base's tick (`rstc_wdth_prc`),
    /// and each limit is then kept on the ladder inside the band (66000 → 85800 / 46200, as on the real API).
    public static func limits(base: Int64) -> (lower: Int64, upper: Int64, width: Int64) {
        let width = base * 3 / 10 / Self.tick(at: base) * Self.tick(at: base)
        return (Self.ceilToTick(base - width), Self.floorToTick(base + width), width)
    }

    /// Trading phases of a KRX day (regular market only; after-hours sessions are not simulated).
    public enum Phase: Sendable, Equatable, BitwiseCopyable {
        /// Before 08:30 and after 15:30.
        case closed
        /// 08:30–09:00: orders collect for the opening call auction.
        case preOpen
        /// 09:00–15:20: continuous matching.
        case continuous
        /// 15:20–15:30: orders collect for the closing call auction.
        case closingAuction
    }

    public static let preOpenStart: Int64 = 8 * 3600 + 30 * 60
    public static let openTime: Int64 = 9 * 3600
    public static let closingAuctionStart: Int64 = 15 * 3600 + 20 * 60
    public static let closeTime: Int64 = 15 * 3600 + 30 * 60
    /// Length of the continuous session in seconds.
    public static let continuousSeconds: Int64 = closingAuctionStart - openTime

    /// The phase at `secondOfDay` (seconds since KST midnight).
    public static func phase(secondOfDay: Int64) -> Phase {
        switch secondOfDay {
        case Self.preOpenStart..<Self.openTime: .preOpen
        case Self.openTime..<Self.closingAuctionStart: .continuous
        case Self.closingAuctionStart..<Self.closeTime: .closingAuction
        default: .closed
        }
    }

    /// Whether `date` (`YYYYMMDD`) is a trading day: weekdays. Holidays are not modelled.
    public static func isTradingDay(_ date: UInt32) -> Bool {
        guard let epoch = KST.epochSeconds(date: date, time: 120_000) else { return false }
        // 1970-01-01 was a Thursday; 0 = Thursday … 2 = Saturday, 3 = Sunday.
        let weekday = (epoch / 86_400 % 7 + 7) % 7
        return weekday != 2 && weekday != 3
    }

    /// The trading day after `date`, a calendar date (`precondition`: callers validate dates where they come in).
    public static func nextTradingDay(after date: UInt32) -> UInt32 {
        Self.tradingDay(from: date, step: 86_400)
    }

    /// The trading day before `date`, a calendar date (`precondition`).
    public static func previousTradingDay(before date: UInt32) -> UInt32 {
        Self.tradingDay(from: date, step: -86_400)
    }

    private static func tradingDay(from date: UInt32, step: Int64) -> UInt32 {
        guard var epoch = KST.epochSeconds(date: date, time: 120_000) else {
            preconditionFailure("KRX trading days are counted from a calendar date YYYYMMDD, not \(date)")
        }
        repeat { epoch += step } while !Self.isTradingDay(KST.date(epochSeconds: epoch))
        return KST.date(epochSeconds: epoch)
    }
}
