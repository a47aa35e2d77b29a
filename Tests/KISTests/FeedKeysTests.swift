import KIS
import Testing

/// The extra app keys' file (`FeedKeys`): read as written, and every mistake named by key and file, never by value.
@Suite struct FeedKeysTests {
    static let account = Credentials(appKey: Secret(key("A")), appSecret: Secret(secret("a")))

    static func key(_ letter: Character) -> String { String(repeating: letter, count: KISConfig.appKeyLength) }
    static func secret(_ letter: Character) -> String { String(repeating: letter, count: KISConfig.appSecretLength) }

    func load(_ text: String) throws(ConfigError) -> [Credentials] {
        let directory: TemporaryDirectory
        let path: String
        do {
            directory = try TemporaryDirectory()
            path = try directory.write(text, to: "kis_keys.yaml")
        } catch {
            preconditionFailure("cannot write the test's file: \(error)")
        }
        defer { directory.remove() }
        do {
            return try FeedKeys.load(path: path, account: Self.account)
        } catch {
            // The path is the test's temporary one: compare the rest of the error.
            throw Self.renamed(error, from: path)
        }
    }

    static func renamed(_ error: ConfigError, from path: String) -> ConfigError {
        switch error {
        case .missing(let key, path): .missing(key: key, path: "FILE")
        case .wrongLength(let key, path, let expected, let actual):
            .wrongLength(key: key, path: "FILE", expected: expected, actual: actual)
        case .malformed(let key, path, let expected): .malformed(key: key, path: "FILE", expected: expected)
        case .repeatedKey(let key, let other, path): .repeatedKey(key: key, otherKey: other, path: "FILE")
        case .unknownKey(let key, let line, path): .unknownKey(key: key, line: line, path: "FILE")
        default: error
        }
    }

    @Test func readsThePairsInTheOrderOfTheirNumbers() throws {
        let keys = try self.load(
            """
            # market data only
            feed_app_2: "\(Self.key("C"))"
            feed_sec_2: "\(Self.secret("c"))"
            feed_app_1: \(Self.key("B"))
            feed_sec_1: \(Self.secret("b"))
            """
        )
        #expect(keys.map(\.appKey.reveal) == [Self.key("B"), Self.key("C")])
        #expect(keys.map(\.appSecret.reveal) == [Self.secret("b"), Self.secret("c")])
    }

    @Test func everyMistakeNamesTheKeyAndTheFileAndNoValue() {
        let cases: [(String, ConfigError)] = [
            ("feed_app_1: \(Self.key("B"))", .missing(key: "feed_sec_1", path: "FILE")),
            (
                "feed_app_1: BBBB\nfeed_sec_1: \(Self.secret("b"))",
                .wrongLength(key: "feed_app_1", path: "FILE", expected: 36, actual: 4)
            ),
            (
                "feed_app_1: \(Self.key("A"))\nfeed_sec_1: \(Self.secret("b"))",
                .repeatedKey(key: "feed_app_1", otherKey: "the app key of kis_devlp.yaml", path: "FILE")
            ),
            (
                "feed_app_1: \(Self.key("B"))\nfeed_sec_1: \(Self.secret("b"))\n"
                    + "feed_app_3: \(Self.key("B"))\nfeed_sec_3: \(Self.secret("c"))",
                .repeatedKey(key: "feed_app_3", otherKey: "feed_app_1", path: "FILE")
            ),
            ("feed_app_4: \(Self.key("B"))", .unknownKey(key: "feed_app_4", line: 1, path: "FILE")),
            ("# nothing yet", .missing(key: "feed_app_1", path: "FILE")),
        ]
        for (text, expected) in cases {
            do {
                let keys = try self.load(text)
                Issue.record("\(keys.count) keys read where \(expected) was expected")
            } catch {
                #expect(error == expected)
                let description = "\(error)"
                #expect(!description.contains("BBBB") && !description.contains("bbbb"), "\(description)")
            }
        }
    }
}
