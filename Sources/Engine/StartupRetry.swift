public import KIS
import TickCore

/// How `Engine.start` waits out a KIS that says "not now" to its start-up queries (the balance, today's orders, the
/// buying power), as it does right after a crash and restart: the key's per-second budget spent by the run that
/// died or by another process on the key (EGW00201, after the client's own retries), a backend failing behind the
/// gateway (HTTP 500 with a proxy's page), a token refused for the minute (EGW00133). Those queries change nothing at
/// KIS, so asking again is always safe; what a retry cannot mend (a wrong key, an account KIS does not know) fails
/// at once.
public struct StartupRetry: Sendable {
    /// How long start keeps asking before it fails with the last error, seconds: past a token's minute and a few
    /// slow answers, short enough that a supervisor restarting the process sees a real outage.
    public var patienceSeconds: Double = 180
    /// The first wait; each next one doubles, up to `longestWaitSeconds`.
    public var firstWaitSeconds: Double = 0.5
    public var longestWaitSeconds: Double = 15

    public init() {}

    /// Seconds to wait before asking again after the `attempt`-th failure (1 for the first) with `error`, or nil
    /// when asking again cannot help.
    public func wait(after error: KISError, attempt: Int) -> Double? {
        let backoff = min(self.firstWaitSeconds * Double(1 << min(attempt - 1, 20)), self.longestWaitSeconds)
        switch error {
        case .unreachable, .responseLost:
            // Nothing answered (a restarting server, a timeout): a query may go again.
            return backoff
        case .malformedResponse:
            // A 5xx page from a proxy in front of a failed backend reads as no KIS answer at all. An answer that
            // stays unreadable fails start when the patience runs out, with the same error.
            return backoff
        case .tokenThrottled(let retryAfter):
            return max(retryAfter, backoff)
        case .rejected(let failure) where failure.msgCd == "EGW00201":
            return backoff
        case .rejected(let failure) where failure.msgCd == "EGW00133":
            // KIS issued a token to this key less than a minute ago (to a process whose cache this one cannot
            // see): one a minute, plus a second for the clocks.
            return max(61, backoff)
        case .rejected, .tokenCache:
            return nil
        }
    }

    /// Runs `query` until it answers, waiting between attempts as `wait(after:attempt:)` says and telling
    /// `announce` each time in words; throws the last error when it cannot help or the patience has run out.
    func run<Answer>(
        _ what: String,
        announce: (String) -> Void,
        sleep: (Double) -> Void = { MonotonicClock().sleep(nanoseconds: Int64($0 * 1e9)) },
        _ query: () throws(KISError) -> Answer
    ) throws(KISError) -> Answer {
        var attempt = 0
        var waited = 0.0
        while true {
            do {
                return try query()
            } catch {
                attempt += 1
                guard let wait = self.wait(after: error, attempt: attempt) else { throw error }
                guard waited + wait <= self.patienceSeconds else {
                    announce(
                        "\(what): \(error); giving up after \(attempt) attempts over \(Self.seconds(waited)) "
                            + "(patience \(Self.seconds(self.patienceSeconds)))"
                    )
                    throw error
                }
                announce("\(what): \(error); asking again in \(Self.seconds(wait)) (attempt \(attempt + 1))")
                sleep(wait)
                waited += wait
            }
        }
    }

    private static func seconds(_ value: Double) -> String {
        value < 10 ? "\((value * 10).rounded() / 10) s" : "\(Int(value.rounded())) s"
    }
}
