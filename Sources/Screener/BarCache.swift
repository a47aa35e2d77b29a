import GRDB
import KIS

/// One completed trading day of one code, as the screen keeps it.
public struct DailyClose: Sendable, Equatable, Encodable {
    /// YYYYMMDD (KST).
    public var date: UInt32
    public var close: Int64
    /// KRW.
    public var tradedValue: Int64

    public init(date: UInt32, close: Int64, tradedValue: Int64) {
        self.date = date
        self.close = close
        self.tradedValue = tradedValue
    }
}

/// The daily bars the screen has fetched, in SQLite, so a later run asks KIS only for the days it lacks.
///
/// Per code it remembers the oldest date asked for and the screen date of the last fetch (`checked`): a second run
/// on the same screen date needs no call, a run on a later date asks only for the days after the newest cached
/// bar. Only completed days (before the screen date) are stored; today's partial bar never is.
///
/// Thread-confined; used by the screen only (never by the hot path).
public final class BarCache {
    public let path: String
    private let queue: DatabaseQueue

    /// Opens (creating if needed) the cache at `path`.
    public init(path: String) throws(ScreenError) {
        self.path = path
        do {
            try PrivateFile.prepareDatabase(path)
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            self.queue = try DatabaseQueue(path: path, configuration: configuration)
            try self.queue.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS daily_bar (
                            code TEXT NOT NULL, date INTEGER NOT NULL, close INTEGER NOT NULL, value INTEGER NOT NULL,
                            PRIMARY KEY (code, date)) WITHOUT ROWID;
                        CREATE TABLE IF NOT EXISTS fetched (
                            code TEXT PRIMARY KEY, oldest INTEGER NOT NULL, checked INTEGER NOT NULL) WITHOUT ROWID;
                        """
                )
            }
        } catch {
            throw .cache(path: path, reason: "\(error)")
        }
    }

    /// What the cache holds for `code`.
    struct Entry {
        var bars: [DailyClose]
        /// The oldest date asked of KIS and the screen date of the last fetch; nil if never fetched.
        var oldest: UInt32?
        var checked: UInt32?
    }

    /// The cached bars of `code` before `before`, oldest first, with its fetch record.
    func entry(_ code: String, before: UInt32) throws(ScreenError) -> Entry {
        do {
            return try self.queue.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT date, close, value FROM daily_bar WHERE code = ? AND date < ? ORDER BY date",
                    arguments: [code, Int64(before)]
                )
                let bars = rows.map { row in
                    DailyClose(
                        date: UInt32(truncatingIfNeeded: row[0] as Int64),
                        close: row[1],
                        tradedValue: row[2]
                    )
                }
                let fetched = try Row.fetchOne(
                    db,
                    sql: "SELECT oldest, checked FROM fetched WHERE code = ?",
                    arguments: [code]
                )
                return Entry(
                    bars: bars,
                    oldest: fetched.map { UInt32(truncatingIfNeeded: $0[0] as Int64) },
                    checked: fetched.map { UInt32(truncatingIfNeeded: $0[1] as Int64) }
                )
            }
        } catch {
            throw .cache(path: self.path, reason: "\(error)")
        }
    }

    /// Stores `bars` of `code` and records a fetch from `oldest` on screen date `checked`.
    /// - Parameter replacing: drop the code's cached bars first (KIS adjusted its past closes).
    func store(
        _ code: String,
        bars: [DailyClose],
        oldest: UInt32,
        checked: UInt32,
        replacing: Bool
    ) throws(ScreenError) {
        do {
            try self.queue.write { db in
                if replacing {
                    try db.execute(sql: "DELETE FROM daily_bar WHERE code = ?", arguments: [code])
                    try db.execute(sql: "DELETE FROM fetched WHERE code = ?", arguments: [code])
                }
                for bar in bars {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO daily_bar (code, date, close, value) VALUES (?, ?, ?, ?)",
                        arguments: [code, Int64(bar.date), bar.close, bar.tradedValue]
                    )
                }
                try db.execute(
                    sql: """
                        INSERT INTO fetched (code, oldest, checked) VALUES (?, ?, ?)
                        ON CONFLICT (code) DO UPDATE SET oldest = min(oldest, excluded.oldest), checked = excluded.checked
                        """,
                    arguments: [code, Int64(oldest), Int64(checked)]
                )
            }
        } catch {
            throw .cache(path: self.path, reason: "\(error)")
        }
    }
}

@available(*, unavailable)
extension BarCache: Sendable {}
