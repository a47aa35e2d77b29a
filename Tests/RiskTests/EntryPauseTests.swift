import Risk
import Testing
import TickCore

/// The operator's pause (Telegram's /pause): no new exposure, while exits and cancels go on.
@Suite struct EntryPauseTests {
    @Test func pausedEntriesAreRefusedAndExitsGo() throws {
        let gate = RiskGate(limits: loose(), killSwitch: KillSwitch())
        let board = try board()
        let held = SymbolExposure(held: 10)
        gate.killSwitch.pauseEntries()
        #expect(gate.killSwitch.entriesPaused)
        #expect(decide(buy(1, at: 50_000), gate: gate, board: board) == .reject(.entriesPaused))
        #expect(decide(sell(10, at: 50_000), gate: gate, board: board, position: held) == .accept)
        let entry = working(1, .buy, 10, at: 49_900)
        let position = SymbolExposure(workingBuyQuantity: 10, workingBuyValue: 499_000, openOrders: 1)
        #expect(decide(cancel(entry), gate: gate, board: board, position: position) == .accept)
        gate.killSwitch.resumeEntries()
        #expect(!gate.killSwitch.entriesPaused)
        #expect(decide(buy(1, at: 50_000), gate: gate, board: board) == .accept)
    }

    @Test func theKillSwitchOutranksThePause() throws {
        let gate = RiskGate(limits: loose(), killSwitch: KillSwitch())
        gate.killSwitch.pauseEntries()
        gate.killSwitch.arm()
        #expect(decide(buy(1, at: 50_000), gate: gate, board: try board()) == .reject(.killSwitch))
    }
}
