import Glibc

/// Whole-file reads for the small files kistick keeps outside the hot path (the configuration, the token cache).
enum LocalFile {
    enum ReadError: Error, Equatable {
        case notFound
        case tooLarge(limit: Int)
        /// `reason` is the system's text for the failure (never file content).
        case failed(reason: String)
    }

    /// The whole regular file at `path`, refusing more than `limit` bytes so a wrong path cannot exhaust memory.
    static func read(path: String, limit: Int) throws(ReadError) -> [UInt8] {
        let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw code == ENOENT ? .notFound : .failed(reason: Self.errorText(code))
        }
        defer { close(fd) }
        var info = stat()
        guard unsafe fstat(fd, &info) == 0 else { throw .failed(reason: Self.errorText(errno)) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .failed(reason: "not a regular file") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = unsafe chunk.withUnsafeMutableBytes { unsafe Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            guard count > 0 else {
                if errno == EINTR { continue }
                throw .failed(reason: Self.errorText(errno))
            }
            bytes += chunk[..<count]
            guard bytes.count <= limit else { throw .tooLarge(limit: limit) }
        }
    }

    /// The C library's text for an `errno` value.
    static func errorText(_ code: Int32) -> String {
        unsafe String(cString: strerror(code))
    }
}
