import Testing
import TickCore

/// The hot-path records are fixed-layout: these sizes are part of the ring and capture formats, so a change has to
/// be deliberate (rigtorp's `static_assert` on the slot size).
@Suite struct LayoutTests {
    static func requireBitwiseCopyable<T: BitwiseCopyable>(_: T.Type) {}

    @Test func tradeIsTwoCacheLines() {
        Self.requireBitwiseCopyable(Trade.self)
        #expect(MemoryLayout<Trade>.size == 128)
        #expect(MemoryLayout<Trade>.stride == 128)
        #expect(MemoryLayout<Trade>.alignment == 8)
    }

    @Test func bookSize() {
        Self.requireBitwiseCopyable(Book.self)
        #expect(MemoryLayout<Book>.size == 240)
        #expect(MemoryLayout<Book>.stride == 240)
    }

    @Test func noticeSize() {
        Self.requireBitwiseCopyable(Notice.self)
        #expect(MemoryLayout<Notice>.size == 80)
        #expect(MemoryLayout<Notice>.stride == 80)
    }

    @Test func packedASCIIRoundTrips() throws {
        let code = try #require(SymbolCode("005930"))
        #expect(code.description == "005930")
        #expect(code.count == 6)
        #expect(code == SymbolCode(ascii: "005930"))
        #expect(TRID("H0STCNT0") == .h0stcnt0)
        #expect(TRID("H0STCNT0X") == nil)
        #expect(TRID("한국") == nil)
        #expect(SymbolCode("")?.rawValue == 0)
    }

    @Test func literalCodesLongerThanEightBytesAreAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            _ = TRID(ascii: "H0STCNT0X")
        }
    }
}

@Suite struct KSTTests {
    @Test(arguments: [
        // 2026-06-08 11:48:27 KST is 02:48:27 UTC.
        (UInt32(20_260_608), UInt32(114_827), Int64(1_780_886_907)),
        // The epoch itself in KST is 09:00.
        (19_700_101, 90_000, 0),
        // Leap day, and the last second of a year.
        (20_240_229, 235_959, 1_709_218_799),
        (20_251_231, 235_959, 1_767_193_199),
    ])
    func epochSeconds(date: UInt32, time: UInt32, expected: Int64) throws {
        let seconds = try #require(KST.epochSeconds(date: date, time: time))
        #expect(seconds == expected)
        #expect(KST.date(epochSeconds: seconds) == date)
        #expect(KST.time(epochSeconds: seconds) == time)
    }

    @Test func rejectsInvalidValues() {
        #expect(KST.epochSeconds(date: 20_261_301, time: 0) == nil)
        #expect(KST.epochSeconds(date: 20_260_600, time: 0) == nil)
        #expect(KST.epochSeconds(date: 20_260_608, time: 246_000) == nil)
        #expect(KST.epochSeconds(date: 20_260_608, time: 116_000) == nil)
        #expect(KST.epochSeconds(date: 0, time: 0) == nil)
        #expect(KST.secondsOfDay(time: 240_000) == nil)
        #expect(KST.secondsOfDay(time: 153_000) == 55_800)
    }

    @Test func midnightIsKST() {
        // 2026-06-08 00:30 KST is still 2026-06-07 15:30 UTC.
        let t = KST.epochSeconds(date: 20_260_608, time: 3000)!
        #expect(KST.midnight(containing: t) == KST.epochSeconds(date: 20_260_608, time: 0))
        #expect(KST.date(epochSeconds: t - 3001) == 20_260_607)
    }
}
