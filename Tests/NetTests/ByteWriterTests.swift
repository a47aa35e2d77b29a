import Net
import Testing

@Suite struct ByteWriterTests {
    @Test(arguments: [Int64.min, -1, 0, 7, 10, 99, 100, 65_850, 1_000_000_007, Int64.max])
    func decimalMatchesStringFormatting(value: Int64) {
        var writer = ByteWriter(capacity: 32)
        writer.append(decimal: value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == String(value))
    }

    @Test func paddingAndQueryEncoding() {
        var writer = ByteWriter(capacity: 64)
        writer.appendPadded(42, width: 6)
        writer.append(" ")
        writer.appendQueryEncoded("a b&c=삼성")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "000042 a%20b%26c%3D%EC%82%BC%EC%84%B1")
        writer.truncate(to: 6)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "000042")
    }
}
