/// App keys beyond `kis_devlp.yaml`'s, for market data only: KIS gives each app key one WebSocket session of 41
/// registrations (20 codes' trades and books), so each extra key streams 20 more codes.
///
/// They come from a file of kistick's own, since the official `kis_devlp.yaml` holds one key per environment and
/// is read unchanged. Same flat YAML as that file, pairs numbered 1 to `maximumCount`:
///
/// ```yaml
/// feed_app_1: "PSxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
/// feed_sec_1: "…180 characters…"
/// ```
///
/// The keys are of the run's environment (paper keys for a paper account). The key in `kis_devlp.yaml` keeps the
/// account: it alone places orders, reads balances and takes the order notices; the keys here only stream
/// quotes. Every failure names the key and the file, never a value.
public enum FeedKeys {
    /// Three extra keys and the account's stream 80 codes, more than the engine's 64 (`SymbolTable.capacity`).
    public static let maximumCount = 3

    static func appKey(_ number: Int) -> String { "feed_app_\(number)" }
    static func appSecret(_ number: Int) -> String { "feed_sec_\(number)" }

    /// Every key the file may hold.
    static let keys = Set((1...Self.maximumCount).flatMap { [Self.appKey($0), Self.appSecret($0)] })

    /// The credentials in `path`, in the order of their numbers.
    /// - Parameter account: the account's own key (`kis_devlp.yaml`), which may not appear again: KIS refuses a
    ///   second session to the same key (OPSP8996).
    /// - Throws: `ConfigError` naming the file and the key: a pair with one half missing, a credential of the wrong
    ///   length or characters, a key repeated or equal to the account's, a key the file may not hold, or no pair.
    public static func load(path: String, account: Credentials) throws(ConfigError) -> [Credentials] {
        let fields = Fields(entries: try SettingsFile.entries(path: path, keys: Self.keys), path: path)
        var credentials: [Credentials] = []
        var seen: [Secret: String] = [account.appKey: "the app key of kis_devlp.yaml"]
        for number in 1...Self.maximumCount {
            let (keyName, secretName) = (Self.appKey(number), Self.appSecret(number))
            guard fields.entries[keyName] != nil || fields.entries[secretName] != nil else { continue }
            let appKey = Secret(try fields.credential(keyName, length: KISConfig.appKeyLength))
            let appSecret = Secret(try fields.credential(secretName, length: KISConfig.appSecretLength))
            if let first = seen[appKey] { throw .repeatedKey(key: keyName, otherKey: first, path: path) }
            seen[appKey] = keyName
            credentials.append(Credentials(appKey: appKey, appSecret: appSecret))
        }
        guard !credentials.isEmpty else { throw .missing(key: Self.appKey(1), path: path) }
        return credentials
    }
}
