import Foundation
import Testing
import TickCore

@testable import Simulator

/// Every price the simulated market shows is on the KRX ladder: base prices, limits, the seeded history and its
/// minute bars, every book level and every print of a whole day of every catalogued code.
@Suite struct LadderTests {
    /// A whole day of the 30 catalogued codes: each code's catalogue price and history, every print (read every
    /// half second of market time from the tape, which holds the last 30: the walk checks it holds every print
    /// since the last look), its base, limits and every level of both sides of its book every 5 s, and every minute
    /// bar. `MatchingBook.add` refuses an off-ladder price outright, so a price cannot enter and leave the book
    /// between two looks unseen either.
    @Test func aWholeDayOfEveryCataloguedCodeStaysOnTheLadder() throws {
        var config = SimConfig()
        config.clock = .manual
        config.date = 20_260_608
        config.symbols = Catalog.knownCodes
        config.startTime = 83_000
        var state = ExchangeState(config: config)
        var offTick: [String] = []
        func check(_ price: Int64, _ what: @autoclosure () -> String) {
            if price != 0 && !KRX.isOnTick(price) { offTick.append("\(what()): \(price)") }
        }
        for m in state.symbols {
            check(m.listing.basePrice, "\(m.code) catalogue price")
            for bar in m.history {
                for price in [bar.open, bar.high, bar.low, bar.close] { check(price, "\(m.code) history \(bar.date)") }
            }
        }
        // Half a second of market time holds fewer prints than the tape keeps (checked below); the book is looked at
        // every 5 s.
        let step: Int64 = 500_000
        let end = ExchangeState.micros(20_260_608, second: KRX.closeTime + 60)
        var printsSeen = [Int64](repeating: 0, count: state.symbols.count)
        var walked = state.now
        var steps = 0
        while walked < end {
            walked += step
            steps += 1
            state.advanceMarket(to: walked)
            for i in state.symbols.indices {
                let prints = Self.prints(state.symbols[i])
                let new = Int(prints - printsSeen[i])
                printsSeen[i] = prints
                #expect(new <= SymbolMarket.tapeCapacity, "\(state.symbols[i].code): \(new) prints in one look")
                let tape = state.symbols[i].tape
                for back in 0..<min(new, tape.count) {
                    let print = tape[(state.symbols[i].tapeNext - 1 - back + tape.count) % tape.count]
                    check(print.price, "\(state.symbols[i].code) print at \(print.time)")
                }
                guard steps % 10 == 0 else { continue }
                check(state.symbols[i].base, "\(state.symbols[i].code) base")
                check(state.symbols[i].upper, "\(state.symbols[i].code) upper limit")
                check(state.symbols[i].lower, "\(state.symbols[i].code) lower limit")
                for level in state.symbols[i].book.bids {
                    check(level.price, "\(state.symbols[i].code) bid at \(walked)")
                }
                for level in state.symbols[i].book.asks {
                    check(level.price, "\(state.symbols[i].code) ask at \(walked)")
                }
            }
        }
        for m in state.symbols {
            #expect(Self.prints(m) > 1_000, "\(m.code) traded only \(Self.prints(m)) times in a day")
            let day = try #require(m.history.last)
            #expect(day.date == 20_260_608)
            for bar in m.pastMinutes[20_260_608] ?? [] {
                for price in [bar.open, bar.high, bar.low, bar.close] { check(price, "\(m.code) minute \(bar.time)") }
            }
            // The minute bars KIS would serve for an earlier day of the history.
            for bar in m.minuteBars(on: m.history[m.history.count - 2].date) {
                for price in [bar.open, bar.high, bar.low, bar.close] {
                    check(price, "\(m.code) drawn minute \(bar.time)")
                }
            }
        }
        #expect(offTick.isEmpty, "\(offTick.count) prices off the ladder, first: \(offTick.prefix(5))")
    }

    /// Prints so far today: every buy- and sell-initiated print and the call auctions' prints.
    private static func prints(_ m: SymbolMarket) -> Int64 {
        m.buyCount + m.sellCount + m.auctionPrints
    }
}
