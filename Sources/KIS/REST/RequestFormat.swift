import Net

/// The headers every authenticated KIS call carries, formatted once per access token and reused for every
/// request until the token changes (docs/kis-protocol.md §3.1).
///
/// The block holds the app key, secret and token in clear because they go on the wire; it is never printed.
struct HeaderBlock: Sendable {
    let bytes: [UInt8]
    /// The token these headers were built for; a different current token means rebuilding.
    let token: Secret?

    /// - Parameter credentials: nil for the OAuth calls, which carry the key and secret in their body.
    init(host: String, credentials: Credentials?, userAgent: String, token: Secret?) {
        var writer = ByteWriter(capacity: 1_024)
        writer.append("host: ")
        writer.append(host)
        writer.append("\r\ncontent-type: application/json; charset=utf-8\r\naccept: application/json\r\n")
        if let token {
            writer.append("authorization: Bearer ")
            writer.append(token.reveal)
            writer.append("\r\n")
        }
        if let credentials {
            writer.append("appkey: ")
            writer.append(credentials.appKey.reveal)
            writer.append("\r\nappsecret: ")
            writer.append(credentials.appSecret.reveal)
            writer.append("\r\ncusttype: P\r\n")
        }
        writer.append("user-agent: ")
        writer.append(userAgent)
        writer.append("\r\n")
        self.bytes = writer.bytes
        self.token = token
    }
}

/// App key and secret of one environment.
public struct Credentials: Sendable, Hashable {
    public var appKey: Secret
    public var appSecret: Secret

    public init(appKey: Secret, appSecret: Secret) {
        self.appKey = appKey
        self.appSecret = appSecret
    }
}

/// One KIS REST call, before formatting.
public struct RESTCall: Sendable {
    public enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
    }

    public var method: Method
    public var path: String
    public var trID: String
    /// Query parameters in order (GET); KIS takes upper-case names.
    public var query: [(String, String)]
    /// The JSON body (POST).
    public var body: [UInt8]
    /// Whether this asks for the next page (`tr_cont: N`).
    public var continuation = false
    /// Whether the call needs the bearer token (every `/uapi` call; not the OAuth endpoints).
    public var authenticated = true

    public init(_ method: Method, _ path: String, trID: String, query: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.trID = trID
        self.query = query
        self.body = body
    }

    /// Writes the whole HTTP/1.1 request into `writer`.
    func format(into writer: inout ByteWriter, headers: HeaderBlock) {
        writer.reset()
        writer.append(self.method.rawValue)
        writer.append(" ")
        writer.append(self.path)
        for (index, (name, value)) in self.query.enumerated() {
            writer.append(index == 0 ? UInt8(ascii: "?") : UInt8(ascii: "&"))
            writer.append(name)
            writer.append("=")
            writer.appendQueryEncoded(value)
        }
        writer.append(" HTTP/1.1\r\n")
        writer.append(bytes: headers.bytes)
        if !self.trID.isEmpty {
            writer.append("tr_id: ")
            writer.append(self.trID)
            writer.append("\r\n")
        }
        if self.continuation { writer.append("tr_cont: N\r\n") }
        writer.append("content-length: ")
        writer.append(decimal: Int64(self.body.count))
        writer.append("\r\n\r\n")
        writer.append(bytes: self.body)
    }
}
