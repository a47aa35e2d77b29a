import Feed
import Foundation
import TestVectors
import Testing
import TickCore

/// The market-status TRs and the NXT/combined books, on frames built from the documented layouts
/// (docs/kis-protocol.md §6.2, §6.4) and checked field by field.
@Suite struct VenueFeedTests {
    /// H0STMKO0's eleven fields in order; the halt reason is multi-byte text, as KIS sends it.
    static let halted = [
        "005930", "Y", "거래정지(단일가매매)", "112", "212", "1", "01", "58", "2", "N", "K",
    ]
    static let trading = ["000660", "N", "", "120", "", "", "00", "55", "N", "N", "K"]

    static func frame(_ tr: String, _ records: [[String]]) -> String {
        let payload = records.map { $0.joined(separator: "^") }.joined(separator: "^")
        return "0|\(tr)|\(String(format: "%03d", records.count))|" + payload
    }

    static func check(
        _ s: MarketStatus,
        against f: [String],
        venue: Venue,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        func packed(_ i: Int) -> UInt64 { i < f.count ? PackedASCII(f[i])!.rawValue : 0 }
        #expect(s.localTs == captureTime, sourceLocation: sourceLocation)
        #expect(s.venue == venue, sourceLocation: sourceLocation)
        #expect(s.code.description == f[0], sourceLocation: sourceLocation)
        #expect(s.halted == (f[1] == "Y"), sourceLocation: sourceLocation)
        #expect(UInt64(s.sessionClass) == packed(3), sourceLocation: sourceLocation)
        #expect(UInt64(s.expectedSessionClass) == packed(4), sourceLocation: sourceLocation)
        #expect(UInt64(s.extensionClass) == packed(5), sourceLocation: sourceLocation)
        #expect(UInt64(s.allocationClass) == packed(6), sourceLocation: sourceLocation)
        #expect(UInt64(s.issueStatus) == packed(7), sourceLocation: sourceLocation)
        #expect(UInt64(s.viClass) == packed(8), sourceLocation: sourceLocation)
        #expect(UInt64(s.afterHoursVIClass) == packed(9), sourceLocation: sourceLocation)
        #expect(UInt64(s.exchangeClass) == packed(10), sourceLocation: sourceLocation)
    }

    @Test(arguments: [("H0STMKO0", Venue.krx), ("H0NXMKO0", .nxt), ("H0UNMKO0", .combined)])
    func marketStatusDecodesFieldByField(tr: String, venue: Venue) throws {
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        let result = try decoder.decode(Self.frame(tr, [Self.halted, Self.trading]), into: &sink).get()
        #expect(result == .records(tr: TRID(tr)!, count: 2))
        try #require(sink.statuses.count == 2)
        Self.check(sink.statuses[0], against: Self.halted, venue: venue)
        Self.check(sink.statuses[1], against: Self.trading, venue: venue)
        #expect(sink.statuses[0].volatilityInterruption)
        #expect(!sink.statuses[1].volatilityInterruption)
        #expect(sink.trades.isEmpty && sink.books.isEmpty && sink.notices.isEmpty)
    }

    /// KIS's older list has no EXCH_CLS_CODE: ten fields a record, which must not read the next record's code.
    @Test func tenFieldStatusesLeaveTheExchangeClassEmpty() throws {
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        let records = [Array(Self.halted.prefix(10)), Array(Self.trading.prefix(10))]
        _ = try decoder.decode(Self.frame("H0STMKO0", records), into: &sink).get()
        try #require(sink.statuses.count == 2)
        Self.check(sink.statuses[0], against: records[0], venue: .krx)
        Self.check(sink.statuses[1], against: records[1], venue: .krx)
        #expect(sink.statuses.allSatisfy { $0.exchangeClass == 0 })
    }

    @Test func statusesWiderThanDocumentedDecodeTheSame() throws {
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        _ = try decoder.decode(Self.frame("H0STMKO0", [Self.halted + ["X", "9"]]), into: &sink).get()
        try #require(sink.statuses.count == 1)
        Self.check(sink.statuses[0], against: Self.halted, venue: .krx)
    }

    @Test(arguments: [
        (0, ""),  // no code
        (1, "Q"),  // TRHT_YN neither Y nor N
        (3, "12345"),  // a class code longer than four bytes
        (8, "12"),  // VI_CLS_CODE longer than one byte
    ])
    func malformedStatusesNameTheirField(field: Int, value: String) throws {
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        var bad = Self.halted
        bad[field] = value
        let result = decoder.decode(Self.frame("H0STMKO0", [Self.trading, bad]), into: &sink)
        #expect(result == .failure(.format(.badField(tr: .h0stmko0, record: 1, field: field))))
        // The good record still reached the sink.
        #expect(sink.statuses.count == 1)
    }

    @Test func statusesShorterThanTheOldListAreRefused() throws {
        var decoder = try FeedDecoder()
        var sink = RecordCollector()
        let result = decoder.decode(Self.frame("H0STMKO0", [Array(Self.halted.prefix(9))]), into: &sink)
        #expect(result == .failure(.format(.tooFewFields(tr: .h0stmko0, width: 9, required: 10))))
    }

    /// H0NXASP0 and H0UNASP0 document 65 fields: the 59 KRX ones, then KRX and NXT mid-point price, quantity and
    /// class. Built from a real 62-field KRX book cut to its 59 documented fields, plus six mid-point fields.
    @Test(arguments: [("H0NXASP0", Venue.nxt), ("H0UNASP0", .combined)])
    func sixtyFiveFieldBooksDecodeWithTheirVenue(tr: String, venue: Venue) throws {
        let real = ReferenceFrame(try Vectors.lines(Vectors.books)[0])
        var built = real
        built.trID = tr
        let mid = ["71050", "120", "1", "71100", "40", "2"]
        built.fields = (0..<real.count).flatMap { Array(real.record($0).prefix(59)) + mid }
        #expect(built.width == 65)
        var krx = RecordCollector()
        var decoder = try FeedDecoder()
        _ = try decoder.decode(real.line, into: &krx).get()
        var sink = RecordCollector()
        let result = try decoder.decode(built.line, into: &sink).get()
        #expect(result == .records(tr: TRID(tr)!, count: real.count))
        try #require(sink.books.count == krx.books.count)
        for (book, reference) in zip(sink.books, krx.books) {
            #expect(book.venue == venue)
            var same = book
            same.venue = .krx
            #expect(RecordFormat.json(same) == RecordFormat.json(reference))
        }
    }
}
