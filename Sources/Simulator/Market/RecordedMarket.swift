import Capture
import Feed
import TickCore

/// A capture's market data, loaded for the simulator to send again: `kistick sim --capture`, so a recorded day can
/// be traded again through the full network path.
///
/// It keeps the plaintext trade (H0STCNT0) and book (H0STASP0) frames byte for byte, with their receive times
/// relative to the capture's start and their decoded records (what client orders match against). Encrypted
/// notices, acks and PINGPONGs are left out: the simulator answers subscriptions and sends notices of its own.
public struct RecordedMarket: Sendable {
    /// One recorded data frame.
    public struct Frame: Sendable {
        /// Receive time, nanoseconds after the capture's start.
        public var offsetNs: Int64
        /// The code of the frame's records (a KIS data frame carries one code's records).
        public var code: String
        /// The message as received.
        public var bytes: [UInt8]
        /// Its trades (empty for a book frame).
        var trades: [Trade]
        /// Its book, for a book frame.
        var book: Book?
    }

    /// The capture's codes, in its header's order.
    public let codes: [String]
    /// Data frames in receive order.
    public let frames: [Frame]
    /// The capture header's note (`paper --capture` writes the market speed it recorded at there).
    public let note: String
    /// The previous close of each code (a trade's price less its change), from its first trade; nil for a code
    /// that never traded in the capture.
    let previousClose: [String: Int64]

    /// Loads the data frames of the capture at `path`.
    /// - Throws: `CaptureError` for a file that does not open or read; a frame that does not decode is skipped
    ///   (the replay skips it too).
    public init(path: String) throws {
        let reader = try CaptureReader(path: path)
        let start = reader.header.startNs
        var frames: [Frame] = []
        var decoder = try FeedDecoder()
        var closes: [String: Int64] = [:]
        _ = reader.read { message in
            guard message.kind == .message, message.bytes.count > 2, message.bytes[0] == UInt8(ascii: "0") else {
                return
            }
            let bytes = Array(UnsafeRawBufferPointer(message.bytes))
            var sink = FrameSink()
            var copy = bytes
            let decoded = copy.withUnsafeMutableBytes { buffer in
                try? decoder.decode(buffer, localTs: message.localNs, into: &sink)
            }
            guard case .records? = decoded, let code = sink.trades.first?.code ?? sink.book?.code else { return }
            let text = code.description
            if let first = sink.trades.first, closes[text] == nil {
                closes[text] = Int64(first.price) - Int64(first.change)
            }
            frames.append(
                Frame(offsetNs: message.localNs - start, code: text, bytes: bytes, trades: sink.trades, book: sink.book)
            )
        }
        self.codes = reader.header.codes
        self.note = reader.header.note
        self.frames = frames
        self.previousClose = closes
    }

    private struct FrameSink: FeedSink {
        var trades: [Trade] = []
        var book: Book?

        mutating func trade(_ trade: Trade) { self.trades.append(trade) }
        mutating func book(_ book: Book) { self.book = book }
        mutating func notice(_ notice: Notice) {}
    }
}
