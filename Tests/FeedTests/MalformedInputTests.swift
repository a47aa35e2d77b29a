import Feed
import Foundation
import TestVectors
import Testing
import TickCore

/// Schema drift and bad input: typed errors, never a crash, and good records still delivered.
@Suite struct MalformedInputTests {
    static func firstTradeFrame() throws -> ReferenceFrame {
        ReferenceFrame(try Vectors.lines(Vectors.trades)[0])
    }

    @Test func extraTrailingFieldsAreTolerated() throws {
        var decoder = try FeedDecoder()
        for line in try Vectors.lines(Vectors.trades) + Vectors.lines(Vectors.books) {
            let reference = ReferenceFrame(line)
            var plain = RecordCollector()
            _ = try decoder.decode(line, into: &plain).get()
            for extra in [["2"], ["EXTRA1", "", "7"]] {
                var wide = RecordCollector()
                let widened = reference.widened(by: extra)
                let result = try decoder.decode(widened.line, into: &wide).get()
                #expect(result == .records(tr: TRID(reference.trID)!, count: reference.count))
                #expect(wide.trades == plain.trades)
                #expect(wide.books.map(\.totalAskQuantity) == plain.books.map(\.totalAskQuantity))
                #expect(wide.books.map(\.cumulativeVolume) == plain.books.map(\.cumulativeVolume))
            }
        }
    }

    @Test func twentyRecordFramesDecode() throws {
        let frames = try Vectors.lines(Vectors.trades).map(ReferenceFrame.init)
        var big = frames[0]
        big.fields = frames.flatMap(\.fields) + frames[0].fields
        big.count = big.fields.count / 46
        #expect(big.count == 21)
        big.fields = Array(big.fields.prefix(20 * 46))
        big.count = 20
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        let result = try decoder.decode(big.line, into: &sink).get()
        #expect(result == .records(tr: .h0stcnt0, count: 20))
        #expect(sink.trades.count == 20)
    }

    @Test func tooFewFieldsIsATypedError() throws {
        let reference = try Self.firstTradeFrame()
        var narrow = reference
        narrow.fields = (0..<reference.count).flatMap { reference.record($0).dropLast() }
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        let result = decoder.decode(narrow.line, into: &sink)
        #expect(result == .failure(.format(.tooFewFields(tr: .h0stcnt0, width: 45, required: 46))))
        #expect(sink.trades.isEmpty)
    }

    @Test func fieldCountMustDivideByRecordCount() throws {
        var frame = try Self.firstTradeFrame()
        frame.fields.removeLast()
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        let result = decoder.decode(frame.line, into: &sink)
        #expect(result == .failure(.format(.fieldCountNotMultiple(fields: 229, records: 5))))
    }

    /// A bad record is reported by position; the frame's other records are real trades and still arrive.
    @Test(arguments: [
        (2, "31x000", 2), (13, "-5", 13), (6, "1.2.3", 6), (18, "abc", 18), (35, "X", 35),
        (33, "20261332", 33), (1, "256000", 1), (0, "", 0), (2, "0", 2), (12, "99999999999", 12),
        (14, "12345678901234567890", 14), (21, "123", 21), (4, "-", 4), (4, "+", 4), (6, "-", 6), (6, "12.", 6),
        (4, "--5", 4), (45, "1e5", 45),
    ])
    func badFieldNamesRecordAndField(field: Int, value: String, reported: Int) throws {
        var frame = try Self.firstTradeFrame()
        frame.fields[2 * 46 + field] = value
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        let result = decoder.decode(frame.line, into: &sink)
        #expect(result == .failure(.format(.badField(tr: .h0stcnt0, record: 2, field: reported))))
        #expect(sink.trades.count == 4)
        #expect(sink.trades.map(\.cumulativeVolume) == [0, 1, 3, 4].map { frame.record($0).int(13) })
    }

    @Test(arguments: [
        ("", FeedError.format(.emptyMessage)),
        ("2|H0STCNT0|001|005930", .format(.unknownMessageStart(UInt8(ascii: "2")))),
        ("H0STCNT0|001|005930", .format(.unknownMessageStart(UInt8(ascii: "H")))),
        ("0H0STCNT0|001|x", .format(.missingSeparator)),
        ("0|H0STCNT0", .format(.missingSeparator)),
        ("0|H0STCNT0|001", .format(.missingSeparator)),
        ("0||001|x", .format(.badTRID)),
        ("0|H0STCNT0X|001|x", .format(.badTRID)),
        ("0|H0STCNT0|0x1|x", .format(.badRecordCount)),
        ("0|H0STCNT0|000|x", .format(.badRecordCount)),
        ("0|H0STCNT0||x", .format(.badRecordCount)),
        ("0|H0STCNT0|12345|x", .format(.badRecordCount)),
        ("0|H0STCNT0|001|", .format(.emptyPayload)),
        ("0|H0STCNT0|002|a^b^c", .format(.fieldCountNotMultiple(fields: 3, records: 2))),
        ("{\"header\":", .format(.badJSON(offset: 10))),
        ("{\"header\":{}}x", .format(.badJSON(offset: 13))),
        ("{\"a\":[1,2,}", .format(.badJSON(offset: 10))),
        ("{\"a\":\"unterminated}", .format(.badJSON(offset: 19))),
        (
            String(repeating: "{\"a\":", count: 40) + "1" + String(repeating: "}", count: 40),
            .format(.badJSON(offset: 80))
        ),
        ("1|H0STCNI9|001|AAAA", .decrypt(.noKey)),
    ])
    func malformedMessages(line: String, expected: FeedError) throws {
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        let result = decoder.decode(line, into: &sink)
        #expect(result == .failure(expected))
    }

    /// The word-at-a-time read of the usual `F|TTTTTTTT|NNN|` prefix against parse's byte loops, which alone read the
    /// same header with its count written in four digits: the same result (the payload one byte later, when the id
    /// has eight bytes), or the same error. Ids drawn from an alphabet with `|` in it put the separator at every place.
    @Test func usualHeaderReadsAsTheByteLoopsDo() {
        var random = SplitMix64(seed: 15)
        let alphabet = Array("H0STCNI9|AP".utf8)
        for _ in 0..<3_000 {
            let id = (0..<8).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            let count = Array("\(1000 + random.next() % 1000)".utf8.dropFirst())
            let flag = Array((random.next() % 2 == 0 ? "0|" : "1|").utf8)
            let usual = flag + id + [UInt8(ascii: "|")] + count + Array("|x".utf8)
            let fourDigits = flag + id + Array("|0".utf8) + count + Array("|x".utf8)
            let fast = usual.withUnsafeBytes { bytes in
                Result { () throws(KISFormatError) in
                    try DataFrameHeader.parse(bytes.bytes)
                }
            }
            let slow = fourDigits.withUnsafeBytes { bytes in
                Result { () throws(KISFormatError) in
                    try DataFrameHeader.parse(bytes.bytes)
                }
            }
            switch (fast, slow) {
            case (.success(let a), .success(var b)):
                // Only the eight-byte id's count moved; a `|` inside the id leaves the count where it was.
                if a.payloadStart == 15 { b.payloadStart -= 1 }
                #expect(a == b, "\(String(decoding: usual, as: UTF8.self))")
            default:
                #expect(fast.map(\.trID) == slow.map(\.trID), "\(String(decoding: usual, as: UTF8.self))")
            }
        }
    }

    /// Found by the fuzzer: negating the magnitude of Int64.min trapped instead of marking the field bad.
    @Test(arguments: [
        ("0|H0STASP0|1|^^^-9223372036854775808" + String(repeating: "^", count: 55), 3),
        (
            "0|H0STASP0|1|" + String(repeating: "^", count: 50) + "-9223372036854775808"
                + String(repeating: "^", count: 8), 50
        ),
        ("0|H0STCNT0|1|^^^^^^-92233720368547758.08" + String(repeating: "^", count: 39), 6),
    ])
    func extremeNegativeNumbersAreBadFields(line: String, field: Int) throws {
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        let result = decoder.decode(line, into: &sink)
        guard case .failure(.format(.badField(_, 0, let reported))) = result else {
            Issue.record("expected a bad field, got \(result)")
            return
        }
        #expect(reported == field)
    }

    @Test func unsupportedTRsAreRecognisedButNotDecoded() throws {
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        let fields = (0..<78).map { "\($0)" }.joined(separator: "^")
        let result = try decoder.decode("0|H0STMBC0|001|" + fields, into: &sink).get()
        #expect(result == .unsupported(tr: TRID("H0STMBC0")!, count: 1))
    }

    @Test func nxtAndCombinedTradesNameTheirVenue() throws {
        let line = try Vectors.lines(Vectors.trades)[0]
        var decoder = try FeedDecoder()
        for (tr, venue) in [("H0NXCNT0", Venue.nxt), ("H0UNCNT0", .combined)] {
            var sink = RecordCollector()
            _ = try decoder.decode(line.replacingOccurrences(of: "H0STCNT0", with: tr), into: &sink).get()
            #expect(sink.trades.count == 5)
            #expect(sink.trades.allSatisfy { $0.venue == venue })
        }
    }

    /// Every prefix of every vector line, and every single-byte corruption of one: a typed result, never a crash.
    @Test func truncatedAndCorruptedFramesNeverCrash() throws {
        var decoder = try FeedDecoder()
        var outcomes = 0
        let lines =
            try Vectors.lines(Vectors.acks) + Vectors.lines(Vectors.trades).prefix(1)
            + Vectors.lines(Vectors.books).prefix(1)
        for line in lines {
            let bytes = Array(line.utf8)
            for cut in 0..<bytes.count {
                var sink = RecordCollector()
                _ = decoder.decode(String(decoding: bytes[..<cut], as: UTF8.self), into: &sink)
                outcomes += 1
            }
            for position in stride(from: 0, to: bytes.count, by: 3) {
                for replacement in [UInt8(ascii: "^"), UInt8(ascii: "|"), UInt8(ascii: "-"), 0xFF, 0] {
                    var corrupt = bytes
                    corrupt[position] = replacement
                    var sink = RecordCollector()
                    var copy = corrupt
                    _ = copy.withUnsafeMutableBytes { buffer in
                        Result { () throws(FeedError) -> DecodedMessage in
                            try decoder.decode(buffer, localTs: captureTime, into: &sink)
                        }
                    }
                    outcomes += 1
                }
            }
        }
        #expect(outcomes > 5000)
    }

    @Test func encryptedFramesWithBadPayloadsAreTypedErrors() throws {
        let vector =
            try JSONSerialization.jsonObject(with: Data(contentsOf: Vectors.url(Vectors.aes))) as! [String: Any]
        let ack = String(decoding: try JSONSerialization.data(withJSONObject: vector["ack"]!), as: UTF8.self)
        let frame = vector["frame"] as! String
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        _ = try decoder.decode(ack, into: &sink).get()

        let badBase64 = decoder.decode(frame.replacingOccurrences(of: "/C2w", with: "*C2w"), into: &sink)
        #expect(badBase64 == .failure(.decrypt(.base64(.invalidCharacter(offset: 0)))))
        let payload = frame.split(separator: "|")[3]
        let truncated = decoder.decode(String(frame.dropLast(4)), into: &sink)
        let truncatedLength = (payload.count - 4) / 4 * 3 - payload.dropLast(4).reversed().prefix { $0 == "=" }.count
        #expect(truncatedLength % 16 != 0)
        #expect(truncated == .failure(.decrypt(.badCiphertextLength(truncatedLength))))

        // Another session's key: the padding check catches it.
        let otherAck = ack.replacingOccurrences(
            of: "abcdefghijklmnopqrstuvwxyzabcdef",
            with: "zzcdefghijklmnopqrstuvwxyzabcdef"
        )
        _ = try decoder.decode(otherAck, into: &sink).get()
        let wrongKey = decoder.decode(frame, into: &sink)
        #expect(wrongKey == .failure(.decrypt(.badPadding)))
        #expect(sink.notices.isEmpty)
    }

    /// Only header, body and body.output name fields; the same keys nested anywhere else are ignored.
    @Test func nestedLookalikeKeysAreIgnored() throws {
        let line =
            #"{"header":{"tr_id":"H0STCNT0"},"extra":{"header":{"tr_id":"XXXX"},"body":{"msg_cd":"BAD"}},"#
            + #""body":{"rt_cd":"0","list":[{"msg_cd":"BAD"},{"output":{"key":"k"}}],"output":{"x":{"iv":"v"}}}}"#
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        guard case .control(let control) = try decoder.decode(line, into: &sink).get() else {
            Issue.record("not a control message")
            return
        }
        #expect(control.trID == .h0stcnt0)
        #expect(control.returnCode?.description == "0")
        #expect(control.messageCode == nil && control.key == nil && control.iv == nil)
    }

    @Test func escapedControlTextIsReadable() {
        #expect(JSONText.decode(Array(#"A\u00e9\n\"\\\ud83d\ude00\uD55C"#.utf8)) == "Aé\n\"\\😀한")
    }

    /// Found by FuzzControlMessage: a high surrogate no low one followed vanished from the text (JSON readers make
    /// it U+FFFD, as the JSON module does), before another high one, another escape, a plain byte or the end.
    @Test func loneSurrogatesAreReplacementCharacters() {
        #expect(JSONText.decode(Array(#"\ud800 \udc00"#.utf8)) == "\u{FFFD} \u{FFFD}")
        #expect(JSONText.decode(Array(#"\ud800\ud83d\ude00"#.utf8)) == "\u{FFFD}😀")
        #expect(JSONText.decode(Array(#"a\ud800\nb\ud800"#.utf8)) == "a\u{FFFD}\nb\u{FFFD}")
    }
}
