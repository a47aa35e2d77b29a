import Testing
import TickCore

@testable import Simulator

/// `SimConfig.skipsClosedHours`: a real-time clock jumps from a close to the next opening, KRX's or NXT's. The
/// state is put at the night after NXT's 20:00 close by hand: simulating the day up to its close takes seconds
/// in a debug build.
/// (`scripts/soak load` runs through the real-time driver: its market goes from 15:30 to the next 09:00 in under
/// a second of wall time.)
@Suite struct ClosedHoursTests {
    static let evening = ExchangeState.micros(20_260_608, second: 20 * 3_600)
    static let nxtOpen = ExchangeState.micros(20_260_609, second: 8 * 3_600)
    static let preOpen = ExchangeState.micros(20_260_609, second: KRX.preOpenStart)

    /// Monday 2026-06-08 after both venues' close, Tuesday's NXT pre-market and KRX pre-open next.
    static func night(skipping: Bool) -> ExchangeState {
        var config = SimConfig()
        config.clock = .manual
        config.date = 20_260_608
        // Before the pre-open, so nothing of the day is simulated.
        config.startTime = 80_000
        config.symbols = ["005930"]
        config.skipsClosedHours = skipping
        var state = ExchangeState(config: config)
        state.stage = .beforeOpen
        state.nextStageAt = Self.preOpen
        state.nxtPhase = .closed
        state.nextNXTStageAt = Self.nxtOpen
        return state
    }

    @Test func theNightIsSkippedOnlyWhenAsked() {
        #expect(Self.night(skipping: true).closedHoursBefore(Self.evening) == Self.nxtOpen - Self.evening)
        #expect(Self.night(skipping: false).closedHoursBefore(Self.evening) == 0)
    }

    @Test func nothingIsSkippedAtThePreOpenOrWhileTheMarketRuns() {
        #expect(Self.night(skipping: true).closedHoursBefore(Self.nxtOpen) == 0)
        // KRX closed, NXT's after-market open: its hours are trading hours.
        var afterMarket = Self.night(skipping: true)
        afterMarket.nxtPhase = .continuous
        #expect(afterMarket.closedHoursBefore(Self.evening - 3_600_000_000) == 0)
        var open = Self.night(skipping: true)
        open.stage = .continuous
        #expect(open.closedHoursBefore(Self.evening) == 0)
    }
}
