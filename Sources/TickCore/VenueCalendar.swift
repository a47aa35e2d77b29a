/// Where an order is sent: KIS's `EXCG_ID_DVSN_CD` on order-cash and order-rvsecncl (docs/kis-protocol.md §4.1).
public enum OrderRoute: UInt8, BitwiseCopyable, Sendable, CaseIterable, CustomStringConvertible {
    case krx = 0
    case nxt = 1
    /// KIS's smart order routing: the order goes to whichever venue quotes better, and its fills say which.
    case sor = 2

    /// Where an order on this route executes, as far as the route alone tells: SOR's is `.combined`, either venue.
    public var venue: Venue {
        switch self {
        case .krx: .krx
        case .nxt: .nxt
        case .sor: .combined
        }
    }

    /// The field's value, as KIS spells it.
    public var description: String {
        switch self {
        case .krx: "KRX"
        case .nxt: "NXT"
        case .sor: "SOR"
        }
    }
}

/// Which venues the engine watches and trades: the `venue` setting and the CLI's `--venue`.
///
/// | mode       | feeds subscribed per code          | a new order goes to                                   |
/// |------------|------------------------------------|-------------------------------------------------------|
/// | `krx`      | KRX trades and book                | KRX (the default: kistick as before NXT)              |
/// | `nxt`      | KRX and NXT trades and books       | KRX while KRX trades continuously, else NXT if it does |
/// | `sor`      | KRX and NXT trades and books       | SOR: KIS picks the venue                              |
/// | `combined` | the combined trades and book only  | as `nxt`                                              |
public enum VenueMode: String, Sendable, CaseIterable {
    case krx, nxt, sor, combined

    /// The feed venues whose trade and book TRs are subscribed for each code.
    public var feeds: [Venue] {
        switch self {
        case .krx: [.krx]
        case .nxt, .sor: [.krx, .nxt]
        case .combined: [.combined]
        }
    }

    /// The route of a new order when KRX's phase is `krx` and NXT's is `nxt`.
    @inlinable
    public func route(krx: KRX.Phase, nxt: KRX.Phase) -> OrderRoute {
        switch self {
        case .krx: .krx
        case .sor: .sor
        case .nxt, .combined: krx != .continuous && nxt == .continuous ? .nxt : .krx
        }
    }
}

/// The trading hours of KRX and NXT as data, so that a change of either timetable (KRX's planned pre- and
/// after-market) is a settings change, not a release.
///
/// Each venue's day is a list of windows of KST seconds since midnight, each continuous trading or a call auction;
/// outside every window the venue takes no orders. The default (`standard`) is the timetable of 2025–2026:
///
///     KRX   08:30 ─ opening auction ─ 09:00 ─── continuous ─── 15:20 ─ closing auction ─ 15:30
///     NXT   08:00 ─ pre-market ─ 08:50    09:00:30 ── main ── 15:20           15:30 ── after-market ── 20:00
///
/// NXT halts while KRX runs its two auctions, and opens its main market just after KRX's opening print.
public struct VenueCalendar: Sendable, Equatable {
    /// One stretch of a venue's day: `start` ..< `end`, KST seconds since midnight.
    public struct Window: Sendable, Equatable, BitwiseCopyable {
        public var start: Int32
        public var end: Int32
        /// `.continuous`, or the call auction it is (`.preOpen`, `.closingAuction`).
        public var phase: KRX.Phase

        public init(start: Int32, end: Int32, phase: KRX.Phase = .continuous) {
            self.start = start
            self.end = end
            self.phase = phase
        }
    }

    public private(set) var krx: [Window]
    public private(set) var nxt: [Window]

    /// A calendar of the two venues' windows; each list sorted, none overlapping, all within one day.
    public init(krx: [Window], nxt: [Window]) throws(VenueCalendarError) {
        try Self.validate(krx, venue: .krx)
        try Self.validate(nxt, venue: .nxt)
        self.krx = krx
        self.nxt = nxt
    }

    /// The 2025–2026 timetable; its KRX half is `KRX.phase(secondOfDay:)` exactly.
    public static let standard = VenueCalendar(
        checkedKRX: [
            Window(start: Int32(KRX.preOpenStart), end: Int32(KRX.openTime), phase: .preOpen),
            Window(start: Int32(KRX.openTime), end: Int32(KRX.closingAuctionStart)),
            Window(start: Int32(KRX.closingAuctionStart), end: Int32(KRX.closeTime), phase: .closingAuction),
        ],
        nxt: [
            Window(start: 8 * 3600, end: 8 * 3600 + 50 * 60),
            Window(start: 9 * 3600 + 30, end: 15 * 3600 + 20 * 60),
            Window(start: 15 * 3600 + 30 * 60, end: 20 * 3600),
        ]
    )

    private init(checkedKRX krx: [Window], nxt: [Window]) {
        self.krx = krx
        self.nxt = nxt
    }

    /// The first second of the day either venue trades or holds a call: a simulated day starts here so that every
    /// window of it, NXT's pre-market included, runs on the first day. `nil` when both venues are closed all day.
    public var firstWindowStart: Int64? {
        (self.krx + self.nxt).map { Int64($0.start) }.min()
    }

    /// The stretches of the day in which `mode` trades continuously on some venue, in order, overlapping windows
    /// merged: KRX's continuous windows for `krx`; KRX's and NXT's for the modes that route to NXT while KRX does not
    /// trade (`nxt`, `sor`, `combined`). With the standard calendar: 09:00–15:20 for `krx`; 08:00–08:50,
    /// 09:00–15:20 and 15:30–20:00 otherwise.
    public func continuousWindows(_ mode: VenueMode) -> [Window] {
        let windows = (mode == .krx ? self.krx : self.krx + self.nxt).filter { $0.phase == .continuous }
        var merged: [Window] = []
        for window in windows.sorted(by: { $0.start < $1.start }) {
            if let last = merged.last, window.start <= last.end {
                merged[merged.count - 1].end = max(last.end, window.end)
            } else {
                merged.append(window)
            }
        }
        return merged
    }

    /// The phase of `venue` at `secondOfDay`. The combined market trades when either venue does, KRX's phase first.
    ///
    /// - Complexity: O(windows), a handful of compares; no allocation.
    public func phase(_ venue: Venue, secondOfDay: Int64) -> KRX.Phase {
        switch venue {
        case .krx: Self.phase(self.krx, secondOfDay)
        case .nxt: Self.phase(self.nxt, secondOfDay)
        case .combined:
            Self.phase(self.krx, secondOfDay) != .closed
                ? Self.phase(self.krx, secondOfDay) : Self.phase(self.nxt, secondOfDay)
        }
    }

    /// The phase an order on `route` meets: SOR's is the combined market's.
    public func phase(route: OrderRoute, secondOfDay: Int64) -> KRX.Phase {
        switch route {
        case .krx: self.phase(.krx, secondOfDay: secondOfDay)
        case .nxt: self.phase(.nxt, secondOfDay: secondOfDay)
        case .sor: self.phase(.combined, secondOfDay: secondOfDay)
        }
    }

    private static func phase(_ windows: [Window], _ second: Int64) -> KRX.Phase {
        for window in windows where second >= Int64(window.start) && second < Int64(window.end) {
            return window.phase
        }
        return .closed
    }

    private static func validate(_ windows: [Window], venue: Venue) throws(VenueCalendarError) {
        var previousEnd: Int32 = 0
        for window in windows {
            guard window.start >= previousEnd, window.start < window.end, window.end <= 86_400,
                window.phase != .closed
            else { throw .badWindows(venue: venue) }
            previousEnd = window.end
        }
    }

    // MARK: Text

    /// Parses one venue's windows as a settings file writes them: comma-separated `HH:MM[:SS]-HH:MM[:SS]`, each
    /// optionally followed by `opening-auction` or `closing-auction`; e.g.
    /// `08:30-09:00 opening-auction, 09:00-15:20, 15:20-15:30 closing-auction`. An empty text is a venue closed
    /// all day.
    public static func windows(parsing text: String, venue: Venue) throws(VenueCalendarError) -> [Window] {
        var windows: [Window] = []
        for part in text.split(separator: ",") {
            let words = part.split(separator: " ")
            guard words.count == 1 || words.count == 2 else { throw .unreadable(venue: venue, window: String(part)) }
            let times = words[0].split(separator: "-", omittingEmptySubsequences: false)
            guard times.count == 2, let start = Self.second(times[0]), let end = Self.second(times[1]) else {
                throw .unreadable(venue: venue, window: String(part))
            }
            var phase = KRX.Phase.continuous
            if words.count == 2 {
                switch words[1] {
                case "opening-auction": phase = .preOpen
                case "closing-auction": phase = .closingAuction
                default: throw .unreadable(venue: venue, window: String(part))
                }
            }
            windows.append(Window(start: start, end: end, phase: phase))
        }
        try Self.validate(windows, venue: venue)
        return windows
    }

    /// The settings-file text of one venue's windows, which `windows(parsing:venue:)` reads back.
    public func text(_ venue: Venue) -> String {
        let windows = venue == .nxt ? self.nxt : self.krx
        return windows.map { window in
            let times = Self.clock(window.start) + "-" + Self.clock(window.end)
            switch window.phase {
            case .preOpen: return times + " opening-auction"
            case .closingAuction: return times + " closing-auction"
            case .continuous, .closed: return times
            }
        }.joined(separator: ", ")
    }

    /// `HH:MM` or `HH:MM:SS` (24:00 allowed as the end of the day) as seconds since midnight.
    private static func second(_ text: Substring) -> Int32? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3,
            parts.allSatisfy({ $0.utf8.count == 2 && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } })
        else { return nil }
        let (h, m, s) = (Int32(parts[0])!, Int32(parts[1])!, parts.count == 3 ? Int32(parts[2])! : 0)
        guard m < 60, s < 60, h * 3600 + m * 60 + s <= 86_400 else { return nil }
        return h * 3600 + m * 60 + s
    }

    private static func clock(_ second: Int32) -> String {
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let base = two(second / 3600) + ":" + two(second / 60 % 60)
        return second % 60 == 0 ? base : base + ":" + two(second % 60)
    }
}

/// A venue timetable that cannot be used.
public enum VenueCalendarError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A window is not `HH:MM[:SS]-HH:MM[:SS]` with an optional `opening-auction` / `closing-auction`.
    case unreadable(venue: Venue, window: String)
    /// Windows out of order, overlapping, empty, or past midnight.
    case badWindows(venue: Venue)

    public var description: String {
        switch self {
        case .unreadable(let venue, let window):
            "\(venue) session window '\(window)' is not HH:MM-HH:MM with an optional opening-auction or closing-auction"
        case .badWindows(let venue):
            "\(venue) session windows must be in order, non-empty, not overlapping and within the day"
        }
    }
}
