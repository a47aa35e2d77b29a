import Feed
import Foundation
import TickCore
import Wire

/// Real KIS traffic from the root package's Tests/Fixtures/kis, loaded once.
public enum Fixtures {
    /// Benchmarks/Sources/Fixtures/Fixtures.swift, four levels below the root package.
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Fixtures/kis")

    static func lines(_ name: String) -> [[UInt8]] {
        let url = Self.vectors.appendingPathComponent(name)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            fatalError("cannot read \(url.path): the benchmarks need Tests/Fixtures/kis")
        }
        return text.split(separator: "\n").map { Array($0.utf8) }
    }

    /// The four real multi-record H0STCNT0 frames (5, 2, 5 and 4 records).
    public static let tradeFrames = Self.lines("hoga-ops_h0stcnt0_20260608_first4frames.txt")
    public static let tradeRecords = 16

    /// Five real H0STASP0 frames, 62 fields each.
    public static let bookFrames = Self.lines("hoga-ops_h0stasp0_20260608_first5frames.txt")

    /// The synthetic encrypted H0STCNI9 notice and the ack that carries its key.
    public static let notice: (ack: [UInt8], frame: [UInt8], key: String, iv: String) = {
        let url = Self.vectors.appendingPathComponent("synthetic_aes_h0stcni9_vector.json")
        guard let data = try? Data(contentsOf: url),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let ack = json["ack"], let ackData = try? JSONSerialization.data(withJSONObject: ack),
            let frame = json["frame"] as? String, let key = json["key"] as? String, let iv = json["iv"] as? String
        else { fatalError("cannot read the synthetic AES vector in \(Self.vectors.path)") }
        return ([UInt8](ackData), Array(frame.utf8), key, iv)
    }()

    /// The trade and book frames as a server would send them: unmasked WebSocket text frames, back to back.
    public static let webSocketStream: (bytes: [UInt8], frames: Int) = {
        let messages = Self.tradeFrames + Self.bookFrames
        return (messages.flatMap(Self.webSocketFrame), messages.count)
    }()

    /// `message` as one unmasked WebSocket text frame, as a server sends it.
    public static func webSocketFrame(_ message: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [0x81]
        if message.count < 126 {
            frame.append(UInt8(message.count))
        } else {
            frame += [126, UInt8(message.count >> 8), UInt8(message.count & 0xFF)]
        }
        return frame + message
    }

    /// The ten codes of `marketStream`.
    public static let streamCodes = [
        "005930", "000660", "005380", "035420", "035720", "051910", "006400", "068270", "105560", "055550",
    ]

    /// A session of the real H0STCNT0 and H0STASP0 frames, one WebSocket frame per message, their code and time
    /// fields rewritten so ten codes trade through a rising clock from 09:01 (2,000 records per market second, two
    /// trade frames for each book frame).
    public static func marketStream(records wanted: Int) -> (frames: [[UInt8]], records: Int) {
        var frames: [[UInt8]] = []
        var records = 0
        var index = 0
        while records < wanted {
            let isBook = index % 3 == 2
            let template =
                isBook
                ? Self.bookFrames[index % Self.bookFrames.count] : Self.tradeFrames[index % Self.tradeFrames.count]
            let second = 9 * 3600 + 60 + records / 2_000
            let time = String(format: "%02d%02d%02d", second / 3600, second / 60 % 60, second % 60)
            let (message, count) = Self.rewrite(
                template,
                code: Self.streamCodes[index % Self.streamCodes.count],
                time: time
            )
            frames.append(Self.webSocketFrame(message))
            records += count
            index += 1
        }
        return (frames, records)
    }

    /// Frames packed back to back into reads of at most `size` bytes, as a socket delivers them.
    public static func socketReads(_ frames: [[UInt8]], size: Int = 16_384) -> [[UInt8]] {
        var reads: [[UInt8]] = []
        var read: [UInt8] = []
        for frame in frames {
            if read.count + frame.count > size {
                reads.append(read)
                read = []
            }
            read += frame
        }
        reads.append(read)
        return reads
    }

    /// `0|TR|NNN|f0^f1^…`: field 0 (code) and field 1 (time) of each of the NNN records replaced.
    static func rewrite(_ message: [UInt8], code: String, time: String) -> ([UInt8], Int) {
        let text = String(decoding: message, as: UTF8.self)
        let parts = text.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
        let count = Int(parts[2])!
        var fields = parts[3].split(separator: "^", omittingEmptySubsequences: false).map(String.init)
        let perRecord = fields.count / count
        for record in 0..<count {
            fields[record * perRecord] = code
            fields[record * perRecord + 1] = time
        }
        return (Array("\(parts[0])|\(parts[1])|\(parts[2])|\(fields.joined(separator: "^"))".utf8), count)
    }

    /// 2026-06-08 11:48:30 KST, when the vectors were captured.
    public static let localTs: Int64 = 1_780_886_910 * 1_000_000_000
}

/// Sums what it receives so the optimiser cannot drop the decoding.
public struct ChecksumSink: FeedSink {
    public var checksum: Int64 = 0
    public var records = 0

    public init() {}

    public mutating func trade(_ trade: Trade) {
        self.records += 1
        self.checksum &+= Int64(trade.price) &+ trade.cumulativeVolume
    }

    public mutating func book(_ book: Book) {
        self.records += 1
        self.checksum &+= Int64(book.totalAskQuantity) &+ book.cumulativeVolume
    }

    public mutating func notice(_ notice: Notice) {
        self.records += 1
        self.checksum &+= Int64(notice.quantity)
    }

    public mutating func marketStatus(_ status: MarketStatus) {
        self.records += 1
        self.checksum &+= Int64(status.sessionClass)
    }
}
