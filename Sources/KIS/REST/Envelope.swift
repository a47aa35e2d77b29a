public import JSON

/// A KIS answer whose envelope said success.
public struct RESTResponse: Sendable {
    public var status: Int
    /// `tr_cont` response header: `F`/`M` more pages follow, `D`/`E` (or nothing) last page.
    public var trCont: UInt8
    public var json: JSON
    /// Monotonic nanoseconds just before the request went to the socket, and when the kernel had all of it.
    public var sendStartedAt: Int64
    public var sentAt: Int64

    public var hasMorePages: Bool { self.trCont == UInt8(ascii: "F") || self.trCont == UInt8(ascii: "M") }
}

/// Reads KIS's envelope: success is `rt_cd == "0"` whatever the HTTP status, and a failure is an `APIFailure`
/// whether it came as `{rt_cd, msg_cd, msg1}` (HTTP 200 or 500) or as OAuth's `{error_code, error_description}` (403).
enum Envelope {
    static func open(status: Int, body: ArraySlice<UInt8>, trID: String) throws(KISError) -> JSON {
        guard let json = JSON(parsing: body) else {
            throw .malformedResponse(trID: trID, reason: "HTTP \(status) with \(body.count) bytes that are not JSON")
        }
        if let code = json["error_code"]?.text {
            throw .rejected(
                APIFailure(
                    httpStatus: status,
                    trID: trID,
                    rtCd: "",
                    msgCd: code,
                    message: Self.trimmed(json["error_description"]?.text ?? "")
                )
            )
        }
        if let rtCd = json["rt_cd"]?.text {
            guard rtCd == "0" else {
                throw .rejected(
                    APIFailure(
                        httpStatus: status,
                        trID: trID,
                        rtCd: rtCd,
                        msgCd: json["msg_cd"]?.text ?? "",
                        message: Self.trimmed(json["msg1"]?.text ?? "")
                    )
                )
            }
            return json
        }
        // OAuth successes carry no rt_cd; anything else without one is not a KIS answer.
        guard (200..<300).contains(status) else {
            throw .malformedResponse(trID: trID, reason: "HTTP \(status) without rt_cd or error_code")
        }
        return json
    }

    /// KIS pads `msg1` with spaces.
    static func trimmed(_ text: String) -> String {
        let bytes = text.utf8
        guard let first = bytes.firstIndex(where: { $0 != 0x20 }), let last = bytes.lastIndex(where: { $0 != 0x20 })
        else { return "" }
        if first == bytes.startIndex, last == bytes.index(before: bytes.endIndex) { return text }
        return String(text[first...last])
    }
}
