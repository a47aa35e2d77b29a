import Testing
import TickCore

@Suite struct SymbolTableTests {
    static let samsung = SymbolCode(ascii: "005930")
    static let hynix = SymbolCode(ascii: "000660")

    @Test func internsInOrder() throws {
        let table = try SymbolTable([Self.samsung, Self.hynix])
        #expect(table.count == 2)
        #expect(table.index(of: Self.samsung) == 0)
        #expect(table.index(of: Self.hynix) == 1)
        #expect(table.index(of: SymbolCode(ascii: "035420")) == nil)
        #expect(table[1] == Self.hynix)
        #expect(Array(table.indices) == [0, 1])
    }

    @Test func badCodeListsAreTypedErrors() {
        #expect(throws: SymbolTable.Error.empty) { try SymbolTable([]) }
        #expect(throws: SymbolTable.Error.duplicate(Self.samsung)) {
            try SymbolTable([Self.samsung, Self.hynix, Self.samsung])
        }
        #expect(throws: SymbolTable.Error.blankCode) { try SymbolTable([SymbolCode(rawValue: 0)]) }
        let many = (0..<65).map { SymbolCode(rawValue: 0x30 + UInt64($0) << 8) }
        #expect(throws: SymbolTable.Error.tooMany(count: 65)) { try SymbolTable(many) }
    }

    @Test func indexOutsideTheTableIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) { _ = try SymbolTable([Self.samsung])[1] }
        await #expect(processExitsWith: .failure) { _ = SymbolIndex(SymbolTable.capacity) }
        await #expect(processExitsWith: .failure) {
            let offset = -1
            _ = SymbolIndex(offset)
        }
    }
}
