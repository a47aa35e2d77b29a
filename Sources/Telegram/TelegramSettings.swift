public import KIS

/// The language the bot answers in.
public enum BotLanguage: String, Sendable, CaseIterable {
    case korean = "ko"
    case english = "en"
}

/// The bot's configuration: who it is (the token, a secret), whom it listens to, how it speaks.
///
/// Read from a flat `key: value` file in the same YAML subset as `kis_devlp.yaml`:
/// ```
/// telegram_bot_token: "123456789:AA…"     # from @BotFather; never printed
/// telegram_chat_ids: "123456789,-1001234" # the chats allowed to command the engine and told what it does
/// telegram_language: ko                   # ko (default) or en
/// telegram_api_url: https://api.telegram.org   # optional; tests point it at a local fake
/// ```
public struct TelegramSettings: Sendable {
    public var token: Secret
    /// Chats whose commands are obeyed, and which receive the notifications. Group chats have negative ids.
    public var chats: [Int64]
    public var language: BotLanguage = .korean
    /// The Bot API's base URL, without the trailing slash.
    public var apiURL = "https://api.telegram.org"
    /// How long one getUpdates waits for news, seconds (Telegram allows up to 50).
    public var pollSeconds = 25

    public init(token: Secret, chats: [Int64]) {
        self.token = token
        self.chats = chats
    }

    /// The keys a Telegram settings file may hold.
    public static let keys: Set<String> = [
        Key.token.rawValue, Key.chats.rawValue, Key.language.rawValue, Key.apiURL.rawValue,
    ]

    enum Key: String {
        case token = "telegram_bot_token"
        case chats = "telegram_chat_ids"
        case language = "telegram_language"
        case apiURL = "telegram_api_url"
    }

    /// Reads the file at `path`.
    /// - Throws: `ConfigError` naming the file and the key (never a value: the token is a secret).
    public static func load(path: String) throws(ConfigError) -> TelegramSettings {
        try Self(entries: try SettingsFile.load(path: path, keys: Self.keys), path: path)
    }

    /// Settings from a file's entries; `path` is for the errors.
    public init(entries: [String: String], path: String) throws(ConfigError) {
        guard let token = entries[Key.token.rawValue], !token.isEmpty else {
            throw .missing(key: Key.token.rawValue, path: path)
        }
        guard Self.isTokenShaped(token) else {
            throw .malformed(key: Key.token.rawValue, path: path, expected: "<bot id>:<secret> as @BotFather gives it")
        }
        guard let list = entries[Key.chats.rawValue], !list.isEmpty else {
            throw .missing(key: Key.chats.rawValue, path: path)
        }
        var chats: [Int64] = []
        for item in list.split(separator: ",") {
            guard let chat = Int64(Self.trimmed(item)), chat != 0 else {
                throw .malformed(key: Key.chats.rawValue, path: path, expected: "comma-separated chat ids (integers)")
            }
            chats.append(chat)
        }
        self.init(token: Secret(token), chats: chats)
        if let language = entries[Key.language.rawValue] {
            guard let parsed = BotLanguage(rawValue: language) else {
                throw .malformed(key: Key.language.rawValue, path: path, expected: "ko or en")
            }
            self.language = parsed
        }
        if let url = entries[Key.apiURL.rawValue] {
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw .malformed(key: Key.apiURL.rawValue, path: path, expected: "an http:// or https:// URL")
            }
            self.apiURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }

    /// `<digits>:<letters, digits, - and _>`, the only shape @BotFather issues; anything else is a paste error.
    private static func isTokenShaped(_ token: String) -> Bool {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].utf8.count >= 20 else { return false }
        let secretByte: (UInt8) -> Bool = { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F
        }
        return parts[0].utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && parts[1].utf8.allSatisfy(secretByte)
    }
}
