import Capture
import Feed
import Foundation
import TestVectors
import Testing
import TickCore

/// Message files (`[RECEIVE_NS<TAB>]MESSAGE` lines): the streaming reader, decoding them, importing them into a
/// capture, and exporting a capture's records.
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
            MessageFileReader(path: path),
            decoder: &decoder,
            into: &sink,
            defaultLocalNs: marketOpenNs,
            tally: &tally
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

    /// The receive time the importer gives a line without a time column: its first record's exchange time, 1 µs
    /// per earlier message of that second.
    static func exchangeSecond(_ line: String, date: UInt32) -> Int64? {
        let parts = line.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "0" else { return nil }
        let fields = parts[3].split(separator: "^", omittingEmptySubsequences: false)
        let day = parts[1] == "H0STCNT0" ? UInt32(fields[33])! : date
        return KST.epochSeconds(date: day, time: UInt32(fields[1])!)
    }

    @Test func importKeepsMessagesAndGivesThemTimes() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // Books first: their date comes from the first trade, further down.
        let messages = try Vectors.lines(Vectors.books) + Vectors.lines(Vectors.acks) + Vectors.lines(Vectors.trades)
        let given: Int64 = marketOpenNs + 123
        var lines = messages
        lines[6] = "\(given)\t" + messages[6]
        let input = folder.file("in.txt")
        try lines.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let output = folder.file("out.kcap")
        var options = CaptureImport.Options()
        options.environment = "sim"
        let summary = try CaptureImport.run(input: input, output: output, options: options)

        // The expected times, computed the slow way.
        var expected: [Int64] = []
        var second = Int64.min
        var rank: Int64 = 0
        for (index, message) in messages.enumerated() {
            if index == 6 {
                expected.append(given)
                second = Int64.min
            } else if let seconds = Self.exchangeSecond(message, date: 20_260_608) {
                rank = seconds == second ? rank + 1 : 0
                second = seconds
                expected.append(seconds * 1_000_000_000 + rank * 1_000)
            } else {
                expected.append(expected.last! + 1_000)
            }
        }
        let (records, end) = try readAll(output)
        #expect(end == .complete)
        #expect(records.map(\.kind) == Array(repeating: .message, count: messages.count))
        #expect(records.map(\.bytes) == messages.map { Array($0.utf8) })
        #expect(records.map(\.localNs) == expected)
        #expect(summary.messages == messages.count && summary.timesGiven == 1)
        #expect(summary.timesFromExchange == 9 && summary.paths == [output])
        let header = try CaptureReader(path: output).header
        #expect(header.codes == ["005930"] && header.trIDs == ["H0STASP0", "H0STCNT0"])
        #expect(header.environment == "sim" && header.startNs == expected[0])
    }

    @Test func importRefusesAnExistingOutputAndBadLines() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let input = folder.file("in.txt")
        let trades = try Vectors.lines(Vectors.trades)
        try trades.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let output = folder.file("out.kcap")
        try "keep me".write(toFile: output, atomically: true, encoding: .utf8)
        #expect(throws: CaptureError(path: output, reason: .exists)) {
            try CaptureImport.run(input: input, output: output)
        }
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "keep me")
        var replacing = CaptureImport.Options()
        replacing.replacing = true
        #expect(try CaptureImport.run(input: input, output: output, options: replacing).messages == 4)

        let bad = folder.file("bad.txt")
        try (Vectors.lines(Vectors.trades) + ["", "H0STCNT0 is not a frame"]).joined(separator: "\n")
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let absent = folder.file("absent.kcap")
        #expect(throws: CaptureError.self) { try CaptureImport.run(input: bad, output: absent) }
        do {
            _ = try CaptureImport.run(input: bad, output: absent)
        } catch {
            guard case .badLine(6, let why) = error.reason else {
                Issue.record("expected line 6 named, got \(error)")
                return
            }
            #expect(why.hasPrefix("not a KIS message"))
        }
        #expect(!FileManager.default.fileExists(atPath: absent))
    }

    @Test func booksBeforeAnyTradeNeedADate() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let input = folder.file("books.txt")
        try Vectors.lines(Vectors.books).joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        #expect(throws: CaptureError.self) { try CaptureImport.run(input: input, output: folder.file("a.kcap")) }
        var options = CaptureImport.Options()
        options.date = 20_260_608
        let summary = try CaptureImport.run(input: input, output: folder.file("b.kcap"), options: options)
        let first = try #require(Self.exchangeSecond(try Vectors.lines(Vectors.books)[0], date: 20_260_608))
        #expect(summary.firstNs == first * 1_000_000_000)
    }

    @Test func exportWritesTradesBooksAndBars() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let input = folder.file("in.txt")
        let lines = try Vectors.lines(Vectors.trades) + Vectors.lines(Vectors.books)
        try lines.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let capture = folder.file("in.kcap")
        _ = try CaptureImport.run(input: input, output: capture)
        let summary = try CaptureExport.run(capture: capture, format: .csv, prefix: folder.file("out"))
        #expect(summary.malformed == 0 && summary.end == .complete)
        #expect(summary.paths == ["trades", "books", "bars"].map { folder.file("out.\($0).csv") })
        func rows(_ path: String) throws -> [String] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        #expect(try rows(summary.paths[0]).count == 1 + 16)
        #expect(try rows(summary.paths[1]).count == 1 + 5)
        let bars = try rows(summary.paths[2])
        #expect(bars.count >= 2 && bars.dropFirst().allSatisfy { $0.hasPrefix("005930,") })
    }
}
