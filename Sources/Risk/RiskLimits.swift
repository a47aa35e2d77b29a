/// The limits every order is checked against. KRW values are whole won; a limit is the largest value allowed.
///
/// The defaults suit a small retail scalping account; the operator sets others from the configuration through
/// `init(parameters:)`.
public struct RiskLimits: BitwiseCopyable, Sendable, Equatable {
    /// Shares of one code held plus bought in working orders (`max_position_shares`).
    public var maxPositionShares: Int64 = 1_000
    /// KRW of one code held (at the last price) plus bought in working orders (`max_position_krw`).
    public var maxPositionValue: Int64 = 5_000_000
    /// KRW of every position plus every working buy order (`max_gross_exposure_krw`).
    public var maxGrossExposure: Int64 = 20_000_000
    /// Working orders of one code (`max_open_orders_per_code`).
    public var maxOpenOrdersPerCode: Int64 = 4
    /// Working orders in all (`max_open_orders`).
    public var maxOpenOrders: Int64 = 20
    /// KRW of one buy order, price × quantity (`max_order_krw`).
    public var maxOrderValue: Int64 = 2_000_000
    /// Shares of one buy order (`max_order_shares`).
    public var maxOrderQuantity: Int64 = 500
    /// Loss today, realised plus unrealised after fees and tax, past which entries stop (`daily_loss_limit_krw`).
    public var dailyLossLimit: Int64 = 300_000
    /// Lowest price an entry may buy at; 0 is no minimum (`min_price_krw`).
    public var minimumPrice: Int64 = 0

    /// The defaults.
    public init() {}

    /// The defaults, overridden by `parameters` (key → decimal integer, `_` between digits allowed).
    ///
    /// - Throws: `RiskLimitsError` naming the first offending key in key order: one not listed in `keys`, a value
    ///   that is not an integer, or one out of its range (every limit ≥ 1, except `min_price_krw` ≥ 0).
    public init(parameters: [String: String]) throws(RiskLimitsError) {
        self.init()
        for (key, text) in parameters.sorted(by: { $0.key < $1.key }) {
            guard Self.keys.contains(key) else { throw .unknownKey(key) }
            guard let value = Self.integer(text) else { throw .notAnInteger(key: key, value: text) }
            try self.set(key, value)
        }
    }

    /// Every parameter key, in declaration order.
    public static let keys = [
        "max_position_shares", "max_position_krw", "max_gross_exposure_krw", "max_open_orders_per_code",
        "max_open_orders", "max_order_krw", "max_order_shares", "daily_loss_limit_krw", "min_price_krw",
    ]

    private mutating func set(_ key: String, _ value: Int64) throws(RiskLimitsError) {
        let lowest: Int64 = key == "min_price_krw" ? 0 : 1
        // Prices fit Int32; counts and KRW stay far below Int64's range so sums of them cannot overflow.
        let highest: Int64 = key == "min_price_krw" ? Int64(Int32.max) : 1_000_000_000_000_000
        guard value >= lowest && value <= highest else {
            throw .outOfRange(key: key, value: value, allowed: lowest...highest)
        }
        switch key {
        case "max_position_shares": self.maxPositionShares = value
        case "max_position_krw": self.maxPositionValue = value
        case "max_gross_exposure_krw": self.maxGrossExposure = value
        case "max_open_orders_per_code": self.maxOpenOrdersPerCode = value
        case "max_open_orders": self.maxOpenOrders = value
        case "max_order_krw": self.maxOrderValue = value
        case "max_order_shares": self.maxOrderQuantity = value
        case "daily_loss_limit_krw": self.dailyLossLimit = value
        default: self.minimumPrice = value
        }
    }

    /// A decimal integer with an optional leading `-`, digits optionally grouped by single `_`; nil otherwise or
    /// on overflow.
    private static func integer(_ text: String) -> Int64? {
        var bytes = Substring(text).utf8[...]
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { bytes = bytes.dropFirst() }
        guard let first = bytes.first, let last = bytes.last, first != UInt8(ascii: "_"), last != UInt8(ascii: "_")
        else { return nil }
        var value: Int64 = 0
        var previous: UInt8 = 0
        for byte in bytes {
            defer { previous = byte }
            if byte == UInt8(ascii: "_") {
                guard previous != UInt8(ascii: "_") else { return nil }
                continue
            }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
        }
        return negative ? -value : value
    }
}

/// A risk parameter that cannot be used; each case names the key.
public enum RiskLimitsError: Error, Equatable, CustomStringConvertible {
    case unknownKey(String)
    case notAnInteger(key: String, value: String)
    case outOfRange(key: String, value: Int64, allowed: ClosedRange<Int64>)

    /// The offending key.
    public var key: String {
        switch self {
        case .unknownKey(let key), .notAnInteger(let key, _), .outOfRange(let key, _, _): key
        }
    }

    public var description: String {
        switch self {
        case .unknownKey(let key):
            "unknown risk parameter '\(key)' (known: \(RiskLimits.keys.joined(separator: ", ")))"
        case .notAnInteger(let key, let value):
            "risk parameter '\(key)': '\(value)' is not an integer"
        case .outOfRange(let key, let value, let allowed):
            "risk parameter '\(key)': \(value) is outside \(allowed.lowerBound)...\(allowed.upperBound)"
        }
    }
}
