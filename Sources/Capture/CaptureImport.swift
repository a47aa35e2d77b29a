import Feed
import TickCore

#if canImport(Glibc)
import Glibc
#endif

/// Makes a capture of a message file (`[RECEIVE_NS<TAB>]MESSAGE` lines, as `kistick decode` reads them): so that
/// recordings made by other tools can be replayed and benchmarked like kistick's own.
///
/// Two passes over the file, each through one reused buffer. The first checks every line and learns what the
/// capture's header needs (the codes and TR ids, the session's date) and each message's receive time; the second
/// writes the messages, exactly as they are in the file, with those times. A bad line is an error naming it before
/// the output exists, and an output that exists already is an error unless `replacing`.
///
/// **Receive times.** A line's time column is its receive time. A line without one gets the exchange time of its
/// message's first record (a trade's BSOP_DATE and time; a book's or a notice's time on the date of the latest
/// trade before it, or of the first trade in the file, or `date`), plus 1 µs for each earlier message of the same
/// second, so times are unique and in file order (the scheme of the peer benchmark's stream, scripts/peer-bench);
/// a message whose time cannot be read (a control message, an encrypted notice, a record that does not decode) gets
/// the previous message's time plus 1 µs.
///
/// A message keeps whatever its records hold: one that does not decode is imported as it is, as a live capture would
/// have recorded it, and counted. Only a line that is not a KIS message at all (`{`, `0|` or `1|` with a well-formed
/// `enc|TR_ID|NNN|` header) is refused.
public enum CaptureImport {
    public struct Options: Sendable {
        /// The capture header's environment: `real`, `paper` or `sim`.
        public var environment = "real"
        /// The header's note; nil for one naming the input and how times were found.
        public var note: String?
        /// The session's date (`YYYYMMDD`, KST) for books and notices that precede every trade.
        public var date: UInt32?
        /// Replace an existing output instead of refusing it.
        public var replacing = false
        public var rotation = CaptureRotation()
        public var writer = CaptureWriter.Options()

        public init() {}
    }

    /// What an import wrote.
    public struct Summary: Sendable, Equatable {
        public var messages = 0
        /// Messages whose receive time came from the file's time column, and from their exchange time.
        public var timesGiven = 0
        public var timesFromExchange = 0
        /// Messages kept as they are although they do not decode (counted by reason).
        public var undecodable: [String: Int] = [:]
        public var codes: [String] = []
        public var trIDs: [String] = []
        /// The earliest and latest receive times (a file's order need not be the times').
        public var firstNs: Int64 = 0
        public var lastNs: Int64 = 0
        public var stats = CaptureStats()
        /// The files written (more than one when the messages span KST days).
        public var paths: [String] = []
    }

    /// Imports `input` into a capture at `output`.
    ///
    /// - Throws: `CaptureError`: `.badLine` naming the input and the line, `.badInput` when no date can be found,
    ///   `.exists` for an output already there, and any error reading or writing.
    public static func run(input: String, output: String, options: Options = .init()) throws(CaptureError) -> Summary {
        let survey = try Survey(input: input, date: options.date)
        let times = try survey.receiveTimes()
        guard let firstNs = times.min(), let lastNs = times.max() else {
            throw CaptureError(path: input, reason: .badInput("no messages"))
        }
        var summary = Summary()
        summary.messages = times.count
        summary.timesGiven = survey.given
        summary.timesFromExchange = survey.fromExchange
        summary.undecodable = survey.undecodable
        summary.codes = survey.codes.map(\.description).sorted()
        summary.trIDs = survey.trIDs.map(\.description).sorted()
        summary.firstNs = firstNs
        summary.lastNs = lastNs
        let note =
            options.note
            ?? "imported from \(Self.name(of: input)) by kistick capture import; receive times: \(survey.given) from "
            + "the file, \(survey.fromExchange) from exchange times"
        let header = CaptureHeader(
            environment: options.environment,
            codes: summary.codes,
            trIDs: summary.trIDs,
            startNs: times[0],
            note: note
        )
        let writer = try CaptureFileWriter(
            path: output,
            header: header,
            rotation: options.rotation,
            options: options.writer,
            replacing: options.replacing
        )
        do throws(CaptureError) {
            let reader = try MessageFileReader(path: input)
            var index = 0
            while let line = try reader.next() {
                // The file changed between the passes if it now has more lines.
                guard index < times.count else {
                    throw CaptureError(path: input, reason: .badLine(line.number, "the file changed while importing"))
                }
                try unsafe writer.append(.message, localNs: times[index], bytes: UnsafeRawBufferPointer(line.message))
                index += 1
            }
            summary.stats = try writer.finish()
            summary.paths = writer.paths
        } catch {
            // A half-written capture is worse than none: remove what this import created.
            for path in writer.paths { _ = unsafe unlink(path) }
            throw error
        }
        return summary
    }

    private static func name(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// The first pass: every line checked, decoded for its codes and its first record's time.
    private struct Survey {
        let input: String
        var codes: Set<SymbolCode> = []
        var trIDs: Set<TRID> = []
        var given = 0
        var fromExchange = 0
        var undecodable: [String: Int] = [:]
        private var lines: [LineTime] = []
        /// The date of the first trade, for the books and notices that precede it.
        private var firstTradeMidnight: Int64?

        /// Where a message's receive time comes from.
        private enum LineTime {
            /// The file's time column.
            case given(Int64)
            /// A trade's exchange time, or a book's or notice's on a known date, in epoch seconds.
            case second(Int64)
            /// A book's or notice's time of day, before any date is known.
            case secondOfDay(Int64)
            /// Nothing to read a time from.
            case none
        }

        init(input: String, date: UInt32?) throws(CaptureError) {
            self.input = input
            let reader = try MessageFileReader(path: input)
            var decoder: FeedDecoder
            do {
                decoder = try FeedDecoder()
            } catch {
                throw CaptureError(path: input, reason: .badInput("cannot make a decoder: \(error)"))
            }
            // Books and notices carry only a time of day; they are decoded against the latest known midnight.
            var midnight: Int64? = try date.map { day throws(CaptureError) in
                guard let seconds = KST.epochSeconds(date: day, time: 0) else {
                    throw CaptureError(path: input, reason: .badInput("--date \(day) is not a YYYYMMDD date"))
                }
                return seconds
            }
            // Any day serves to read a time of day; the midnight of 2000-01-01 KST.
            let reference = KST.epochSeconds(date: 20_000_101, time: 0)!
            var sink = FirstRecord()
            while let line = try reader.next() {
                if let localNs = line.localNs {
                    self.lines.append(.given(localNs))
                    self.given += 1
                }
                sink.reset()
                let day = midnight ?? reference
                let outcome = Result { () throws(FeedError) -> DecodedMessage in
                    try unsafe decoder.decode(line.message, localTs: day * 1_000_000_000, into: &sink)
                }
                switch outcome {
                case .success(.records(let tr, _)), .success(.unsupported(let tr, _)):
                    self.trIDs.insert(tr)
                case .success(.control):
                    break
                case .failure(let error):
                    guard Self.isMessage(error) else {
                        throw CaptureError(path: input, reason: .badLine(line.number, "not a KIS message (\(error))"))
                    }
                    self.undecodable[error.reason, default: 0] += 1
                    if let tr = unsafe Self.trID(of: line.message) { self.trIDs.insert(tr) }
                }
                self.codes.formUnion(sink.codes)
                guard line.localNs == nil else { continue }
                if let tradeTime = sink.tradeTime {
                    let seconds = Int64(tradeTime)
                    midnight = KST.midnight(containing: seconds)
                    self.firstTradeMidnight = self.firstTradeMidnight ?? midnight
                    self.lines.append(.second(seconds))
                    self.fromExchange += 1
                } else if let time = sink.otherTime {
                    let secondOfDay = Int64(time) - day
                    self.lines.append(midnight.map { .second($0 + secondOfDay) } ?? .secondOfDay(secondOfDay))
                    self.fromExchange += 1
                } else {
                    self.lines.append(.none)
                }
            }
        }

        /// The receive time of every message, in file order.
        func receiveTimes() throws(CaptureError) -> [Int64] {
            var times: [Int64] = []
            times.reserveCapacity(self.lines.count)
            var second = Int64.min
            var sameSecond: Int64 = 0
            var previous: Int64?
            var leading = 0
            for line in self.lines {
                var ns: Int64
                switch line {
                case .given(let given):
                    ns = given
                    second = Int64.min
                case .second(let seconds), .secondOfDay(let seconds):
                    var epoch = seconds
                    if case .secondOfDay = line {
                        guard let midnight = self.firstTradeMidnight else {
                            throw CaptureError(
                                path: self.input,
                                reason: .badInput("no trade gives the session's date: pass --date YYYYMMDD")
                            )
                        }
                        epoch = midnight + seconds
                    }
                    sameSecond = epoch == second ? sameSecond + 1 : 0
                    second = epoch
                    ns = epoch * 1_000_000_000 + sameSecond * 1_000
                case .none:
                    guard let previous else {
                        // Messages before any time: placed later, 1 µs apart before the first timed one.
                        leading += 1
                        times.append(0)
                        continue
                    }
                    ns = previous + 1_000
                }
                times.append(ns)
                previous = ns
            }
            if leading > 0 {
                guard previous != nil else {
                    throw CaptureError(
                        path: self.input,
                        reason: .badInput("no message has a time: add receive times to the lines")
                    )
                }
                for i in 0..<leading { times[i] = times[leading] - Int64(leading - i) * 1_000 }
            }
            return times
        }

        /// Whether a decoder error still leaves a KIS message (its records are what is wrong).
        private static func isMessage(_ error: FeedError) -> Bool {
            switch error {
            case .format(.emptyMessage), .format(.unknownMessageStart), .format(.missingSeparator),
                .format(.badTRID), .format(.badRecordCount), .format(.badJSON):
                false
            default:
                true
            }
        }

        /// The TR id of a data frame whose header parses.
        private static func trID(of message: UnsafeMutableRawBufferPointer) -> TRID? {
            try? unsafe DataFrameHeader.parse(UnsafeRawBufferPointer(message).bytes).trID
        }
    }

    /// The codes of a message's records, and the exchange time of its first one.
    private struct FirstRecord: FeedSink {
        var codes: Set<SymbolCode> = []
        /// A trade's time (date and time of day), in epoch seconds.
        var tradeTime: UInt32?
        /// A book's or notice's time of day on the decoder's date, in epoch seconds.
        var otherTime: UInt32?

        mutating func reset() {
            self.codes.removeAll(keepingCapacity: true)
            self.tradeTime = nil
            self.otherTime = nil
        }

        private var hasTime: Bool { self.tradeTime != nil || self.otherTime != nil }

        mutating func trade(_ trade: Trade) {
            self.codes.insert(trade.code)
            if !self.hasTime { self.tradeTime = trade.exchangeTime }
        }

        mutating func book(_ book: Book) {
            self.codes.insert(book.code)
            if !self.hasTime { self.otherTime = book.exchangeTime }
        }

        mutating func notice(_ notice: Notice) {
            if !self.hasTime { self.otherTime = notice.exchangeTime }
        }
    }
}
