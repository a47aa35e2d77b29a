/// Up to eight ASCII bytes packed little-endian into a `UInt64`, so codes compare and hash as one integer.
///
/// Byte `i` of the text is bits `8*i ..< 8*i+8`; unused high bytes are zero. KRX short codes are six
/// characters (seven for ETNs, `Q…`), KIS TR ids and message codes are eight.
public struct PackedASCII: Hashable, Comparable, BitwiseCopyable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    @inlinable
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Packs `text`, or returns nil when it is longer than eight bytes or not ASCII.
    public init?(_ text: some StringProtocol) {
        var value: UInt64 = 0
        var count = 0
        for byte in text.utf8 {
            guard count < 8, byte < 0x80 else { return nil }
            value |= UInt64(byte) << (8 * UInt64(count))
            count += 1
        }
        self.rawValue = value
    }

    /// Packs a literal known at compile time to fit; traps otherwise.
    public init(ascii literal: StaticString) {
        precondition(literal.utf8CodeUnitCount <= 8, "'\(literal)' is longer than eight bytes")
        var value: UInt64 = 0
        literal.withUTF8Buffer { bytes in
            for (i, byte) in bytes.enumerated() {
                value |= UInt64(byte) << (8 * UInt64(i))
            }
        }
        self.rawValue = value
    }

    /// Number of bytes in use.
    public var count: Int {
        (64 - self.rawValue.leadingZeroBitCount + 7) / 8
    }

    public var description: String {
        var bytes: [UInt8] = []
        var value = self.rawValue
        while value != 0 {
            bytes.append(UInt8(truncatingIfNeeded: value))
            value >>= 8
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func < (lhs: PackedASCII, rhs: PackedASCII) -> Bool {
        lhs.description < rhs.description
    }
}

/// A KRX short code such as `005930`.
public typealias SymbolCode = PackedASCII

/// A KIS transaction id such as `H0STCNT0`.
public typealias TRID = PackedASCII

// The TR ids as their packed values (the text in each comment; TickCoreTests checks them against `init(ascii:)`): a
// literal is a constant the compiler folds, where a value made by `init(ascii:)` is a lazily made global, and each
// use went through a once-check (~13 instructions; the feed decoder's TR switch made up to four a frame).
extension PackedASCII {
    /// Real-time trades, KRX.
    public static let h0stcnt0 = TRID(rawValue: 0x3054_4E43_5453_3048)  // "H0STCNT0"
    /// Real-time trades, NXT.
    public static let h0nxcnt0 = TRID(rawValue: 0x3054_4E43_584E_3048)  // "H0NXCNT0"
    /// Real-time trades, KRX and NXT combined.
    public static let h0uncnt0 = TRID(rawValue: 0x3054_4E43_4E55_3048)  // "H0UNCNT0"
    /// 10-level order book, KRX.
    public static let h0stasp0 = TRID(rawValue: 0x3050_5341_5453_3048)  // "H0STASP0"
    /// 10-level order book, NXT.
    public static let h0nxasp0 = TRID(rawValue: 0x3050_5341_584E_3048)  // "H0NXASP0"
    /// 10-level order book, combined.
    public static let h0unasp0 = TRID(rawValue: 0x3050_5341_4E55_3048)  // "H0UNASP0"
    /// Market-operation state (halts, VI), KRX.
    public static let h0stmko0 = TRID(rawValue: 0x304F_4B4D_5453_3048)  // "H0STMKO0"
    /// Market-operation state, NXT.
    public static let h0nxmko0 = TRID(rawValue: 0x304F_4B4D_584E_3048)  // "H0NXMKO0"
    /// Market-operation state, combined.
    public static let h0unmko0 = TRID(rawValue: 0x304F_4B4D_4E55_3048)  // "H0UNMKO0"
    /// Order and fill notices, real account (encrypted).
    public static let h0stcni0 = TRID(rawValue: 0x3049_4E43_5453_3048)  // "H0STCNI0"
    /// Order and fill notices, paper account (encrypted).
    public static let h0stcni9 = TRID(rawValue: 0x3949_4E43_5453_3048)  // "H0STCNI9"
    /// The server's idle keep-alive.
    public static let pingpong = TRID(rawValue: 0x474E_4F50_474E_4950)  // "PINGPONG"
}
