import Crypto
import Glibc
import JSON

/// The directory where every kistick process of this user keeps access tokens and the time of each app key's last
/// token request, so that processes share one token and together respect KIS's one-request-a-minute rule.
///
/// One file per app key and environment, `token-<environment>-<first 16 hex digits of SHA-256(app key)>.json`,
/// mode 0600 in a 0700 directory, replaced atomically (a fresh 0600 file, fsync, rename) so a reader never sees half
/// a file. Beside it a `.lock` file serializes, with `flock`, everything from reading the cache to writing the
/// token a request brought back: two processes starting at once never both request a token.
public struct TokenCache: Sendable {
    public let directory: String

    /// `LocalFolders.cache`: `$XDG_CACHE_HOME/kistick`, else `$HOME/.cache/kistick`; nil when neither is set.
    public static func defaultDirectory(environmentVariables: [String: String]) -> String? {
        try? LocalFolders.cache(environmentVariables)
    }

    /// Uses `directory`, creating it (and missing parents) with mode 0700, and narrowing it to 0700 if it exists
    /// with more: it holds credentials.
    public init(directory: String) throws(TokenCacheError) {
        do throws(LocalFolderError) {
            try LocalFolders.makePrivate(directory)
        } catch {
            switch error {
            case .cannotCreate(let path, let reason): throw .directory(path: path, reason: reason)
            case .noHome: throw .noHomeDirectory
            }
        }
        self.directory = directory
    }

    /// The default directory of `defaultDirectory(environmentVariables:)`.
    public init(environmentVariables: [String: String]) throws(TokenCacheError) {
        guard let directory = Self.defaultDirectory(environmentVariables: environmentVariables) else {
            throw .noHomeDirectory
        }
        try self.init(directory: directory)
    }

    /// The cache file of an app key in `environment`.
    public func filePath(appKey: Secret, environment: Environment) -> String {
        Key(appKey: appKey, environment: environment, in: self.directory).filePath
    }

    /// The file of an app key's rate limiter block (`RateLimiter(sharedAt:)`), which every process using the key
    /// maps.
    public func rateLimiterPath(appKey: Secret, environment: Environment) -> String {
        Key(appKey: appKey, environment: environment, in: self.directory).rateLimiterPath
    }

    /// Runs `body` holding the app key's lock, which excludes every other holder in this process or any other.
    ///
    /// `flock` locks belong to an open file description, so opening the lock file anew for each holder makes two
    /// threads of one process exclude each other just as two processes do. A holder waits as long as the current
    /// one keeps the lock, which is bounded by that holder's own maximum wait and its request timeout.
    func withLock<Result>(
        _ key: Key,
        _ body: (borrowing LockedFile) throws(KISError) -> Result
    ) throws(KISError) -> Result {
        func failure() -> KISError { .tokenCache(.io(path: key.lockPath, reason: LocalFile.errorText(errno))) }
        let fd = unsafe open(key.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure() }
        // Closing the descriptor releases the lock.
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw failure() }
        }
        return try body(LockedFile(key: key))
    }

    /// Where an app key's files are and what its cache file must say about itself.
    struct Key: Sendable {
        let appKeyDigest: String
        let environment: Environment
        let directory: String
        let filePath: String
        let lockPath: String
        let rateLimiterPath: String

        init(appKey: Secret, environment: Environment, in directory: String) {
            self.appKeyDigest = SHA256.hex(Array(appKey.reveal.utf8))
            self.environment = environment
            self.directory = directory
            let stem = "\(directory)/token-\(environment.rawValue)-\(self.appKeyDigest.prefix(16))"
            self.filePath = stem + ".json"
            self.lockPath = stem + ".lock"
            self.rateLimiterPath = stem + ".rate"
        }
    }
}

/// What the cache knows about one app key.
struct TokenCacheEntry: Equatable, Sendable {
    var token: AccessToken?
    /// Unix seconds, rounded up, of the last token request any process sent for this app key.
    var lastRequestAt: Int64?
}

/// Read and write access to an app key's cache file, which exists only while its lock is held.
/// Copyable only because a noncopyable version, borrowed through `withLock`, crashes the Swift 6.3.1 optimizer;
/// it is created solely inside `TokenCache.withLock`, so it still cannot outlive the lock.
struct LockedFile {
    enum Contents: Equatable {
        case missing
        case entry(TokenCacheEntry)
        /// Not a cache file of this app key (truncated, edited, or a hash-prefix collision): treated as empty.
        case corrupt

        var entry: TokenCacheEntry {
            if case .entry(let entry) = self { return entry }
            return TokenCacheEntry()
        }
    }

    let key: TokenCache.Key

    /// A cache entry is a few hundred bytes; a larger file is not one.
    private static let sizeLimit = 16 * 1024

    func read() throws(TokenCacheError) -> Contents {
        let bytes: [UInt8]
        do throws(LocalFile.ReadError) {
            bytes = try LocalFile.read(path: self.key.filePath, limit: Self.sizeLimit)
        } catch {
            switch error {
            case .notFound: return .missing
            case .tooLarge: return .corrupt
            case .failed(let reason): throw .io(path: self.key.filePath, reason: reason)
            }
        }
        guard let json = JSON(parsing: bytes),
            json["app_key_sha256"]?.text == self.key.appKeyDigest,
            json["environment"]?.text == self.key.environment.rawValue
        else { return .corrupt }
        var entry = TokenCacheEntry()
        if let number = json["last_request_at"] {
            guard let seconds = number.scalarText.flatMap({ Int64($0) }) else { return .corrupt }
            entry.lastRequestAt = seconds
        }
        if let token = json["access_token"] {
            guard let text = token.text, !text.isEmpty,
                let expiry = json["access_token_token_expired"]?.text,
                let issuedAt = json["issued_at"]?.scalarText.flatMap({ Int64($0) }),
                let accessToken = AccessToken(token: Secret(text), kstExpiry: expiry, issuedAt: issuedAt),
                json["expires_at"]?.scalarText == String(accessToken.expiresAt)
            else { return .corrupt }
            entry.token = accessToken
        }
        return .entry(entry)
    }

    /// Replaces the file with `entry`: a new 0600 file under a temporary name, fsync, rename, fsync of the directory.
    func write(_ entry: TokenCacheEntry) throws(TokenCacheError) {
        var members: [(String, JSON)] = [
            ("app_key_sha256", .string(self.key.appKeyDigest)),
            ("environment", .string(self.key.environment.rawValue)),
        ]
        if let token = entry.token {
            members += [
                ("access_token", .string(token.token.reveal)),
                ("access_token_token_expired", .string(token.kstExpiry)),
                ("expires_at", .number(String(token.expiresAt))),
                ("issued_at", .number(String(token.issuedAt))),
            ]
        }
        if let last = entry.lastRequestAt { members.append(("last_request_at", .number(String(last)))) }
        let bytes = JSON.object(members).bytes + [UInt8(ascii: "\n")]

        let temporary = self.key.filePath + ".tmp"
        /// The failure `errno` describes, after closing `fd` and removing the temporary file.
        func failure(_ path: String, closing fd: Int32? = nil) -> TokenCacheError {
            let reason = LocalFile.errorText(errno)
            if let fd { close(fd) }
            unsafe unlink(temporary)
            return .io(path: path, reason: reason)
        }
        // Left behind only by a writer that died; the lock we hold rules out a live one.
        unsafe unlink(temporary)
        let fd = unsafe open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw failure(temporary) }
        var written = 0
        while written < bytes.count {
            let count = unsafe bytes.withUnsafeBytes {
                unsafe Glibc.write(fd, $0.baseAddress! + written, $0.count - written)
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw failure(temporary, closing: fd) }
            written += count
        }
        // The umask can only narrow the mode `open` asked for; the file must be exactly 0600.
        guard fchmod(fd, 0o600) == 0, fsync(fd) == 0 else { throw failure(temporary, closing: fd) }
        close(fd)
        guard unsafe rename(temporary, self.key.filePath) == 0 else { throw failure(self.key.filePath) }
        let directory = unsafe open(self.key.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            // Makes the rename itself durable; a failure here loses at most the newest entry on a power cut.
            fsync(directory)
            close(directory)
        }
    }
}

/// Why the token cache directory or one of its files could not be used.
public enum TokenCacheError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No directory was given and neither `XDG_CACHE_HOME` nor `HOME` is set.
    case noHomeDirectory
    case directory(path: String, reason: String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .noHomeDirectory: "no token cache directory: neither XDG_CACHE_HOME nor HOME is set"
        case .directory(let path, let reason): "cannot use \(path) as the token cache: \(reason)"
        case .io(let path, let reason): "cannot use \(path): \(reason)"
        }
    }
}
