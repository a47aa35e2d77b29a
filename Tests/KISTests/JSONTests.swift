import JSON
import Testing

@Suite struct JSONTests {
    @Test func keepsKeyOrderAndRoundTrips() throws {
        let text = #"{"output":{"stck_prpr":"65850"},"rt_cd":"0","msg_cd":"MCA00000","msg1":"정상처리 되었습니다."}"#
        let value = try #require(JSON(parsing: Array(text.utf8)))
        #expect(String(decoding: value.bytes, as: UTF8.self) == text)
        #expect(value["output"]?["stck_prpr"]?.text == "65850")
    }

    @Test func decodesSurrogatePairsAndRejectsLoneOnes() throws {
        let pair = try #require(JSON(parsing: Array(#""\ud83d\ude00 \u00e9""#.utf8)))
        #expect(pair.text == "😀 é")
        let lone = try #require(JSON(parsing: Array(#""\ud83d x""#.utf8)))
        #expect(lone.text == "\u{FFFD} x")
        let unpaired = try #require(JSON(parsing: Array(#""\ud83d\u0041""#.utf8)))
        #expect(unpaired.text == "\u{FFFD}A")
    }

    @Test func rejectsWhatIsNotJSON() {
        for text in [
            #"{"a":}"#, #"{"a":"1",}"#, "[1 2]", #""unterminated"#, "{} x", "nul", String(repeating: "[", count: 40),
        ] {
            #expect(JSON(parsing: Array(text.utf8)) == nil, "\(text)")
        }
    }

    @Test func bareNumbersReadAsScalarTextOnly() throws {
        let value = try #require(JSON(parsing: Array(#"{"expires_in":86400}"#.utf8)))
        #expect(value["expires_in"]?.text == nil)
        #expect(value["expires_in"]?.scalarText == "86400")
    }
}
