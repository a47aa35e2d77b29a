public import KIS
import TickCore

/// One code's screen: the numbers it was judged on and, if it failed, every reason.
public struct ScreenResult: Sendable, Equatable, Encodable {
    public var code: String
    public var name: String
    public var passed: Bool
    public var price: Int64
    /// 억원 (10^8 KRW).
    public var marketCap: Int64
    /// Today's accumulated traded value, KRW (what `inquire-price` reports at the time of the screen).
    public var tradedValueToday: Int64
    /// Average daily traded value of the last `tradedValueDays` completed days, KRW: the activity the scheduler
    /// ranks by.
    public var averageTradedValue: Int64
    public var fastAverage: Double?
    public var slowAverage: Double?
    /// Trading days since the fast average crossed above the slow one, when it did within the window.
    public var crossDaysAgo: Int?
    /// Completed daily bars the averages came from.
    public var bars: Int
    /// What KIS marks on the code (halted, warned, administrative issue, overheated), whether or not excluded.
    public var designations: [String]
    public var reasons: [String]
}

/// A whole screen: every candidate's result, passing codes first, most active first.
public struct ScreenReport: Sendable, Equatable, Encodable {
    /// The screen date (YYYYMMDD, KST): bars before it are the completed days.
    public var asOf: UInt32
    public var settings: ScreenSettings
    /// Where the candidates came from, as a person reads it.
    public var candidateSource: String
    public var results: [ScreenResult]

    public var passing: [ScreenResult] { self.results.filter(\.passed) }
    public var failing: [ScreenResult] { self.results.filter { !$0.passed } }
}

/// Where a screen has got to: `done` of `total` candidates, the one just screened.
public struct ScreenProgress: Sendable, Equatable {
    public var done: Int
    public var total: Int
    public var code: String
}

/// The TIER 1 universe screen: candidates from the traded-value and market-cap rankings, then per code the
/// current price and the completed daily bars (from the cache, topped up from KIS), judged against the settings.
/// Every call goes through the client's query lane, so the screen stays within the REST rate limit.
public struct Screener {
    public let client: KISClient
    public let settings: ScreenSettings
    public let cache: BarCache

    public init(client: KISClient, settings: ScreenSettings, cache: BarCache) {
        self.client = client
        self.settings = settings
        self.cache = cache
    }

    /// Screens the ranked candidates as of `asOf` (YYYYMMDD, KST; default today).
    /// - Parameter progress: called after each candidate, on the calling thread.
    public func run(
        asOf: UInt32? = nil,
        progress: (ScreenProgress) -> Void = { _ in }
    ) throws(ScreenError)
        -> ScreenReport
    {
        let asOf = asOf ?? KST.date(epochSeconds: WallClock().epochSeconds())
        precondition(KST.epochSeconds(date: asOf, time: 0) != nil, "screen date \(asOf) is not a YYYYMMDD date")
        let (candidates, source) = try self.candidates()
        var results: [ScreenResult] = []
        for (i, candidate) in candidates.enumerated() {
            let quote: Quote
            do {
                quote = try self.client.price(candidate.code)
            } catch {
                throw .kis(call: "inquire-price \(candidate.code)", reason: "\(error)")
            }
            let bars = try self.bars(candidate.code, asOf: asOf)
            results.append(
                Self.evaluate(code: candidate.code, name: candidate.name, quote: quote, bars: bars, self.settings)
            )
            progress(ScreenProgress(done: i + 1, total: candidates.count, code: candidate.code))
        }
        results.sort {
            ($0.passed ? 0 : 1, -$0.averageTradedValue, $0.code) < ($1.passed ? 0 : 1, -$1.averageTradedValue, $1.code)
        }
        return ScreenReport(asOf: asOf, settings: self.settings, candidateSource: source, results: results)
    }

    /// The traded-value ranking, then the market-cap ranking's codes not already in it; or, when the client cannot
    /// ask for rankings (a paper account without a real app key), the `screen_candidates` setting. With the source,
    /// as a person reads it.
    func candidates() throws(ScreenError) -> ([(code: String, name: String)], String) {
        guard self.client.servesRankings else {
            let count = self.settings.candidates.count
            guard count > 0 else { throw .noRankings }
            return (
                self.settings.candidates.map { ($0, "") },
                "\(ScreenSettings.Key.candidates.rawValue) (\(count) code\(count == 1 ? "" : "s")): KIS serves the "
                    + "rankings on the real host only, and the configuration has no real app key (my_app, my_sec)"
            )
        }
        return (
            try self.ranked(),
            self.client.settings.environment == .real
                ? "the traded-value and market-cap rankings"
                : "the traded-value and market-cap rankings, asked of the real host with the real app key"
        )
    }

    private func ranked() throws(ScreenError) -> [(code: String, name: String)] {
        let byValue: [RankRow]
        let byCap: [MarketCapRow]
        do {
            byValue = try self.client.volumeRank(by: "3")
        } catch {
            throw .kis(call: "volume-rank", reason: "\(error)")
        }
        do {
            byCap = try self.client.marketCapRank()
        } catch {
            throw .kis(call: "ranking/market-cap", reason: "\(error)")
        }
        var seen = Set<String>()
        return (byValue.map { ($0.code, $0.name) } + byCap.map { ($0.code, $0.name) }).filter {
            !$0.0.isEmpty && seen.insert($0.0).inserted
        }
    }

    /// The last `fetchedBars` completed bars of `code`: from the cache when it was filled for this screen date,
    /// otherwise topped up (from the newest cached bar on) or fetched whole, 100 rows per call. KIS's bars are
    /// adjusted for splits and rights issues, which rewrites past closes: a top-up whose first bar no longer
    /// matches the cached one replaces the code's bars with a whole fetch.
    func bars(_ code: String, asOf: UInt32) throws(ScreenError) -> [DailyClose] {
        let need = self.settings.fetchedBars
        let midnight = KST.epochSeconds(date: asOf, time: 0)!
        // Trading days are about 5/7 of calendar days, less some 15 holidays a year.
        let from = KST.date(epochSeconds: midnight - Int64(need * 3 / 2 + 20) * 86_400)
        let cached = try self.cache.entry(code, before: asOf)
        if cached.checked == asOf, cached.bars.count >= need || (cached.oldest ?? .max) <= from {
            return Array(cached.bars.suffix(need))
        }
        if cached.bars.count >= need, let newest = cached.bars.last {
            let topUp = try self.fetch(code, from: newest.date, asOf: asOf)
            if topUp.first == newest {
                try self.cache.store(code, bars: topUp, oldest: newest.date, checked: asOf, replacing: false)
                return Array(try self.cache.entry(code, before: asOf).bars.suffix(need))
            }
        }
        try self.cache.store(
            code,
            bars: try self.fetch(code, from: from, asOf: asOf),
            oldest: from,
            checked: asOf,
            replacing: true
        )
        return Array(try self.cache.entry(code, before: asOf).bars.suffix(need))
    }

    /// KIS's completed daily bars of `code` from `from` to the day before `asOf`, oldest first.
    private func fetch(_ code: String, from: UInt32, asOf: UInt32) throws(ScreenError) -> [DailyClose] {
        let lastDay = KST.date(epochSeconds: KST.epochSeconds(date: asOf, time: 0)! - 86_400)
        guard from <= lastDay else { return [] }
        do {
            return try self.client.dailyBars(code, from: from, to: lastDay).compactMap { bar in
                guard let date = UInt32(bar.date), date < asOf else { return nil }
                return DailyClose(date: date, close: bar.close, tradedValue: bar.tradedValue)
            }
        } catch {
            throw .kis(call: "inquire-daily-itemchartprice \(code)", reason: "\(error)")
        }
    }

    /// Judges one code: its quote (market cap, price, KIS's marks) and its completed daily bars, oldest first.
    public static func evaluate(
        code: String,
        name: String,
        quote: Quote,
        bars: [DailyClose],
        _ settings: ScreenSettings
    ) -> ScreenResult {
        let closes = bars.map(\.close)
        let recent = bars.suffix(settings.tradedValueDays)
        let averageValue = recent.isEmpty ? 0 : recent.reduce(0) { $0 + $1.tradedValue } / Int64(recent.count)
        let last = closes.count - 1
        var result = ScreenResult(
            code: code,
            name: name,
            passed: false,
            price: quote.price,
            marketCap: quote.marketCap,
            tradedValueToday: quote.tradedValue,
            averageTradedValue: averageValue,
            fastAverage: MovingAverages.mean(closes, period: settings.fastPeriod, endingAt: last),
            slowAverage: MovingAverages.mean(closes, period: settings.slowPeriod, endingAt: last),
            crossDaysAgo: nil,
            bars: bars.count,
            designations: Self.designations(quote),
            reasons: []
        )
        if settings.excludeDesignated {
            result.reasons += result.designations
        }
        if quote.marketCap < settings.minMarketCap {
            result.reasons.append("market cap \(quote.marketCap)억 < \(settings.minMarketCap)억")
        }
        if averageValue < settings.minTradedValue {
            result.reasons.append(
                "\(settings.tradedValueDays)-day average traded value \(averageValue / 100_000_000)억 < "
                    + "\(settings.minTradedValue / 100_000_000)억"
            )
        }
        if quote.price < settings.minPrice || quote.price > settings.maxPrice {
            result.reasons.append("price \(quote.price) outside \(settings.minPrice)...\(settings.maxPrice)")
        }
        let (fast, slow) = ("MA\(settings.fastPeriod)", "MA\(settings.slowPeriod)")
        switch MovingAverages.cross(
            closes,
            fast: settings.fastPeriod,
            slow: settings.slowPeriod,
            lookback: settings.crossWithinDays
        ) {
        case .crossed(let daysAgo):
            result.crossDaysAgo = daysAgo
        case .aboveSince(let days):
            result.reasons.append(
                "\(fast) above \(slow) for more than \(days) days: no cross within \(settings.crossWithinDays)"
            )
        case .below:
            result.reasons.append(
                "\(fast) \(Self.format(result.fastAverage)) ≤ \(slow) \(Self.format(result.slowAverage))"
            )
        case .notEnoughCloses(let have, let need):
            result.reasons.append("\(have) daily bars, \(need) needed for \(slow) and a cross")
        }
        result.passed = result.reasons.isEmpty
        return result
    }

    /// KIS's marks on a quote that make it unfit for scalping (docs/kis-protocol.md §4.7): a halt, a market warning
    /// (투자경고/위험; 투자주의 is only a caution and not counted), an administrative issue, short-term overheating
    /// (single-price auctions every 30 minutes).
    static func designations(_ quote: Quote) -> [String] {
        var marks: [String] = []
        if quote.suspended || quote.status == "58" { marks.append("halted") }
        if ["02", "03"].contains(quote.marketWarning) || ["52", "53"].contains(quote.status) {
            marks.append("warned")
        }
        if quote.administrative || quote.status == "51" { marks.append("administrative issue") }
        if quote.overheated || quote.status == "59" { marks.append("overheated") }
        return marks
    }

    private static func format(_ value: Double?) -> String {
        value.map { String(Int64($0.rounded())) } ?? "-"
    }
}

@available(*, unavailable)
extension Screener: Sendable {}
