import KIS

#if canImport(Glibc)
import Glibc
#endif

/// The engines running under this user, so `kistick kill` reaches every one of them and nothing else.
///
/// Each engine keeps a file of its own, `<pid>.pid` in `directory`, and holds an exclusive `flock` on it for as long
/// as it runs. The kernel drops that lock when the process ends, however it ends (`kill -9` included), so a file
/// whose lock can be taken is stale: its pid may by now belong to any other process, and it is removed, never
/// signalled. A file whose lock is held belongs to a live engine.
///
/// ```
/// engines/4711.pid   locked by 4711  ── live: signalled
/// engines/4712.pid   locked by 4712  ── live: signalled
/// engines/3999.pid   not locked      ── stale (its engine died): removed; pid 3999 is someone else's now
/// ```
///
/// The lock is taken on an open file description created with `O_CLOEXEC`, so no child process inherits it.
public struct EngineRegistry: Sendable {
    public let directory: String

    /// - Parameter directory: created with mode 0700 if missing (`LocalFolders.engines`).
    public init(directory: String) throws(EngineRegistryError) {
        do {
            try LocalFolders.makePrivate(directory)
        } catch {
            throw EngineRegistryError(path: directory, reason: "\(error)")
        }
        self.directory = directory
    }

    /// Registers this process as a running engine until the registration is closed (or the process ends).
    public func register() throws(EngineRegistryError) -> EngineRegistration {
        let path = self.path(of: getpid())
        // `signalAll` may remove a stale file of the same name between our open and our lock: the lock must end up
        // on the inode the path names, or a later `kill` would not see us.
        for _ in 0..<100 {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { throw EngineRegistryError(path: path, reason: Self.errorText(errno)) }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let reason = Self.errorText(errno)
                    close(fd)
                    throw EngineRegistryError(path: path, reason: reason)
                }
            }
            var held = stat()
            var named = stat()
            if fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino,
                held.st_dev == named.st_dev
            {
                let text = Array("\(getpid())\n".utf8)
                _ = ftruncate(fd, 0)
                _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                return EngineRegistration(fd: fd, path: path)
            }
            close(fd)
        }
        throw EngineRegistryError(path: path, reason: "removed again and again while being registered")
    }

    /// The pids of the engines running now, ascending; stale files are removed on the way.
    public func running() -> [Int32] {
        guard let folder = opendir(self.directory) else { return [] }
        var pids: [Int32] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasSuffix(".pid"), let pid = pid_t(name.dropLast(4)), pid > 0 else { continue }
            if self.isLive(pid) { pids.append(pid) }
        }
        closedir(folder)
        return pids.sorted()
    }

    /// Sends `signal` to every running engine.
    /// - Returns: each engine's pid, with the `errno` of a `kill` that failed (0 when it was delivered).
    public func signalAll(_ signal: Int32) -> [(pid: Int32, errno: Int32)] {
        self.running().map { pid in (pid, kill(pid, signal) == 0 ? 0 : errno) }
    }

    /// Whether `pid`'s file is locked by a live engine; a file nobody holds is removed.
    private func isLive(_ pid: pid_t) -> Bool {
        let path = self.path(of: pid)
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            // Ours now, so no engine is registering under it: removing it cannot hide a live one.
            unlink(path)
            return false
        }
        return errno == EWOULDBLOCK
    }

    private func path(of pid: pid_t) -> String { "\(self.directory)/\(pid).pid" }

    private static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// This process's entry in an `EngineRegistry`: the open, locked pid file.
public final class EngineRegistration: Sendable {
    private let fd: Int32
    public let path: String

    fileprivate init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit {
        // Unlink while the lock is still held, so no `kill` takes the file for a stale one meanwhile; closing then
        // drops the lock.
        unlink(self.path)
        close(self.fd)
    }
}

/// Why the engine registry could not be used; names the file or folder.
public struct EngineRegistryError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { "cannot register the engine in \(self.path): \(self.reason)" }
}
