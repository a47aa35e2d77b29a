import Risk
import Testing

@Suite struct RiskLimitsTests {
    @Test func emptyParametersAreTheDefaults() throws {
        #expect(try RiskLimits(parameters: [:]) == RiskLimits())
    }

    @Test func everyKeySetsItsLimit() throws {
        let parameters = Dictionary(uniqueKeysWithValues: RiskLimits.keys.enumerated().map { ($1, "\($0 + 1)") })
        let limits = try RiskLimits(parameters: parameters)
        #expect(limits.maxPositionShares == 1)
        #expect(limits.maxPositionValue == 2)
        #expect(limits.maxGrossExposure == 3)
        #expect(limits.maxOpenOrdersPerCode == 4)
        #expect(limits.maxOpenOrders == 5)
        #expect(limits.maxOrderValue == 6)
        #expect(limits.maxOrderQuantity == 7)
        #expect(limits.dailyLossLimit == 8)
        #expect(limits.minimumPrice == 9)
    }

    @Test func digitsMayBeGrouped() throws {
        let limits = try RiskLimits(parameters: ["daily_loss_limit_krw": "1_000_000", "min_price_krw": "0"])
        #expect(limits.dailyLossLimit == 1_000_000)
        #expect(limits.minimumPrice == 0)
    }

    @Test(arguments: ["", "-", "_1", "1_", "1__0", "1.5", "1e6", " 1", "+1", "10 000", "99999999999999999999"])
    func notAnInteger(_ text: String) {
        #expect(throws: RiskLimitsError.notAnInteger(key: "max_order_krw", value: text)) {
            try RiskLimits(parameters: ["max_order_krw": text])
        }
    }

    @Test func outOfRange() {
        #expect(
            throws: RiskLimitsError.outOfRange(key: "max_open_orders", value: 0, allowed: 1...1_000_000_000_000_000)
        ) {
            try RiskLimits(parameters: ["max_open_orders": "0"])
        }
        #expect(throws: RiskLimitsError.outOfRange(key: "min_price_krw", value: -1, allowed: 0...2_147_483_647)) {
            try RiskLimits(parameters: ["min_price_krw": "-1"])
        }
        #expect(
            throws: RiskLimitsError.outOfRange(key: "min_price_krw", value: 2_147_483_648, allowed: 0...2_147_483_647)
        ) {
            try RiskLimits(parameters: ["min_price_krw": "2147483648"])
        }
    }

    @Test func unknownKeysAreRefusedBeforeTheirValues() {
        #expect(throws: RiskLimitsError.unknownKey("max_order_won")) {
            try RiskLimits(parameters: ["max_order_won": "x", "max_order_krw": "1"])
        }
    }

    @Test func errorsNameTheKey() {
        do {
            _ = try RiskLimits(parameters: ["max_position_shares": "many"])
            Issue.record("parsed")
        } catch {
            #expect(error.key == "max_position_shares")
            #expect(error.description == "risk parameter 'max_position_shares': 'many' is not an integer")
        }
        #expect(RiskLimitsError.unknownKey("x").description.contains("max_position_shares"))
    }
}
