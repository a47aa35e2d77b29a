import Feed
import Foundation
import TickCore
import Wire

/// Real KIS traffic from ../shared/kis/vectors, loaded once.
public enum Fixtures {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/kis/vectors")

    static func lines(_ name: String) -> [[UInt8]] {
        let url = Self.vectors.appendingPathComponent(name)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            fatalError("cannot read \(url.path): the benchmarks need ../shared/kis/vectors")
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
        var stream: [UInt8] = []
        let messages = Self.tradeFrames + Self.bookFrames
        for message in messages {
            stream.append(0x81)
            if message.count < 126 {
                stream.append(UInt8(message.count))
            } else {
                stream += [126, UInt8(message.count >> 8), UInt8(message.count & 0xFF)]
            }
            stream += message
        }
        return (stream, messages.count)
    }()

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
}
