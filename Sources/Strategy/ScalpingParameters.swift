/// A bad parameter file entry, naming the key.
public enum ScalpingParametersError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A key `ScalpingParameters.Key` does not list (often a typo).
    case unknownKey(String)
    /// `value` of `key` is not what `expected` describes.
    case invalidValue(key: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .unknownKey(let key): "unknown scalping parameter '\(key)'"
        case .invalidValue(let key, let value, let expected): "\(key): '\(value)' is not \(expected)"
        }
    }
}

/// Every tunable of `ScalpingStrategy`, with defaults. Loaded from a flat `key: value` file (the
/// kis_devlp.yaml dialect) through `init(_:)`; keys left out keep their default.
///
/// The defaults are a starting point, not a tested edge: a round trip costs about 0.23 % (0.015 % fee each way and
/// 0.20 % sell tax), so the take-profit must clear that plus the spread paid on entry; 6 ticks is 0.6 % at 100,000
/// KRW (100 KRW ticks) and 0.3 % at 199,900.
public struct ScalpingParameters: Sendable, Equatable {
    /// The keys of the parameter file, in `defaults` order.
    public enum Key: String, CaseIterable, Sendable {
        case entryIntervalSeconds = "entry_interval_seconds"
        case minStrength = "min_strength"
        case minImbalance = "min_imbalance"
        case maxSpreadTicks = "max_spread_ticks"
        case noEntryAfterOpenSeconds = "no_entry_after_open_seconds"
        case noEntryBeforeCloseSeconds = "no_entry_before_close_seconds"
        case flattenBeforeCloseSeconds = "flatten_before_close_seconds"
        case budgetKRW = "budget_krw"
        case entryTimeoutMilliseconds = "entry_timeout_ms"
        case takeProfitTicks = "take_profit_ticks"
        case stopLossTicks = "stop_loss_ticks"
        case timeStopSeconds = "time_stop_seconds"
        case exitSlippageTicks = "exit_slippage_ticks"
        case exitTimeoutMilliseconds = "exit_timeout_ms"
        case cooldownSeconds = "cooldown_seconds"
        case minRelativeVolume = "min_relative_volume"
    }

    /// Bar length whose previous completed bar sets the breakout level; must be one of the candle stage's intervals.
    public var entryIntervalSeconds: Int32 = 300
    /// Least KIS session trade strength (CTTR) to enter, hundredths (`min_strength: 120` is 12 000).
    public var minStrength: Int32 = 12_000
    /// Least top-of-book imbalance (`BookFeatures.topImbalance`) to enter, in 1/10 000 (`min_imbalance: 0.2`).
    public var minImbalance: Int32 = 2_000
    /// Widest spread, in ladder steps, at which to enter.
    public var maxSpreadTicks: Int32 = 2
    /// No entries in the first seconds of continuous trading (from 09:00).
    public var noEntryAfterOpenSeconds: Int64 = 300
    /// No entries in the last seconds before the closing auction (15:20).
    public var noEntryBeforeCloseSeconds: Int64 = 1_200
    /// Positions are closed this many seconds before the closing auction.
    public var flattenBeforeCloseSeconds: Int64 = 120
    /// KRW to spend per entry; the quantity is this over the entry price, rounded down to whole shares.
    public var budgetKRW: Int64 = 1_000_000
    /// An entry order not completely filled after this long is cancelled.
    public var entryTimeoutMilliseconds: Int64 = 2_000
    /// Ladder steps above the average entry price at which the bid takes profit.
    public var takeProfitTicks: Int32 = 6
    /// Ladder steps below the average entry price at which the bid stops out.
    public var stopLossTicks: Int32 = 4
    /// A position is closed after this long, whatever its price.
    public var timeStopSeconds: Int64 = 180
    /// Stop-loss, time-stop and close exits sell this many steps below the bid, to cross the spread even if the bid
    /// moves; take-profit sells at the bid.
    public var exitSlippageTicks: Int32 = 2
    /// An exit order not filled after this long is cancelled and sent again at the new bid.
    public var exitTimeoutMilliseconds: Int64 = 2_000
    /// No new entry in a code for this long after its position closed or its entry was cancelled unfilled.
    public var cooldownSeconds: Int64 = 60
    /// Least volume of the breakout bar, in percent of the same minutes' volume on the previous trading day (KRX's
    /// activity is U-shaped over the day, so a bar is judged against its own time of day); 0 turns the check off.
    /// When on, the engine asks KIS for the previous day's minute bars at start (a real-host quotation).
    public var minRelativeVolume: Int32 = 0

    public init() {}

    /// Whether the strategy needs the previous trading day's minute bars before the session.
    public var wantsPastMinuteBars: Bool { self.minRelativeVolume > 0 }

    /// The defaults with the entries of `values` applied.
    /// - Throws: `unknownKey` for a key not in `Key`, `invalidValue` for a value out of range or malformed.
    public init(_ values: [String: String]) throws(ScalpingParametersError) {
        // Sorted, so that with several bad entries the error names the same one every time.
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let known = Key(rawValue: key) else { throw .unknownKey(key) }
            try self.set(known, to: value)
        }
    }

    /// Every key with its default value as it is written in a file.
    public static var defaults: [(key: String, value: String)] {
        let parameters = ScalpingParameters()
        return Key.allCases.map { ($0.rawValue, parameters.text(of: $0)) }
    }

    /// `key`'s value as it is written in a file.
    public func text(of key: Key) -> String {
        switch key {
        case .entryIntervalSeconds: String(self.entryIntervalSeconds)
        case .minStrength: Self.fixedText(Int64(self.minStrength), decimals: 2)
        case .minImbalance: Self.fixedText(Int64(self.minImbalance), decimals: 4)
        case .maxSpreadTicks: String(self.maxSpreadTicks)
        case .noEntryAfterOpenSeconds: String(self.noEntryAfterOpenSeconds)
        case .noEntryBeforeCloseSeconds: String(self.noEntryBeforeCloseSeconds)
        case .flattenBeforeCloseSeconds: String(self.flattenBeforeCloseSeconds)
        case .budgetKRW: String(self.budgetKRW)
        case .entryTimeoutMilliseconds: String(self.entryTimeoutMilliseconds)
        case .takeProfitTicks: String(self.takeProfitTicks)
        case .stopLossTicks: String(self.stopLossTicks)
        case .timeStopSeconds: String(self.timeStopSeconds)
        case .exitSlippageTicks: String(self.exitSlippageTicks)
        case .exitTimeoutMilliseconds: String(self.exitTimeoutMilliseconds)
        case .cooldownSeconds: String(self.cooldownSeconds)
        case .minRelativeVolume: String(self.minRelativeVolume)
        }
    }

    private mutating func set(_ key: Key, to text: String) throws(ScalpingParametersError) {
        // The session's continuous trading, 09:00–15:20, bounds every time-of-day offset.
        let session = 6 * 3600 + 20 * 60
        func integer(_ range: ClosedRange<Int64>, _ expected: String) throws(ScalpingParametersError) -> Int64 {
            guard let value = Self.fixed(text, decimals: 0), range.contains(value) else {
                throw .invalidValue(key: key.rawValue, value: text, expected: expected)
            }
            return value
        }
        func ticks() throws(ScalpingParametersError) -> Int32 {
            Int32(try integer(1...100, "a whole number of ticks from 1 to 100"))
        }
        func milliseconds() throws(ScalpingParametersError) -> Int64 {
            try integer(1...3_600_000, "a whole number of milliseconds from 1 to 3600000")
        }
        func offset() throws(ScalpingParametersError) -> Int64 {
            try integer(0...Int64(session), "a whole number of seconds from 0 to \(session)")
        }
        switch key {
        case .entryIntervalSeconds:
            let value = try integer(1...3600, "a whole number of seconds dividing 3600")
            guard 3600 % value == 0 else {
                throw .invalidValue(key: key.rawValue, value: text, expected: "a whole number of seconds dividing 3600")
            }
            self.entryIntervalSeconds = Int32(value)
        case .minStrength:
            guard let value = Self.fixed(text, decimals: 2), (0...100_000_000).contains(value) else {
                throw .invalidValue(key: key.rawValue, value: text, expected: "a strength from 0 to 1000000.00")
            }
            self.minStrength = Int32(value)
        case .minImbalance:
            guard let value = Self.fixed(text, decimals: 4), (-10_000...10_000).contains(value) else {
                throw .invalidValue(key: key.rawValue, value: text, expected: "an imbalance from -1 to 1")
            }
            self.minImbalance = Int32(value)
        case .maxSpreadTicks: self.maxSpreadTicks = try ticks()
        case .noEntryAfterOpenSeconds: self.noEntryAfterOpenSeconds = try offset()
        case .noEntryBeforeCloseSeconds: self.noEntryBeforeCloseSeconds = try offset()
        case .flattenBeforeCloseSeconds: self.flattenBeforeCloseSeconds = try offset()
        case .budgetKRW: self.budgetKRW = try integer(1...10_000_000_000, "a whole number of KRW from 1 to 10000000000")
        case .entryTimeoutMilliseconds: self.entryTimeoutMilliseconds = try milliseconds()
        case .takeProfitTicks: self.takeProfitTicks = try ticks()
        case .stopLossTicks: self.stopLossTicks = try ticks()
        case .timeStopSeconds:
            self.timeStopSeconds = try integer(1...Int64(session), "a whole number of seconds from 1 to \(session)")
        case .exitSlippageTicks:
            self.exitSlippageTicks = Int32(try integer(0...100, "a whole number of ticks from 0 to 100"))
        case .exitTimeoutMilliseconds: self.exitTimeoutMilliseconds = try milliseconds()
        case .cooldownSeconds: self.cooldownSeconds = try offset()
        case .minRelativeVolume:
            self.minRelativeVolume = Int32(try integer(0...100_000, "a whole percentage from 0 to 100000"))
        }
    }

    /// `text` as a decimal with at most `decimals` fraction digits, scaled by 10^`decimals` ("120.5", 2 → 12050),
    /// or nil. Digits only, an optional leading `-`, at most 12 integer digits; no exponent, no Double.
    static func fixed(_ text: String, decimals: Int) -> Int64? {
        var bytes = Substring(text).utf8[...]
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { bytes = bytes.dropFirst() }
        let whole = bytes.prefix { $0 != UInt8(ascii: ".") }
        let fraction = bytes.dropFirst(whole.count + 1)
        let hasPoint = whole.count < bytes.count
        guard !whole.isEmpty, whole.count <= 12, fraction.count <= decimals, !hasPoint || !fraction.isEmpty else {
            return nil
        }
        var value: Int64 = 0
        for byte in whole {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        var digits = 0
        for byte in fraction {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        for _ in digits..<decimals { value *= 10 }
        return negative ? -value : value
    }

    /// `value` scaled by 10^`decimals` as the shortest decimal text that `fixed` reads back.
    static func fixedText(_ value: Int64, decimals: Int) -> String {
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let sign = value < 0 ? "-" : ""
        let magnitude = value.magnitude
        var fraction = String(magnitude % UInt64(scale))
        guard fraction != "0" else { return sign + String(magnitude / UInt64(scale)) }
        fraction = String(repeating: "0", count: decimals - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return sign + String(magnitude / UInt64(scale)) + "." + fraction
    }
}
