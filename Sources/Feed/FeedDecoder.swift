public import Crypto
public import TickCore

/// Receives the records of a data frame, in frame order. Generic, so calls specialise and inline.
public protocol FeedSink {
    mutating func trade(_ trade: Trade)
    mutating func book(_ book: Book)
    mutating func notice(_ notice: Notice)
    /// A market-status message (H0STMKO0 / H0NXMKO0 / H0UNMKO0); sinks that keep no market state ignore it.
    mutating func marketStatus(_ status: MarketStatus)
    /// Every record of one socket read has been handed over, or a read timed out with nothing: the moment to
    /// publish a batch to the next stage once, and to retry anything held back.
    mutating func endOfBatch()
}

extension FeedSink {
    public mutating func marketStatus(_ status: MarketStatus) {}
    public mutating func endOfBatch() {}
}

/// What a message turned out to be.
public enum DecodedMessage: Equatable, Sendable {
    /// A JSON control message. A successful ack carrying key and iv has already been applied to the decoder.
    case control(ControlMessage)
    /// A data frame of a TR we decode; `records` went to the sink.
    case records(tr: TRID, count: Int)
    /// A well-formed data frame of a TR we do not decode (H0STMBC0, H0STPGM0, …).
    case unsupported(tr: TRID, count: Int)
}

/// The parsed `enc|TR_ID|NNN|` prefix of a data frame.
public struct DataFrameHeader: Equatable, Sendable {
    public var encrypted: Bool
    public var trID: TRID
    public var recordCount: Int
    /// Offset of the payload within the message.
    public var payloadStart: Int

    /// Parses the prefix of `bytes`, which must start with a data frame.
    ///
    /// Only the first three `|` separate; the payload is everything after the third, whatever it contains.
    public static func parse(_ bytes: RawSpan) throws(KISFormatError) -> DataFrameHeader {
        let count = bytes.byteCount
        guard count >= 2 else { throw .missingSeparator }
        // Safe because: every offset read below is checked against count first.
        let flag = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: 0, as: UInt8.self)
        guard flag == UInt8(ascii: "0") || flag == UInt8(ascii: "1") else { throw .unknownMessageStart(flag) }
        guard unsafe bytes.unsafeLoad(fromUncheckedByteOffset: 1, as: UInt8.self) == UInt8(ascii: "|") else {
            throw .missingSeparator
        }
        if count >= 15, let usual = Self.usual(bytes, encrypted: flag == UInt8(ascii: "1")) { return usual }
        var i = 2
        var tr: UInt64 = 0
        while i < count, unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) != UInt8(ascii: "|") {
            guard i - 2 < 8 else { throw .badTRID }
            tr |= UInt64(unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self)) << UInt64(8 * (i - 2))
            i += 1
        }
        guard i < count else { throw .missingSeparator }
        guard i > 2 else { throw .badTRID }
        i += 1
        let countStart = i
        var records = 0
        while i < count, unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) != UInt8(ascii: "|") {
            let digit = unsafe bytes.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self) &- UInt8(ascii: "0")
            guard digit <= 9, i - countStart < 4 else { throw .badRecordCount }
            records = records * 10 + Int(digit)
            i += 1
        }
        guard i < count else { throw .missingSeparator }
        guard i > countStart, records > 0 else { throw .badRecordCount }
        return DataFrameHeader(
            encrypted: flag == UInt8(ascii: "1"),
            trID: TRID(rawValue: tr),
            recordCount: records,
            payloadStart: i + 1
        )
    }

    /// The usual frame, `F|TTTTTTTT|NNN|` (an eight-byte id, a three-digit count), read as two words and checked at
    /// once; nil for any other shape, which parse's loops then read byte by byte.
    ///
    /// It returns what those loops would for the same bytes: they stop the id at the first `|` after byte 1, here
    /// byte 10 with none in bytes 2 ..< 10; the count is bytes 11 ..< 14, all digits, up to the `|` at 14, and not 0.
    @inline(__always)
    private static func usual(_ bytes: RawSpan, encrypted: Bool) -> DataFrameHeader? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        // Safe because: the caller checked bytes.byteCount >= 15, so bytes 2 ..< 10 and 7 ..< 15 are inside.
        let id = UInt64(littleEndian: unsafe bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: 2, as: UInt64.self))
        let tail = UInt64(littleEndian: unsafe bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: 7, as: UInt64.self))
        // A byte of the id equal to `|` becomes 0 here, and a word has a zero byte exactly when this test is nonzero.
        let pipes = id ^ (ones &* 0x7C)
        let idHasPipe = (pipes &- ones) & ~pipes & highBits != 0
        // Bytes 10 ... 14, low first: `|`, three digits, `|` leave 0, d, d, d, 0. A digit byte is 0...9, and adding
        // 0x76 sets bit 7 of any other (a byte of 0x8A or more carries, but has bit 7 already).
        let d = (tail >> 24) ^ 0x7C_3030_307C
        let digits = d & 0x00_FFFF_FF00
        let shapeIsUsual = d & 0xFF_0000_00FF == 0 && (digits | (digits &+ 0x00_7676_7600)) & 0x00_8080_8000 == 0
        let records = Int((d >> 8) & 0xFF) &* 100 &+ Int((d >> 16) & 0xFF) &* 10 &+ Int((d >> 24) & 0xFF)
        guard !idHasPipe && shapeIsUsual && records > 0 else { return nil }
        return DataFrameHeader(encrypted: encrypted, trID: TRID(rawValue: id), recordCount: records, payloadStart: 15)
    }
}

/// Turns KIS WebSocket text messages into control messages and fixed-layout records, in place.
///
/// One decoder serves one WebSocket session: the key and iv of the session's subscribe ack are kept for the
/// encrypted frames that follow. Thread-confined.
public struct FeedDecoder: ~Copyable {
    private var cipher: NoticeCipher
    private var clock = ExchangeClock()
    private var fields = FieldMap()

    public init() throws(CryptoError) {
        self.cipher = try NoticeCipher()
    }

    /// Whether an ack has supplied the session's key and iv.
    public var hasKey: Bool { self.cipher.hasKey }

    /// Decodes one message, exactly as it came off the socket.
    ///
    /// Encrypted payloads are decrypted in `message` itself, so the bytes are changed. When a record of a
    /// multi-record frame is malformed, the others still reach the sink and the first bad one is thrown.
    ///
    /// - Parameters:
    ///   - message: one WebSocket text message.
    ///   - localTs: its receive time, nanoseconds since the Unix epoch; stamped on every record.
    ///   - sink: receives the records.
    /// - Throws: `FeedError` for a message to count and skip.
    /// - Complexity: O(n); no allocation.
    public mutating func decode<Sink: FeedSink>(
        _ message: UnsafeMutableRawBufferPointer,
        localTs: Int64,
        into sink: inout Sink
    ) throws(FeedError) -> DecodedMessage {
        guard message.count > 0 else { throw .format(.emptyMessage) }
        let first = unsafe message.load(as: UInt8.self)
        if first == UInt8(ascii: "{") {
            return try unsafe self.decodeControl(UnsafeRawBufferPointer(message))
        }
        let header: DataFrameHeader
        do {
            header = try unsafe DataFrameHeader.parse(UnsafeRawBufferPointer(message).bytes)
        } catch {
            throw .format(error)
        }
        var end = message.count
        if header.encrypted {
            let payload = unsafe UnsafeMutableRawBufferPointer(rebasing: message[header.payloadStart...])
            do {
                end = header.payloadStart + (try unsafe self.cipher.decryptBase64InPlace(payload))
            } catch {
                throw .decrypt(error)
            }
        }
        let decoded: Bool
        do {
            decoded = try unsafe self.decodeRecords(
                UnsafeRawBufferPointer(rebasing: message[0..<end]).bytes,
                header: header,
                localTs: localTs,
                into: &sink
            )
        } catch {
            throw .format(error)
        }
        // Built here rather than returned from decodeRecords: the enum is as large as a ControlMessage, and each
        // hand-over of it is a copy.
        return decoded
            ? .records(tr: header.trID, count: header.recordCount)
            : .unsupported(tr: header.trID, count: header.recordCount)
    }

    private mutating func decodeControl(_ message: UnsafeRawBufferPointer) throws(FeedError) -> DecodedMessage {
        let bytes = unsafe message.bytes
        let control: ControlMessage
        do {
            control = try ControlMessage.parse(bytes, start: 0, end: bytes.byteCount)
        } catch {
            throw .format(error)
        }
        if control.isSuccess, let key = control.key, let iv = control.iv {
            do {
                try self.cipher.setKey(bytes.extracting(key), iv: bytes.extracting(iv))
            } catch {
                throw .decrypt(error)
            }
        }
        return .control(control)
    }

    /// Hands the records of a data frame to `sink`; false for a well-formed frame of a TR we do not decode.
    private mutating func decodeRecords<Sink: FeedSink>(
        _ bytes: RawSpan,
        header: DataFrameHeader,
        localTs: Int64,
        into sink: inout Sink
    ) throws(KISFormatError) -> Bool {
        let start = header.payloadStart
        let end = bytes.byteCount
        guard end > start else { throw .emptyPayload }
        let fields = self.fields.map(bytes, start: start, end: end)
        guard fields % header.recordCount == 0 else {
            throw .fieldCountNotMultiple(fields: fields, records: header.recordCount)
        }
        let width = fields / header.recordCount
        let tr = header.trID
        guard let kind = Self.kind(tr) else { return false }
        let required =
            switch kind {
            case .trade: RecordLayout.tradeFields
            case .book: RecordLayout.bookFields
            case .notice: RecordLayout.noticeFields
            case .status: RecordLayout.statusFields
            }
        guard width >= required else { throw .tooFewFields(tr: tr, width: width, required: required) }

        let venue = Self.venue(tr)
        var scan = FieldScanner(map: self.fields)
        var firstBad: Int?
        for record in 0..<header.recordCount {
            if record > 0 { scan.advance(by: width) }
            scan.bad = false
            switch kind {
            case .trade:
                let trade = RecordLayout.decodeTrade(bytes, &scan, localTs: localTs, venue: venue, clock: &self.clock)
                if !scan.bad { sink.trade(trade) }
            case .book:
                let book = RecordLayout.decodeBook(bytes, &scan, localTs: localTs, venue: venue, clock: &self.clock)
                if !scan.bad { sink.book(book) }
            case .notice:
                let notice = RecordLayout.decodeNotice(bytes, &scan, localTs: localTs, clock: &self.clock)
                if !scan.bad { sink.notice(notice) }
            case .status:
                let status = RecordLayout.decodeStatus(bytes, &scan, width: width, localTs: localTs, venue: venue)
                if !scan.bad { sink.marketStatus(status) }
            }
            if scan.bad && firstBad == nil { firstBad = record }
        }
        if let record = firstBad {
            var diagnosis = DiagnosingReader(FieldScanner(map: self.fields, first: record * width))
            switch kind {
            case .trade:
                _ = RecordLayout.decodeTrade(bytes, &diagnosis, localTs: localTs, venue: venue, clock: &self.clock)
            case .book:
                _ = RecordLayout.decodeBook(bytes, &diagnosis, localTs: localTs, venue: venue, clock: &self.clock)
            case .notice: _ = RecordLayout.decodeNotice(bytes, &diagnosis, localTs: localTs, clock: &self.clock)
            case .status:
                _ = RecordLayout.decodeStatus(bytes, &diagnosis, width: width, localTs: localTs, venue: venue)
            }
            throw .badField(tr: tr, record: record, field: diagnosis.firstBadField ?? 0)
        }
        return true
    }

    private enum RecordKind {
        case trade, book, notice, status
    }

    @inline(__always)
    private static func kind(_ tr: TRID) -> RecordKind? {
        switch tr {
        case .h0stcnt0, .h0nxcnt0, .h0uncnt0: .trade
        case .h0stasp0, .h0nxasp0, .h0unasp0: .book
        case .h0stcni0, .h0stcni9: .notice
        case .h0stmko0, .h0nxmko0, .h0unmko0: .status
        default: nil
        }
    }

    /// The TR family names the market: `H0ST…` KRX, `H0NX…` NXT, `H0UN…` combined.
    @inline(__always)
    private static func venue(_ tr: TRID) -> Venue {
        // Bytes 2 and 3 of the id, packed little-endian.
        switch tr.rawValue >> 16 & 0xFFFF {
        case UInt64(UInt8(ascii: "N")) | UInt64(UInt8(ascii: "X")) << 8: .nxt
        case UInt64(UInt8(ascii: "U")) | UInt64(UInt8(ascii: "N")) << 8: .combined
        default: .krx
        }
    }
}

/// Keeps every record it receives, in arrays: for tools, tests and exports, never for the hot path.
public struct RecordCollector: FeedSink {
    public var trades: [Trade] = []
    public var books: [Book] = []
    public var notices: [Notice] = []
    public var statuses: [MarketStatus] = []

    public init() {}

    public mutating func trade(_ trade: Trade) { self.trades.append(trade) }
    public mutating func book(_ book: Book) { self.books.append(book) }
    public mutating func notice(_ notice: Notice) { self.notices.append(notice) }
    public mutating func marketStatus(_ status: MarketStatus) { self.statuses.append(status) }
}
