// libFuzzer target for Net.HTTPResponseParser, the parser of every byte KIS's REST servers send. Built and run by
// scripts/fuzz.
//
// Input: 1 configuration byte (bits 0-3: the largest chunk is 1 << n bytes; bits 4-7 seed the chunk sizes), then
// the bytes a server would send on one connection.
//
// Oracles, besides traps and ASan/LSan reports:
//   - fed in input-derived chunks, the parser reaches the same outcome (the same head, body bytes and consumed
//     count, or the same error) as when fed everything at once: nothing depends on how TCP cuts the stream;
//   - a complete response's body and consumed count lie inside what was fed, and the body starts after the head;
//   - a close-delimited body ends exactly at the bytes fed.
import Net

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 1 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let largestChunk = 1 << Int(input[0] & 0x0F)
    let stream = Array(input[1...])

    let bulk = parse(stream, largestChunk: Int.max, seed: 0)
    let chunked = parse(stream, largestChunk: largestChunk, seed: UInt64(input[0] >> 4))
    precondition(bulk == chunked, "chunking changed the outcome: \(bulk) vs \(chunked)")
    return 0
}

enum Outcome: Equatable {
    case complete(HTTPResponseHead, body: [UInt8], consumed: Int)
    case incomplete
    case failed(NetError)
}

/// Feeds `stream` into a buffer the way a connection does, chunk by chunk, parsing after each chunk.
func parse(_ stream: [UInt8], largestChunk: Int, seed: UInt64) -> Outcome {
    var buffer = [UInt8](repeating: 0, count: stream.count)
    var parser = HTTPResponseParser()
    var filled = 0
    var state = seed
    while true {
        let progress: HTTPResponseParser.Progress
        do {
            progress = try parser.parse(&buffer, count: filled)
        } catch {
            return .failed(error)
        }
        if case .complete(let head, let body, let consumed) = progress {
            precondition(
                body.lowerBound >= 0 && body.upperBound <= filled && consumed <= filled,
                "range outside the input"
            )
            precondition(body.upperBound <= consumed, "body past the consumed bytes")
            return .complete(head, body: Array(buffer[body]), consumed: consumed)
        }
        guard filled < stream.count else {
            // The peer closes: only a close-delimited body may complete now, and it ends where the bytes end.
            if case .complete(let head, let body, let consumed)? = parser.finishAtClose(count: filled) {
                precondition(body.upperBound == filled && consumed == filled, "close-delimited body not at the end")
                return .complete(head, body: Array(buffer[body]), consumed: consumed)
            }
            return .incomplete
        }
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let step = largestChunk == Int.max ? stream.count : 1 + Int(state >> 33) % largestChunk
        let next = min(filled + step, stream.count)
        buffer.replaceSubrange(filled..<next, with: stream[filled..<next])
        filled = next
    }
}
