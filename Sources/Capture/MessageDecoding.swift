public import Feed
public import TickCore

/// Counts the records it hands on to `base`, with a checksum of a few of their fields, so that decoding into a
/// sink that keeps nothing still has an observable result.
public struct CountingSink<Base: FeedSink>: FeedSink {
    public var base: Base
    public private(set) var trades = 0
    public private(set) var books = 0
    public private(set) var notices = 0
    public private(set) var statuses = 0
    public private(set) var checksum: Int64 = 0

    public init(_ base: Base) {
        self.base = base
    }

    public mutating func trade(_ trade: Trade) {
        self.trades &+= 1
        self.checksum &+= Int64(trade.price) &+ trade.cumulativeVolume
        self.base.trade(trade)
    }

    public mutating func book(_ book: Book) {
        self.books &+= 1
        self.checksum &+= Int64(book.totalAskQuantity)
        self.base.book(book)
    }

    public mutating func notice(_ notice: Notice) {
        self.notices &+= 1
        self.checksum &+= Int64(notice.quantity)
        self.base.notice(notice)
    }

    public mutating func marketStatus(_ status: MarketStatus) {
        self.statuses &+= 1
        self.checksum &+= Int64(status.sessionClass)
        self.base.marketStatus(status)
    }

    public mutating func endOfBatch() {
        self.base.endOfBatch()
    }
}

/// A sink that keeps nothing.
public struct DiscardingSink: FeedSink {
    public init() {}
    public mutating func trade(_ trade: Trade) {}
    public mutating func book(_ book: Book) {}
    public mutating func notice(_ notice: Notice) {}
}

/// What decoding message files found: messages, control messages by kind, and the messages skipped, by reason.
public struct DecodeTally: Sendable, Equatable {
    public var messages = 0
    public var trades = 0
    public var books = 0
    public var notices = 0
    public var acks = 0
    public var errorAcks = 0
    public var pingPongs = 0
    /// Messages that are not what KIS sends (a `FeedError`): the reason to exit 1.
    public var malformed = 0
    /// Skipped messages by reason: each `FeedError.reason`, and `unsupportedTR <id>` for TRs not decoded.
    public var skipped: [String: Int] = [:]
    public var checksum: Int64 = 0
    /// Time spent decoding (reading the file excluded).
    public var decodeNanoseconds: Int64 = 0

    public init() {}

    public var records: Int { self.trades + self.books + self.notices }

    /// Counts one message's outcome.
    public mutating func count(_ outcome: Result<DecodedMessage, FeedError>) {
        self.messages += 1
        switch outcome {
        case .success(.records):
            break
        case .success(.control(let control)):
            switch control.kind {
            case .ack: self.acks += 1
            case .error: self.errorAcks += 1
            case .pingPong: self.pingPongs += 1
            case .other: break
            }
        case .success(.unsupported(let tr, _)):
            self.skipped["unsupportedTR \(tr)", default: 0] += 1
        case .failure(let error):
            self.skipped[error.reason, default: 0] += 1
            self.malformed += 1
        }
    }

    /// Adds the records a sink counted.
    public mutating func add<Base>(_ sink: CountingSink<Base>) {
        self.trades += sink.trades
        self.books += sink.books
        self.notices += sink.notices
        self.checksum &+= sink.checksum
    }

    /// The counts, then the decoding rate over `passes` passes of `decodeNanoseconds` in all.
    public func report(passes: Int, decodeNanoseconds: Int64) -> [String] {
        var lines = [
            "messages  \(self.messages)",
            "records   \(self.records): \(self.trades) trades, \(self.books) books, \(self.notices) notices",
            "control   \(self.acks) acks, \(self.errorAcks) error acks, \(self.pingPongs) PINGPONG",
            "skipped   \(self.skipped.values.reduce(0, +))",
        ]
        for (reason, count) in self.skipped.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(reason)  \(count)")
        }
        if decodeNanoseconds > 0 {
            let seconds = Double(decodeNanoseconds) / 1e9
            let rate = Double(self.records * passes) / seconds
            let perMessage = Double(decodeNanoseconds) / Double(max(self.messages * passes, 1))
            lines.append(
                "decode    \(Int(rate.rounded())) records/s, \(Int(perMessage.rounded())) ns/message"
                    + " over \(passes) silent pass\(passes == 1 ? "" : "es") (\(Int((seconds * 1e3).rounded())) ms;"
                    + " checksum \(self.checksum))"
            )
        }
        return lines
    }
}

/// Decoding a message file, as `kistick decode` does.
public enum MessageDecoding {
    /// Decodes every message of `reader` into `sink`, counting each outcome in `tally` and its time (the file's
    /// reads excluded), and hands each line and its outcome to `each` after decoding it. A line whose time column
    /// cannot be read is counted as malformed, handed to `rejected`, and skipped.
    ///
    /// - Parameters:
    ///   - defaultLocalNs: the receive time of lines without a time column.
    /// - Throws: the reader's `CaptureError` when the file cannot be read.
    public static func pass<Base: FeedSink>(
        _ reader: MessageFileReader,
        decoder: inout FeedDecoder,
        into sink: inout CountingSink<Base>,
        defaultLocalNs: Int64,
        tally: inout DecodeTally,
        rejected: (CaptureError) -> Void = { _ in },
        each: (MessageLine, Result<DecodedMessage, FeedError>) -> Void
    ) throws(CaptureError) {
        let clock = MonotonicClock()
        let readBefore = reader.readNanoseconds
        let start = clock.now()
        while true {
            let next: MessageLine?
            do {
                next = try reader.next()
            } catch {
                guard case .badLine = error.reason else { throw error }
                tally.messages += 1
                tally.malformed += 1
                tally.skipped["line.receiveTime", default: 0] += 1
                rejected(error)
                continue
            }
            guard let line = next else { break }
            let outcome = Result { () throws(FeedError) -> DecodedMessage in
                try unsafe decoder.decode(line.message, localTs: line.localNs ?? defaultLocalNs, into: &sink)
            }
            tally.count(outcome)
            each(line, outcome)
        }
        tally.decodeNanoseconds += clock.now() - start - (reader.readNanoseconds - readBefore)
    }
}
