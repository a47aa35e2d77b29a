import Testing

@testable import KIS

@Suite struct ConfigParserTests {
    static func parse(_ text: String, nameable: Set<String> = ["my_app"]) throws(FlatYAML.Failure) -> [String: String] {
        try FlatYAML(parsing: Array(text.utf8), nameableKeys: nameable).entries.mapValues(\.value)
    }

    @Test func scalarsStayVerbatimText() throws {
        let entries = try Self.parse(
            """
            plain: 01
            spaced:    a b  c   # comment
            empty:
            commented: # only a comment
            double: "x \\" \\\\ \\t \\/ \\x41 \\u00e9 \\U0001F600 # not a comment"
            single: 'it''s # not a comment'
            hash: a#b
            colon: a:b
            url: https://host:9443/path
            null: ~
            bool: true
            dash: -1
              # indented comment
            """
        )
        #expect(
            entries == [
                "plain": "01", "spaced": "a b  c", "empty": "", "commented": "",
                "double": "x \" \\ \t / A é 😀 # not a comment", "single": "it's # not a comment", "hash": "a#b",
                "colon": "a:b", "url": "https://host:9443/path", "null": "~", "bool": "true", "dash": "-1",
            ]
        )
    }

    @Test func lineEndsAndByteOrderMark() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("a: 1\r\nb: 2\rc: 3\n\r\nd: 4".utf8)
        let entries = try FlatYAML(parsing: bytes, nameableKeys: []).entries
        #expect(entries.mapValues(\.value) == ["a": "1", "b": "2", "c": "3", "d": "4"])
        #expect(entries["d"]?.line == 5)
    }

    @Test(arguments: [
        ("a: 1\n\tb: 2", 2, ConfigSyntaxProblem.tabIndentation),
        ("a: 1\n  b: 2", 2, .indented),
        ("a:\n  - x", 2, .indented),
        ("- x", 1, .list),
        ("a: - x", 1, .list),
        ("a: b: c", 1, .nestedMapping),
        ("a: ? b", 1, .nestedMapping),
        ("a: [1, 2]", 1, .flowCollection),
        ("a: {b: 1}", 1, .flowCollection),
        ("a: &anchor x", 1, .anchorOrAlias),
        ("a: *alias", 1, .anchorOrAlias),
        ("a: !!str x", 1, .tag),
        ("a: |", 1, .blockScalar),
        ("a: >", 1, .blockScalar),
        ("a: @x", 1, .reservedIndicator),
        ("a: \"x", 1, .unterminatedQuote),
        ("a: \"x\\", 1, .unterminatedQuote),
        ("a: 'x", 1, .unterminatedQuote),
        ("a: \"x\\q\"", 1, .invalidEscape),
        ("a: \"\\x4\"", 1, .invalidEscape),
        ("a: \"\\u+041\"", 1, .invalidEscape),
        ("a: \"\\uD800\"", 1, .invalidEscape),
        ("a: \"x\" y", 1, .textAfterQuotedValue),
        ("a: \"x\"#y", 1, .textAfterQuotedValue),
        ("a: 'x'y", 1, .textAfterQuotedValue),
        ("just text", 1, .notAKeyValuePair),
        ("a:b", 1, .notAKeyValuePair),
        ("\"a\": 1", 1, .notAKeyValuePair),
        ("---", 1, .notAKeyValuePair),
        ("a: x\u{7}", 1, .controlCharacter),
        ("a: 1\nb: 2\na: 3", 3, .duplicateKey(key: nil, firstLine: 1)),
        ("my_app: 1\n\nmy_app: 2", 3, .duplicateKey(key: "my_app", firstLine: 1)),
    ])
    func refusesWhatTheFileNeverUses(text: String, line: Int, problem: ConfigSyntaxProblem) {
        #expect(throws: FlatYAML.Failure(line: line, problem: problem)) { try Self.parse(text) }
    }

    @Test func refusesInvalidUTF8ByLine() {
        #expect(throws: FlatYAML.Failure(line: 2, problem: .notUTF8)) {
            try FlatYAML(parsing: Array("a: 1\nb: ".utf8) + [0xFF], nameableKeys: [])
        }
    }
}
