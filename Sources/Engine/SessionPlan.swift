import TickCore

/// Which WebSocket session streams which code, when the engine has several app keys and so several sessions.
///
/// A code takes two registrations (trades and book) of its session's limit, and the account's session (index 0)
/// one more for the order notices, which only the account's key may register:
///
/// ```
///  session 0 (account's key): notices + 20 codes × 2 = 41
///  session k (feed key k):              20 codes × 2 = 40
/// ```
///
/// A new code goes to the session with the fewest codes that has room (the lowest index on a tie), so the
/// sessions' feed threads share the load; a released code frees its place for the next. A code is held by one
/// session at most, so its trades and books arrive through one connection, in order. Pure and deterministic.
struct SessionPlan: Sendable {
    /// Codes each session may hold.
    let capacities: [Int]
    private var holders: [SymbolCode: Int] = [:]
    private var loads: [Int]

    /// - Parameters:
    ///   - sessions: one per app key, the account's first.
    ///   - registrationLimit: registrations KIS allows a session (41).
    ///   - perCode: registrations a code takes: two (trades and book) per venue watched, and its market status
    ///     per venue when asked (docs/venues.md).
    init(sessions: Int, registrationLimit: Int, perCode: Int = 2) {
        precondition(sessions >= 1, "a plan needs the account's session")
        precondition(perCode >= 1, "a code takes at least one registration")
        self.capacities = (0..<sessions).map { ($0 == 0 ? registrationLimit - 1 : registrationLimit) / perCode }
        self.loads = Array(repeating: 0, count: sessions)
    }

    /// Codes all sessions together may hold.
    var capacity: Int { self.capacities.reduce(0, +) }

    /// Codes each session holds now.
    var codesPerSession: [Int] { self.loads }

    /// The session that holds `code`, if any.
    func session(of code: SymbolCode) -> Int? { self.holders[code] }

    /// Places `code` on a session and returns it: the one already holding it, else the least loaded with room;
    /// nil when every session is full.
    mutating func place(_ code: SymbolCode) -> Int? {
        if let held = self.holders[code] { return held }
        var best: Int?
        for session in self.loads.indices where self.loads[session] < self.capacities[session] {
            if best.map({ self.loads[session] < self.loads[$0] }) ?? true { best = session }
        }
        guard let best else { return nil }
        self.holders[code] = best
        self.loads[best] += 1
        return best
    }

    /// Frees `code`'s place and returns the session that held it, if any.
    mutating func release(_ code: SymbolCode) -> Int? {
        guard let held = self.holders.removeValue(forKey: code) else { return nil }
        self.loads[held] -= 1
        return held
    }
}
