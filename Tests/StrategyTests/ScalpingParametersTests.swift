import Strategy
import Testing

@Suite struct ScalpingParametersTests {
    @Test func defaultsListEveryKeyAndReadBackAsTheDefaults() throws {
        let defaults = ScalpingParameters.defaults
        #expect(defaults.map(\.key) == ScalpingParameters.Key.allCases.map(\.rawValue))
        #expect(defaults.first { $0.key == "min_strength" }?.value == "120")
        #expect(defaults.first { $0.key == "min_imbalance" }?.value == "0.2")
        let values = Dictionary(uniqueKeysWithValues: defaults.map { ($0.key, $0.value) })
        #expect(try ScalpingParameters(values) == ScalpingParameters())
        #expect(try ScalpingParameters([:]) == ScalpingParameters())
    }

    @Test func valuesAreReadAsFixedPoint() throws {
        let parameters = try ScalpingParameters([
            "min_strength": "120.5",
            "min_imbalance": "-0.0125",
            "take_profit_ticks": "3",
            "budget_krw": "2500000",
            "entry_interval_seconds": "60",
        ])
        #expect(parameters.minStrength == 12_050)
        #expect(parameters.minImbalance == -125)
        #expect(parameters.takeProfitTicks == 3)
        #expect(parameters.budgetKRW == 2_500_000)
        #expect(parameters.entryIntervalSeconds == 60)
        #expect(parameters.stopLossTicks == ScalpingParameters().stopLossTicks)
        #expect(parameters.text(of: .minStrength) == "120.5")
        #expect(parameters.text(of: .minImbalance) == "-0.0125")
    }

    @Test func anUnknownKeyIsNamed() {
        #expect(throws: ScalpingParametersError.unknownKey("take_proift_ticks")) {
            try ScalpingParameters(["take_profit_ticks": "3", "take_proift_ticks": "3"])
        }
    }

    @Test(arguments: [
        ("min_strength", "12o"),
        ("min_strength", "120.555"),
        ("min_strength", "-1"),
        ("min_strength", ""),
        ("min_strength", "1e3"),
        ("min_imbalance", "1.5"),
        ("min_imbalance", "0."),
        ("min_imbalance", ".5"),
        ("entry_interval_seconds", "7"),
        ("entry_interval_seconds", "0"),
        ("max_spread_ticks", "0"),
        ("take_profit_ticks", "2.5"),
        ("stop_loss_ticks", " 4"),
        ("budget_krw", "0"),
        ("budget_krw", "99999999999999999999"),
        ("entry_timeout_ms", "-5"),
        ("no_entry_after_open_seconds", "30000"),
        ("cooldown_seconds", "+60"),
    ])
    func aBadValueNamesItsKey(key: String, value: String) throws {
        let error = try #require(throws: ScalpingParametersError.self) { try ScalpingParameters([key: value]) }
        guard case .invalidValue(let named, let text, _) = error else {
            Issue.record("expected invalidValue, got \(error)")
            return
        }
        #expect(named == key)
        #expect(text == value)
        #expect(error.description.hasPrefix("\(key): "))
    }
}
