/// Why `kis_devlp.yaml` could not be turned into a `KISConfig`. No case carries a value read from the file, so no
/// description can leak a credential; keys are named only when they are ones kistick reads.
public enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No file at any of the places searched, in search order.
    case notFound(searched: [String])
    /// The file exists but could not be read; `reason` is the system's text.
    case unreadable(path: String, reason: String)
    /// A line is outside the YAML subset the official file uses.
    case syntax(path: String, line: Int, problem: ConfigSyntaxProblem)
    /// A key kistick needs is absent, or its value is empty.
    case missing(key: String, path: String)
    /// A key still holds the official template's Korean placeholder ("앱키", "증권계좌 8자리", …).
    case placeholder(key: String, path: String)
    /// A credential whose length is not the one KIS issues.
    case wrongLength(key: String, path: String, expected: Int, actual: Int)
    /// A value of the wrong shape; `expected` says what it should look like.
    case malformed(key: String, path: String, expected: String)
    /// Two keys disagree (an account written with its product code, which differs from `my_prod`).
    case conflicting(key: String, otherKey: String, path: String)
    /// An app key given twice (`FeedKeys`): KIS gives a key one WebSocket session, so the second adds nothing.
    case repeatedKey(key: String, otherKey: String, path: String)
    /// An environment variable that overrides a host is not a URL of the right scheme.
    case invalidEnvironmentVariable(name: String, expected: String)
    /// A settings file holds a key kistick does not read (a typo, most likely); `key` is nil when its text could be
    /// something other than a key.
    case unknownKey(key: String?, line: Int, path: String)

    public var description: String {
        switch self {
        case .notFound(let searched) where searched.count == 1:
            "No configuration file at \(searched[0])."
        case .notFound(let searched):
            "No kis_devlp.yaml found; searched \(searched.joined(separator: ", "))."
        case .unreadable(let path, let reason):
            "Cannot read \(path): \(reason)."
        case .syntax(let path, let line, let problem):
            "Line \(line) of \(path) \(problem)."
        case .missing(let key, let path):
            "\(key) is missing or empty in \(path)."
        case .placeholder(let key, let path):
            "\(key) in \(path) is still the template's placeholder."
        case .wrongLength(let key, let path, let expected, let actual):
            "\(key) in \(path) has \(actual) characters; KIS issues \(expected)."
        case .malformed(let key, let path, let expected):
            "\(key) in \(path) must be \(expected)."
        case .conflicting(let key, let otherKey, let path):
            "\(key) in \(path) carries a product code that disagrees with \(otherKey)."
        case .repeatedKey(let key, let otherKey, let path):
            "\(key) in \(path) is the same app key as \(otherKey); KIS gives each key one WebSocket session."
        case .invalidEnvironmentVariable(let name, let expected):
            "The environment variable \(name) must be \(expected)."
        case .unknownKey(let key?, let line, let path):
            "Line \(line) of \(path): \(key) is not a setting kistick knows."
        case .unknownKey(nil, let line, let path):
            "Line \(line) of \(path) holds a key that is not a setting kistick knows."
        }
    }
}

/// What is wrong with one line of `kis_devlp.yaml`. Deliberately content-free: the line may hold a secret.
public enum ConfigSyntaxProblem: Sendable, Equatable, CustomStringConvertible {
    case notUTF8
    case controlCharacter
    case tabIndentation
    /// Leading spaces: the start of a nested mapping or a continuation line, neither of which the file uses.
    case indented
    case notAKeyValuePair
    case list
    case nestedMapping
    case flowCollection
    case anchorOrAlias
    case tag
    case blockScalar
    case reservedIndicator
    case unterminatedQuote
    case invalidEscape
    case textAfterQuotedValue
    /// `key` is nil when the repeated key is not one kistick reads (it could be anything, even a pasted secret).
    case duplicateKey(key: String?, firstLine: Int)

    public var description: String {
        switch self {
        case .notUTF8: "is not valid UTF-8"
        case .controlCharacter: "contains a control character"
        case .tabIndentation: "is indented with a tab, which YAML forbids"
        case .indented: "is indented; nested mappings and continued values are not supported"
        case .notAKeyValuePair: "is not a `key: value` pair"
        case .list: "is a list item; lists are not supported"
        case .nestedMapping: "holds a second `: ` after the key; nested mappings are not supported (quote the value)"
        case .flowCollection: "holds a [flow] or {flow} collection, which is not supported"
        case .anchorOrAlias: "uses an anchor or alias, which is not supported"
        case .tag: "uses a tag, which is not supported"
        case .blockScalar: "starts a block scalar (| or >), which is not supported"
        case .reservedIndicator: "starts a value with a reserved character (@, ` or %); quote the value"
        case .unterminatedQuote: "has a quoted value that does not end on the same line"
        case .invalidEscape: "has an invalid escape sequence in a double-quoted value"
        case .textAfterQuotedValue: "has text after the closing quote"
        case .duplicateKey(let key?, let firstLine): "repeats the key \(key) of line \(firstLine)"
        case .duplicateKey(nil, let firstLine): "repeats a key of line \(firstLine)"
        }
    }
}
