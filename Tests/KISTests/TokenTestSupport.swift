import Foundation
import KIS
import Synchronization
import TickCore

/// A clock that moves only when told to or when slept on, recording every sleep.
final class FakeClock: NanoClock {
    private let time: Atomic<Int64>
    private let sleeps = Mutex<[Int64]>([])

    /// 2026-01-01 00:00:00 UTC, 09:00 KST.
    static let start: Int64 = 1_767_225_600 * 1_000_000_000

    init(_ start: Int64 = FakeClock.start) {
        self.time = Atomic(start)
    }

    func now() -> Int64 { self.time.load(ordering: .relaxed) }

    func sleep(nanoseconds: Int64) {
        self.sleeps.withLock { $0.append(nanoseconds) }
        self.advance(nanoseconds: max(nanoseconds, 0))
    }

    func advance(nanoseconds: Int64) { self.time.add(nanoseconds, ordering: .relaxed) }
    func advance(seconds: Int64) { self.advance(nanoseconds: seconds * 1_000_000_000) }

    /// Seconds since `FakeClock.start`.
    var elapsedSeconds: Int64 { (self.now() - Self.start) / 1_000_000_000 }
    var slept: [Int64] { self.sleeps.withLock { $0 } }
}

/// An issuer that hands out numbered tokens on the fake clock, or the failures it was given first.
final class FakeIssuer: TokenIssuing {
    /// Distinctive text that no description may ever contain.
    static let tokenMarker = "SECRETTOKEN"

    let clock: FakeClock
    let lifetimeSeconds: Int64
    /// Real time each request takes, to make lock contention likely.
    let delayMicroseconds: UInt32
    private let failures: Mutex<[KISError]>
    private let calls = Mutex<[Int64]>([])

    init(clock: FakeClock, lifetimeSeconds: Int64 = 86_400, delayMicroseconds: UInt32 = 0, failures: [KISError] = []) {
        self.clock = clock
        self.lifetimeSeconds = lifetimeSeconds
        self.delayMicroseconds = delayMicroseconds
        self.failures = Mutex(failures)
    }

    func issueAccessToken() throws(KISError) -> AccessToken {
        let now = self.clock.now()
        let number = self.calls.withLock {
            $0.append(now)
            return $0.count
        }
        if self.delayMicroseconds > 0 { usleep(self.delayMicroseconds) }
        if let failure = self.failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        let seconds = now / 1_000_000_000
        return AccessToken(
            token: Secret("\(Self.tokenMarker)-\(number)-eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9"),
            expiresAt: seconds + self.lifetimeSeconds,
            issuedAt: seconds
        )
    }

    /// Fake-clock seconds since `FakeClock.start` of every request.
    var callSeconds: [Int64] { self.calls.withLock { $0.map { ($0 - FakeClock.start) / 1_000_000_000 } } }
    var callCount: Int { self.calls.withLock { $0.count } }
}
