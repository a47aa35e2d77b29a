import Foundation
import TickCore

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

/// The shape a symbol's history is drawn around, so a screen for MA50 > MA200 finds some codes and not others.
enum Trend: Sendable, Equatable, CaseIterable {
    /// Falling, then rising from a bottom 50–69 trading days ago: the MA50 crossed the MA200 within about the last
    /// 25 days.
    case recentCross
    /// Rising all along: MA50 above MA200 since long before the window.
    case uptrend
    /// Falling all along: MA50 below MA200.
    case downtrend
    /// No drift: the averages cross wherever the noise takes them.
    case flat
}

/// What KIS marks on a code's `inquire-price`: a market warning, a halt, an administrative issue.
enum Designation: Sendable, Equatable {
    case none
    /// 투자경고 (`iscd_stat_cls_code` 53, `mrkt_warn_cls_code` 02).
    case warned
    /// 거래정지 (`iscd_stat_cls_code` 58, `temp_stop_yn` Y).
    case halted
    /// 관리종목 (`iscd_stat_cls_code` 51, `mang_issu_cls_code` Y).
    case administrative
}

enum History {
    /// Trading days of history generated before the first simulated day: more than the 300 an MA200 on
    /// 100-row pages needs.
    static let days = 320
    /// A typical day's volume as a share of the listed shares (Samsung Electronics: about 15 M of 5.9 bn).
    static let typicalTurnover = 0.0025

    /// The seeded trend and designation of the symbol at `index`: a third recent crosses, the rest spread over
    /// the other shapes; about one code in six carries a designation.
    static func profile(seed: UInt64, index: Int) -> (Trend, Designation) {
        // Streams far apart: SplitMix seeding of adjacent streams shares states, which made neighbours' draws alike.
        var random = SimRandom(seed: seed, stream: 0x2000_0000 + UInt64(index) << 16)
        let trend: Trend =
            switch random.unit() {
            case ..<0.35: .recentCross
            case ..<0.6: .uptrend
            case ..<0.85: .downtrend
            default: .flat
            }
        let designation: Designation =
            switch random.unit() {
            case ..<0.06: .halted
            case ..<0.12: .warned
            case ..<0.18: .administrative
            default: .none
            }
        return (trend, designation)
    }

    /// A seeded daily history for `listing` that ends the trading day before `date` exactly at the listing's base
    /// price. The log close is the trend plus AR(1) noise (about 1.8% a day): a random walk of that size would
    /// drift further in 200 days than any trend, and the averages would cross at random.
    static func make(_ listing: Listing, trend: Trend, before date: UInt32, random: inout SimRandom) -> [DailyBar] {
        let bottom = Double(50 + random.int(0...19))
        var logCloses: [Double] = []
        logCloses.reserveCapacity(Self.days)
        var noise = 0.0
        for i in 0..<Self.days {
            let age = Double(Self.days - 1 - i)
            let level: Double =
                switch trend {
                case .recentCross: age > bottom ? 0.003 * (age - bottom) : 0.010 * (bottom - age)
                case .uptrend: -0.002 * age
                case .downtrend: 0.002 * age
                case .flat: 0
                }
            noise = 0.9 * noise + 0.018 * random.normal()
            logCloses.append(level + noise)
        }
        let scale = Double(listing.basePrice) / exp(logCloses[Self.days - 1])
        var days: [UInt32] = [KRX.previousTradingDay(before: date)]
        while days.count < Self.days { days.append(KRX.previousTradingDay(before: days[days.count - 1])) }
        days.reverse()
        let typicalVolume = Double(listing.listedShares) * Self.typicalTurnover
        var bars: [DailyBar] = []
        bars.reserveCapacity(Self.days)
        var previousClose = KRX.floorToTick(max(100, Int64(scale * exp(logCloses[0] - 0.01 * random.normal()))))
        for i in 0..<Self.days {
            let limits = KRX.limits(base: previousClose)
            // The last close is the base itself, whatever the band: the simulated day starts from it.
            let close =
                i == Self.days - 1
                ? listing.basePrice
                : min(max(KRX.floorToTick(max(100, Int64(scale * exp(logCloses[i])))), limits.lower), limits.upper)
            let open = Self.near(previousClose, spread: 0.006, limits: limits, random: &random)
            let high = max(
                open,
                close,
                Self.near(max(open, close), spread: 0.008, limits: limits, random: &random, upward: true)
            )
            let low = min(
                open,
                close,
                Self.near(min(open, close), spread: 0.008, limits: limits, random: &random, upward: false)
            )
            let volume = max(1_000, Int64(typicalVolume * exp(0.45 * random.normal())))
            let value = volume * (open + high + low + close) / 4
            bars.append(
                DailyBar(date: days[i], open: open, high: high, low: low, close: close, volume: volume, value: value)
            )
            previousClose = close
        }
        return bars
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

    /// The minute bars of a day of the seeded history, drawn so they agree with its daily bar: the first opens at
    /// the day's open, one reaches its high and one its low, the 15:30 closing print is its close, and the volumes
    /// (on the intraday profile of `Intraday`) and the accumulated value add up to the day's. Between those points
    /// the path is a Brownian bridge stretched to the day's range; every price is on the ladder.
    static func minutes(of day: DailyBar, previousClose: Int64, random: inout SimRandom) -> [MinuteBar] {
        let count = Int(KRX.continuousSeconds / 60)
        // A random walk with the day's intraday volatility profile, turned into a bridge from 0 to 0.
        var walk = [0.0]
        for i in 0..<count {
            let second = KRX.openTime + Int64(i) * 60
            walk.append(walk[i] + Intraday.activity(secondOfDay: second).squareRoot() * random.normal())
        }
        let bridge = walk.indices.map { walk[$0] - walk[count] * Double($0) / Double(count) }
        // Stretch the bridge's upper part to touch the high and its lower part to touch the low.
        let line = { (i: Int) in Double(day.open) + Double(day.close - day.open) * Double(i) / Double(count) }
        var up = Double.infinity
        var down = Double.infinity
        for i in bridge.indices {
            if bridge[i] > 0 { up = min(up, (Double(day.high) - line(i)) / bridge[i]) }
            if bridge[i] < 0 { down = min(down, (line(i) - Double(day.low)) / -bridge[i]) }
        }
        let path = bridge.indices.map { i -> Int64 in
            let stretched = line(i) + bridge[i] * (bridge[i] > 0 ? (up.isFinite ? up : 0) : (down.isFinite ? down : 0))
            return min(max(KRX.floorToTick(Int64(stretched.rounded())), day.low), day.high)
        }
        let top = bridge.indices.max { bridge[$0] < bridge[$1] } ?? 0
        let bottom = bridge.indices.min { bridge[$0] < bridge[$1] } ?? 0
        // Volumes: the profile with some noise, 1 % to the open's bar for the opening call, 5 % to the closing print.
        var weights = (0..<count).map { minute in
            Intraday.activity(secondOfDay: KRX.openTime + Int64(minute) * 60) * exp(0.4 * random.normal())
        }
        weights[0] += 0.01 * Double(count)
        let total = weights.reduce(0, +) / 0.95
        var bars: [MinuteBar] = []
        var left = day.volume
        for i in 0..<count {
            let open = i == 0 ? day.open : bars[i - 1].close
            let close = path[i + 1]
            var high = max(open, close)
            var low = min(open, close)
            if i == top || i + 1 == top { high = day.high }
            if i == bottom || i + 1 == bottom { low = day.low }
            let volume = max(1, min(left - 1, Int64(Double(day.volume) * weights[i] / total)))
            left -= volume
            let time = KST.time(secondsOfDay: KRX.openTime + Int64(i) * 60)
            bars.append(
                MinuteBar(
                    time: time,
                    open: open,
                    high: high,
                    low: low,
                    close: close,
                    volume: volume,
                    cumulativeValue: 0
                )
            )
        }
        let closeTime = KST.time(secondsOfDay: KRX.closeTime)
        bars.append(
            MinuteBar(
                time: closeTime,
                open: day.close,
                high: day.close,
                low: day.close,
                close: day.close,
                volume: max(1, left),
                cumulativeValue: 0
            )
        )
        // Accumulated value in proportion to each bar's volume × typical price, ending at the day's value.
        let raw = bars.map { Double($0.volume) * Double($0.high + $0.low + $0.close) / 3 }
        let rawTotal = raw.reduce(0, +)
        var sum = 0.0
        for i in bars.indices {
            sum += raw[i]
            bars[i].cumulativeValue = i == bars.count - 1 ? day.value : Int64(Double(day.value) * sum / rawTotal)
        }
        return bars
    }
}
