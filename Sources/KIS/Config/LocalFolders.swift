import Glibc

/// Where kistick keeps its files, decided in this one place from the environment (`XDG_CACHE_HOME`,
/// `XDG_DATA_HOME`, then `HOME`), never from the password database: a run with `HOME` pointed elsewhere (a test, a
/// container, `sudo -E`) keeps every file there, not some there and some in the account's home.
///
/// Everything kistick writes holds account data (tokens, orders, fills, the notice key of a capture), so folders are
/// made 0700 and files 0600 (`PrivateFile`).
public enum LocalFolders {
    /// `$XDG_CACHE_HOME/kistick`, else `$HOME/.cache/kistick`: tokens, the daily-bar cache, running engines.
    /// - Parameter environmentVariables: the process environment (`environment`), passed in so tests do not depend
    ///   on the machine.
    /// - Throws: `.noHome` when neither variable is set (an XDG variable counts only when absolute, as the XDG Base
    ///   Directory specification says).
    public static func cache(_ environmentVariables: [String: String]) throws(LocalFolderError) -> String {
        try Self.folder(environmentVariables, "XDG_CACHE_HOME", ".cache")
    }

    /// `$XDG_DATA_HOME/kistick`, else `$HOME/.local/share/kistick`: the journals, which a crash must not lose.
    public static func data(_ environmentVariables: [String: String]) throws(LocalFolderError) -> String {
        try Self.folder(environmentVariables, "XDG_DATA_HOME", ".local/share")
    }

    /// Where running engines leave their pid files for `kistick kill`: `engines` in the cache folder.
    public static func engines(_ environmentVariables: [String: String]) throws(LocalFolderError) -> String {
        try Self.cache(environmentVariables) + "/engines"
    }

    /// The variables the folders depend on, from this process's environment.
    public static var environment: [String: String] {
        var variables: [String: String] = [:]
        for name in ["HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"] {
            if let value = unsafe getenv(name) { variables[name] = unsafe String(cString: value) }
        }
        return variables
    }

    private static func folder(
        _ environmentVariables: [String: String],
        _ variable: String,
        _ fallback: String
    ) throws(LocalFolderError) -> String {
        if let base = environmentVariables[variable], base.hasPrefix("/") { return "\(base)/kistick" }
        guard let home = environmentVariables["HOME"], !home.isEmpty else { throw .noHome(variable: variable) }
        return "\(home)/\(fallback)/kistick"
    }

    /// Creates `path` and any missing parent with mode 0700, and narrows `path` itself to 0700 if it exists with
    /// more. Parents that exist keep their mode (`~` and `~/.cache` are not kistick's to change).
    /// - Returns: `path`, for chaining.
    @discardableResult
    public static func makePrivate(_ path: String) throws(LocalFolderError) -> String {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/\(component)"
            guard unsafe mkdir(prefix, 0o700) == 0 || errno == EEXIST else {
                throw .cannotCreate(path: prefix, reason: LocalFile.errorText(errno))
            }
        }
        var info = stat()
        guard unsafe stat(path, &info) == 0 else { throw .cannotCreate(path: path, reason: LocalFile.errorText(errno)) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .cannotCreate(path: path, reason: "not a directory") }
        if info.st_mode & 0o077 != 0, unsafe chmod(path, 0o700) != 0 {
            throw .cannotCreate(
                path: path,
                reason: "open to others and cannot be made private (\(LocalFile.errorText(errno)))"
            )
        }
        return path
    }
}

/// Why a kistick folder cannot be found or used.
public enum LocalFolderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Neither the XDG variable nor `HOME` is set.
    case noHome(variable: String)
    case cannotCreate(path: String, reason: String)

    public var description: String {
        switch self {
        case .noHome(let variable): "no folder for kistick's files: neither \(variable) nor HOME is set"
        case .cannotCreate(let path, let reason): "cannot use the folder \(path): \(reason)"
        }
    }
}

/// Files kistick writes, mode 0600 whatever the umask.
public enum PrivateFile {
    /// Writes `bytes` as the file at `path` (replacing it) through a temporary file renamed over it, so a reader
    /// never sees half a file.
    public static func write(_ bytes: [UInt8], to path: String) throws(PrivateFileError) {
        let temporary = path + ".\(getpid()).tmp"
        func failure(_ fd: Int32 = -1) -> PrivateFileError {
            let reason = LocalFile.errorText(errno)
            if fd >= 0 { close(fd) }
            unsafe unlink(temporary)
            return PrivateFileError(path: path, reason: reason)
        }
        let fd = unsafe open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw failure() }
        var written = 0
        while written < bytes.count {
            let count = unsafe bytes.withUnsafeBytes {
                unsafe Glibc.write(fd, $0.baseAddress! + written, $0.count - written)
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw failure(fd) }
            written += count
        }
        // The umask can only narrow the mode `open` asked for; an existing temporary file kept its own.
        guard fchmod(fd, 0o600) == 0 else { throw failure(fd) }
        guard close(fd) == 0, unsafe rename(temporary, path) == 0 else { throw failure() }
    }

    /// Makes the SQLite database at `path` private before SQLite opens it: creates it empty with mode 0600 if it is
    /// missing (SQLite gives its `-wal` and `-shm` files the database's mode), and narrows it and those files to
    /// 0600 if a run before this rule left them readable by others.
    public static func prepareDatabase(_ path: String) throws(PrivateFileError) {
        let fd = unsafe open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PrivateFileError(path: path, reason: LocalFile.errorText(errno)) }
        defer { close(fd) }
        try Self.narrow(fd: fd, path: path)
        for suffix in ["-wal", "-shm", "-journal"] {
            let side = unsafe open(path + suffix, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard side >= 0 else { continue }
            defer { close(side) }
            try Self.narrow(fd: side, path: path + suffix)
        }
    }

    private static func narrow(fd: Int32, path: String) throws(PrivateFileError) {
        var info = stat()
        guard unsafe fstat(fd, &info) == 0 else {
            throw PrivateFileError(path: path, reason: LocalFile.errorText(errno))
        }
        guard info.st_mode & 0o077 != 0 else { return }
        guard fchmod(fd, 0o600) == 0 else {
            throw PrivateFileError(
                path: path,
                reason: "open to others and cannot be made private (\(LocalFile.errorText(errno)))"
            )
        }
    }
}

/// Why one of kistick's files could not be written or read; names the file.
public struct PrivateFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    /// The system's text for the failure.
    public var reason: String

    public var description: String { "cannot use \(self.path): \(self.reason)" }
}
