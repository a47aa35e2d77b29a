import TickCore

/// An OAuth access token (`POST /oauth2/tokenP`) and the times that decide when to replace it.
public struct AccessToken: Sendable, Hashable, CustomStringConvertible {
    public let token: Secret
    /// Unix seconds when KIS stops accepting the token: `access_token_token_expired`, not `expires_in`, which
    /// counts the remaining life of whatever token KIS hands back and drifts.
    public let expiresAt: Int64
    /// Unix seconds when this machine received the token.
    public let issuedAt: Int64

    public init(token: Secret, expiresAt: Int64, issuedAt: Int64) {
        self.token = token
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
    }

    /// The token of a tokenP answer; nil unless `kstExpiry` is `access_token_token_expired`'s
    /// `"YYYY-MM-DD HH:MM:SS"`, a real date and time in KST.
    public init?(token: Secret, kstExpiry: String, issuedAt: Int64) {
        guard let expiresAt = Self.epochSeconds(kst: kstExpiry) else { return nil }
        self.init(token: token, expiresAt: expiresAt, issuedAt: issuedAt)
    }

    /// `expiresAt` written as KIS writes it: `"YYYY-MM-DD HH:MM:SS"` in KST.
    public var kstExpiry: String {
        let date = KST.date(epochSeconds: self.expiresAt)
        let time = KST.time(epochSeconds: self.expiresAt)
        func digits(_ value: UInt32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(digits(date / 10_000, 4))-\(digits(date / 100 % 100, 2))-\(digits(date % 100, 2)) "
            + "\(digits(time / 10_000, 2)):\(digits(time / 100 % 100, 2)):\(digits(time % 100, 2))"
    }

    public var description: String { "access token valid until \(self.kstExpiry) KST" }

    /// Unix seconds of a KST `"YYYY-MM-DD HH:MM:SS"`, or nil if it is not one (2026-02-30 included).
    static func epochSeconds(kst text: String) -> Int64? {
        let bytes = Array(text.utf8)
        let separators: [Int: UInt8] = [
            4: UInt8(ascii: "-"), 7: UInt8(ascii: "-"), 10: UInt8(ascii: " "),
            13: UInt8(ascii: ":"), 16: UInt8(ascii: ":"),
        ]
        guard bytes.count == 19 else { return nil }
        var date: UInt32 = 0
        var time: UInt32 = 0
        for (index, byte) in bytes.enumerated() {
            if let separator = separators[index] {
                guard byte == separator else { return nil }
                continue
            }
            guard UInt8(ascii: "0") <= byte, byte <= UInt8(ascii: "9") else { return nil }
            let digit = UInt32(byte - UInt8(ascii: "0"))
            if index < 10 { date = date * 10 + digit } else { time = time * 10 + digit }
        }
        guard let seconds = KST.epochSeconds(date: date, time: time),
            KST.date(epochSeconds: seconds) == date
        else { return nil }
        return seconds
    }
}

/// Whatever can ask KIS for an access token: the REST client (`POST /oauth2/tokenP`), or a fake in tests.
public protocol TokenIssuing: Sendable {
    /// Requests a token. KIS allows one request a minute per app key and answers EGW00133 to the next; callers go
    /// through `TokenManager`, which spaces requests across processes.
    func issueAccessToken() throws(KISError) -> AccessToken
}
