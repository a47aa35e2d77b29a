public import TickCore

/// KIS's answer to an accepted order (order-cash or order-rvsecncl), as numbers.
///
/// Read straight from the answer's bytes (`read(status:body:trID:)`), with no JSON value, `String` or array built:
/// the answer side of the order path allocates nothing (`WireBenchmarks` "order-ack-read"). A refusal takes the
/// envelope's JSON path, since its message is text for a person.
public struct OrderAck: BitwiseCopyable, Sendable, Equatable {
    /// `ODNO`, the order number (never 0).
    public var orderNumber: UInt64
    /// `KRX_FWDG_ORD_ORGNO`, the branch: needed to modify or cancel.
    public var organization: UInt32
    /// `ORD_TMD`, HHMMSS (KST); 0 when KIS gave none.
    public var time: UInt32
    /// `msg_cd` (APBK0013, 40600000, …).
    public var messageCode: PackedASCII
    /// Monotonic nanoseconds just before the request went to the socket, and when the kernel had all of it.
    public var sendStartedAt: Int64
    public var sentAt: Int64

    public init(
        orderNumber: UInt64,
        organization: UInt32,
        time: UInt32,
        messageCode: PackedASCII,
        sendStartedAt: Int64 = 0,
        sentAt: Int64 = 0
    ) {
        self.orderNumber = orderNumber
        self.organization = organization
        self.time = time
        self.messageCode = messageCode
        self.sendStartedAt = sendStartedAt
        self.sentAt = sentAt
    }

    /// Reads an order answer's body.
    ///
    /// Real answers spell the output's names upper-case, the documentation lower-case (docs/kis-protocol.md §4.1):
    /// names are matched either way.
    /// - Throws: `.rejected` for `rt_cd` other than "0" (through the envelope, which reads the message), and
    ///   `.malformedResponse` for an accepted answer without a number in ODNO or KRX_FWDG_ORD_ORGNO.
    /// - Complexity: O(body); no allocation when the order was accepted.
    public static func read(status: Int, body answer: ArraySlice<UInt8>, trID: String) throws(KISError) -> OrderAck {
        let body = answer.span
        guard let result = AnswerScanner.text(of: "rt_cd", in: body), result.count == 1,
            body[result.lowerBound] == UInt8(ascii: "0")
        else {
            _ = try Envelope.open(status: status, body: answer, trID: trID)
            throw .malformedResponse(trID: trID, reason: "an order answer without rt_cd")
        }
        guard let number = AnswerScanner.number(of: "ODNO", in: body), number != 0,
            let organization = AnswerScanner.number(of: "KRX_FWDG_ORD_ORGNO", in: body),
            organization <= UInt64(UInt32.max)
        else {
            throw .malformedResponse(
                trID: trID,
                reason: "an accepted order without a number in ODNO and KRX_FWDG_ORD_ORGNO"
            )
        }
        let time = AnswerScanner.number(of: "ORD_TMD", in: body).map { UInt32(clamping: $0) } ?? 0
        var code = PackedASCII(rawValue: 0)
        if let range = AnswerScanner.text(of: "msg_cd", in: body) {
            for (i, index) in range.prefix(8).enumerated() {
                code.rawValue |= UInt64(body[index]) << UInt64(8 * i)
            }
        }
        return OrderAck(
            orderNumber: number,
            organization: UInt32(organization),
            time: time,
            messageCode: code
        )
    }
}

extension OrderAck: Encodable {
    private enum CodingKeys: String, CodingKey {
        case orderNumber, organization, time, messageCode, sendStartedAt, sentAt
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.orderNumber, forKey: .orderNumber)
        try container.encode(self.organization, forKey: .organization)
        try container.encode(self.time, forKey: .time)
        try container.encode(self.messageCode.description, forKey: .messageCode)
        try container.encode(self.sendStartedAt, forKey: .sendStartedAt)
        try container.encode(self.sentAt, forKey: .sentAt)
    }
}

/// Finds `"name":"value"` members in a KIS answer's bytes without parsing the JSON around them. Enough for the
/// flat string members of an order answer; KIS writes every value of those as a string.
enum AnswerScanner {
    /// The bytes of the string value of the first member called `name` (ASCII case ignored), or nil.
    /// - Complexity: O(body × name); no allocation.
    static func text(of name: StaticString, in body: Span<UInt8>) -> Range<Int>? {
        let count = body.count
        let length = name.utf8CodeUnitCount
        var i = 0
        while i + length + 2 <= count {
            if body[i] == UInt8(ascii: "\""), body[i + 1 + length] == UInt8(ascii: "\""),
                Self.matches(name, at: i + 1, in: body)
            {
                var j = i + length + 2
                while j < count, Self.isSpace(body[j]) { j += 1 }
                if j < count, body[j] == UInt8(ascii: ":") {
                    j += 1
                    while j < count, Self.isSpace(body[j]) { j += 1 }
                    guard j < count, body[j] == UInt8(ascii: "\"") else { return nil }
                    let start = j + 1
                    var end = start
                    while end < count, body[end] != UInt8(ascii: "\"") {
                        // KIS escapes nothing in these members; an escape means a value this reader does not know.
                        if body[end] == UInt8(ascii: "\\") { return nil }
                        end += 1
                    }
                    return end < count ? start..<end : nil
                }
            }
            i += 1
        }
        return nil
    }

    /// The value of member `name` as a decimal number (KIS zero-pads them), or nil when it is absent, empty, not
    /// all digits, or longer than 18 digits.
    static func number(of name: StaticString, in body: Span<UInt8>) -> UInt64? {
        guard let range = Self.text(of: name, in: body), !range.isEmpty, range.count <= 18 else { return nil }
        var value: UInt64 = 0
        for index in range {
            let digit = body[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            value = value * 10 + UInt64(digit)
        }
        return value
    }

    private static func matches(_ name: StaticString, at offset: Int, in body: Span<UInt8>) -> Bool {
        name.withUTF8Buffer { expected in
            // Safe because: k < expected.count, within the static string's buffer for the closure's duration.
            for k in 0..<expected.count where Self.lower(body[offset + k]) != Self.lower(unsafe expected[k]) {
                return false
            }
            return true
        }
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
