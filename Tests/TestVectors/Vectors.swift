public import Foundation

/// The KIS samples in Tests/Fixtures/kis (what each is and where it came from: its README), found from this file so
/// tests run from any directory.
public enum Vectors {
    public static let trades = "hoga-ops_h0stcnt0_20260608_first4frames.txt"
    public static let books = "hoga-ops_h0stasp0_20260608_first5frames.txt"
    public static let acks = "hoga-ops_control_acks_20260608.txt"
    public static let pingPong = "efriendexpert_pingpong_20231004.json"
    public static let subscribeError = "efriendexpert_subscribe_error_OPSP0009.txt"
    public static let aes = "synthetic_aes_h0stcni9_vector.json"
    public static let price = "real_inquire_price_005930_20250725.json"
    public static let marketCapRanking = "real_ranking_market_cap_FHPST01740000_20250725.json"
    public static let orderAccepted = "real_order_cash_response_APBK0013.json"
    public static let paperOrderAccepted = "real_paper_order_cash_response_40600000.json"
    public static let orderRefused = "real_order_cash_error_IGW00007_http500.json"

    public static func url(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/kis/\(name)")
    }

    public static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Self.url(name)))
    }

    /// The file's non-empty lines.
    public static func lines(_ name: String) throws -> [String] {
        try String(contentsOf: Self.url(name), encoding: .utf8).split(separator: "\n").map(String.init)
    }
}
