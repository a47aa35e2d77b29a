public import Crypto
public import TickCore

/// Why a KIS message was skipped. Every case is a value the caller counts; none stops the session.
public enum FeedError: Error, Equatable, Sendable {
    case format(KISFormatError)
    case decrypt(DecryptError)

    /// A short stable name for counting skipped messages by reason.
    public var reason: String {
        switch self {
        case .format(let error): error.reason
        case .decrypt(let error): "decrypt." + String(describing: error).prefix { $0 != "(" }
        }
    }
}

/// A KIS message that does not have the documented shape (docs/kis-protocol.md §5.5).
public enum KISFormatError: Error, Equatable, Sendable {
    case emptyMessage
    /// Neither `{` (control JSON) nor `0|`/`1|` (data frame).
    case unknownMessageStart(UInt8)
    /// A data frame lacks one of its three `|` separators.
    case missingSeparator
    /// The TR id is empty or longer than eight bytes.
    case badTRID
    /// NNN is not a positive decimal count.
    case badRecordCount
    case emptyPayload
    /// The payload's `^`-separated fields do not split evenly into NNN records.
    case fieldCountNotMultiple(fields: Int, records: Int)
    /// Records are narrower than the fields we decode (an older or truncated layout).
    case tooFewFields(tr: TRID, width: Int, required: Int)
    /// A field is not a number, overflows its type, or holds an undocumented code; `record` and `field` are
    /// 0-based positions in the frame.
    case badField(tr: TRID, record: Int, field: Int)
    /// The control message is not valid JSON; `offset` is where parsing stopped.
    case badJSON(offset: Int)

    public var reason: String {
        switch self {
        case .emptyMessage: "format.emptyMessage"
        case .unknownMessageStart: "format.unknownMessageStart"
        case .missingSeparator: "format.missingSeparator"
        case .badTRID: "format.badTRID"
        case .badRecordCount: "format.badRecordCount"
        case .emptyPayload: "format.emptyPayload"
        case .fieldCountNotMultiple: "format.fieldCountNotMultiple"
        case .tooFewFields: "format.tooFewFields"
        case .badField: "format.badField"
        case .badJSON: "format.badJSON"
        }
    }
}
