public import TickCore

/// The codes the engine trades, interned at start into dense indices `0..<count`, which every per-code table of the
/// candle and strategy stages is indexed by.
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

    private var codes: [SymbolCode]

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

    /// The index of `code`, or nil when the table does not hold it.
    /// - Complexity: O(`count`), no allocation.
    public func index(of code: SymbolCode) -> Int? {
        for i in self.codes.indices where self.codes[i] == code {
            return i
        }
        return nil
    }

    /// The code at `index`.
    public subscript(index: Int) -> SymbolCode {
        precondition(self.codes.indices.contains(index), "symbol index \(index) outside 0..<\(self.codes.count)")
        return self.codes[index]
    }
}
