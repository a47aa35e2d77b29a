import Testing
import TickCore

@testable import Simulator

/// An order's daily price limits are its venue's: the same basis, KRX's previous close, on both, but NXT's day
/// starts at 08:00 and KRX's at its 08:30 pre-open, so before then only NXT's market has the day's limits.
@Suite struct VenueLimitTests {
    @Test func anNXTOrderInTheFirstPreMarketMeetsNXTsLimits() {
        var config = SimConfig()
        config.clock = .manual
        config.symbols = ["005930"]
        config.startTime = 80_500
        var state = ExchangeState(config: config)
        let nxt = state.nxtSymbols[0]
        #expect(state.symbols[0].upper == 0, "KRX's day has not started at 08:05")
        #expect(nxt.lower > 0 && nxt.upper > nxt.lower)
        let order = { (price: Int64) in
            OrderRequest(
                environment: .real,
                appKey: "key",
                account: "5000000001",
                code: "005930",
                side: .buy,
                orderType: "00",
                quantity: 1,
                price: price,
                route: .nxt
            )
        }
        guard case .success(let taken) = state.submit(order(nxt.lower)) else {
            Issue.record("an NXT order at NXT's lower limit was refused")
            return
        }
        #expect(taken.venue == .nxt)
        guard case .failure(let refused) = state.submit(order(KRX.down(nxt.lower))) else {
            Issue.record("an NXT order below NXT's lower limit was taken")
            return
        }
        #expect(refused.messageCode == "APBK0507")
    }
}
