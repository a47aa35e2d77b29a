extension ExchangeState {
    /// How far a real-time clock aiming at `target` must jump to reach the next pre-open, when
    /// `SimConfig.skipsClosedHours` is set and the generated market is closed until then; 0 otherwise. Only the time
    /// between a close and the next pre-open is skipped, so every auction and every trading minute still runs;
    /// NXT's hours count as trading hours (its after-market runs to 20:00, its pre-market from 08:00).
    func closedHoursBefore(_ target: Int64) -> Int64 {
        guard self.config.skipsClosedHours, self.config.market == nil, self.stage == .beforeOpen,
            self.nxtPhase == .closed
        else { return 0 }
        return max(0, min(self.nextStageAt, self.nextNXTStageAt) - target)
    }
}
