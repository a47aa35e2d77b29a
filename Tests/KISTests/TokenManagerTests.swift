import Foundation
import KIS
import Synchronization
import Testing

/// Fake issuer, fake clock, real files in a temporary directory.
@Suite struct TokenManagerTests {
    static let appKey = Secret(TestCredentials.paperKey)

    static func manager(
        _ directory: TemporaryDirectory,
        _ issuer: FakeIssuer,
        maxWait: Duration = .seconds(75)
    ) throws -> TokenManager {
        TokenManager(
            appKey: Self.appKey,
            environment: .paper,
            cache: try TokenCache(directory: directory.path),
            clock: issuer.clock,
            issuer: issuer,
            maxWait: maxWait
        )
    }

    static func throttled() -> KISError {
        let message = "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)"
        return .rejected(APIFailure(httpStatus: 403, trID: "tokenP", rtCd: "", msgCd: "EGW00133", message: message))
    }

    @Test func issuesOnceThenAnswersFromMemory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let issuer = FakeIssuer(clock: FakeClock())
        let manager = try Self.manager(directory, issuer)
        let first = try manager.current()
        issuer.clock.advance(seconds: 3600)
        #expect(try manager.current() == first)
        #expect(issuer.callCount == 1)
        #expect(first.expiresAt == first.issuedAt + 86_400)
        #expect(manager.statistics.requests == 1)
        #expect(manager.statistics.adoptedFromCache == 0)
    }

    /// Two managers with their own memory and one directory: what two processes on one machine are.
    @Test func secondManagerTakesTheTokenFromTheCache() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = FakeClock()
        let first = FakeIssuer(clock: clock)
        let second = FakeIssuer(clock: clock)
        let token = try Self.manager(directory, first).current()
        clock.advance(seconds: 5)
        let other = try Self.manager(directory, second)
        #expect(try other.current() == token)
        #expect(second.callCount == 0)
        #expect(other.statistics.adoptedFromCache == 1)
    }

    @Test func anotherProcessTakesTheTokenFromTheCache() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let token = try Self.manager(directory, FakeIssuer(clock: FakeClock())).current()
        let path = directory.path
        let expected = token.token.reveal
        await #expect(processExitsWith: .success) { [path = path as String, expected = expected as String] in
            let issuer = FakeIssuer(clock: FakeClock(FakeClock.start + 10_000_000_000))
            let manager = TokenManager(
                appKey: TokenManagerTests.appKey,
                environment: .paper,
                cache: try TokenCache(directory: path),
                clock: issuer.clock,
                issuer: issuer
            )
            let adopted = try manager.current()
            exit(adopted.token.reveal == expected && issuer.callCount == 0 ? EXIT_SUCCESS : EXIT_FAILURE)
        }
    }

    /// Both threads want a token at once; the file lock lets one request it and the other read it.
    @Test func threadsRacingForATokenSendOneRequest() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = FakeClock()
        let issuer = FakeIssuer(clock: clock, delayMicroseconds: 30_000)
        let managers = [try Self.manager(directory, issuer), try Self.manager(directory, issuer)]
        let tokens = Mutex<[AccessToken]>([])
        let done = DispatchGroup()
        for manager in managers {
            done.enter()
            Thread {
                if let token = try? manager.current() { tokens.withLock { $0.append(token) } }
                done.leave()
            }.start()
        }
        done.wait()
        #expect(issuer.callCount == 1)
        let got = tokens.withLock { $0 }
        #expect(got.count == 2 && got[0] == got[1])
        #expect(managers.map(\.statistics.adoptedFromCache).sorted() == [0, 1])
    }

    @Test func noSecondRequestWithinAMinuteAcrossManagers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = FakeClock()
        let first = FakeIssuer(clock: clock)
        let second = FakeIssuer(clock: clock)
        let token = try Self.manager(directory, first).current()
        let other = try Self.manager(directory, second)
        #expect(try other.current() == token)
        clock.advance(seconds: 10)
        // KIS refused the token (EGW00123): the other manager needs a new one, 10 s after the first request.
        other.invalidate(token)
        // The wait is said before it is waited: `kistick balance` once sat 54 s without a word.
        let announced = Mutex<[Duration]>([])
        other.announceWaits { wait in announced.withLock { $0.append(wait) } }
        let renewed = try other.current()
        #expect(renewed != token)
        #expect(first.callSeconds == [0])
        #expect(second.callSeconds == [61])
        #expect(clock.slept == [51 * 1_000_000_000])
        #expect(announced.withLock { $0 } == [.seconds(51)])
    }

    @Test func waitLongerThanAllowedIsThrottledWithoutARequest() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let issuer = FakeIssuer(clock: FakeClock())
        let manager = try Self.manager(directory, issuer, maxWait: .seconds(30))
        let token = try manager.current()
        issuer.clock.advance(seconds: 20)
        manager.invalidate(token)
        #expect(throws: KISError.tokenThrottled(retryAfterSeconds: 41)) { try manager.current() }
        #expect(issuer.callCount == 1)
        #expect(issuer.clock.slept.isEmpty)
        issuer.clock.advance(seconds: 41)
        #expect(try manager.current() != token)
        #expect(issuer.callSeconds == [0, 61])
    }

    /// A token inside the refresh margin but valid past the guard is better than waiting for a new one.
    @Test func validTokenIsKeptRatherThanWaitingOutTheGuard() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let issuer = FakeIssuer(clock: FakeClock(), lifetimeSeconds: 300)
        let manager = try Self.manager(directory, issuer)
        let token = try manager.current()
        issuer.clock.advance(seconds: 1)
        #expect(try manager.current() == token)
        #expect(issuer.callCount == 1)
        #expect(issuer.clock.slept.isEmpty)
        issuer.clock.advance(seconds: 60)
        #expect(try manager.current() != token)
        #expect(issuer.callSeconds == [0, 61])
    }

    @Test func throttledAnswerIsWaitedOutAndRetriedOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let issuer = FakeIssuer(clock: FakeClock(), failures: [Self.throttled()])
        let manager = try Self.manager(directory, issuer)
        let token = try manager.current()
        #expect(issuer.callSeconds == [0, 61])
        #expect(token.issuedAt == FakeClock.start / 1_000_000_000 + 61)
        #expect(manager.statistics.requests == 2)
        let path = try TokenCache(directory: directory.path).filePath(appKey: Self.appKey, environment: .paper)
        let cache = try String(contentsOfFile: path, encoding: .utf8)
        #expect(cache.contains("\"last_request_at\":\(FakeClock.start / 1_000_000_000 + 61)"))
    }

    @Test func throttledTwiceGivesUpWithoutAThirdRequest() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let issuer = FakeIssuer(clock: FakeClock(), failures: [Self.throttled(), Self.throttled()])
        let manager = try Self.manager(directory, issuer)
        #expect(throws: Self.throttled()) { try manager.current() }
        #expect(issuer.callSeconds == [0, 61])
        // The guard holds for the next caller too.
        #expect(throws: KISError.tokenThrottled(retryAfterSeconds: 61)) {
            try Self.manager(directory, issuer, maxWait: .seconds(1)).current()
        }
    }

    @Test func requestThatNeverLeftDoesNotStartTheMinute() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let refused = KISError.unreachable(.connectFailed(host: "kis", detail: "refused"))
        let issuer = FakeIssuer(clock: FakeClock(), failures: [refused])
        let manager = try Self.manager(directory, issuer)
        #expect(throws: refused) { try manager.current() }
        _ = try manager.current()
        #expect(issuer.callSeconds == [0, 0])
    }

    @Test func tokenNearExpiryIsReplaced() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let issuer = FakeIssuer(clock: FakeClock(), lifetimeSeconds: 3600)
        let manager = try Self.manager(directory, issuer)
        let first = try manager.current()
        issuer.clock.advance(seconds: 3600 - 601)
        #expect(try manager.current() == first)
        issuer.clock.advance(seconds: 2)
        let second = try manager.current()
        #expect(second != first)
        #expect(second.expiresAt == first.expiresAt + 3600 - 601 + 2)
        #expect(issuer.callCount == 2)
    }

    @Test func backgroundRefreshRenewsBeforeCurrentWould() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let issuer = FakeIssuer(clock: FakeClock())
        let manager = try Self.manager(directory, issuer)
        let first = try manager.current()
        issuer.clock.advance(seconds: 86_400 - 1201)
        #expect(try manager.refreshIfDue() == false)
        issuer.clock.advance(seconds: 2)
        #expect(try manager.refreshIfDue() == true)
        #expect(try manager.refreshIfDue() == false)
        let second = try manager.current()
        #expect(second != first)
        #expect(issuer.callCount == 2)
        // Another process that started with the old token finds the new one without a request.
        let other = FakeIssuer(clock: issuer.clock)
        #expect(try Self.manager(directory, other).current() == second)
        #expect(other.callCount == 0)
    }

    @Test func backgroundThreadRefreshesAndStops() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let issuer = FakeIssuer(clock: FakeClock())
        let manager = try Self.manager(directory, issuer)
        manager.startBackgroundRefresh(every: .milliseconds(2))
        let deadline = Date().addingTimeInterval(5)
        while issuer.callCount < 1, Date() < deadline { usleep(1000) }
        issuer.clock.advance(seconds: 86_400 - 1000)
        while issuer.callCount < 2, Date() < deadline { usleep(1000) }
        manager.stop()
        #expect(issuer.callSeconds == [0, 86_400 - 1000])
        issuer.clock.advance(seconds: 86_400)
        usleep(20_000)
        #expect(issuer.callCount == 2)
        #expect(manager.statistics.lastRefreshError == nil)
    }

    @Test func backgroundFailureIsKeptForMonitoring() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let failure = KISError.unreachable(.timedOut)
        let issuer = FakeIssuer(clock: FakeClock(), failures: [failure])
        let manager = try Self.manager(directory, issuer)
        manager.startBackgroundRefresh(every: .seconds(3600))
        let deadline = Date().addingTimeInterval(5)
        while manager.statistics.lastRefreshError == nil, Date() < deadline { usleep(1000) }
        manager.stop()
        #expect(manager.statistics.lastRefreshError == failure)
    }

    @Test func invalidateRenewsOnceForManyReports() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let issuer = FakeIssuer(clock: FakeClock())
        let manager = try Self.manager(directory, issuer)
        let first = try manager.current()
        issuer.clock.advance(seconds: 120)
        manager.invalidate(first)
        manager.invalidate(first)
        let second = try manager.current()
        manager.invalidate(first)
        #expect(try manager.current() == second)
        #expect(issuer.callCount == 2)
        // A token that is not the current one is not dropped.
        manager.invalidate(AccessToken(token: Secret("other"), expiresAt: 0, issuedAt: 0))
        #expect(try manager.current() == second)
        #expect(issuer.callCount == 2)
    }

    @Test func invalidatedTokenIsNotTakenBackFromTheCache() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let issuer = FakeIssuer(clock: FakeClock())
        let manager = try Self.manager(directory, issuer)
        let first = try manager.current()
        issuer.clock.advance(seconds: 61)
        manager.invalidate(first)
        #expect(try manager.current() != first)
        #expect(manager.statistics.adoptedFromCache == 0)
    }

    @Test func backgroundMarginBelowTheRefreshMarginIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            let issuer = FakeIssuer(clock: FakeClock())
            _ = TokenManager(
                appKey: TokenManagerTests.appKey,
                environment: .paper,
                cache: try TokenCache(directory: "/tmp"),
                clock: issuer.clock,
                issuer: issuer,
                refreshMargin: .seconds(600),
                backgroundMargin: .seconds(600)
            )
        }
    }
}
