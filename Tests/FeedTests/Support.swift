import Feed
import Foundation
import TestVectors
import TickCore

/// 2026-06-08 11:48:30 KST, just after the vectors were captured.
let captureTime: Int64 = 1_780_886_910 * 1_000_000_000

/// A data frame split the slow, obvious way, as the reference the decoder is checked against.
struct ReferenceFrame {
    var encrypted: String
    var trID: String
    var count: Int
    var fields: [String]

    init(_ line: String) {
        let parts = line.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        self.encrypted = parts[0]
        self.trID = parts[1]
        self.count = Int(parts[2])!
        self.fields = parts[3].split(separator: "^", omittingEmptySubsequences: false).map(String.init)
    }

    var width: Int { self.fields.count / self.count }

    func record(_ i: Int) -> [String] { Array(self.fields[(i * self.width)..<((i + 1) * self.width)]) }

    var line: String {
        "\(self.encrypted)|\(self.trID)|\(String(format: "%03d", self.count))|" + self.fields.joined(separator: "^")
    }

    /// The same frame with `extra` appended to every record, as KIS did in 2025 and 2026.
    func widened(by extra: [String]) -> ReferenceFrame {
        var copy = self
        copy.fields = (0..<self.count).flatMap { self.record($0) + extra }
        return copy
    }
}

extension Array where Element == String {
    func int(_ i: Int) -> Int64 { Int64(self[i])! }
    func int32(_ i: Int) -> Int32 { Int32(self[i])! }

    /// "303993.34" → 30399334, by string surgery rather than arithmetic on a Double.
    func hundredths(_ i: Int) -> Int32 {
        let text = self[i]
        let negative = text.hasPrefix("-")
        let parts = text.drop { $0 == "-" || $0 == "+" }.split(separator: ".", omittingEmptySubsequences: false)
        let whole = Int32(parts[0])!
        let fraction =
            parts.count > 1 ? Int32(String(parts[1].prefix(2)).padding(toLength: 2, withPad: "0", startingAt: 0))! : 0
        return (negative ? -1 : 1) * (whole * 100 + fraction)
    }

    func ascii(_ i: Int) -> UInt64 { PackedASCII(self[i])!.rawValue }
}

extension FeedDecoder {
    /// Decodes `line` from a copy (decoding may decrypt in place).
    mutating func decode(
        _ line: String,
        into sink: inout RecordCollector,
        localTs: Int64 = captureTime
    ) -> Result<
        DecodedMessage, FeedError
    > {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(FeedError) -> DecodedMessage in try self.decode(buffer, localTs: localTs, into: &sink) }
        }
    }

    /// The text of a range in `line`.
    static func text(_ range: Range<Int>?, in line: String) -> String? {
        range.map { String(decoding: Array(line.utf8)[$0], as: UTF8.self) }
    }
}
