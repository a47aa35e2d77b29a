import Glibc
import TickCore

/// Finds out what became of an order whose answer was lost (timeout, reset, EGW00302), by asking KIS for today's
/// orders instead of sending it again: a resend after a lost answer is how a trader ends up with twice the position.
public struct OrderRecovery: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// KIS has the order: here it is, with its number, fills and remainder.
        case placed(OrderRecord)
        /// KIS shows no such order after `attempts` looks: it was not placed, and a new decision may send it.
        case notPlaced
    }

    public let client: KISClient
    /// Looks before concluding "not placed", and the pause between them: KIS may list an order a moment late.
    public var attempts = 3
    public var pauseMilliseconds = 300

    public init(client: KISClient) {
        self.client = client
    }

    /// - Parameters:
    ///   - ticket: the order that was sent.
    ///   - sentAtKST: HHMMSS when it was sent; orders stamped earlier (less a few seconds of clock skew) are not it.
    ///   - known: order numbers this process already owns, which cannot be the lost one.
    public func resolve(_ ticket: OrderTicket, sentAtKST: UInt32, known: Set<UInt64>) throws(KISError) -> Outcome {
        let code = ticket.code.description
        let sideCode = ticket.side == .sell ? "01" : "02"
        let earliest = Self.secondsBefore(sentAtKST, 5)
        for attempt in 0..<self.attempts {
            if attempt > 0 { MonotonicClock().sleep(nanoseconds: Int64(self.pauseMilliseconds) * 1_000_000) }
            let today = KST.date(epochSeconds: WallClock().epochSeconds())
            let orders = try self.client.dailyOrders(from: today, to: today, code: code, as: .reconciliation)
            let candidates = orders.filter { record in
                record.code == code && record.sideCode == sideCode && record.quantity == ticket.quantity
                    && (ticket.isMarket ? record.orderType == "01" : record.price == ticket.price)
                    && record.originalOrderNumber.allSatisfy { $0 == "0" }
                    && UInt64(record.orderNumber).map { !known.contains($0) } ?? true
                    && (UInt32(record.time) ?? 0) >= earliest
            }
            // Several identical orders in the window: the newest is the one whose answer we missed.
            if let match = candidates.max(by: { ($0.time, $0.orderNumber) < ($1.time, $1.orderNumber) }) {
                return .placed(match)
            }
        }
        return .notPlaced
    }

    static func secondsBefore(_ time: UInt32, _ seconds: Int64) -> UInt32 {
        guard let of = KST.secondsOfDay(time: time), of >= seconds else { return 0 }
        return KST.time(secondsOfDay: of - seconds)
    }
}

/// The order numbers every kistick process of this user has been given today for one account, in a file they share,
/// and a lock that lets one process at a time send an order and learn what became of it.
///
/// KIS gives an order no identity of the client's: two identical orders whose answers were lost look alike in
/// today's orders, and two processes resolving each by itself would both take the newest for their own (the other
/// never reported). Holding the lock from the send until the answer or the lookup is done, and adding the number it
/// found, leaves a later process only orders no one owns: each lost answer is matched to its own order.
///
/// The file, `orders-<environment>-<account>.txt` (0600, in a 0700 folder), has one line per number, `YYYYMMDD
/// ODNO`; lines of other days are dropped when it is written. Beside it, `.lock` serializes with `flock`, which
/// excludes threads of one process as it does processes (each holder opens the file anew).
public struct KnownOrders: Sendable {
    public let path: String
    private let lockPath: String

    /// - Parameter directory: the cache folder (`LocalFolders.cache`), created 0700 if missing.
    public init(directory: String, environment: Environment, account: Account) throws(LocalFolderError) {
        try LocalFolders.makePrivate(directory)
        let stem = "\(directory)/orders-\(environment.rawValue)-\(account.cano)\(account.productCode)"
        self.path = stem + ".txt"
        self.lockPath = stem + ".lock"
    }

    /// Runs `body` holding the account's order lock, with today's known numbers (`day`, KST `YYYYMMDD`); the
    /// numbers `body` adds are written back before the lock is released (best effort when `body` throws).
    /// - Parameter waiting: called once, before blocking, when another holder has the lock.
    /// - Throws: `PrivateFileError` naming the file when it cannot be used, or what `body` throws.
    public func exclusively<Result>(
        day: UInt32,
        waiting: () -> Void = {},
        _ body: (inout Set<UInt64>) throws -> Result
    ) throws -> Result {
        let fd = unsafe open(self.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PrivateFileError(path: self.lockPath, reason: LocalFile.errorText(errno)) }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK else {
                throw PrivateFileError(path: self.lockPath, reason: LocalFile.errorText(errno))
            }
            waiting()
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    throw PrivateFileError(path: self.lockPath, reason: LocalFile.errorText(errno))
                }
            }
        }
        let before = try self.read(day: day)
        var numbers = before
        let result: Result
        do {
            result = try body(&numbers)
        } catch {
            if numbers != before { try? self.write(numbers, day: day) }
            throw error
        }
        if numbers != before { try self.write(numbers, day: day) }
        return result
    }

    /// What became of an order sent with `place`.
    public enum Placement: Sendable, Equatable {
        /// KIS answered: accepted.
        case accepted(OrderAck)
        /// The answer was lost, and the order is at KIS: this one, which no other kistick process owns.
        case found(OrderRecord)
        /// The answer was lost, and KIS has no such order that no other kistick process owns: nothing was resent.
        case notPlaced
    }

    /// Sends `ticket` on `lane` holding the account's order lock, and after a lost answer (never resending) looks it
    /// up among today's orders that no kistick process owns; the number it got or found joins today's known ones.
    /// - Parameters:
    ///   - day: KST `YYYYMMDD`, the day of KIS's order numbers.
    ///   - clock: KIS's time of day now, `HHMMSS` (the wall clock in KST, but for a simulator's market): the send's
    ///     stamp, before which no order can be this one.
    ///   - waiting: called once, before blocking, when another process is sending.
    ///   - refused: called when KIS's gateway refused the order for the key's per-second budget (EGW00201). Such an
    ///     order was not placed, so it is sent once more, which cannot double it; the rate limiter has taken KIS's
    ///     second of penalty, so that send waits it out (another process on the key may have used the window).
    ///   - lost: called when the answer is lost, before the lookup.
    /// - Throws: KIS's refusal, or `PrivateFileError` when the file cannot be used.
    public func place(
        _ ticket: OrderTicket,
        lane: inout OrderLane,
        recovery: OrderRecovery,
        day: UInt32,
        clock: () -> UInt32,
        waiting: () -> Void = {},
        refused: (KISError) -> Void = { _ in },
        lost: (KISError) -> Void = { _ in }
    ) throws -> Placement {
        try self.exclusively(day: day, waiting: waiting) { known in
            let sentAt = clock()
            do throws(KISError) {
                let ack: OrderAck
                do throws(KISError) {
                    ack = try lane.place(ticket)
                } catch .rejected(let failure) where failure.msgCd == "EGW00201" {
                    refused(.rejected(failure))
                    ack = try lane.place(ticket)
                }
                known.insert(ack.orderNumber)
                return .accepted(ack)
            } catch {
                guard case .responseLost = error else { throw error }
                lost(error)
                switch try recovery.resolve(ticket, sentAtKST: sentAt, known: known) {
                case .placed(let record):
                    if let number = UInt64(record.orderNumber) { known.insert(number) }
                    return .found(record)
                case .notPlaced:
                    return .notPlaced
                }
            }
        }
    }

    private func read(day: UInt32) throws(PrivateFileError) -> Set<UInt64> {
        let bytes: [UInt8]
        do throws(LocalFile.ReadError) {
            bytes = try LocalFile.read(path: self.path, limit: 1 << 20)
        } catch {
            switch error {
            case .notFound: return []
            case .tooLarge(let limit): throw PrivateFileError(path: self.path, reason: "larger than \(limit) bytes")
            case .failed(let reason): throw PrivateFileError(path: self.path, reason: reason)
            }
        }
        var numbers: Set<UInt64> = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, UInt32(fields[0]) == day, let number = UInt64(fields[1]) { numbers.insert(number) }
        }
        return numbers
    }

    private func write(_ numbers: Set<UInt64>, day: UInt32) throws(PrivateFileError) {
        try PrivateFile.write(Array(numbers.sorted().map { "\(day) \($0)\n" }.joined().utf8), to: self.path)
    }
}
