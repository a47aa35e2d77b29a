public import Capture
public import Dashboard
public import Engine
public import Foundation
import KIS
public import Telegram
import TickCore

/// A started engine as `kistick paper` and `live` run it, once a second until told to stop: its status to the
/// operator, its fills and bars to the live page, its status and fills to the Telegram bot, SIGUSR1's kill switch,
/// a capture that failed said at once, and the screened universe rotated on the plan's schedule, never rotating out
/// a code the account holds. At the end, the report and the capture, neither costing the other.
public struct TradingRun {
    public let engine: Engine
    public let plan: TradingPlan
    /// Market seconds per wall second: the plan's rotation period is in market seconds.
    public let speed: Double
    public let page: DashboardServer?
    public let bot: TelegramBot<EngineLink>?
    public let capture: CaptureWriter?
    private var history: DashboardHistory

    /// - Parameters:
    ///   - mode: `paper` or `live`, and `environment` the account's, as the page shows them.
    public init(
        engine: Engine,
        plan: TradingPlan,
        speed: Double,
        mode: String,
        environment: String,
        page: DashboardServer? = nil,
        bot: TelegramBot<EngineLink>? = nil,
        capture: CaptureWriter? = nil
    ) {
        self.engine = engine
        self.plan = plan
        self.speed = speed
        self.page = page
        self.bot = bot
        self.capture = capture
        self.history = DashboardHistory(mode: mode, environment: environment)
    }

    /// The operator's console: what the loop tells, each on its own channel: the status once a second (with the
    /// Telegram bot's counters when there is a bot), and warnings said once.
    public struct Console {
        public var show: (EngineStatus, TelegramCounters?) -> Void
        public var warn: (String) -> Void

        public init(show: @escaping (EngineStatus, TelegramCounters?) -> Void, warn: @escaping (String) -> Void) {
            self.show = show
            self.warn = warn
        }
    }

    /// Runs the loop until `stopRequested` or `stopAt`, then stops the engine, the page and the bot.
    /// - Parameter killRequested: whether the kill switch was asked for since the last call (SIGUSR1).
    public mutating func run(
        until stopAt: Date?,
        stopRequested: () -> Bool,
        killRequested: () -> Bool,
        console: Console
    ) async throws -> EngineReport {
        var captureWarned = false
        var scheduler = self.plan.scheduler
        let rotateEvery = Double(self.plan.rotationSeconds) / self.speed
        var nextRotation = Date().addingTimeInterval(rotateEvery)
        while !stopRequested(), stopAt.map({ Date() < $0 }) ?? true {
            try await Task.sleep(for: .seconds(1))
            if killRequested() { self.engine.armKillSwitch() }
            let status = self.engine.status()
            if !captureWarned, let failure = self.capture?.failure {
                captureWarned = true
                console.warn("capture stopped, trading goes on: \(failure)")
            }
            var fills: [FillReport] = []
            self.engine.takeFills { fills.append($0) }
            if let page = self.page {
                self.history.add(fills: fills)
                self.engine.takeBars { self.history.add(bar: $0) }
                page.publish(
                    self.history.snapshot(
                        status,
                        live: scheduler?.live ?? self.plan.codes,
                        wallTime: Int64(Date().timeIntervalSince1970 * 1_000),
                        droppedFills: self.engine.droppedFillReports,
                        droppedBars: self.engine.droppedBars
                    )
                )
            }
            self.bot?.observe(status, fills: fills)
            console.show(status, self.bot?.counters)
            if scheduler != nil, Date() >= nextRotation {
                nextRotation = Date().addingTimeInterval(rotateEvery)
                // A code the account holds stays live: its exit needs its prices.
                let held = Set(status.positions.filter { $0.quantity != 0 }.compactMap { SymbolCode($0.code) })
                if let rotation = scheduler?.rotate(pinned: held), !rotation.isEmpty {
                    self.engine.resubscribe(unsubscribe: rotation.unsubscribe, subscribe: rotation.subscribe)
                }
            }
        }
        let report = self.engine.stop()
        await self.page?.stop()
        self.bot?.stop(final: report.status)
        return report
    }

    /// What `finish` left behind: the capture's figures, and what could not be written, in words.
    public struct Outputs {
        public var captureStats: CaptureStats?
        public var problems: [String] = []
    }

    /// Writes the report to `reportPath` and finishes the capture. Neither may cost the other: a capture that
    /// failed (a full disk) still leaves the report, and the capture is finished even when the report cannot be
    /// written; each failure is one of `problems`.
    public func finish(_ report: EngineReport, reportPath: String?) -> Outputs {
        var outputs = Outputs()
        if let path = reportPath {
            do {
                try PrivateFile.write(Array(report.json()), to: path)
            } catch {
                outputs.problems.append("the report was not written: \(error)")
            }
        }
        if let capture = self.capture {
            do {
                outputs.captureStats = try capture.finish()
            } catch {
                outputs.problems.append("the capture is incomplete: \(error)")
            }
        }
        return outputs
    }
}

extension EngineReport {
    /// The report as `--report` writes it: pretty, keys sorted, so two reports diff line by line.
    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
