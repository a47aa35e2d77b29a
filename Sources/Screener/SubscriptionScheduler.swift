public import TickCore

/// KIS's real-time registrations per WebSocket session and what each live code spends of them
/// (docs/kis-protocol.md §5.7).
public enum SubscriptionBudget {
    /// Registrations one session may hold.
    public static let registrations = 41
    /// The order-notice TR (H0STCNI0/H0STCNI9), held all session.
    public static let notices = 1
    /// Trades (H0STCNT0) and the book (H0STASP0) of one code.
    public static let perCode = 2
    /// Live codes the budget allows: (41 − 1) / 2 = 20.
    public static let maxLiveCodes = (registrations - notices) / perCode
}

/// What one rotation changes: the codes to release and the codes to register instead, one for one.
public struct Rotation: Sendable, Equatable {
    public var unsubscribe: [SymbolCode]
    public var subscribe: [SymbolCode]

    public var isEmpty: Bool { self.unsubscribe.isEmpty && self.subscribe.isEmpty }
}

/// Fits a screened universe into the registration budget and rotates the part that does not fit.
///
/// The rule (docs/operations.md §4):
/// - the universe is ranked most active first (the screen's average daily traded value);
/// - the first `core` codes are live all session;
/// - the other `live − core` slots rotate: each rotation, every rotating slot whose code is not pinned (an open
///   position, so its exit keeps its ticks) passes to the next bench code in rank order, wrapping round, skipping
///   codes already live;
/// - a universe no larger than `live` is all live and never rotates.
public struct SubscriptionScheduler: Sendable, Equatable {
    /// Every screened code, most active first: what the engine's symbol table holds.
    public let universe: [SymbolCode]
    public let core: Int
    /// Codes live at once.
    public let liveCount: Int
    /// Live now: the core, then the rotating slots.
    public private(set) var live: [SymbolCode]
    /// Index into `universe` of the next bench code to bring in.
    private var cursor: Int

    /// - Parameters:
    ///   - ranked: the screened codes, most active first, without duplicates.
    ///   - live: codes live at once, at most `SubscriptionBudget.maxLiveCodes` per app key.
    ///   - core: how many of the most active never rotate out, at most `live`.
    ///   - appKeys: the keys the codes stream over, one WebSocket session each.
    public init(ranked: [SymbolCode], live: Int = SubscriptionBudget.maxLiveCodes, core: Int = 14, appKeys: Int = 1) {
        let budget = SubscriptionBudget.maxLiveCodes * appKeys
        precondition(
            (1...budget).contains(live),
            "live codes \(live) outside 1...\(budget): KIS allows 41 registrations per app key's session"
        )
        precondition((0...live).contains(core), "core codes \(core) outside 0...\(live)")
        precondition(Set(ranked).count == ranked.count, "the ranked universe holds a code twice")
        self.universe = ranked
        self.liveCount = min(live, ranked.count)
        self.core = min(core, self.liveCount)
        self.live = Array(ranked.prefix(self.liveCount))
        self.cursor = self.liveCount
    }

    /// Registrations the live codes and the notices take: never more than 41.
    public var registrations: Int { SubscriptionBudget.notices + SubscriptionBudget.perCode * self.live.count }

    /// Codes of the universe not live now.
    public var bench: [SymbolCode] { self.universe.filter { !self.live.contains($0) } }

    /// Moves every unpinned rotating slot to the next bench code.
    /// - Parameter pinned: codes that must stay live (open positions).
    /// - Returns: what to unsubscribe and subscribe; empty when everything fits or every rotating code is pinned.
    public mutating func rotate(pinned: Set<SymbolCode> = []) -> Rotation {
        var rotation = Rotation(unsubscribe: [], subscribe: [])
        guard self.universe.count > self.liveCount else { return rotation }
        let leaving = self.live[self.core...].filter { !pinned.contains($0) }
        for code in leaving {
            guard let next = self.nextBenchCode(excluding: rotation.subscribe) else { break }
            rotation.unsubscribe.append(code)
            rotation.subscribe.append(next)
        }
        for (old, new) in zip(rotation.unsubscribe, rotation.subscribe) {
            self.live[self.live.firstIndex(of: old)!] = new
        }
        return rotation
    }

    /// The next code after the cursor, in rank order and wrapping, that is neither live nor already chosen.
    private mutating func nextBenchCode(excluding chosen: [SymbolCode]) -> SymbolCode? {
        for _ in 0..<self.universe.count {
            let code = self.universe[self.cursor % self.universe.count]
            self.cursor = (self.cursor + 1) % self.universe.count
            // Core codes are always live, so the scan also skips them.
            if !self.live.contains(code) && !chosen.contains(code) { return code }
        }
        return nil
    }
}
