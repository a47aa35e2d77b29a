/// Brokerage fee and transaction tax, in parts per million of the traded value.
public struct Costs: Sendable, Equatable, BitwiseCopyable {
    /// 0.015 %, a typical online brokerage fee.
    public var feePPM: Int64 = 150
    /// 0.20 %: the securities transaction tax plus the rural development tax on KOSPI sales from 2026.
    public var sellTaxPPM: Int64 = 2_000

    public init(feePPM: Int64 = 150, sellTaxPPM: Int64 = 2_000) {
        self.feePPM = feePPM
        self.sellTaxPPM = sellTaxPPM
    }

    /// Fee on `value`, cut to whole won.
    public func fee(_ value: Int64) -> Int64 { value * self.feePPM / 1_000_000 }
    public func tax(_ value: Int64) -> Int64 { value * self.sellTaxPPM / 1_000_000 }
    /// The most a buy of `value` can cost with its fee, for reserving cash.
    public func withFee(_ value: Int64) -> Int64 { value + self.fee(value) + 1 }
}
