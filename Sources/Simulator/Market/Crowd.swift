import Foundation
import TickCore

/// What moves one code's market: a hidden fair value the simulated crowd trades towards, the regime that moves
/// it, and how busy the crowd is. `SymbolMarket` turns this into orders; this type only evolves the state.
///
/// - **Regimes** change during the day, each lasting minutes to an hour: a **trend** (the fair value drifts
///   0.3–1.8 % over the regime and the crowd leans the same way, so trade strength moves away from 100), **churn**
///   (the fair value is pulled back to where the churn began, so prices mean-revert), and **news** (a jump of
///   0.8–5 % and a burst of activity, followed by a trend in the news' direction or by churn). A jump that reaches
///   the code's volatility-interruption threshold stops continuous trading for a two-minute call
///   (`SymbolMarket.interrupt`).
/// - **Activity** is a Poisson rate: the code's base rate × the KRX intraday profile (`Intraday`) × the regime's
///   intensity × a clustering factor whose logarithm is an Ornstein–Uhlenbeck process, so busy and quiet spells
///   last minutes. The fair value's volatility follows the same factor: volatility clusters.
struct Crowd {
    enum Regime: Equatable {
        /// The log fair value drifts by `drift` a second.
        case trend(drift: Double)
        /// The log fair value is pulled back to `anchor`.
        case churn(anchor: Double)
        /// A burst after a jump of sign `direction`.
        case news(direction: Double)
    }

    private(set) var regime: Regime
    private(set) var regimeUntil: Int64
    /// Log of the fair value, in KRW.
    private(set) var logFair: Double
    /// Log of the clustering factor (0 on average).
    private(set) var logActivity: Double = 0
    /// Market time of the next news item.
    private(set) var nextNewsAt: Int64

    /// Volatility of the log fair value per square-root second at a clustering factor of 1 and the session's mean
    /// activity: about 0.08 % a minute, what KRX large caps show.
    static let baseVolatility = 1.0e-4
    /// Mean seconds of continuous trading between news items of one code (a little over one a day).
    static let newsInterval = 18_000.0

    /// A crowd for a day opening from `base` at `time`: an overnight gap (0.7 % standard deviation) and a first
    /// regime, as a KRX open often brings a trend.
    init(base: Int64, at time: Int64, random: inout SimRandom) {
        self.logFair = log(Double(base)) + 0.007 * random.normal()
        self.regime = .churn(anchor: 0)
        self.regimeUntil = time
        self.nextNewsAt = time + Int64(random.exponential(mean: Self.newsInterval) * 1e6)
        self.startRegime(at: time, after: nil, random: &random)
    }

    var fair: Double { exp(self.logFair) }

    /// Takes `other`'s fair value: NXT's crowd trades towards KRX's while KRX trades, so the two venues' prices
    /// stay a few ticks apart, as arbitrage keeps them.
    mutating func follow(_ other: Crowd) {
        self.logFair = other.logFair
    }

    /// How many times busier than the code's base rate the crowd is now, at `secondOfDay` in continuous trading.
    func intensity(secondOfDay: Int64) -> Double {
        let regime: Double =
            switch self.regime {
            case .trend: 1.1
            case .churn: 0.8
            case .news: 4
            }
        return Intraday.activity(secondOfDay: secondOfDay) * regime * exp(self.logActivity)
    }

    /// How far the crowd leans to buying, −1…1: the direction of a trend or of news.
    var lean: Double {
        switch self.regime {
        case .trend(let drift): drift > 0 ? 0.07 : -0.07
        case .churn: 0
        case .news(let direction): 0.12 * direction
        }
    }

    /// Moves the fair value and the clustering factor over `dt` seconds of continuous trading ending at `time`,
    /// and starts the next regime when this one is over. `lower` and `upper` are the day's price limits.
    mutating func evolve(
        seconds dt: Double,
        to time: Int64,
        secondOfDay: Int64,
        lower: Int64,
        upper: Int64,
        random: inout SimRandom
    ) {
        guard dt > 0 else { return }
        // The clustering factor: mean reversion over about five minutes, a stationary standard deviation of 0.5.
        let keep = exp(-dt / 300)
        self.logActivity = self.logActivity * keep + 0.5 * (1 - keep * keep).squareRoot() * random.normal()
        let burst = if case .news = self.regime { 2.5 } else { 1.0 }
        let volatility =
            Self.baseVolatility * burst * exp(0.5 * self.logActivity)
            * Intraday.activity(secondOfDay: secondOfDay).squareRoot()
        var drift = 0.0
        switch self.regime {
        case .trend(let perSecond): drift = perSecond * dt
        case .churn(let anchor): drift = (anchor - self.logFair) * min(1, dt / 150)
        case .news: break
        }
        self.logFair += drift + volatility * dt.squareRoot() * random.normal()
        self.logFair = min(max(self.logFair, log(Double(lower))), log(Double(upper)))
        if time >= self.regimeUntil { self.startRegime(at: time, after: self.regime, random: &random) }
    }

    /// A news item at `time`: the fair value jumps and a burst begins. Returns the jump (a log return) so the
    /// market can tell whether it reaches the volatility-interruption threshold.
    mutating func news(at time: Int64, lower: Int64, upper: Int64, random: inout SimRandom) -> Double {
        let direction: Double = random.chance(0.5) ? 1 : -1
        let jump = direction * (0.008 + 0.042 * random.unit() * random.unit())
        self.logFair = min(max(self.logFair + jump, log(Double(lower))), log(Double(upper)))
        self.regime = .news(direction: direction)
        self.regimeUntil = time + Int64((30 + random.exponential(mean: 90)) * 1e6)
        self.logActivity = max(self.logActivity, 0.5)
        self.nextNewsAt = time + Int64(random.exponential(mean: Self.newsInterval) * 1e6)
        return jump
    }

    /// Picks the regime after `previous` (nil at the open) and how long it lasts.
    private mutating func startRegime(at time: Int64, after previous: Regime?, random: inout SimRandom) {
        let u = random.unit()
        var direction: Double = random.chance(0.5) ? 1 : -1
        let trend: Bool
        switch previous {
        case nil:
            trend = u < 0.65
        case .trend(let drift)?:
            // A trend mostly calms into churn; sometimes it runs on or turns.
            trend = u < 0.5
            if trend { direction = random.chance(0.6) ? (drift > 0 ? 1 : -1) : (drift > 0 ? -1 : 1) }
        case .churn?:
            trend = u < 0.7
        case .news(let sign)?:
            trend = u < 0.6
            direction = sign
        }
        let seconds = 300 + random.exponential(mean: 1_500)
        if trend {
            let move = 0.003 + 0.015 * random.unit()
            self.regime = .trend(drift: direction * move / seconds)
        } else {
            self.regime = .churn(anchor: self.logFair)
        }
        self.regimeUntil = time + Int64(seconds * 1e6)
    }
}
