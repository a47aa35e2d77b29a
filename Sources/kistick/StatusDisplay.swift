import Engine
import Foundation
import TickCore

/// The live terminal status of `paper` and `live`, redrawn once a second, and the summary at the end.
struct StatusDisplay {
    private var last: (records: Int, at: Double)?
    private let redraw = isatty(STDOUT_FILENO) != 0
    /// A line saying what the account is, above the status and in the summary, when the environment alone would
    /// mislead (`paper`'s simulated real account).
    let account: String?

    init(account: String? = nil) {
        self.account = account
    }

    mutating func render(_ status: EngineStatus) {
        let rate = self.last.map { Double(status.records - $0.records) / max(status.wallSeconds - $0.at, 1e-3) } ?? 0
        self.last = (status.records, status.wallSeconds)
        if self.redraw { print("\u{1B}[H\u{1B}[2J", terminator: "") }
        if let account = self.account { print(account) }
        print(Self.headline(status, rate: rate))
        print(Self.money(status))
        print(Self.orders(status.orders, rejections: status.riskRejections, refusals: status.refusals))
        if let decision = status.latency.first(where: { $0.stage == "read→decision" }) {
            print(
                "latency read→decision p99 \(Self.micros(decision.summary.p99))  "
                    + "p99.9 \(Self.micros(decision.summary.p999))  (\(decision.summary.count) decisions)"
            )
        }
        print(Self.drops(status))
        if !status.positions.isEmpty { Self.positions(status.positions) }
        for note in status.notes { print(note) }
    }

    func summary(_ report: EngineReport) {
        let status = report.status
        print("")
        print("── summary ── \(report.startedAt) → \(report.endedAt), \(report.codes.count) codes")
        if let account = self.account { print(account) }
        print(Self.headline(status, rate: report.recordsPerSecond))
        print(Self.money(status))
        print(Self.orders(status.orders, rejections: status.riskRejections, refusals: status.refusals))
        print(Self.drops(status))
        if !status.positions.isEmpty { Self.positions(status.positions) }
        var table = [["latency", "count", "p50", "p90", "p99", "p99.9", "max"]]
        for line in status.latency {
            table.append(
                [line.stage, String(line.summary.count)]
                    + [line.summary.p50, line.summary.p90, line.summary.p99, line.summary.p999, line.summary.max]
                    .map(Self.micros)
            )
        }
        printTable(table)
        for discrepancy in report.discrepancies { print("reconciliation: \(discrepancy)") }
    }

    private static func headline(_ status: EngineStatus, rate: Double) -> String {
        let time = KST.text(time: KST.time(epochSeconds: status.marketTime / 1_000_000_000))
        return "market \(time) KST  \(String(format: "%.0f", rate)) records/s  \(status.records) records  "
            + "\(status.subscribedCodes) codes\(status.sessions > 1 ? " on \(status.sessions) sessions" : "")  "
            + "reconnects \(status.reconnects)"
            + (status.killSwitch ? "  KILL SWITCH ARMED" : "")
    }

    private static func money(_ status: EngineStatus) -> String {
        "PnL realised \(status.realisedPnL) KRW  unrealised \(status.unrealisedPnL) KRW  (fees \(status.fees), tax \(status.taxes))"
    }

    private static func orders(
        _ orders: EngineStatus.OrderCounts,
        rejections: Int,
        refusals: [EngineStatus.RefusalLine]
    ) -> String {
        let counts = refusals.map { "\($0.reason) \($0.count)" }.joined(separator: ", ")
        let reasons = refusals.isEmpty ? "" : " (\(counts))"
        return "orders sent \(orders.sent)  accepted \(orders.accepted)  filled \(orders.filled)  "
            + "partial \(orders.partiallyFilled)  cancelled \(orders.cancelled)  rejected \(orders.rejected)  "
            + "open \(orders.open)  fills \(orders.fills)  refused by risk \(rejections)\(reasons)"
    }

    private static func drops(_ status: EngineStatus) -> String {
        let drops = status.drops
        return "books conflated \(drops.booksConflated)  spilled \(drops.spilled)  lost \(drops.lost)  "
            + "late trades \(drops.lateTrades)  malformed frames \(status.malformedFrames)  "
            + "log lines dropped \(drops.logRecords)"
    }

    private static func positions(_ lines: [EngineStatus.PositionLine]) {
        var table = [["code", "qty", "avg", "last", "unrealised"]]
        for line in lines {
            table.append([
                line.code, String(line.quantity), String(format: "%.1f", line.averagePrice), String(line.lastPrice),
                String(line.unrealisedPnL),
            ])
        }
        printTable(table)
    }

    private static func micros(_ nanoseconds: Int64) -> String {
        String(format: "%.1f µs", Double(nanoseconds) / 1_000)
    }
}
