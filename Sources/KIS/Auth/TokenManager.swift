import Dispatch
import Synchronization
public import TickCore

/// Keeps one app key's access token valid for every thread and process that uses the key, while sending KIS at most
/// one token request a minute.
///
/// `current()` answers from memory, then from the shared `TokenCache`, and only then asks the issuer, holding the
/// cache lock so that no other process asks at the same time. The cache records when the last request went out,
/// and no request follows another within `requestInterval`: a caller that would break the rule waits (on the
/// clock) up to `maxWait`, unless the token it already has outlives the wait. A background refresher renews the
/// token well before `current()` would, so the trading path does not wait on KIS.
public final class TokenManager: Sendable {
    public let environment: Environment
    /// `current()` replaces a token with less than this left (python-kis uses 10 minutes).
    public let refreshMargin: Duration
    /// `refreshIfDue()` replaces a token with less than this left; larger than `refreshMargin` by more than a
    /// refresh period and a `requestInterval`, so the background gets there first even if it has to wait.
    public let backgroundMargin: Duration
    /// The longest a token request waits for `requestInterval` to pass before giving up with `.tokenThrottled`.
    public let maxWait: Duration

    /// KIS's one token a minute (EGW00133), plus a second for network jitter, as KIS's own backtester waits 61 s.
    public static let requestInterval: Duration = .seconds(61)
    static let throttledCode = "EGW00133"

    private let key: TokenCache.Key
    private let cache: TokenCache
    private let clock: any NanoClock
    private let issuer: any TokenIssuing
    private let state = Mutex(State())
    private let generation = Atomic<Int>(0)
    private let refresher = Mutex<BackgroundRefresh?>(nil)
    private let waitListener = Mutex<(@Sendable (Duration) -> Void)?>(nil)

    private struct State {
        var token: AccessToken?
        /// The token last reported invalid, so the same token in the cache file is not taken up again.
        var rejected: Secret?
        var statistics = TokenStatistics()
    }

    /// - Parameters:
    ///   - clock: Unix-epoch nanoseconds (`WallClock` outside tests): token expiry is a calendar time, and the
    ///     request guard is compared across processes.
    ///   - issuer: what sends `POST /oauth2/tokenP`.
    public init(
        appKey: Secret,
        environment: Environment,
        cache: TokenCache,
        clock: any NanoClock = WallClock(),
        issuer: any TokenIssuing,
        refreshMargin: Duration = .seconds(600),
        backgroundMargin: Duration = .seconds(1200),
        maxWait: Duration = .seconds(75)
    ) {
        precondition(backgroundMargin > refreshMargin, "TokenManager: backgroundMargin must exceed refreshMargin")
        self.environment = environment
        self.key = TokenCache.Key(appKey: appKey, environment: environment, in: cache.directory)
        self.cache = cache
        self.clock = clock
        self.issuer = issuer
        self.refreshMargin = refreshMargin
        self.backgroundMargin = backgroundMargin
        self.maxWait = maxWait
    }

    deinit {
        // The refresher holds this manager weakly; waiting for it here could deadlock if its own tick dropped the
        // last reference.
        _ = self.refresher.withLock { Self.cancel(&$0) }
    }

    /// Changes whenever the token in memory does (renewed, taken from the cache, invalidated): holders of a copy
    /// (the REST lanes) check this one atomic instead of taking the lock on every request.
    public var tokenGeneration: Int { self.generation.load(ordering: .acquiring) }

    /// Counters for monitoring and tests.
    public var statistics: TokenStatistics { self.state.withLock { $0.statistics } }

    /// Calls `listener` with the wait, before a token request waits out KIS's one-a-minute rule: a command that
    /// would otherwise sit silent for up to a minute says why (`kistick balance` right after another command).
    public func announceWaits(_ listener: @escaping @Sendable (Duration) -> Void) {
        self.waitListener.withLock { $0 = listener }
    }

    /// A token with at least `refreshMargin` left if one can be had, requesting one only when neither memory nor
    /// the cache holds it.
    /// - Throws: `.tokenThrottled` when a request would have to wait longer than `maxWait`; `.tokenCache` when the
    ///   cache cannot be used (no request is sent then); the issuer's errors.
    public func current() throws(KISError) -> AccessToken {
        let now = self.clock.now()
        if let token = self.memoryToken(validFor: self.refreshMargin, at: now) { return token }
        return try self.renew(margin: self.refreshMargin, deadline: now + Self.nanoseconds(self.maxWait))
    }

    /// Marks `token` as refused by KIS (EGW00121 invalid, EGW00123 expired), so the next `current()` gets another.
    /// Only the current token is dropped: when several threads report the same refusal, one renewal follows.
    public func invalidate(_ token: AccessToken) {
        self.state.withLock { state in
            guard state.token?.token == token.token else { return }
            state.token = nil
            self.generation.add(1, ordering: .releasing)
            state.rejected = token.token
        }
    }

    /// Renews the token if less than `backgroundMargin` is left (taking a fresher one from the cache when another
    /// process has renewed already).
    /// - Returns: whether the token changed.
    @discardableResult
    public func refreshIfDue() throws(KISError) -> Bool {
        let now = self.clock.now()
        if self.memoryToken(validFor: self.backgroundMargin, at: now) != nil { return false }
        let before = self.state.withLock { $0.token }
        let after = try self.renew(margin: self.backgroundMargin, deadline: now + Self.nanoseconds(self.maxWait))
        return after != before
    }

    /// Calls `refreshIfDue()` now and every `period` on a background queue until `stop()`; a failure is kept in
    /// `statistics.lastRefreshError` and retried at the next tick. Replaces a refresher already running.
    public func startBackgroundRefresh(every period: Duration) {
        let interval = DispatchTimeInterval.nanoseconds(Int(Self.nanoseconds(period)))
        let label = "kistick.token-refresh.\(self.environment.rawValue)"
        let replaced = self.refresher.withLock { running -> DispatchQueue? in
            let replaced = Self.cancel(&running)
            let queue = DispatchQueue(label: label)
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now(), repeating: interval)
            timer.setEventHandler { [weak self] in self?.backgroundTick() }
            timer.resume()
            running = BackgroundRefresh(timer: timer, queue: queue)
            return replaced
        }
        replaced?.sync {}
    }

    /// Stops the background refresher; when it returns, no refresh is running or will start.
    public func stop() {
        // A tick in progress finishes before an empty block on its serial queue runs.
        self.refresher.withLock { Self.cancel(&$0) }?.sync {}
    }

    /// Cancels the refresher (ticks not yet started never run) and returns its queue, to wait for a running tick.
    private static func cancel(_ running: inout BackgroundRefresh?) -> DispatchQueue? {
        guard let refresh = running else { return nil }
        running = nil
        refresh.timer.cancel()
        return refresh.queue
    }

    private func backgroundTick() {
        let error: KISError?
        do {
            try self.refreshIfDue()
            error = nil
        } catch let failure {
            error = failure
        }
        self.state.withLock { $0.statistics.lastRefreshError = error }
    }

    private func memoryToken(validFor margin: Duration, at now: Int64) -> AccessToken? {
        guard let token = self.state.withLock({ $0.token }),
            Self.remaining(token, at: now) >= Self.nanoseconds(margin)
        else { return nil }
        return token
    }

    /// The slow path, under the cache lock: another thread or process may have renewed while this one waited for
    /// the lock, so memory and the file are checked again before anything is sent.
    private func renew(margin: Duration, deadline: Int64) throws(KISError) -> AccessToken {
        try self.cache.withLock(self.key) { (file: borrowing LockedFile) throws(KISError) -> AccessToken in
            if let token = self.memoryToken(validFor: margin, at: self.clock.now()) { return token }
            var entry = try self.readEntry(file)
            let (held, rejected) = self.state.withLock { ($0.token, $0.rejected) }
            let cached = entry.token.flatMap { $0.token == rejected ? nil : $0 }
            if let cached, Self.remaining(cached, at: self.clock.now()) >= Self.nanoseconds(margin) {
                self.state.withLock {
                    $0.token = cached
                    self.generation.add(1, ordering: .releasing)
                    $0.statistics.adoptedFromCache += 1
                }
                return cached
            }
            let usable = held ?? cached
            do throws(KISError) {
                return try self.requestWhenAllowed(&entry, file, keeping: usable, deadline: deadline)
            } catch .rejected(let failure) where failure.msgCd == Self.throttledCode {
                // KIS saw a request this cache did not (another machine, or clock skew). The refused request's time
                // is recorded, so this waits a full interval before the one retry.
                return try self.requestWhenAllowed(&entry, file, keeping: usable, deadline: deadline)
            }
        }
    }

    /// Requests a token once `requestInterval` has passed since the last request, waiting on the clock if that is
    /// before `deadline`, or answers `usable` without waiting if it is still valid when the wait would end.
    private func requestWhenAllowed(
        _ entry: inout TokenCacheEntry,
        _ file: borrowing LockedFile,
        keeping usable: AccessToken?,
        deadline: Int64
    ) throws(KISError) -> AccessToken {
        if let last = entry.lastRequestAt {
            let allowedAt = last * 1_000_000_000 + Self.nanoseconds(Self.requestInterval)
            let now = self.clock.now()
            if allowedAt > now {
                if let usable, Self.remaining(usable, at: allowedAt) > 0 { return usable }
                guard allowedAt <= deadline else {
                    throw .tokenThrottled(retryAfterSeconds: Double(allowedAt - now) / 1e9)
                }
                self.waitListener.withLock { $0 }?(.nanoseconds(allowedAt - now))
                self.clock.sleep(nanoseconds: allowedAt - now)
            }
        }
        return try self.request(recordingIn: &entry, file)
    }

    /// Sends one token request, recording its time in the cache first so that a crash mid-request still spaces the
    /// next one.
    private func request(
        recordingIn entry: inout TokenCacheEntry,
        _ file: borrowing LockedFile
    ) throws(KISError)
        -> AccessToken
    {
        let previous = entry.lastRequestAt
        let now = self.clock.now()
        entry.lastRequestAt = (now + 999_999_999) / 1_000_000_000
        try self.writeEntry(entry, file)
        self.state.withLock { $0.statistics.requests += 1 }
        let token: AccessToken
        do throws(KISError) {
            token = try self.issuer.issueAccessToken()
        } catch {
            if case .unreachable = error {
                // Nothing reached KIS, so nothing counts against the minute.
                entry.lastRequestAt = previous
                self.writeAfterRequest(entry, file)
            }
            throw error
        }
        entry.token = token
        self.writeAfterRequest(entry, file)
        self.state.withLock {
            $0.token = token
            self.generation.add(1, ordering: .releasing)
            $0.rejected = nil
        }
        return token
    }

    private func readEntry(_ file: borrowing LockedFile) throws(KISError) -> TokenCacheEntry {
        let contents: LockedFile.Contents
        do {
            contents = try file.read()
        } catch {
            throw .tokenCache(error)
        }
        if contents == .corrupt { self.state.withLock { $0.statistics.corruptCacheFiles += 1 } }
        return contents.entry
    }

    private func writeEntry(_ entry: TokenCacheEntry, _ file: borrowing LockedFile) throws(KISError) {
        do {
            try file.write(entry)
        } catch {
            throw .tokenCache(error)
        }
    }

    /// After a request a failed write must not cost the token KIS just gave: keep it, and count the failure.
    private func writeAfterRequest(_ entry: TokenCacheEntry, _ file: borrowing LockedFile) {
        do {
            try file.write(entry)
        } catch {
            self.state.withLock { $0.statistics.cacheWriteFailures += 1 }
        }
    }

    private static func remaining(_ token: AccessToken, at now: Int64) -> Int64 {
        token.expiresAt * 1_000_000_000 - now
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// What a `TokenManager` has done, for monitoring and tests.
public struct TokenStatistics: Sendable, Equatable {
    /// Token requests handed to the issuer.
    public var requests = 0
    /// Tokens taken from the cache file, renewed by another manager or process.
    public var adoptedFromCache = 0
    /// Cache files that were not a cache of this app key and were ignored.
    public var corruptCacheFiles = 0
    /// Cache writes that failed after a request; the token was used all the same.
    public var cacheWriteFailures = 0
    /// Why the last background refresh failed; nil after one succeeds.
    public var lastRefreshError: KISError?
}

/// A running background refresher: its timer and the serial queue its ticks run on.
private struct BackgroundRefresh {
    let timer: any DispatchSourceTimer
    let queue: DispatchQueue
}
