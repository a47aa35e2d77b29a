/// Decimal text the way KIS prints it, written straight into byte buffers: the feed formats millions of fields a
/// second at maximum speed, where `String(describing:)` and interpolation would dominate.
extension Array where Element == UInt8 {
    mutating func appendInt(_ value: Int64) {
        if value < 0 {
            self.append(UInt8(ascii: "-"))
            self.appendUnsigned(UInt64(bitPattern: 0 &- value))
        } else {
            self.appendUnsigned(UInt64(value))
        }
    }

    mutating func appendInt(_ value: Int) { self.appendInt(Int64(value)) }

    mutating func appendUnsigned(_ value: UInt64) {
        // Digits come out lowest first; write them, then turn that stretch around in place.
        let start = self.count
        var v = value
        repeat {
            self.append(UInt8(ascii: "0") + UInt8(v % 10))
            v /= 10
        } while v > 0
        // swapAt works on the array's own storage; reversing a slice would copy it.
        var i = start
        var j = self.count - 1
        while i < j {
            self.swapAt(i, j)
            i += 1
            j -= 1
        }
    }

    /// `hundredths` as a signed decimal with exactly two places: 30399338 → `303993.38`, -23 → `-0.23`.
    mutating func appendFixed2(_ hundredths: Int64) {
        if hundredths < 0 { self.append(UInt8(ascii: "-")) }
        let magnitude = hundredths.magnitude
        self.appendUnsigned(magnitude / 100)
        self.append(UInt8(ascii: "."))
        self.append(UInt8(ascii: "0") + UInt8(magnitude / 10 % 10))
        self.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
    }

    /// `value` left-padded with zeros to `width` digits (order numbers, times).
    mutating func appendPadded(_ value: Int64, width: Int) {
        var text: [UInt8] = []
        text.appendUnsigned(UInt64(value))
        if text.count < width { self.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - text.count)) }
        self.append(contentsOf: text)
    }

    mutating func append(_ text: String) { self.append(contentsOf: text.utf8) }

    /// Appends the KIS field separator `^`.
    mutating func caret() { self.append(UInt8(ascii: "^")) }
}

enum Decimal2 {
    /// `numerator / denominator` in hundredths, rounded half away from zero; 0 when the denominator is 0.
    static func ratio(_ numerator: Int64, _ denominator: Int64) -> Int64 {
        guard denominator != 0 else { return 0 }
        let negative = (numerator < 0) != (denominator < 0)
        let n = numerator.magnitude * 100
        let d = denominator.magnitude
        let q = Int64((n + d / 2) / d)
        return negative ? -q : q
    }

    /// `numerator / denominator × 100` in hundredths (a percentage with two decimals).
    static func percent(_ numerator: Int64, _ denominator: Int64) -> Int64 {
        Self.ratio(numerator * 100, denominator)
    }

    static func text(_ hundredths: Int64) -> String {
        var out: [UInt8] = []
        out.appendFixed2(hundredths)
        return String(decoding: out, as: UTF8.self)
    }

    /// A value with four decimals from hundredths (`pchs_avg_pric` style: `65850.0000`).
    static func text4(_ hundredths: Int64) -> String {
        Self.text(hundredths) + "00"
    }
}

/// KST calendar text for REST fields.
enum KSTText {
    /// `YYYYMMDD` → `YYYY-MM-DD`.
    static func dashed(_ date: UInt32) -> String {
        let s = String(date)
        return "\(s.prefix(4))-\(s.dropFirst(4).prefix(2))-\(s.suffix(2))"
    }
}
