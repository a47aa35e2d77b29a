import KIS
import Testing

/// Credentials whose text is easy to search for in any output.
enum TestCredentials {
    static let marker = "SECRET"
    static let realKey = "SECRETrealKEY" + String(repeating: "r", count: 23)
    static let realSecret = "SECRETrealSEC" + String(repeating: "R", count: 167)
    static let paperKey = "SECRETpaperKEY" + String(repeating: "p", count: 22)
    static let paperSecret = "SECRETpaperSEC" + String(repeating: "P", count: 166)
}

@Suite struct ConfigTests {
    @Test(arguments: [
        (Environment.paper, ["paper_app", "paper_sec", "my_htsid", "my_paper_stock"]),
        (Environment.real, ["my_app", "my_sec", "my_htsid", "my_acct_stock"]),
    ])
    func officialTemplateNamesEachPlaceholderInTurn(environment: Environment, keys: [String]) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var values: [String: String] = [:]
        for key in keys {
            let path = try directory.write(Self.template(replacing: values), to: "kis_devlp.yaml")
            #expect(throws: ConfigError.placeholder(key: key, path: path)) {
                try KISConfig.load(path: path, environment: environment, environmentVariables: [:])
            }
            values[key] = Self.filledValues[key]
        }
        let path = try directory.write(Self.template(replacing: values), to: "kis_devlp.yaml")
        #expect(try KISConfig.load(path: path, environment: environment, environmentVariables: [:]).sourcePath == path)
    }

    @Test func templateIsTheOfficialFile() {
        // The size of open-trading-api's kis_devlp.yaml at commit 0e65168.
        #expect(Self.officialTemplate.unicodeScalars.count == 898)
        #expect(Self.officialTemplate.utf8.count == 1218)
    }

    @Test func placeholderErrorReadsAsOneSentence() {
        let error = ConfigError.placeholder(key: "paper_app", path: "/home/u/KIS/config/kis_devlp.yaml")
        #expect(
            error.description == "paper_app in /home/u/KIS/config/kis_devlp.yaml is still the template's placeholder."
        )
    }

    @Test func filledFileGivesEveryField() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write(Self.template(replacing: Self.filledValues), to: "kis_devlp.yaml")

        let paper = try KISConfig.load(path: path, environment: .paper, environmentVariables: [:])
        #expect(paper.environment == .paper)
        #expect(paper.appKey.reveal == TestCredentials.paperKey)
        #expect(paper.appSecret.reveal == TestCredentials.paperSecret)
        #expect(paper.htsID == "trader01")
        #expect(paper.account == Account(cano: "50012345", productCode: "01"))
        #expect(paper.account.description == "50012345-01")
        #expect(paper.restURL == "https://openapivts.koreainvestment.com:29443")
        #expect(paper.webSocketURL == "ws://ops.koreainvestment.com:31000")
        #expect(paper.userAgent.hasPrefix("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"))
        #expect(paper.sourcePath == path)

        let real = try KISConfig.load(path: path, environment: .real, environmentVariables: [:])
        #expect(real.appKey.reveal == TestCredentials.realKey)
        #expect(real.appSecret.reveal == TestCredentials.realSecret)
        #expect(real.account == Account(cano: "12345678", productCode: "01"))
        #expect(real.restURL == "https://openapi.koreainvestment.com:9443")
        #expect(real.webSocketURL == "ws://ops.koreainvestment.com:21000")
        #expect(real.userAgent == paper.userAgent)

        for rendering in ["\(real)", String(reflecting: real), "\(paper)"] {
            #expect(!rendering.contains(TestCredentials.marker))
        }
    }

    /// A paper account's quotations go to the real host when the file has a real app key: the official file's
    /// `prod` host, or `KIS_REAL_REST_URL`; placeholders mean a paper-only user, a malformed real key is an error.
    @Test func paperAccountsTakeTheRealKeyForQuotations() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let filled = try directory.write(Self.template(replacing: Self.filledValues), to: "filled.yaml")
        let paper = try KISConfig.load(path: filled, environment: .paper, environmentVariables: [:])
        let quotations = try #require(paper.realQuotations)
        #expect(quotations.restURL == "https://openapi.koreainvestment.com:9443")
        #expect(quotations.credentials.appKey.reveal == TestCredentials.realKey)
        #expect(quotations.credentials.appSecret.reveal == TestCredentials.realSecret)
        let overridden = try KISConfig.load(
            path: filled,
            environment: .paper,
            environmentVariables: ["KIS_REAL_REST_URL": "http://127.0.0.1:9/", "KIS_REST_URL": "http://127.0.0.1:8"]
        )
        #expect(overridden.realQuotations?.restURL == "http://127.0.0.1:9")
        #expect(overridden.restURL == "http://127.0.0.1:8")
        // A real account's own calls are all real: nothing to route.
        #expect(try KISConfig.load(path: filled, environment: .real, environmentVariables: [:]).realQuotations == nil)

        var paperOnly = Self.filledValues
        (paperOnly["my_app"], paperOnly["my_sec"]) = (nil, nil)
        let placeholders = try directory.write(Self.template(replacing: paperOnly), to: "paper-only.yaml")
        let paperOnlyConfig = try KISConfig.load(path: placeholders, environment: .paper, environmentVariables: [:])
        #expect(paperOnlyConfig.realQuotations == nil)

        var short = Self.filledValues
        short["my_app"] = "\"PSshort\""
        let malformed = try directory.write(Self.template(replacing: short), to: "short.yaml")
        #expect(throws: ConfigError.wrongLength(key: "my_app", path: malformed, expected: 36, actual: 7)) {
            try KISConfig.load(path: malformed, environment: .paper, environmentVariables: [:])
        }
        let badURL = ConfigError.invalidEnvironmentVariable(
            name: "KIS_REAL_REST_URL",
            expected: "a URL starting with https:// or http://"
        )
        #expect(throws: badURL) {
            try KISConfig.load(path: filled, environment: .paper, environmentVariables: ["KIS_REAL_REST_URL": "ws://x"])
        }
    }

    @Test func scalarsKeepTheirTextAndCommentsEndThem() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text =
            "\u{FEFF}"
            + Self.template(
                replacing: Self.filledValues.merging([
                    "paper_app": "'\(TestCredentials.paperKey)'   # single-quoted",
                    "paper_sec": "\(TestCredentials.paperSecret) # plain, trailing comment",
                    "my_htsid": "'it''s#not-a-comment'",
                    "my_prod": "01",
                    "my_agent": #""Agent/1.0 \"quoted\" \x41\u0042 #kept" # comment"#,
                ]) { $1 }
            ).replacingOccurrences(of: "\n", with: "\r\n")
        let path = try directory.write(text, to: "kis_devlp.yaml")
        let config = try KISConfig.load(path: path, environment: .paper, environmentVariables: [:])
        #expect(config.appKey.reveal == TestCredentials.paperKey)
        #expect(config.appSecret.reveal == TestCredentials.paperSecret)
        #expect(config.htsID == "it's#not-a-comment")
        #expect(config.account.productCode == "01")
        #expect(config.userAgent == #"Agent/1.0 "quoted" AB #kept"#)
    }

    @Test func loneCarriageReturnsEndLinesToo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text = Self.template(replacing: Self.filledValues).replacingOccurrences(of: "\n", with: "\r")
        let path = try directory.write(text, to: "kis_devlp.yaml")
        #expect(try KISConfig.load(path: path, environment: .real, environmentVariables: [:]).htsID == "trader01")
    }

    @Test func accountMayCarryAMatchingProductCode() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cases: [(account: String, product: String, expected: Result<Account, ConfigError>)] = [
            ("\"50012345-22\"", "\"22\"", .success(Account(cano: "50012345", productCode: "22")!)),
            ("\"50012345-01\"", "\"22\"", .failure(.conflicting(key: "my_paper_stock", otherKey: "my_prod", path: ""))),
            ("\"5001234\"", "\"01\"", .failure(.malformed(key: "my_paper_stock", path: "", expected: "8 digits"))),
            ("\"5001234x\"", "\"01\"", .failure(.malformed(key: "my_paper_stock", path: "", expected: "8 digits"))),
            ("\"50012345-0\"", "\"01\"", .failure(.malformed(key: "my_paper_stock", path: "", expected: "8 digits"))),
            ("\"50012345\"", "\"1\"", .failure(.malformed(key: "my_prod", path: "", expected: "2 digits"))),
        ]
        for (account, product, expected) in cases {
            let path = try directory.write(
                Self.template(
                    replacing: Self.filledValues.merging(["my_paper_stock": account, "my_prod": product]) { $1 }
                ),
                to: "kis_devlp.yaml"
            )
            let result = Result { () throws(ConfigError) in
                try KISConfig.load(path: path, environment: .paper, environmentVariables: [:]).account
            }
            switch (result, expected) {
            case (.success(let got), .success(let want)): #expect(got == want)
            case (.failure(.conflicting(let key, let other, _)), .failure(.conflicting(let wantKey, let wantOther, _))):
                #expect(key == wantKey && other == wantOther)
            case (.failure(.malformed(let key, _, let what)), .failure(.malformed(let wantKey, _, let wantWhat))):
                #expect(key == wantKey && what == wantWhat)
            default: Issue.record("\(account) with \(product): \(result), expected \(expected)")
            }
        }
    }

    @Test func credentialsMustHaveKISLengths() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let short = "SECRETshort" + String(repeating: "x", count: 24)
        var path = try directory.write(
            Self.template(replacing: Self.filledValues.merging(["paper_app": "\"\(short)\""]) { $1 }),
            to: "kis_devlp.yaml"
        )
        #expect(throws: ConfigError.wrongLength(key: "paper_app", path: path, expected: 36, actual: 35)) {
            try KISConfig.load(path: path, environment: .paper, environmentVariables: [:])
        }
        path = try directory.write(
            Self.template(replacing: Self.filledValues.merging(["my_sec": "\"SECRET\""]) { $1 }),
            to: "kis_devlp.yaml"
        )
        #expect(throws: ConfigError.wrongLength(key: "my_sec", path: path, expected: 180, actual: 6)) {
            try KISConfig.load(path: path, environment: .real, environmentVariables: [:])
        }
        let spaced = "SECRET with spaces" + String(repeating: "x", count: 18)
        path = try directory.write(
            Self.template(replacing: Self.filledValues.merging(["paper_app": "\"\(spaced)\""]) { $1 }),
            to: "kis_devlp.yaml"
        )
        let malformed = ConfigError.malformed(key: "paper_app", path: path, expected: "printable ASCII without spaces")
        #expect(throws: malformed) {
            try KISConfig.load(path: path, environment: .paper, environmentVariables: [:])
        }
    }

    @Test func missingAndEmptyKeysAreNamed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let withoutSecret = Self.template(replacing: Self.filledValues).split(separator: "\n")
            .filter { !$0.hasPrefix("paper_sec:") }.joined(separator: "\n")
        var path = try directory.write(withoutSecret, to: "kis_devlp.yaml")
        #expect(throws: ConfigError.missing(key: "paper_sec", path: path)) {
            try KISConfig.load(path: path, environment: .paper, environmentVariables: [:])
        }
        for empty in ["\"\"", "", "  # nothing"] {
            path = try directory.write(
                Self.template(replacing: Self.filledValues.merging(["my_htsid": empty]) { $1 }),
                to: "kis_devlp.yaml"
            )
            #expect(throws: ConfigError.missing(key: "my_htsid", path: path)) {
                try KISConfig.load(path: path, environment: .real, environmentVariables: [:])
            }
        }
        path = try directory.write(
            Self.template(replacing: Self.filledValues.merging(["vops": "\"https://wrong.scheme\""]) { $1 }),
            to: "kis_devlp.yaml"
        )
        #expect(throws: ConfigError.malformed(key: "vops", path: path, expected: "a URL starting with ws:// or wss://"))
        {
            try KISConfig.load(path: path, environment: .paper, environmentVariables: [:])
        }
        let noAgent = Self.template(replacing: Self.filledValues).split(separator: "\n")
            .filter { !$0.hasPrefix("my_agent:") }.joined(separator: "\n")
        path = try directory.write(noAgent, to: "kis_devlp.yaml")
        #expect(throws: ConfigError.missing(key: "my_agent", path: path)) {
            try KISConfig.load(path: path, environment: .real, environmentVariables: [:])
        }
    }

    @Test func environmentVariablesReplaceTheHosts() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write(Self.template(replacing: Self.filledValues), to: "kis_devlp.yaml")
        let overrides = ["KIS_REST_URL": "http://127.0.0.1:18443/", "KIS_WS_URL": "ws://127.0.0.1:18000"]
        for environment in Environment.allCases {
            let config = try KISConfig.load(path: path, environment: environment, environmentVariables: overrides)
            #expect(config.restURL == "http://127.0.0.1:18443")
            #expect(config.webSocketURL == "ws://127.0.0.1:18000")
        }
        let empty = try KISConfig.load(path: path, environment: .paper, environmentVariables: ["KIS_REST_URL": ""])
        #expect(empty.restURL == "https://openapivts.koreainvestment.com:29443")
        let webSocket = "a URL starting with ws:// or wss://"
        #expect(throws: ConfigError.invalidEnvironmentVariable(name: "KIS_WS_URL", expected: webSocket)) {
            try KISConfig.load(path: path, environment: .paper, environmentVariables: ["KIS_WS_URL": "http://x"])
        }
        let rest = "a URL starting with https:// or http://"
        #expect(throws: ConfigError.invalidEnvironmentVariable(name: "KIS_REST_URL", expected: rest)) {
            try KISConfig.load(path: path, environment: .real, environmentVariables: ["KIS_REST_URL": "https://"])
        }
    }

    @Test func searchesTheOfficialLocationThenTheCurrentDirectory() throws {
        let home = try TemporaryDirectory()
        let work = try TemporaryDirectory()
        defer {
            home.remove()
            work.remove()
        }
        let environment = ["HOME": home.path]
        let official = "\(home.path)/KIS/config/kis_devlp.yaml"
        let local = "\(work.path)/kis_devlp.yaml"
        let searched = KISConfig.searchPaths(environmentVariables: environment, currentDirectory: work.path)
        #expect(searched == [official, local])
        #expect(KISConfig.searchPaths(environmentVariables: [:]) == ["./kis_devlp.yaml"])

        #expect(throws: ConfigError.notFound(searched: [official, local])) {
            try KISConfig.load(
                path: nil,
                environment: .paper,
                environmentVariables: environment,
                currentDirectory: work.path
            )
        }
        try work.write(Self.template(replacing: Self.filledValues), to: "kis_devlp.yaml")
        let fromWork = try KISConfig.load(
            path: nil,
            environment: .paper,
            environmentVariables: environment,
            currentDirectory: work.path
        )
        #expect(fromWork.sourcePath == local)
        try home.write(Self.template(replacing: Self.filledValues), to: "KIS/config/kis_devlp.yaml")
        let fromHome = try KISConfig.load(
            path: nil,
            environment: .paper,
            environmentVariables: environment,
            currentDirectory: work.path
        )
        #expect(fromHome.sourcePath == official)

        let absent = "\(work.path)/elsewhere.yaml"
        #expect(throws: ConfigError.notFound(searched: [absent])) {
            try KISConfig.load(path: absent, environment: .paper, environmentVariables: environment)
        }
        #expect(ConfigError.notFound(searched: [absent]).description == "No configuration file at \(absent).")
        #expect(throws: ConfigError.unreadable(path: work.path, reason: "not a regular file")) {
            try KISConfig.load(path: work.path, environment: .paper, environmentVariables: [:])
        }
    }

    @Test func syntaxErrorsNameFileAndLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("my_app: \"a\"\n\n  nested: x\n", to: "kis_devlp.yaml")
        let error = ConfigError.syntax(path: path, line: 3, problem: .indented)
        #expect(throws: error) {
            try KISConfig.load(path: path, environment: .real, environmentVariables: [:])
        }
        #expect(
            error.description
                == "Line 3 of \(path) is indented; nested mappings and continued values are not supported."
        )
    }

    /// Every malformed line carries a secret; no description, reflection or dump may show any of it.
    @Test func noErrorEverShowsTheFilesText() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let secret = "SECRETabcdefghijklmnopqrstuvwxyz0123"
        let brokenLines = [
            "paper_app: \"\(secret)", "paper_app: '\(secret)", "paper_app: \"\(secret)\" trailing",
            "paper_app: \(secret): x", "  paper_app: \(secret)", "\tpaper_app: \(secret)", "- \(secret)",
            "\(secret)", "\(secret):x", "paper_app: [\(secret)]", "paper_app: &\(secret) x",
            "paper_app: \"\\q\(secret)\"", "paper_app: \"\(secret)\\u12\"", "\(secret): 1\n\(secret): 2",
            "paper_app: \"\(secret)\u{7}\"", "paper_app: \(secret)\nmy_sec: \(secret)\nmy_sec: \(secret)",
            "paper_app: \"\(secret)x\"", "paper_app: \"\(secret)\"\npaper_sec: \"\(secret)\"",
            "paper_app: \"앱키\(secret)\"",
        ]
        for line in brokenLines {
            let path = try directory.write(line + "\n", to: "kis_devlp.yaml")
            for environment in Environment.allCases {
                let result = Result { () throws(ConfigError) in
                    try KISConfig.load(path: path, environment: environment, environmentVariables: [:])
                }
                guard case .failure(let error) = result else {
                    Issue.record("a broken file loaded")
                    continue
                }
                var dumped = ""
                dump(error, to: &dumped)
                for text in [error.description, String(reflecting: error), dumped] {
                    #expect(!text.contains(TestCredentials.marker), "leaked: \(error)")
                }
            }
        }
        let invalid = try directory.write([0x6D, 0x79, 0x3A, 0x20, 0xC3, 0x28, 0x0A], to: "kis_devlp.yaml")
        #expect(throws: ConfigError.syntax(path: invalid, line: 1, problem: .notUTF8)) {
            try KISConfig.load(path: invalid, environment: .paper, environmentVariables: [:])
        }
    }
}

extension ConfigTests {
    /// `kis_devlp.yaml` as koreainvestment/open-trading-api ships it (commit 0e65168), byte for byte.
    static let officialTemplate = #"""
        #홈페이지에서 API서비스 신청시 받은 Appkey, Appsecret 값 설정
        #실전투자
        my_app: "앱키"
        my_sec: "앱키 시크릿"

        #모의투자
        paper_app: "모의투자 앱키"
        paper_sec: "모의투자 앱키 시크릿"

        # HTS ID
        my_htsid: "사용자 HTS ID"

        #계좌번호 앞 8자리
        my_acct_stock: "증권계좌 8자리"
        my_acct_future: "선물옵션계좌 8자리"
        my_paper_stock: "모의투자 증권계좌 8자리"
        my_paper_future: "모의투자 선물옵션계좌 8자리"

        #계좌번호 뒤 2자리
        my_prod: "01" # 종합계좌
        # my_prod: "03" # 국내선물옵션계좌
        # my_prod: "08" # 해외선물옵션 계좌
        # my_prod: "22" # 개인연금
        # my_prod: "29" # 퇴직연금

        #domain infos
        prod: "https://openapi.koreainvestment.com:9443" # 서비스
        ops: "ws://ops.koreainvestment.com:21000" # 웹소켓
        vps: "https://openapivts.koreainvestment.com:29443" # 모의투자 서비스
        vops: "ws://ops.koreainvestment.com:31000" # 모의투자 웹소켓

        my_token: ""

        # User-Agent; Chrome > F12 개발자 모드 > Console > navigator.userAgent > 자신의 userAgent 확인가능
        my_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36"

        """#

    /// The template with `values` (key → value line content, written as given) in place of its lines.
    static func template(replacing values: [String: String]) -> String {
        Self.officialTemplate.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("#"),
                let value = values[String(line[..<colon])]
            else { return String(line) }
            return "\(line[..<colon]): \(value)"
        }.joined(separator: "\n")
    }

    static let filledValues: [String: String] = [
        "my_app": "\"\(TestCredentials.realKey)\"", "my_sec": "\"\(TestCredentials.realSecret)\"",
        "paper_app": "\"\(TestCredentials.paperKey)\"", "paper_sec": "\"\(TestCredentials.paperSecret)\"",
        "my_htsid": "\"trader01\"", "my_acct_stock": "\"12345678\"", "my_paper_stock": "\"50012345\"",
    ]
}
