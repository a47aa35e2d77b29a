import Foundation
import Testing

@testable import kistick

/// `kistick order` run in-process against its embedded simulator (`--sim`).
@Suite struct OrderCommandTests {
    /// A sell of more than the account can sell now is refused with what it holds, and nothing reaches KIS.
    @Test func aSellOfMoreThanTheAccountCanSellIsRefusedUnsent() async throws {
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("kistick-order-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: logs) }
        let order = try Order.parse(["sell", "005930", "1000000", "--sim", "--log-dir", logs])
        await #expect {
            try await order.run()
        } throws: { error in
            guard let refusal = error as? NotSellable else { return false }
            return refusal.quantity == 1_000_000 && refusal.holding.sellable < 1_000_000
                && "\(refusal)".contains("nothing was sent")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: logs)
        let log = try files.map { try String(contentsOfFile: logs + "/" + $0, encoding: .utf8) }.joined()
        #expect(!log.isEmpty && !log.contains("order.sent"), "no order was sent")
    }
}
