import TickCore

extension KRX {
    /// The sign code KIS uses for a change (`PRDY_VRSS_SIGN`): 1 at the upper limit, 2 up, 3 flat, 4 at the
    /// lower limit, 5 down.
    static func sign(price: Int64, base: Int64, upper: Int64, lower: Int64) -> Int64 {
        if price >= upper { return 1 }
        if price <= lower { return 4 }
        return price > base ? 2 : price < base ? 5 : 3
    }

    /// The sign of a plain difference (2 up, 3 flat, 5 down), as used for open/high/low distances.
    static func sign(_ difference: Int64) -> Int64 {
        difference > 0 ? 2 : difference < 0 ? 5 : 3
    }
}
