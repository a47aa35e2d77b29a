import Foundation
import JSON
import KIS
import Testing

@Suite struct TokenCacheTests {
    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    static func manager(_ cache: TokenCache, _ issuer: FakeIssuer) -> TokenManager {
        TokenManager(
            appKey: TokenManagerTests.appKey,
            environment: .paper,
            cache: cache,
            clock: issuer.clock,
            issuer: issuer
        )
    }

    @Test func filesArePrivateAndNamedByKeyHash() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let directory = "\(root.path)/deep/er/kistick"
        let cache = try TokenCache(directory: directory)
        _ = try Self.manager(cache, FakeIssuer(clock: FakeClock())).current()
        let file = cache.filePath(appKey: TokenManagerTests.appKey, environment: .paper)
        #expect(file.hasPrefix("\(directory)/token-paper-"))
        #expect(file.hasSuffix(".json"))
        #expect(file.count == directory.count + "/token-paper-".count + 16 + ".json".count)
        #expect(!file.contains(TestCredentials.marker))
        #expect(cache.filePath(appKey: TokenManagerTests.appKey, environment: .real) != file)
        #expect(cache.filePath(appKey: Secret(TestCredentials.realKey), environment: .paper) != file)
        #expect(Self.mode(directory) == 0o700)
        #expect(Self.mode(file) == 0o600)
        #expect(Self.mode(file.replacingOccurrences(of: ".json", with: ".lock")) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: file + ".tmp"))
    }

    @Test func existingDirectoryIsMadePrivate() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        chmod(root.path, 0o755)
        _ = try TokenCache(directory: root.path)
        #expect(Self.mode(root.path) == 0o700)
        let file = try root.write("", to: "not-a-directory")
        #expect(throws: TokenCacheError.directory(path: file, reason: "not a directory")) {
            try TokenCache(directory: file)
        }
    }

    @Test func defaultDirectoryFollowsXDGThenHome() {
        #expect(TokenCache.defaultDirectory(environmentVariables: ["HOME": "/home/u"]) == "/home/u/.cache/kistick")
        let xdg = ["HOME": "/home/u", "XDG_CACHE_HOME": "/c"]
        #expect(TokenCache.defaultDirectory(environmentVariables: xdg) == "/c/kistick")
        #expect(TokenCache.defaultDirectory(environmentVariables: [:]) == nil)
        #expect(throws: TokenCacheError.noHomeDirectory) { try TokenCache(environmentVariables: [:]) }
    }

    @Test func fileHoldsTheTokenItsKSTExpiryAndTheRequestTime() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let cache = try TokenCache(directory: root.path)
        let token = try Self.manager(cache, FakeIssuer(clock: FakeClock())).current()
        let path = cache.filePath(appKey: TokenManagerTests.appKey, environment: .paper)
        let json = try #require(JSON(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        let start = FakeClock.start / 1_000_000_000
        #expect(json["access_token"]?.text == token.token.reveal)
        // 2026-01-01 00:00 UTC plus a day is 2026-01-02 09:00 KST.
        #expect(json["access_token_token_expired"]?.text == "2026-01-02 09:00:00")
        #expect(json["expires_at"]?.scalarText == String(start + 86_400))
        #expect(json["issued_at"]?.scalarText == String(start))
        #expect(json["last_request_at"]?.scalarText == String(start))
        #expect(json["environment"]?.text == "paper")
        #expect(json["app_key_sha256"]?.text?.count == 64)
    }

    @Test(arguments: [
        "", "{", "not json at all", #"{"app_key_sha256":"00","environment":"paper","access_token":"x"}"#,
        String(repeating: "x", count: 20_000),
    ])
    func corruptFileIsCountedAndReplaced(content: String) throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let cache = try TokenCache(directory: root.path)
        let path = cache.filePath(appKey: TokenManagerTests.appKey, environment: .paper)
        try root.write(content, to: URL(fileURLWithPath: path).lastPathComponent)
        let issuer = FakeIssuer(clock: FakeClock())
        let manager = Self.manager(cache, issuer)
        let token = try manager.current()
        #expect(issuer.callCount == 1)
        #expect(manager.statistics.corruptCacheFiles == 1)
        let other = FakeIssuer(clock: issuer.clock)
        #expect(try Self.manager(cache, other).current() == token)
        #expect(other.callCount == 0)
    }

    @Test func tamperedFieldsMakeTheFileCorrupt() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let cache = try TokenCache(directory: root.path)
        let clock = FakeClock()
        _ = try Self.manager(cache, FakeIssuer(clock: clock)).current()
        let path = cache.filePath(appKey: TokenManagerTests.appKey, environment: .paper)
        let good = try String(contentsOfFile: path, encoding: .utf8)
        for (field, replacement) in [
            ("\"expires_at\":", "\"expires_at\":1,\"x\":"), ("\"environment\":\"paper\"", "\"environment\":\"real\""),
            ("2026-01-02 09:00:00", "2026-02-30 09:00:00"),
            ("\"last_request_at\":", "\"last_request_at\":\"soon\",\"y\":"),
        ] {
            let tampered = good.replacingOccurrences(of: field, with: replacement)
            try tampered.write(toFile: path, atomically: false, encoding: .utf8)
            clock.advance(seconds: 61)
            let manager = Self.manager(cache, FakeIssuer(clock: clock))
            _ = try manager.current()
            #expect(manager.statistics.corruptCacheFiles == 1, "\(field)")
        }
    }

    @Test func kstExpiryIsParsedStrictly() throws {
        let token = try #require(AccessToken(token: Secret("t"), kstExpiry: "2022-08-30 08:10:10", issuedAt: 0))
        #expect(token.expiresAt == 1_661_814_610)
        #expect(token.kstExpiry == "2022-08-30 08:10:10")
        for bad in [
            "2022-08-30 08:10", "2022-08-30T08:10:10", "2022-02-30 08:10:10", "2022-08-30 24:00:00", "",
            "2022-08-3a 08:10:10", "２０２２-08-30 08:10:10",
        ] {
            #expect(AccessToken(token: Secret("t"), kstExpiry: bad, issuedAt: 0) == nil, "\(bad)")
        }
    }

    @Test func tokenNeverAppearsInAnyRendering() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let cache = try TokenCache(directory: root.path)
        let throttled = TokenManagerTests.throttled()
        let issuer = FakeIssuer(clock: FakeClock(), failures: [throttled, throttled])
        let manager = Self.manager(cache, issuer)
        var renderings: [String] = []
        do {
            _ = try manager.current()
        } catch {
            renderings += [error.description, String(reflecting: error)]
        }
        issuer.clock.advance(seconds: 61)
        let token = try manager.current()
        #expect(token.token.reveal.contains(FakeIssuer.tokenMarker))
        var dumped = ""
        dump(token, to: &dumped)
        renderings += [
            "\(token)", String(reflecting: token), dumped, "\(manager.statistics)", "\(cache)",
            KISError.tokenThrottled(retryAfterSeconds: 3).description, "\([token])",
        ]
        for text in renderings {
            #expect(!text.contains(FakeIssuer.tokenMarker), "leaked in \(text.count) characters")
            #expect(!text.contains(TestCredentials.marker), "leaked in \(text.count) characters")
        }
        #expect("\(token)" == "access token valid until 2026-01-02 09:02:02 KST")
    }
}
