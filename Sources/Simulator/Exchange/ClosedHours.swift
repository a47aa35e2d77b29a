extension ExchangeState {
    /// How far a real-time clock aiming at `target` must jump to reach the next pre-open, when
    /// `SimConfig.skipsClosedHours` is set and the generated market is closed until then; 0 otherwise. Only the time
    /// between a close and the next pre-open is skipped, so every auction and every trading minute still runs.
    func closedHoursBefore(_ target: Int64) -> Int64 {
        guard self.config.skipsClosedHours, self.config.market == nil, self.stage == .beforeOpen else { return 0 }
        return max(0, self.nextStageAt - target)
    }
}
