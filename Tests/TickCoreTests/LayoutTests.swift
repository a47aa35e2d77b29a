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

    /// A ring slot that holds a tick or a gap mark fits one cache line, its tag included.
    @Test func aTickAndItsRingTagFitOneCacheLine() {
        Self.requireBitwiseCopyable(Tick.self)
        #expect(MemoryLayout<Tick>.size == 56)
        #expect(MemoryLayout<Tick>.stride == 56)
        enum Slot {
            case tick(Tick)
            case gap(SymbolIndex)
        }
        #expect(MemoryLayout<Slot>.stride <= 64)
    }

    @Test func aTickKeepsWhatThePipelineReadsOfATrade() throws {
        var trade = Trade()
        trade.localTs = 1
        trade.code = try #require(SymbolCode("005930"))
        trade.exchangeTime = 2
        trade.price = 3
        trade.change = -4
        trade.volume = 5
        trade.strength = 6
        trade.bidPrice = 7
        trade.askPrice = 8
        trade.viBasePrice = 9
        trade.sideCode = 5
        trade.hourClass = UInt8(ascii: "C")
        trade.halted = true
        trade.venue = .nxt
        let tick = Tick(trade, symbol: 3)
        #expect(
            [tick.localTs, Int64(tick.exchangeTime), Int64(tick.price), Int64(tick.change), Int64(tick.volume)]
                == [1, 2, 3, -4, 5]
        )
        #expect([tick.strength, tick.bidPrice, tick.askPrice, tick.viBasePrice] == [6, 7, 8, 9])
        #expect(tick.code == trade.code && tick.symbol == 3 && tick.side == .sell)
        #expect(tick.hourClass == UInt8(ascii: "C") && tick.halted && tick.venue == .nxt)
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

    /// The TR ids are written as packed literals; each must be its text.
    @Test func trIDLiteralsAreTheirText() {
        let ids: [(TRID, StaticString)] = [
            (.h0stcnt0, "H0STCNT0"), (.h0nxcnt0, "H0NXCNT0"), (.h0uncnt0, "H0UNCNT0"), (.h0stasp0, "H0STASP0"),
            (.h0nxasp0, "H0NXASP0"), (.h0unasp0, "H0UNASP0"), (.h0stmko0, "H0STMKO0"), (.h0nxmko0, "H0NXMKO0"),
            (.h0unmko0, "H0UNMKO0"), (.h0stcni0, "H0STCNI0"), (.h0stcni9, "H0STCNI9"), (.pingpong, "PINGPONG"),
        ]
        for (id, text) in ids {
            #expect(id == TRID(ascii: text), "\(text)")
        }
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
        // Days past the month's end were once carried into the next month (20260230 read as 2 March).
        #expect(KST.epochSeconds(date: 20_260_230, time: 0) == nil)
        #expect(KST.epochSeconds(date: 20_260_229, time: 0) == nil)
        #expect(KST.epochSeconds(date: 20_240_229, time: 0) != nil)
        #expect(KST.epochSeconds(date: 21_000_229, time: 0) == nil)
        #expect(KST.epochSeconds(date: 20_000_229, time: 0) != nil)
        #expect(KST.epochSeconds(date: 20_260_431, time: 0) == nil)
        #expect(KST.epochSeconds(date: 20_261_231, time: 0) != nil)
        #expect(KST.epochSeconds(date: 2026, time: 0) == nil)
        #expect(KST.secondsOfDay(time: 240_000) == nil)
        #expect(KST.secondsOfDay(time: 153_000) == 55_800)
    }

    @Test func tradingDaysAreCountedFromCalendarDatesOnly() async {
        #expect(KRX.nextTradingDay(after: 20_260_227) == 20_260_302)
        #expect(KRX.previousTradingDay(before: 20_260_302) == 20_260_227)
        await #expect(processExitsWith: .failure) {
            _ = KRX.nextTradingDay(after: 20_261_345)
        }
    }

    @Test func midnightIsKST() {
        // 2026-06-08 00:30 KST is still 2026-06-07 15:30 UTC.
        let t = KST.epochSeconds(date: 20_260_608, time: 3000)!
        #expect(KST.midnight(containing: t) == KST.epochSeconds(date: 20_260_608, time: 0))
        #expect(KST.date(epochSeconds: t - 3001) == 20_260_607)
    }
}
