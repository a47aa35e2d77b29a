import TickCore
import Foundation

/// One trading day of one symbol, as `inquire-daily-itemchartprice` reports it.
struct DailyBar: Sendable, Equatable {
    var date: UInt32
    var open: Int64
    var high: Int64
    var low: Int64
    var close: Int64
    var volume: Int64
    /// Traded value in KRW.
    var value: Int64
}

/// One minute of today's trading, as `inquire-time-itemchartprice` reports it.
struct MinuteBar: Sendable, Equatable {
    /// `HHMM00` of the minute's start.
    var time: UInt32
    var open: Int64
    var high: Int64
    var low: Int64
    var close: Int64
    var volume: Int64
    /// Accumulated traded value of the day at the end of this minute.
    var cumulativeValue: Int64
}

enum History {
    /// Trading days of history generated before the first simulated day: more than the 300 an MA200 on
    /// 100-row pages needs.
    static let days = 320

    /// A seeded daily history for `listing` that ends the trading day before `date` at the listing's base price,
    /// walked backwards so the last close is exactly the base the simulated day starts from.
    static func make(_ listing: Listing, before date: UInt32, random: inout SimRandom) -> [DailyBar] {
        var bars: [DailyBar] = []
        bars.reserveCapacity(Self.days)
        var day = KRX.previousTradingDay(before: date)
        var close = listing.basePrice
        let typicalVolume = Double(listing.listedShares) * 0.0025
        for _ in 0..<Self.days {
            let previousClose = KRX.floorToTick(max(100, Int64(Double(close) / exp(0.018 * random.normal()))))
            let limits = KRX.limits(base: previousClose)
            let clampedClose = min(max(close, limits.lower), limits.upper)
            let open = Self.near(previousClose, spread: 0.006, limits: limits, random: &random)
            let high = max(open, clampedClose, Self.near(max(open, clampedClose), spread: 0.008, limits: limits, random: &random, upward: true))
            let low = min(open, clampedClose, Self.near(min(open, clampedClose), spread: 0.008, limits: limits, random: &random, upward: false))
            let volume = max(1_000, Int64(typicalVolume * exp(0.45 * random.normal())))
            let value = volume * (open + high + low + clampedClose) / 4
            bars.append(DailyBar(date: day, open: open, high: high, low: low, close: clampedClose, volume: volume, value: value))
            close = previousClose
            day = KRX.previousTradingDay(before: day)
        }
        return bars.reversed()
    }

    private static func near(
        _ price: Int64,
        spread: Double,
        limits: (lower: Int64, upper: Int64, width: Int64),
        random: inout SimRandom,
        upward: Bool? = nil
    ) -> Int64 {
        var move = spread * random.normal()
        if let upward { move = upward ? abs(move) : -abs(move) }
        let raw = KRX.floorToTick(max(1, Int64(Double(price) * exp(move))))
        return min(max(raw, limits.lower), limits.upper)
    }
}
