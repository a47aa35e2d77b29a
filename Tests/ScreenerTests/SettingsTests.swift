import Foundation
import KIS
import Screener
import Testing

/// The screen's criteria from the settings file: defaults, overrides, and errors that name the key and the file.
@Suite struct SettingsTests {
    static func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kistick-screen-\(UUID().uuidString).yaml"
        ).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func load(_ text: String) throws -> (ScreenSettings, String) {
        let path = try Self.file(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let entries = try SettingsFile.load(path: path, keys: ScreenSettings.keys)
        return (try ScreenSettings(parameters: entries, path: path), path)
    }

    @Test func defaultsAreTheTier1Screen() throws {
        let settings = ScreenSettings()
        #expect(settings.minMarketCap == 10_000)
        #expect(settings.minTradedValue == 10_000_000_000)
        #expect((settings.fastPeriod, settings.slowPeriod, settings.crossWithinDays) == (50, 200, 30))
        #expect(settings.historyDays == 250)
        #expect(settings.requiredBars == 231)
        #expect(settings.excludeDesignated)
        #expect(settings.liveCodes == 20)
        #expect(try ScreenSettings(parameters: [:], path: "x") == settings)
    }

    /// Each further app key's session makes 20 more codes live, by default and at most.
    @Test func liveCodesScaleWithTheAppKeys() throws {
        #expect(ScreenSettings(appKeys: 2).liveCodes == 40)
        #expect(try ScreenSettings(parameters: [:], path: "x", appKeys: 2).liveCodes == 40)
        #expect(try ScreenSettings(parameters: ["schedule_live_codes": "40"], path: "x", appKeys: 2).liveCodes == 40)
        #expect(throws: ScreenError.setting(key: "schedule_live_codes", path: "x", expected: "an integer in 1...40")) {
            try ScreenSettings(parameters: ["schedule_live_codes": "41"], path: "x", appKeys: 2)
        }
        let scheduler = SubscriptionScheduler(ranked: SchedulerTests.codes(50), live: 40, appKeys: 2)
        #expect(scheduler.live.count == 40)
    }

    @Test func theFileOverridesWhatItNames() throws {
        let (settings, _) = try Self.load(
            """
            # a tighter screen
            screen_min_market_cap_eok: 50000
            screen_cross_within_days: 10
            screen_max_price: 500000
            screen_exclude_designated: false
            schedule_core_codes: 8
            """
        )
        #expect(settings.minMarketCap == 50_000)
        #expect(settings.crossWithinDays == 10)
        #expect(settings.maxPrice == 500_000)
        #expect(!settings.excludeDesignated)
        #expect(settings.coreCodes == 8)
        #expect(settings.slowPeriod == 200)
    }

    @Test func aBadValueNamesTheKeyAndTheFile() throws {
        for (text, key) in [
            ("screen_min_market_cap_eok: lots", "screen_min_market_cap_eok"),
            ("screen_exclude_designated: maybe", "screen_exclude_designated"),
            ("schedule_live_codes: 21", "schedule_live_codes"),
            ("screen_ma_fast: 200", "screen_ma_fast"),
            ("screen_history_days: 200", "screen_history_days"),
            ("schedule_core_codes: 15\nschedule_live_codes: 10", "schedule_core_codes"),
        ] {
            let path = try Self.file(text)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let entries = try SettingsFile.load(path: path, keys: ScreenSettings.keys)
            #expect {
                try ScreenSettings(parameters: entries, path: path)
            } throws: { error in
                guard case .setting(let named, let file, _) = error as? ScreenError else { return false }
                let text = "\(error)"
                return named == key && file == path && text.contains(key) && text.contains(path)
            }
        }
    }

    @Test func anUnknownKeyNamesTheKeyAndTheFile() throws {
        let path = try Self.file("screen_min_market_cap: 5000\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try SettingsFile.load(path: path, keys: ScreenSettings.keys)
        } throws: { error in
            let text = "\(error)"
            return text.contains("screen_min_market_cap") && text.contains(path)
        }
    }
}
