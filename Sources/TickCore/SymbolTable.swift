/// A code's place in the engine's `SymbolTable`: the dense index every per-code table (bars, market state, strategy
/// state) is kept by. A type of its own, so an index is never confused with a count, a price or an order id.
///
/// An integer literal is an index (`board[0]`), which keeps tests and fixed tables short; a computed `Int` must go
/// through `init(_:)`, which checks the range.
public struct SymbolIndex: Hashable, Comparable, BitwiseCopyable, Sendable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    public var rawValue: UInt16

    @inlinable
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// - Precondition: `0 <= offset < SymbolTable.capacity`.
    @inlinable
    public init(_ offset: Int) {
        precondition(offset >= 0 && offset < SymbolTable.capacity, "symbol index \(offset) outside 0..<64")
        self.rawValue = UInt16(truncatingIfNeeded: offset)
    }

    @inlinable
    public init(integerLiteral value: UInt16) { self.init(Int(value)) }

    /// The index as an array offset.
    @inlinable
    public var offset: Int { Int(self.rawValue) }

    public static func < (lhs: SymbolIndex, rhs: SymbolIndex) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "#\(self.rawValue)" }
}

/// The codes the engine trades, interned at start into dense indices `0..<count`.
///
/// Lookup is a linear scan of packed codes: for the few dozen codes a session watches that is a handful of
/// cache-resident integer compares, cheaper than hashing, and it never allocates. The stage that receives a record
/// looks its code up once and passes the index on with it.
public struct SymbolTable: Sendable, Equatable {
    /// The most codes one table holds: KIS allows 41 real-time registrations per session.
    public static let capacity = 64

    public enum Error: Swift.Error, Equatable, Sendable {
        case duplicate(SymbolCode)
        case empty
        case tooMany(count: Int)
        /// A code with no characters (`SymbolCode(rawValue: 0)`), which is what an undecoded record carries.
        case blankCode
    }

    /// Every code, in index order.
    public let codes: [SymbolCode]

    /// Interns `codes` in order: `codes[i]` gets index `i`.
    public init(_ codes: [SymbolCode]) throws(Error) {
        guard !codes.isEmpty else { throw .empty }
        guard codes.count <= Self.capacity else { throw .tooMany(count: codes.count) }
        for (i, code) in codes.enumerated() {
            guard code.rawValue != 0 else { throw .blankCode }
            guard !codes[..<i].contains(code) else { throw .duplicate(code) }
        }
        self.codes = codes
    }

    public var count: Int { self.codes.count }

    /// Every index, in order.
    public var indices: LazyMapSequence<Range<Int>, SymbolIndex> { (0..<self.codes.count).lazy.map(SymbolIndex.init) }

    /// The index of `code`, or nil when the table does not hold it.
    /// - Complexity: O(`count`), no allocation.
    @inlinable
    public func index(of code: SymbolCode) -> SymbolIndex? {
        for i in self.codes.indices where self.codes[i] == code {
            return SymbolIndex(rawValue: UInt16(truncatingIfNeeded: i))
        }
        return nil
    }

    /// The code at `index`.
    public subscript(index: SymbolIndex) -> SymbolCode {
        precondition(index.offset < self.codes.count, "symbol index \(index.offset) outside 0..<\(self.codes.count)")
        return self.codes[index.offset]
    }
}
