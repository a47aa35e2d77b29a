/// A flat `key: value` settings file in the same YAML subset as `kis_devlp.yaml` (the engine's strategy and risk
/// parameters), read with the same parser so both files follow one set of quoting and comment rules.
public enum SettingsFile {
    /// The file's entries, each value as written.
    ///
    /// - Parameters:
    ///   - path: the file.
    ///   - keys: the keys the file may hold. A duplicate or unknown key is an error naming it; unknown text is
    ///     named only when it is a known key, since anything else could be a pasted secret.
    /// - Throws: `ConfigError` naming the file, and the key or line.
    public static func load(path: String, keys: Set<String>) throws(ConfigError) -> [String: String] {
        try Self.entries(path: path, keys: keys).mapValues(\.value)
    }

    /// `load`, with the line of each entry.
    static func entries(path: String, keys: Set<String>) throws(ConfigError) -> [String: FlatYAML.Entry] {
        let bytes: [UInt8]
        do {
            bytes = try LocalFile.read(path: path, limit: 1 << 20)
        } catch {
            switch error {
            case .notFound: throw .notFound(searched: [path])
            case .tooLarge(let limit): throw .unreadable(path: path, reason: "it is larger than \(limit) bytes")
            case .failed(let reason): throw .unreadable(path: path, reason: reason)
            }
        }
        let yaml: FlatYAML
        do {
            yaml = try FlatYAML(parsing: bytes, nameableKeys: keys)
        } catch {
            throw .syntax(path: path, line: error.line, problem: error.problem)
        }
        let unknown = yaml.entries.filter { !keys.contains($0.key) }.min { $0.value.line < $1.value.line }
        if let (key, entry) = unknown {
            throw .unknownKey(key: Self.isNameable(key) ? key : nil, line: entry.line, path: path)
        }
        return yaml.entries
    }

    /// A short lower-case identifier is a mistyped key; anything else might be a value pasted on the wrong side.
    private static func isNameable(_ key: String) -> Bool {
        key.utf8.count <= 32
            && key.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }
}
