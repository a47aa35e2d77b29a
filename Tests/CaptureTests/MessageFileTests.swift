import Capture
import Feed
import Foundation
import TestVectors
import Testing
import TickCore

/// Message files (`[RECEIVE_NS<TAB>]MESSAGE` lines): the streaming reader and decoding them.
@Suite("Message files")
struct MessageFileTests {
    /// The real acks, trade frames and book frames, in that order.
    static func vectorLines() throws -> [String] {
        try Vectors.lines(Vectors.acks) + Vectors.lines(Vectors.trades) + Vectors.lines(Vectors.books)
    }

    /// Every line back, with its number and time column, whatever the buffer's size and the line endings.
    @Test(arguments: [7, 64, 1 << 20])
    func readerSplitsLinesAcrossRefills(bufferBytes: Int) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let messages = try Self.vectorLines()
        var text = ""
        var expected: [(number: Int, localNs: Int64?, message: String)] = []
        var number = 0
        for (index, message) in messages.enumerated() {
            // Blank lines are skipped but counted; a CRLF ending is the same as LF.
            if index % 4 == 1 {
                text += "\n"
                number += 1
            }
            let time: Int64? = index % 3 == 0 ? nil : marketOpenNs + Int64(index) * (index % 2 == 0 ? 1 : -1)
            text += (time.map { "\($0)\t" } ?? "") + message + (index % 5 == 2 ? "\r\n" : "\n")
            number += 1
            expected.append((number, time, message))
        }
        // The last line has no line ending.
        text += "-42\tlast"
        expected.append((number + 1, -42, "last"))
        let path = folder.file("lines.txt")
        try text.write(toFile: path, atomically: true, encoding: .utf8)

        let reader = try MessageFileReader(path: path, bufferBytes: bufferBytes)
        var read: [(number: Int, localNs: Int64?, message: String)] = []
        while let line = try reader.next() {
            let message = String(decoding: UnsafeRawBufferPointer(line.message), as: UTF8.self)
            read.append((line.number, line.localNs, message))
        }
        #expect(read.map(\.number) == expected.map(\.number))
        #expect(read.map(\.localNs) == expected.map(\.localNs))
        #expect(read.map(\.message) == expected.map(\.message))
        #expect(reader.bytesRead == text.utf8.count)
    }

    @Test func anOutOfRangeTimeColumnNamesItsLine() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.file("bad.txt")
        try "1\t{}\n\n99999999999999999999\t{}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try MessageFileReader(path: path)
        #expect(try reader.next()?.localNs == 1)
        #expect(throws: CaptureError(path: path, reason: .badLine(3, "the receive time is out of range"))) {
            _ = try reader.next()
        }
    }

    @Test func decodingCountsEveryOutcomeAndNamesBadLines() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.file("decode.txt")
        let lines = try Self.vectorLines() + ["0|H0STCNT0|001|not^a^trade"]
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var decoder = try FeedDecoder()
        var sink = CountingSink(DiscardingSink())
        var tally = DecodeTally()
        var bad: [Int] = []
        try MessageDecoding.pass(
            MessageFileReader(path: path), decoder: &decoder, into: &sink, defaultLocalNs: marketOpenNs, tally: &tally
        ) { line, outcome in
            if case .failure = outcome { bad.append(line.number) }
        }
        tally.add(sink)
        #expect(tally.messages == lines.count)
        #expect(tally.trades == 16 && tally.books == 5 && tally.notices == 0)
        #expect(tally.acks == 3)
        #expect(tally.malformed == 1 && bad == [lines.count])
        #expect(tally.skipped == ["format.tooFewFields": 1])
    }
}
