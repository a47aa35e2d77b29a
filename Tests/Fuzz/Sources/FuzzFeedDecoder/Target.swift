// libFuzzer target for Feed.FeedDecoder (KIS control JSON and `enc|TR_ID|NNN|payload` frames). Built and run by
// scripts/fuzz.
//
// Each input is decoded four ways, each message in an allocation of exactly its size so that ASan sees any read
// past its end:
//   1. as one message, by a new decoder (no key: encrypted frames fail with `noKey`);
//   2. as one message, after a valid subscribe ack with key and iv, so `1|H0STCNI9|001|…` reaches base64 and AES;
//   3. split on '\n' into messages decoded in a row by that same keyed decoder (acks inside may change its key);
//   4. if it starts like a data frame (`0|` or `1|` and three separators), its payload encrypted with the ack's key
//      as `1|TR|NNN|base64`: decrypting then decoding must give exactly what the plain `0|TR|NNN|payload` gives.
//      This is what lets fuzzed plaintext reach the record decoders through AES.
//
// Oracles, besides traps and ASan/LSan reports: a typed `FeedError` is the only acceptable failure; the sink gets
// exactly `count` records for `.records`, none for controls, unsupported TRs and frame-level errors, and every
// record before the first bad one for `.badField`; control-message ranges lie inside the message.
// Release builds drop precondition messages: the line of this file in the stack trace names the oracle that failed.
import Crypto
import Feed
import TickCore

/// A subscribe ack shaped like KIS's (docs/kis-protocol.md §5.3), with the synthetic vector's key and iv.
let ackKey = "abcdefghijklmnopqrstuvwxyzabcdef"
let ackIV = "0123456789abcdef"
let ack = Array(
    #"{"header":{"tr_id":"H0STCNI9","tr_key":"SYNTHETICID","encrypt":"Y"},"body":{"rt_cd":"0","msg_cd":"OPSP0000","msg1":"SUBSCRIBE SUCCESS","output":{"iv":"\#(ackIV)","key":"\#(ackKey)"}}}"#
        .utf8
)
/// 2026-06-08 11:48:27 KST, the day of the real captures, in nanoseconds.
let localTs: Int64 = KST.epochSeconds(date: 20_260_608, time: 114_827)! * 1_000_000_000 + 123_456_789

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFeedDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: size == 0 ? nil : data, count: size)

    // 1. No key.
    var fresh = newDecoder()
    _ = decode(input, with: &fresh)

    // 2. Keyed.
    var keyed = newDecoder()
    applyAck(to: &keyed)
    _ = decode(input, with: &keyed)

    // 3. Several messages in a row.
    var lineStart = 0
    for i in 0...input.count where i == input.count || input[i] == UInt8(ascii: "\n") {
        _ = decode(UnsafeBufferPointer(rebasing: input[lineStart..<i]), with: &keyed)
        lineStart = i + 1
    }

    // 4. Encrypted and plain forms of the same frame must decode alike.
    guard input.count >= 2, input[0] == UInt8(ascii: "0") || input[0] == UInt8(ascii: "1"),
        input[1] == UInt8(ascii: "|")
    else { return 0 }
    var separators = 0
    var third = 0
    while third < input.count {
        if input[third] == UInt8(ascii: "|") {
            separators += 1
            if separators == 3 { break }
        }
        third += 1
    }
    guard separators == 3 else { return 0 }
    let header = Array(input[1...third])
    let payload = Array(input[(third + 1)...])
    let ciphertext: [UInt8]
    do {
        ciphertext = try NoticeCipher.encrypt(payload, key: Array(ackKey.utf8), iv: Array(ackIV.utf8))
    } catch {
        fatalError("encrypt failed: \(error)")
    }
    applyAck(to: &keyed)  // the lines of step 3 may have changed the key
    var plain = [UInt8(ascii: "0")]
    plain.append(contentsOf: header)
    plain.append(contentsOf: payload)
    var encrypted = [UInt8(ascii: "1")]
    encrypted.append(contentsOf: header)
    encrypted.append(contentsOf: base64(ciphertext))
    let fromPlain = plain.withUnsafeBufferPointer { decode($0, with: &keyed) }
    let fromEncrypted = encrypted.withUnsafeBufferPointer { decode($0, with: &keyed) }
    precondition(
        fromPlain.result == fromEncrypted.result,
        "plain \(fromPlain.result) but encrypted \(fromEncrypted.result)"
    )
    precondition(fromPlain.sink == fromEncrypted.sink, "plain and encrypted frames gave different records")
    return 0
}

func applyAck(to decoder: inout FeedDecoder) {
    let outcome = ack.withUnsafeBufferPointer { decode($0, with: &decoder, readText: false) }
    guard case .success(.control) = outcome.result, decoder.hasKey else {
        fatalError("the ack was not applied: \(outcome.result)")
    }
}

/// Padded standard base64. Wire's `Base64.encode` would do, but it is generic and unspecialised across modules,
/// which costs an allocation per byte here.
func base64(_ bytes: [UInt8]) -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var i = 0
    while i < bytes.count {
        let n = min(3, bytes.count - i)
        let group =
            UInt32(bytes[i]) << 16 | (n > 1 ? UInt32(bytes[i + 1]) << 8 : 0) | (n > 2 ? UInt32(bytes[i + 2]) : 0)
        out.append(alphabet[Int(group >> 18 & 63)])
        out.append(alphabet[Int(group >> 12 & 63)])
        out.append(n > 1 ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "="))
        out.append(n > 2 ? alphabet[Int(group & 63)] : UInt8(ascii: "="))
        i += 3
    }
    return out
}

func newDecoder() -> FeedDecoder {
    do {
        return try FeedDecoder()
    } catch {
        fatalError("FeedDecoder(): \(error)")
    }
}

/// Counts and fingerprints what the decoder delivers.
struct Sink: FeedSink, Equatable {
    var trades = 0
    var books = 0
    var notices = 0
    var digest: UInt64 = 0xCBF2_9CE4_8422_2325

    var count: Int { self.trades + self.books + self.notices }

    mutating func trade(_ trade: Trade) {
        precondition(trade.localTs == localTs)
        self.trades += 1
        self.mix(trade)
    }

    mutating func book(_ book: Book) {
        precondition(book.localTs == localTs)
        self.books += 1
        self.mix(book)
    }

    mutating func notice(_ notice: Notice) {
        precondition(notice.localTs == localTs)
        self.notices += 1
        self.mix(notice)
    }

    /// FNV-1a over the record's bytes (the records are padding-free BitwiseCopyable structs).
    private mutating func mix<T: BitwiseCopyable>(_ record: T) {
        withUnsafeBytes(of: record) { bytes in
            for byte in bytes {
                self.digest = (self.digest ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
        }
    }
}

/// Decodes `message` from an exact-size allocation and checks what came out.
func decode(
    _ message: UnsafeBufferPointer<UInt8>,
    with decoder: inout FeedDecoder,
    readText: Bool = true
) -> (result: Result<DecodedMessage, FeedError>, sink: Sink) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: message.count, alignment: 1)
    defer { buffer.deallocate() }
    buffer.copyMemory(from: UnsafeRawBufferPointer(message))
    var sink = Sink()
    let result: Result<DecodedMessage, FeedError>
    do {
        result = .success(try decoder.decode(buffer, localTs: localTs, into: &sink))
    } catch {
        result = .failure(error)
    }
    switch result {
    case .success(.records(_, let count)):
        precondition(count > 0 && sink.count == count, "\(result) but the sink got \(sink.count) records")
    case .success(.unsupported), .success(.control):
        precondition(sink.count == 0, "\(result) but the sink got \(sink.count) records")
    case .failure(.format(.badField(_, let record, let field))):
        precondition(
            record >= 0 && field >= 0 && sink.count >= record,
            "\(result) but the sink got \(sink.count) records"
        )
        _ = FeedError.format(.badField(tr: TRID(rawValue: 0), record: record, field: field)).reason
    case .failure(let error):
        precondition(sink.count == 0, "\(error) but the sink got \(sink.count) records")
        _ = error.reason
    }
    if readText, case .success(.control(let control)) = result {
        let ranges = [control.trKey, control.messageText, control.key, control.iv, control.datetime]
        for case let range? in ranges {
            precondition(
                range.lowerBound >= 0 && range.upperBound <= message.count,
                "range \(range) outside the message"
            )
            _ = JSONText.decode(UnsafeRawBufferPointer(buffer)[range])
        }
        _ = control.kind
    }
    return (result, sink)
}
