/// The client side of the RFC 6455 §4 opening handshake: the upgrade request, and the check of the server's
/// `101 Switching Protocols` answer including `Sec-WebSocket-Accept`.
public struct WebSocketHandshake: Sendable {
    /// The base64 `Sec-WebSocket-Key` sent.
    public let key: String
    /// The `Sec-WebSocket-Accept` value the server must answer with.
    public let expectedAccept: String

    /// The largest response head accepted before giving up.
    public static let maxResponseSize = 16 * 1024

    private static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// - Parameter nonce: 16 random bytes (§4.1), fresh per connection.
    public init(nonce: [UInt8]) {
        precondition(nonce.count == 16, "the handshake nonce is 16 bytes")
        self.key = Base64.encode(nonce)
        self.expectedAccept = Self.accept(forKey: self.key)
    }

    /// `Sec-WebSocket-Accept` for `key`: base64(SHA-1(key + GUID)).
    public static func accept(forKey key: String) -> String {
        Base64.encode(SHA1.hash(Array((key + Self.guid).utf8)))
    }

    /// The GET request that asks `host` to upgrade `path`.
    public func request(host: String, path: String, extraHeaders: [(String, String)] = []) -> [UInt8] {
        var text = "GET \(path.isEmpty ? "/" : path) HTTP/1.1\r\n"
        text += "Host: \(host)\r\n"
        text += "Upgrade: websocket\r\n"
        text += "Connection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(self.key)\r\n"
        text += "Sec-WebSocket-Version: 13\r\n"
        for (name, value) in extraHeaders {
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Checks the server's response head.
    ///
    /// - Parameter bytes: everything received so far; frames may follow the head in the same read.
    /// - Returns: the length of the response head (frames start there), or nil if the head is not complete yet.
    public func parseResponse(_ bytes: some Collection<UInt8>) throws(WebSocketHandshakeError) -> Int? {
        let data = Array(bytes.prefix(Self.maxResponseSize + 4))
        guard let end = Self.headEnd(data) else {
            if data.count > Self.maxResponseSize { throw .responseTooLarge }
            return nil
        }
        let head = String(decoding: data[..<end], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw .malformedStatusLine(String(statusLine.prefix(80)))
        }
        guard status == 101 else { throw .notSwitchingProtocols(status: status) }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformedHeader(String(line.prefix(80))) }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            headers[name] = headers[name].map { $0 + "," + value } ?? value
        }
        guard headers["upgrade"]?.lowercased() == "websocket" else { throw .missingUpgrade }
        let connection = headers["connection"]?.lowercased().split(separator: ",").map { $0.trimmingSpaces() } ?? []
        guard connection.contains("upgrade") else { throw .missingConnectionUpgrade }
        guard let accept = headers["sec-websocket-accept"], accept == self.expectedAccept else {
            throw .badAccept
        }
        return end + 4
    }

    private static func headEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for i in 0...(data.count - 4)
        where data[i] == 13 && data[i + 1] == 10 && data[i + 2] == 13 && data[i + 3] == 10 {
            return i
        }
        return nil
    }
}

public enum WebSocketHandshakeError: Error, Equatable, Sendable {
    case malformedStatusLine(String)
    case notSwitchingProtocols(status: Int)
    case malformedHeader(String)
    case missingUpgrade
    case missingConnectionUpgrade
    /// `Sec-WebSocket-Accept` is absent or does not match the key sent.
    case badAccept
    case responseTooLarge
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        String(
            self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()
        )
    }
}
