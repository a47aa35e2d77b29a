public import Logging
import TickCore

/// A line from a cold path (the CLI, the control loop, a library) through swift-log, with its text already
/// rendered: `Secret`s render as `<redacted>` wherever they are interpolated or passed as metadata.
struct ColdEntry: Sendable {
    var time: Int64
    var level: Logger.Level
    var label: String
    var message: String
    /// Sorted by key.
    var metadata: [(key: String, value: String)]
    /// Whether the line also goes to stderr.
    var console: Bool
}

/// How the writer turns records and entries into a JSON line for the file and a line for a person on stderr.
enum LineFormat {
    /// `{"time":"2026-12-07T09:01:02.123456+09:00","level":"info","event":"order.sent","pid":…,"stage":…,…}`
    /// - Parameter reasons: what the record's `value` means when its kind fills `.reason`.
    static func json(_ record: LogRecord, stage: String, reasons: [String], pid: Int32, into out: inout [UInt8]) {
        let kind = record.kind
        Self.open(time: record.time, level: record.level, pid: pid, into: &out)
        Self.member("event", kind.eventName(record), into: &out)
        Self.member("stage", stage, into: &out)
        let fields = kind.fields
        if fields.contains(.order) { Self.member("order", Int64(record.order.rawValue), into: &out) }
        if fields.contains(.code) { Self.member("code", record.code.description, into: &out) }
        if fields.contains(.side) { Self.member("side", record.side == .buy ? "buy" : "sell", into: &out) }
        if fields.contains(.quantity) { Self.member("qty", Int64(record.quantity), into: &out) }
        if fields.contains(.price) { Self.member("price", Int64(record.price), into: &out) }
        if fields.contains(.number) { Self.member("kis_order", String(record.number), into: &out) }
        if fields.contains(.message), record.message.rawValue != 0 {
            Self.member(kind.messageKey, record.message.description, into: &out)
        }
        if fields.contains(.value) { Self.member(kind.valueKey, record.value, into: &out) }
        if fields.contains(.reason) { Self.member("reason", Self.reason(record, reasons), into: &out) }
        out.append(contentsOf: "}\n".utf8)
    }

    /// `{"time":…,"level":…,"event":"log","pid":…,"logger":…,"message":…,"meta":{…}}`
    static func json(_ entry: ColdEntry, pid: Int32, into out: inout [UInt8]) {
        Self.open(time: entry.time, level: entry.level, pid: pid, into: &out)
        Self.member("event", "log", into: &out)
        Self.member("logger", entry.label, into: &out)
        Self.member("message", entry.message, into: &out)
        if !entry.metadata.isEmpty {
            out.append(contentsOf: #","meta":{"#.utf8)
            for (i, item) in entry.metadata.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.string(item.key, into: &out)
                out.append(UInt8(ascii: ":"))
                Self.string(item.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "}\n".utf8)
    }

    /// `09:01:02.123 info  strategy: order #12 sent: buy 10 005930 at 70000 (entry)`
    static func human(_ record: LogRecord, stage: String, reasons: [String]) -> String {
        let text = record.kind.describe(record, reason: Self.reason(record, reasons))
        return "\(Self.clock(record.time)) \(Self.padded(record.level)) \(stage): \(text)\n"
    }

    /// The name `reasons` gives the record's `value`, or the number when it names none.
    private static func reason(_ record: LogRecord, _ reasons: [String]) -> String {
        reasons.indices.contains(Int(record.value)) ? reasons[Int(record.value)] : String(record.value)
    }

    static func human(_ entry: ColdEntry) -> String {
        let metadata = entry.metadata.map { " \($0.key)=\($0.value)" }.joined()
        return "\(Self.clock(entry.time)) \(Self.padded(entry.level)) \(entry.message)\(metadata)\n"
    }

    /// The KST date (YYYYMMDD) of `time`, which names the day's file.
    static func date(_ time: Int64) -> UInt32 {
        KST.date(epochSeconds: Self.seconds(time))
    }

    // MARK: Pieces

    private static func open(time: Int64, level: Logger.Level, pid: Int32, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"time":""#.utf8)
        out.append(contentsOf: Self.iso(time).utf8)
        out.append(UInt8(ascii: "\""))
        Self.member("level", level.rawValue, into: &out)
        Self.member("pid", Int64(pid), into: &out)
    }

    private static func member(_ key: String, _ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        Self.string(key, into: &out)
        out.append(UInt8(ascii: ":"))
        Self.string(value, into: &out)
    }

    private static func member(_ key: String, _ value: Int64, into out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        Self.string(key, into: &out)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: String(value).utf8)
    }

    /// A JSON string: quotes, backslashes and control characters escaped (RFC 8259 §7), everything else as is.
    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func seconds(_ time: Int64) -> Int64 {
        time >= 0 ? time / 1_000_000_000 : (time - 999_999_999) / 1_000_000_000
    }

    /// `2026-12-07T09:01:02.123456+09:00`
    static func iso(_ time: Int64) -> String {
        let seconds = Self.seconds(time)
        let date = KST.date(epochSeconds: seconds)
        let day = "\(date / 10_000)-\(Self.two(date / 100 % 100))-\(Self.two(date % 100))"
        let micros = String(Int(time - seconds * 1_000_000_000) / 1_000)
        return "\(day)T\(Self.hms(seconds)).\(String(repeating: "0", count: 6 - micros.count))\(micros)+09:00"
    }

    /// `09:01:02.123`, KST.
    private static func clock(_ time: Int64) -> String {
        let seconds = Self.seconds(time)
        let millis = String(Int(time - seconds * 1_000_000_000) / 1_000_000)
        return "\(Self.hms(seconds)).\(String(repeating: "0", count: 3 - millis.count))\(millis)"
    }

    private static func hms(_ seconds: Int64) -> String {
        let time = KST.time(epochSeconds: seconds)
        return "\(Self.two(time / 10_000)):\(Self.two(time / 100 % 100)):\(Self.two(time % 100))"
    }

    private static func two(_ value: UInt32) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    private static func padded(_ level: Logger.Level) -> String {
        level.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
    }
}

extension LogRecord {
    /// KIS's refusal of a modify or cancel whose order has nothing left (정정/취소할 수량이 없습니다): the order
    /// filled or was cancelled while the request was on its way, the expected end of that race.
    static let nothingLeftToAmend = PackedASCII(ascii: "APBK0344")

    /// The level the record is logged at: its kind's, but the race above is a notice, not a warning a trader
    /// would stop for.
    public var level: Logger.Level {
        self.kind == .orderRefused && self.message == Self.nothingLeftToAmend ? .notice : self.kind.level
    }
}

extension LogRecord.Kind {
    /// The level a record of this kind is logged at.
    public var level: Logger.Level {
        switch self {
        case .orderSent, .amendSent, .orderAccepted, .orderCancelled, .reconciled, .notice: .info
        case .orderFound, .fill, .riskRefused, .entriesPaused, .connected: .notice
        case .orderRefused, .orderLost, .orderNotPlaced, .orderRejected, .disconnected, .gap, .noticesMayBeMissed,
            .reconciliationFailed, .feedError:
            .warning
        case .killSwitch: .critical
        }
    }

    /// The `event` member of the JSON line.
    func eventName(_ record: LogRecord) -> String {
        switch self {
        case .orderSent: "order.sent"
        case .amendSent: "order.amend_sent"
        case .orderAccepted: "order.accepted"
        case .orderRefused: "order.refused"
        case .orderLost: "order.answer_lost"
        case .orderFound: "order.found"
        case .orderNotPlaced: "order.not_placed"
        case .fill: "order.fill"
        case .orderCancelled: "order.cancelled"
        case .orderRejected: "order.rejected"
        case .riskRefused: "risk.refused"
        case .killSwitch: "kill_switch.armed"
        case .entriesPaused: record.value != 0 ? "entries.paused" : "entries.resumed"
        case .connected: "feed.connected"
        case .disconnected: "feed.disconnected"
        case .gap: "feed.gap"
        case .noticesMayBeMissed: "feed.notices_may_be_missed"
        case .reconciled: "reconciliation.applied"
        case .reconciliationFailed: "reconciliation.failed"
        case .feedError: "feed.error"
        case .notice: "order.notice"
        }
    }

    var messageKey: String {
        switch self {
        case .orderSent: "purpose"
        case .notice: "tells"
        case .disconnected: "reason"
        default: "msg_cd"
        }
    }

    var valueKey: String {
        switch self {
        case .connected: "reconnects"
        case .amendSent: "target"
        case .reconciled: "rows"
        default: "value"
        }
    }

    /// What a person reads on stderr.
    func describe(_ r: LogRecord, reason: String) -> String {
        let side = r.side == .buy ? "buy" : "sell"
        let price = r.price == 0 ? "at market" : "at \(r.price)"
        switch self {
        case .orderSent: return "order \(r.order) sent: \(side) \(r.quantity) \(r.code) \(price) (\(r.message))"
        case .amendSent:
            return r.quantity == 0
                ? "cancel \(r.order) of order \(r.value) sent"
                : "modify \(r.order) of order \(r.value) sent: \(r.quantity) \(price)"
        case .orderAccepted: return "order \(r.order) accepted by KIS as \(r.number)"
        case .orderRefused:
            guard r.message == LogRecord.nothingLeftToAmend else {
                return "order \(r.order) refused by KIS: \(r.message)"
            }
            return "order \(r.order) refused by KIS: \(r.message), nothing left to modify or cancel (it filled first)"
        case .orderLost: return "order \(r.order): answer lost, looking it up in today's orders"
        case .orderFound: return "order \(r.order) found in today's orders as \(r.number)"
        case .orderNotPlaced: return "order \(r.order) was not placed (not in today's orders)"
        case .fill: return "order \(r.order) filled: \(side) \(r.quantity) \(r.code) at \(r.price)"
        case .orderCancelled: return "order \(r.order) cancelled (\(r.quantity) shares were left)"
        case .orderRejected: return "order \(r.order) rejected by the exchange"
        case .riskRefused: return "risk refused \(side) \(r.quantity) \(r.code) \(price): \(reason)"
        case .notice:
            let ours = r.order.rawValue == 0 ? "" : " (our \(r.order))"
            return "notice of KIS order \(r.number)\(ours): \(r.message) \(side) \(r.quantity) \(r.code) \(price)"
        case .killSwitch: return "kill switch armed: cancelling every order, selling every position"
        case .entriesPaused: return r.value != 0 ? "entries paused" : "entries resumed"
        case .connected: return "market data connected (\(r.value) reconnects so far)"
        case .disconnected: return "market data disconnected (\(r.message)); reconnecting"
        case .gap: return "\(r.code): trades may be missing after the reconnect; its bars are marked"
        case .noticesMayBeMissed: return "order notices may have been missed; reconciling now"
        case .reconciled: return "reconciled with KIS's \(r.value) orders of today"
        case .reconciliationFailed: return "reconciliation could not ask KIS (\(r.message)); retrying"
        case .feedError:
            if r.code.rawValue == 0 { return "market data: KIS said \(r.message)" }
            return "\(r.code): KIS refused its registration (\(r.message))"
        }
    }
}
