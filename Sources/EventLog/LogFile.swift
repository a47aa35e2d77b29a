import Foundation
import TickCore

#if canImport(Glibc)
import Glibc
#endif

/// Why the log's folder or file could not be used.
public enum LogError: Error, Equatable, CustomStringConvertible {
    case directory(path: String, reason: String)
    case file(path: String, reason: String)

    public var description: String {
        switch self {
        case .directory(let path, let reason): "cannot use \(path) for the log: \(reason)"
        case .file(let path, let reason): "cannot write the log \(path): \(reason)"
        }
    }
}

/// The day's JSON-lines file, `kistick-YYYY-MM-DD.jsonl` (the KST trading day), mode 0600 in a 0700 folder, opened
/// for appending so several kistick processes of one day share it line by line (each line goes out in one `write`);
/// files older than `keepDays` are deleted when a day starts.
struct LogFile {
    let directory: String
    let keepDays: Int
    private var descriptor: Int32 = -1
    private(set) var day: UInt32 = 0

    init(directory: String, keepDays: Int) throws(LogError) {
        self.directory = directory
        self.keepDays = keepDays
        try Self.makePrivateDirectory(directory)
    }

    /// The file of KST day `day` (YYYYMMDD).
    func path(day: UInt32) -> String {
        func two(_ value: UInt32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(self.directory)/kistick-\(day / 10_000)-\(two(day / 100 % 100))-\(two(day % 100)).jsonl"
    }

    /// Appends `bytes`, whole lines, to the file of `day`, opening it (and pruning old days) when the day changes.
    mutating func append(_ bytes: [UInt8], day: UInt32) throws(LogError) {
        if day != self.day || self.descriptor < 0 {
            self.close()
            let path = self.path(day: day)
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { throw .file(path: path, reason: Self.errorText()) }
            // The umask may only narrow the mode; a file left wider by someone else is narrowed.
            guard fchmod(fd, 0o600) == 0 else {
                let reason = Self.errorText()
                Glibc.close(fd)
                throw .file(path: path, reason: reason)
            }
            self.descriptor = fd
            self.day = day
            self.prune(today: day)
        }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes {
                Glibc.write(self.descriptor, $0.baseAddress! + written, $0.count - written)
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw .file(path: self.path(day: day), reason: Self.errorText()) }
            written += count
        }
    }

    mutating func close() {
        if self.descriptor >= 0 { Glibc.close(self.descriptor) }
        self.descriptor = -1
    }

    /// Deletes the files of days more than `keepDays` before `today`.
    func prune(today: UInt32) {
        guard let midnight = KST.epochSeconds(date: today, time: 0) else { return }
        let oldest = KST.date(epochSeconds: midnight - Int64(self.keepDays) * 86_400)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: self.directory) else { return }
        for name in names {
            guard let day = Self.day(ofFile: name), day < oldest else { continue }
            unlink("\(self.directory)/\(name)")
        }
    }

    /// The day a log file's name gives, nil for any other file.
    static func day(ofFile name: String) -> UInt32? {
        guard name.hasPrefix("kistick-"), name.hasSuffix(".jsonl") else { return nil }
        let digits = name.dropFirst("kistick-".count).dropLast(".jsonl".count).split(separator: "-")
        guard digits.count == 3, digits.map(\.count) == [4, 2, 2], let year = UInt32(digits[0]),
            let month = UInt32(digits[1]), let day = UInt32(digits[2])
        else { return nil }
        return year * 10_000 + month * 100 + day
    }

    /// Creates `path` and its missing parents 0700, and narrows it to 0700 if it is wider: the log names orders.
    static func makePrivateDirectory(_ path: String) throws(LogError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/\(component)"
            guard mkdir(prefix, 0o700) == 0 || errno == EEXIST else {
                throw .directory(path: prefix, reason: Self.errorText())
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw .directory(path: path, reason: "not a directory")
        }
        if info.st_mode & 0o077 != 0, chmod(path, 0o700) != 0 {
            throw .directory(path: path, reason: "open to others and cannot be made private (\(Self.errorText()))")
        }
    }

    static func errorText() -> String {
        String(cString: strerror(errno))
    }
}
