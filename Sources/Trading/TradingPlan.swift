public import Screener
public import TickCore

/// What the engine trades: its symbol table, and the scheduler that picks which of them are live when the table
/// holds more than KIS's registrations allow.
public struct TradingPlan: Sendable {
    public var codes: [SymbolCode]
    public var scheduler: SubscriptionScheduler?
    /// Market seconds between rotations.
    public var rotationSeconds = 300

    /// Codes named by the operator: all live, no rotation.
    public init(codes: [String]) {
        self.codes = codes.compactMap(SymbolCode.init)
    }

    /// `passing`, most active first, with a scheduler over them that keeps `settings.liveCodes` live and rotates
    /// the rest in every `settings.rotationSeconds`.
    public init(passing: [SymbolCode], settings: ScreenSettings) {
        self.codes = passing
        self.scheduler = SubscriptionScheduler(
            ranked: passing,
            live: settings.liveCodes,
            core: settings.coreCodes,
            appKeys: settings.appKeys
        )
        self.rotationSeconds = settings.rotationSeconds
    }

    /// The codes streaming at the start: the scheduler's live set, or every code.
    public var live: [SymbolCode] { self.scheduler?.live ?? self.codes }
}
