import TickCore

/// What the TIER 1 screen asks of a code and how the scheduler fits the passing codes into KIS's registrations,
/// read from the flat settings file (`kistick screen --settings`, `kistick paper --settings`); every key is
/// optional and falls back to the default below.
public struct ScreenSettings: Sendable, Equatable, Encodable {
    /// Minimum market capitalisation, 억원 (10^8 KRW, KIS's unit for `hts_avls` and `stck_avls`): 1조원.
    public var minMarketCap: Int64 = 10_000
    /// Minimum average daily traded value over the last `tradedValueDays` completed days, KRW: 100억원. The
    /// average, not today's accumulated value, so a screen before the open is not empty.
    public var minTradedValue: Int64 = 10_000_000_000
    public var tradedValueDays = 20
    /// The moving averages compared (closes of completed days).
    public var fastPeriod = 50
    public var slowPeriod = 200
    /// The fast average crossed above the slow one at most this many trading days ago (0: on the last day).
    public var crossWithinDays = 30
    /// Price band, KRW, inclusive.
    public var minPrice: Int64 = 1_000
    public var maxPrice: Int64 = 2_000_000
    /// Refuse codes KIS marks as halted, warned (투자경고/위험), under investor caution or administrative issue.
    public var excludeDesignated = true
    /// Completed daily bars fetched per code; at least `slowPeriod + crossWithinDays + 1`.
    public var historyDays = 250
    /// Codes kept live (two registrations each; one more for the notices) and how many of them are the most
    /// active ones that never rotate out. 20 per app key by default: every session full.
    public var liveCodes = 20
    public var coreCodes = 14
    /// Market seconds between rotations of the remaining live slots.
    public var rotationSeconds = 300
    /// Codes to screen when the rankings cannot be asked: a paper account whose configuration has no real app key
    /// (KIS serves the rankings on the real host only).
    public var candidates: [String] = []

    public enum Key: String, CaseIterable, Sendable {
        case minMarketCap = "screen_min_market_cap_eok"
        case minTradedValue = "screen_min_traded_value_krw"
        case tradedValueDays = "screen_traded_value_days"
        case fastPeriod = "screen_ma_fast"
        case slowPeriod = "screen_ma_slow"
        case crossWithinDays = "screen_cross_within_days"
        case minPrice = "screen_min_price"
        case maxPrice = "screen_max_price"
        case excludeDesignated = "screen_exclude_designated"
        case historyDays = "screen_history_days"
        case liveCodes = "schedule_live_codes"
        case coreCodes = "schedule_core_codes"
        case rotationSeconds = "schedule_rotation_seconds"
        case candidates = "screen_candidates"
    }

    /// Every key this type reads.
    public static var keys: Set<String> { Set(Key.allCases.map(\.rawValue)) }

    /// The app keys the live codes stream over, one WebSocket session each: not a setting of the file, but what
    /// bounds `liveCodes`.
    public let appKeys: Int

    /// The defaults, for a run streaming over `appKeys` app keys.
    public init(appKeys: Int = 1) {
        self.appKeys = appKeys
        self.liveCodes = SubscriptionBudget.maxLiveCodes * appKeys
    }

    /// The defaults overridden by `parameters` (a settings file's entries; keys other than `keys` are ignored,
    /// since the engine's keys share the file).
    /// - Throws: `ScreenError.setting` naming the key, the file and what the value should be.
    public init(parameters: [String: String], path: String, appKeys: Int = 1) throws(ScreenError) {
        self.init(appKeys: appKeys)
        func int(_ key: Key, _ range: ClosedRange<Int64>, _ value: inout Int64) throws(ScreenError) {
            guard let text = parameters[key.rawValue] else { return }
            guard let read = Int64(text), range.contains(read) else {
                throw .setting(
                    key: key.rawValue,
                    path: path,
                    expected: "an integer in \(range.lowerBound)...\(range.upperBound)"
                )
            }
            value = read
        }
        func int(_ key: Key, _ range: ClosedRange<Int64>, _ value: inout Int) throws(ScreenError) {
            var wide = Int64(value)
            try int(key, range, &wide)
            value = Int(wide)
        }
        try int(.minMarketCap, 0...100_000_000, &self.minMarketCap)
        try int(.minTradedValue, 0...100_000_000_000_000, &self.minTradedValue)
        try int(.tradedValueDays, 1...250, &self.tradedValueDays)
        try int(.fastPeriod, 1...500, &self.fastPeriod)
        try int(.slowPeriod, 2...1_000, &self.slowPeriod)
        try int(.crossWithinDays, 0...500, &self.crossWithinDays)
        try int(.minPrice, 0...100_000_000, &self.minPrice)
        try int(.maxPrice, 1...100_000_000, &self.maxPrice)
        try int(.historyDays, 1...2_000, &self.historyDays)
        let live = Int64(SubscriptionBudget.maxLiveCodes * appKeys)
        try int(.liveCodes, 1...live, &self.liveCodes)
        try int(.coreCodes, 0...live, &self.coreCodes)
        try int(.rotationSeconds, 1...86_400, &self.rotationSeconds)
        if let text = parameters[Key.candidates.rawValue] {
            let codes = text.split(separator: ",").map { String($0.filter { $0 != " " }) }
            let valid = codes.allSatisfy { $0.count == 6 && $0.allSatisfy(\.isASCII) && SymbolCode($0) != nil }
            guard !codes.isEmpty, valid else {
                throw .setting(
                    key: Key.candidates.rawValue,
                    path: path,
                    expected: "comma-separated six-character KRX codes"
                )
            }
            self.candidates = codes
        }
        if let text = parameters[Key.excludeDesignated.rawValue] {
            switch text.lowercased() {
            case "true", "yes", "y", "1": self.excludeDesignated = true
            case "false", "no", "n", "0": self.excludeDesignated = false
            default: throw .setting(key: Key.excludeDesignated.rawValue, path: path, expected: "true or false")
            }
        }
        guard self.fastPeriod < self.slowPeriod else {
            throw .setting(
                key: Key.fastPeriod.rawValue,
                path: path,
                expected: "fewer days than \(Key.slowPeriod.rawValue) (\(self.slowPeriod))"
            )
        }
        guard self.minPrice <= self.maxPrice else {
            throw .setting(
                key: Key.minPrice.rawValue,
                path: path,
                expected: "at most \(Key.maxPrice.rawValue) (\(self.maxPrice))"
            )
        }
        guard self.historyDays >= self.requiredBars else {
            throw .setting(
                key: Key.historyDays.rawValue,
                path: path,
                expected:
                    "at least \(Key.slowPeriod.rawValue) + \(Key.crossWithinDays.rawValue) + 1 = \(self.requiredBars)"
            )
        }
        guard self.coreCodes <= self.liveCodes else {
            throw .setting(
                key: Key.coreCodes.rawValue,
                path: path,
                expected: "at most \(Key.liveCodes.rawValue) (\(self.liveCodes))"
            )
        }
    }

    /// Bars the cross test looks at: the slow average on the last day and on each of the `crossWithinDays` days
    /// before it, and on the day before the oldest of those.
    public var requiredBars: Int { self.slowPeriod + self.crossWithinDays + 1 }

    /// Bars fetched and kept per code.
    var fetchedBars: Int { max(self.historyDays, self.requiredBars, self.tradedValueDays) }
}

/// Why a screen could not run.
public enum ScreenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A setting with a value of the wrong shape.
    case setting(key: String, path: String, expected: String)
    /// The daily-bar cache could not be opened, read or written.
    case cache(path: String, reason: String)
    /// A KIS call failed: which one, and KIS's or the network's reason.
    case kis(call: String, reason: String)
    /// A paper account without a real app key and no `screen_candidates`: nothing to screen.
    case noRankings

    public var description: String {
        switch self {
        case .setting(let key, let path, let expected): "\(path): \(key) must be \(expected)"
        case .cache(let path, let reason): "daily-bar cache \(path): \(reason)"
        case .kis(let call, let reason): "\(call): \(reason)"
        case .noRankings:
            "KIS serves the rankings on the real host only: add the real app key (my_app, my_sec) to kis_devlp.yaml, "
                + "or list the codes to screen as \(ScreenSettings.Key.candidates.rawValue) in the settings file"
        }
    }
}
