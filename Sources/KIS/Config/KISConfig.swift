/// One environment's settings, read from the official `kis_devlp.yaml` exactly as KIS's samples use it.
///
/// Paper reads `paper_app`, `paper_sec`, `my_paper_stock`, `vps` and `vops`; real reads `my_app`, `my_sec`,
/// `my_acct_stock`, `prod` and `ops`; both read `my_htsid`, `my_prod` and `my_agent`. Keys of the other environment
/// may keep their placeholders, and `my_acct_future`, `my_paper_future` and `my_token` are never read.
/// The account key may also hold the full `12345678-01` form (as python-kis writes accounts), accepted only when its
/// product code agrees with `my_prod`.
public struct KISConfig: Sendable {
    public let environment: Environment
    public let appKey: Secret
    public let appSecret: Secret
    /// The HTS user id, the `tr_key` of the order-notice TRs.
    public let htsID: String
    public let account: Account
    /// The REST base URL without a trailing slash (`KIS_REST_URL` if set).
    public let restURL: String
    /// The WebSocket base URL without a trailing slash (`KIS_WS_URL` if set).
    public let webSocketURL: String
    public let userAgent: String
    /// The file the settings came from.
    public let sourcePath: String
    /// With a paper account, the real app key (`my_app`, `my_sec`) and host (`prod`, or `KIS_REAL_REST_URL`) when
    /// the file holds one: KIS serves the rankings and some quotations on the real host only, and quotations there do
    /// not spend the paper key's 2 calls a second. Orders, balances and notices always stay on paper. Nil for a real
    /// account, or when the real keys are still the template's placeholders.
    public let realQuotations: QuotationHost?

    public static let fileName = "kis_devlp.yaml"
    /// Environment variables that replace the file's hosts, so the same file drives `kistick sim`.
    public static let restURLVariable = "KIS_REST_URL"
    /// Replaces the real host a paper account's quotations go to (`realQuotations`).
    public static let realRestURLVariable = "KIS_REAL_REST_URL"
    public static let webSocketURLVariable = "KIS_WS_URL"
    /// The lengths KIS issues (the tokenP request documents appkey 36, appsecret 180).
    public static let appKeyLength = 36
    public static let appSecretLength = 180

    /// Where `load(path: nil, …)` looks, in order: the official samples' `~/KIS/config/` (if `HOME` is set), then
    /// `currentDirectory`.
    public static func searchPaths(environmentVariables: [String: String], currentDirectory: String = ".") -> [String] {
        var paths: [String] = []
        if let home = environmentVariables["HOME"], !home.isEmpty {
            paths.append("\(home)/KIS/config/\(Self.fileName)")
        }
        paths.append("\(currentDirectory)/\(Self.fileName)")
        return paths
    }

    /// Reads and validates the settings of `environment`.
    /// - Parameters:
    ///   - path: the file to read; nil searches `searchPaths(environmentVariables:currentDirectory:)`.
    ///   - environmentVariables: the process environment (`HOME`, `KIS_REST_URL`, `KIS_WS_URL`), passed in so
    ///     tests do not depend on the machine.
    ///   - currentDirectory: the last place searched when `path` is nil.
    public static func load(
        path: String?,
        environment: Environment,
        environmentVariables: [String: String],
        currentDirectory: String = "."
    ) throws(ConfigError) -> KISConfig {
        let candidates =
            path.map { [$0] }
            ?? Self.searchPaths(
                environmentVariables: environmentVariables,
                currentDirectory: currentDirectory
            )
        for candidate in candidates {
            let bytes: [UInt8]
            do throws(LocalFile.ReadError) {
                bytes = try LocalFile.read(path: candidate, limit: Self.maximumFileSize)
            } catch {
                switch error {
                case .notFound: continue
                case .tooLarge(let limit):
                    throw .unreadable(path: candidate, reason: "it is larger than \(limit) bytes")
                case .failed(let reason): throw .unreadable(path: candidate, reason: reason)
                }
            }
            return try KISConfig(
                parsing: bytes,
                path: candidate,
                environment: environment,
                environmentVariables: environmentVariables
            )
        }
        throw .notFound(searched: candidates)
    }

    /// The official file is under 1 KiB; anything far larger is the wrong file.
    static let maximumFileSize = 64 * 1024

    init(
        parsing bytes: [UInt8],
        path: String,
        environment: Environment,
        environmentVariables: [String: String]
    ) throws(ConfigError) {
        let yaml: FlatYAML
        do {
            yaml = try FlatYAML(parsing: bytes, nameableKeys: Keys.all)
        } catch {
            throw .syntax(path: path, line: error.line, problem: error.problem)
        }
        let fields = Fields(entries: yaml.entries, path: path)
        let keys = Keys(environment)
        self.environment = environment
        self.appKey = Secret(try fields.credential(keys.appKey, length: Self.appKeyLength))
        self.appSecret = Secret(try fields.credential(keys.appSecret, length: Self.appSecretLength))
        self.htsID = try fields.text(Keys.htsID, expected: "an HTS user ID (printable ASCII, no spaces)") {
            $0.allSatisfy(\.isVisibleASCII)
        }
        self.account = try fields.account(keys.account, productKey: Keys.productCode)
        self.restURL = try fields.url(
            keys.restHost,
            schemes: ["https://", "http://"],
            override: Self.restURLVariable,
            environmentVariables: environmentVariables
        )
        self.webSocketURL = try fields.url(
            keys.webSocketHost,
            schemes: ["ws://", "wss://"],
            override: Self.webSocketURLVariable,
            environmentVariables: environmentVariables
        )
        self.userAgent = try fields.userAgent(Keys.userAgent)
        self.sourcePath = path
        self.realQuotations =
            environment == .paper
            ? try fields.realQuotations(environmentVariables: environmentVariables) : nil
    }
}

/// Where a paper account's quotations go when the configuration holds a real app key: the real host, with that key.
public struct QuotationHost: Sendable {
    public let restURL: String
    public let credentials: Credentials

    public init(restURL: String, credentials: Credentials) {
        self.restURL = restURL
        self.credentials = credentials
    }
}

/// A KIS account: the 8-digit number (`CANO`) and the 2-digit product code (`ACNT_PRDT_CD`) every account API takes.
public struct Account: Sendable, Hashable, CustomStringConvertible {
    public let cano: String
    public let productCode: String

    /// Nil unless `cano` is 8 ASCII digits and `productCode` 2.
    public init?(cano: String, productCode: String) {
        guard Self.isDigits(cano, count: 8), Self.isDigits(productCode, count: 2) else { return nil }
        self.cano = cano
        self.productCode = productCode
    }

    static func isDigits(_ text: String, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { UInt8(ascii: "0") <= $0 && $0 <= UInt8(ascii: "9") }
    }

    /// `12345678-01`, the form KIS's web pages and python-kis show.
    public var description: String { "\(self.cano)-\(self.productCode)" }
}

/// The key names of `kis_devlp.yaml` for one environment.
private struct Keys {
    let appKey: String
    let appSecret: String
    let account: String
    let restHost: String
    let webSocketHost: String

    static let htsID = "my_htsid"
    static let productCode = "my_prod"
    static let userAgent = "my_agent"
    /// Every key of the official file, the only key texts an error may repeat.
    static let all: Set<String> = [
        "my_app", "my_sec", "paper_app", "paper_sec", "my_htsid", "my_acct_stock", "my_acct_future",
        "my_paper_stock", "my_paper_future", "my_prod", "prod", "ops", "vps", "vops", "my_token", "my_agent",
    ]

    init(_ environment: Environment) {
        switch environment {
        case .real:
            (self.appKey, self.appSecret, self.account) = ("my_app", "my_sec", "my_acct_stock")
            (self.restHost, self.webSocketHost) = ("prod", "ops")
        case .paper:
            (self.appKey, self.appSecret, self.account) = ("paper_app", "paper_sec", "my_paper_stock")
            (self.restHost, self.webSocketHost) = ("vps", "vops")
        }
    }
}

/// Typed reads of the parsed file; every failure names the key and the file, never the value.
struct Fields {
    let entries: [String: FlatYAML.Entry]
    let path: String

    func value(_ key: String) throws(ConfigError) -> String {
        guard let value = self.entries[key]?.value, !value.isEmpty else { throw .missing(key: key, path: self.path) }
        return value
    }

    /// The template's placeholders are Korean words ("앱키", "모의투자 앱키 시크릿", "증권계좌 8자리", "사용자 HTS ID"),
    /// and no real key, secret, id or account number has a non-ASCII character.
    func filledIn(_ key: String) throws(ConfigError) -> String {
        let value = try self.value(key)
        guard value.unicodeScalars.allSatisfy(\.isASCII) else { throw .placeholder(key: key, path: self.path) }
        return value
    }

    func credential(_ key: String, length: Int) throws(ConfigError) -> String {
        let value = try self.filledIn(key)
        guard value.utf8.count == length else {
            throw .wrongLength(key: key, path: self.path, expected: length, actual: value.utf8.count)
        }
        guard value.allSatisfy(\.isVisibleASCII) else {
            throw .malformed(key: key, path: self.path, expected: "printable ASCII without spaces")
        }
        return value
    }

    func text(_ key: String, expected: String, valid: (String) -> Bool) throws(ConfigError) -> String {
        let value = try self.filledIn(key)
        guard valid(value) else { throw .malformed(key: key, path: self.path, expected: expected) }
        return value
    }

    /// The template's value is a real browser's; only characters an HTTP header can carry are refused.
    func userAgent(_ key: String) throws(ConfigError) -> String {
        let value = try self.value(key)
        guard value.allSatisfy({ $0 == " " || $0.isVisibleASCII }) else {
            throw .malformed(key: key, path: self.path, expected: "printable ASCII")
        }
        return value
    }

    func account(_ key: String, productKey: String) throws(ConfigError) -> Account {
        let number = try self.filledIn(key)
        let product = try self.filledIn(productKey)
        guard Account.isDigits(product, count: 2) else {
            throw .malformed(key: productKey, path: self.path, expected: "2 digits")
        }
        let parts = number.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let account = Account(cano: String(parts[0]), productCode: parts.count == 2 ? String(parts[1]) : product)
        else { throw .malformed(key: key, path: self.path, expected: "8 digits") }
        guard account.productCode == product else {
            throw .conflicting(key: key, otherKey: productKey, path: self.path)
        }
        return account
    }

    /// The real key and host for a paper account's quotations: nil while `my_app` or `my_sec` is missing or still a
    /// placeholder (a paper-only user), an error naming the key when one is filled in but malformed.
    func realQuotations(environmentVariables: [String: String]) throws(ConfigError) -> QuotationHost? {
        let keys = Keys(.real)
        let filledIn = [keys.appKey, keys.appSecret].allSatisfy { key in
            guard let value = self.entries[key]?.value, !value.isEmpty else { return false }
            return value.unicodeScalars.allSatisfy(\.isASCII)
        }
        guard filledIn else { return nil }
        let credentials = Credentials(
            appKey: Secret(try self.credential(keys.appKey, length: KISConfig.appKeyLength)),
            appSecret: Secret(try self.credential(keys.appSecret, length: KISConfig.appSecretLength))
        )
        let url = try self.url(
            keys.restHost,
            schemes: ["https://", "http://"],
            override: KISConfig.realRestURLVariable,
            environmentVariables: environmentVariables
        )
        return QuotationHost(restURL: url, credentials: credentials)
    }

    /// The URL from `override` in the environment if set, else from the file; trailing slashes dropped.
    func url(
        _ key: String,
        schemes: [String],
        override: String,
        environmentVariables: [String: String]
    ) throws(ConfigError) -> String {
        let expected = "a URL starting with \(schemes.joined(separator: " or "))"
        if let value = environmentVariables[override], !value.isEmpty {
            guard let url = Self.validURL(value, schemes: schemes) else {
                throw .invalidEnvironmentVariable(name: override, expected: expected)
            }
            return url
        }
        guard let url = Self.validURL(try self.value(key), schemes: schemes) else {
            throw .malformed(key: key, path: self.path, expected: expected)
        }
        return url
    }

    private static func validURL(_ value: String, schemes: [String]) -> String? {
        guard let scheme = schemes.first(where: { value.hasPrefix($0) }) else { return nil }
        var url = Substring(value)
        while url.hasSuffix("/") { url.removeLast() }
        guard url.count > scheme.count, url.allSatisfy(\.isVisibleASCII) else { return nil }
        return String(url)
    }
}

extension Character {
    /// ASCII other than controls and space: what keys, secrets, ids and URLs are made of.
    fileprivate var isVisibleASCII: Bool {
        guard let ascii = self.asciiValue else { return false }
        return ascii > 0x20 && ascii < 0x7F
    }
}
