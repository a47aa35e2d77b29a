import Foundation
import TickCore

/// xoshiro256** seeded through SplitMix64: fast, small state, and the same sequence on every platform, which
/// `SystemRandomNumberGenerator` is not. Each symbol and each session draws from its own stream, so adding a
/// subscriber or an order never shifts another symbol's market.
struct SimRandom: RandomNumberGenerator {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// - Parameters:
    ///   - seed: the run's seed.
    ///   - stream: separates independent streams of one seed (symbol index, session number, …).
    init(seed: UInt64, stream: UInt64) {
        var seeding = SplitMix64(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        self.s0 = seeding.next()
        self.s1 = seeding.next()
        self.s2 = seeding.next()
        self.s3 = seeding.next()
    }

    mutating func next() -> UInt64 {
        let result = (self.s1 &* 5).rotatedLeft(7) &* 9
        let t = self.s1 << 17
        self.s2 ^= self.s0
        self.s3 ^= self.s1
        self.s1 ^= self.s2
        self.s0 ^= self.s3
        self.s2 ^= t
        self.s3 = self.s3.rotatedLeft(45)
        return result
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double {
        Double(self.next() >> 11) * 0x1.0p-53
    }

    /// Uniform integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(self.next() % UInt64(range.count))
    }

    mutating func chance(_ probability: Double) -> Bool {
        self.unit() < probability
    }

    /// Exponentially distributed with the given mean.
    mutating func exponential(mean: Double) -> Double {
        -mean * log1p(-self.unit())
    }

    /// Standard normal (Box–Muller; one of the pair is discarded to keep the state a pure function of draws).
    mutating func normal() -> Double {
        let u1 = max(self.unit(), 0x1.0p-53)
        let u2 = self.unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// 1 + the number of failures before a success with probability `p`: 1, 2, 3 … with mean 1/p.
    mutating func geometric(_ p: Double) -> Int {
        Int(log1p(-self.unit()) / log1p(-p)) + 1
    }

    /// A heavy-tailed order size in shares with the given median.
    mutating func size(median: Double) -> Int64 {
        max(1, Int64((median * exp(0.9 * self.normal())).rounded()))
    }

    /// `count` lowercase letters (the shape of a KIS session key).
    mutating func letters(_ count: Int) -> String {
        String(decoding: (0..<count).map { _ in UInt8(ascii: "a") + UInt8(self.next() % 26) }, as: UTF8.self)
    }

    /// `count` lowercase hex digits (the shape of a KIS iv).
    mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: (0..<count).map { _ in digits[Int(self.next() % 16)] }, as: UTF8.self)
    }

    /// A version-4-shaped UUID string.
    mutating func uuid() -> String {
        let h = self.hex(32)
        let c = Array(h)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-4" + String(c[13..<16]) + "-a" + String(c[17..<20]) + "-"
            + String(c[20..<32])
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ k: UInt64) -> UInt64 { (self << k) | (self >> (64 - k)) }
}
