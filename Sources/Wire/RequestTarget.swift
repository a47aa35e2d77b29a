/// An HTTP request target split into its path and its query parameters (RFC 3986 §3.4, with HTML forms' `+` for a
/// space), for the loopback servers: the simulator's REST server and the engine's page.
public struct RequestTarget: Sendable, Equatable {
    public var path: String
    /// Names lower-cased, values percent-decoded; a name given twice keeps its last value.
    public var query: [String: String]

    public init(_ uri: String) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = Self.decode(kv[0]).lowercased()
                query[name] = kv.count > 1 ? Self.decode(kv[1]) : ""
            }
        }
        self.path = String(parts[0])
        self.query = query
    }

    /// `text` with `+` as a space and each `%XX` as its byte; a `%` not followed by two hex digits stays as is.
    private static func decode(_ text: Substring) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let high = Self.hex(bytes[i + 1]),
                let low = Self.hex(bytes[i + 2])
            {
                out.append(high << 4 | low)
                i += 2
            } else {
                out.append(bytes[i])
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
