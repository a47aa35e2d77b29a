// libFuzzer target for Wire.WebSocketReader (RFC 6455 frame parser). Built and run by scripts/fuzz.
//
// Input: 4 configuration bytes, then the byte stream a server would send.
//   [0] maxMessageSize: 1...128 (bit 7 clear) or 64...8192 in steps of 64 (bit 7 set)
//   [1] readSlack: 0...255, small so that compaction happens on every few writes
//   [2] [3] chunking: bits 0-3 of [3] give the largest chunk (1 << n); the rest seed the chunk sizes and
//       whether `write` or `writeWithUnsafeMutableBytes` carries each chunk
//
// Oracles, besides traps and ASan/LSan reports:
//   - the chunked run returns the same messages and the same error as a run fed as much as fits at a time;
//   - both agree with a small whole-stream reference parser below (messages, and whether the stream fails);
//   - every message is read through `withBytes` and then overwritten in place through `withUnsafeMutableBytes`
//     (as the notice decryption does), which must not disturb what the reader returns next;
//   - the reader never stalls: after `next()` returns nil it accepts at least one more byte.
// Release builds drop precondition messages: the line of this file in the stack trace names the oracle that failed.
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocketReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 4 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let maxMessageSize = input[0] < 0x80 ? Int(input[0]) + 1 : (Int(input[0]) - 0x7F) * 64
    let readSlack = Int(input[1])
    let largestChunk = 1 << Int(input[3] & 0x0F)
    let seed = UInt64(input[2]) | UInt64(input[3] >> 4) << 8
    let stream = Array(input[4...])

    let chunked = run(
        stream,
        maxMessageSize: maxMessageSize,
        readSlack: readSlack,
        largestChunk: largestChunk,
        seed: seed
    )
    let bulk = run(stream, maxMessageSize: maxMessageSize, readSlack: readSlack, largestChunk: Int.max, seed: 0)
    let expected = reference(stream, maxMessageSize: maxMessageSize)

    precondition(chunked.messages == bulk.messages, "chunking changed the messages")
    precondition(
        chunked.error == bulk.error,
        "chunking changed the error: \(String(describing: chunked.error)) vs \(String(describing: bulk.error))"
    )
    precondition(bulk.messages == expected.messages, "messages differ from the reference parser")
    precondition(
        (bulk.error != nil) == expected.failed,
        "reader error \(String(describing: bulk.error)), reference failed: \(expected.failed)"
    )
    return 0
}

struct Message: Equatable {
    var opcode: UInt8
    var payload: [UInt8]
}

struct Outcome {
    var messages: [Message] = []
    var error: WebSocketError?
}

/// SplitMix64: deterministic chunk sizes from the input's seed.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func run(_ stream: [UInt8], maxMessageSize: Int, readSlack: Int, largestChunk: Int, seed: UInt64) -> Outcome {
    var reader = WebSocketReader(maxMessageSize: maxMessageSize, readSlack: readSlack)
    var rng = SplitMix(state: seed)
    var outcome = Outcome()
    var position = 0
    while true {
        // Drain everything complete.
        while true {
            let message: WebSocketMessage?
            do {
                message = try reader.next()
            } catch {
                outcome.error = error
                return outcome
            }
            guard let message else { break }
            precondition(message.count >= 0 && message.offset >= 0, "bad message \(message)")
            if message.opcode.isControl {
                precondition(message.count <= 125, "control frame of \(message.count) bytes")
            } else {
                precondition(message.count <= maxMessageSize, "message of \(message.count) > \(maxMessageSize)")
                precondition(message.opcode != .continuation, "a continuation returned as a message")
            }
            let payload = reader.withBytes(of: message) { bytes in bytes.withUnsafeBytes { Array($0) } }
            // Consumers transform messages in place; that must not leak into later messages.
            reader.withUnsafeMutableBytes(of: message) { bytes in
                for i in 0..<bytes.count { bytes[i] = 0xA5 }
            }
            outcome.messages.append(Message(opcode: message.opcode.rawValue, payload: payload))
        }
        if position == stream.count { return outcome }
        let r = rng.next()
        let want =
            largestChunk == Int.max
            ? stream.count - position : min(1 + Int(r % UInt64(largestChunk)), stream.count - position)
        let written: Int
        if r & (1 << 40) != 0 {
            written = stream.withUnsafeBytes { all in
                reader.write(UnsafeRawBufferPointer(rebasing: all[position..<position + want]))
            }
        } else {
            written = reader.writeWithUnsafeMutableBytes { free in
                let n = min(free.count, want)
                stream.withUnsafeBytes { all in
                    free.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[position..<position + n]))
                }
                return n
            }
        }
        precondition(written > 0, "reader stalled: next() wants more bytes but none fit (capacity \(reader.capacity))")
        position += written
    }
}

/// Whole-stream RFC 6455 parse, as simple as possible. It checks in the reader's order so that "stops here for
/// lack of bytes" and "fails here" agree; which error is only compared between two runs of the real reader.
func reference(_ s: [UInt8], maxMessageSize: Int) -> (messages: [Message], failed: Bool) {
    var messages: [Message] = []
    var open: Message?
    var i = 0
    while s.count - i >= 2 {
        let b0 = s[i]
        let b1 = s[i + 1]
        let opcode = b0 & 0x0F
        let fin = b0 & 0x80 != 0
        let length7 = Int(b1 & 0x7F)
        let control = opcode & 0x08 != 0
        guard b0 & 0x70 == 0, [0, 1, 2, 8, 9, 10].contains(opcode), b1 & 0x80 == 0 else { return (messages, true) }
        if control && (!fin || length7 > 125) { return (messages, true) }
        let headerSize = length7 == 126 ? 4 : length7 == 127 ? 10 : 2
        guard s.count - i >= headerSize else { break }
        var length = UInt64(length7)
        if length7 >= 126 {
            length = 0
            for k in 2..<headerSize { length = length << 8 | UInt64(s[i + k]) }
            if length >> 63 != 0 { return (messages, true) }
        }
        if opcode == 0 && open == nil { return (messages, true) }
        if (opcode == 1 || opcode == 2) && open != nil { return (messages, true) }
        if opcode == 8 && length == 1 { return (messages, true) }
        if !control && UInt64(open?.payload.count ?? 0) + length > UInt64(maxMessageSize) { return (messages, true) }
        guard UInt64(s.count - i - headerSize) >= length else { break }
        let payload = Array(s[(i + headerSize)..<(i + headerSize + Int(length))])
        i += headerSize + Int(length)
        if control {
            messages.append(Message(opcode: opcode, payload: payload))
        } else if var message = open {
            message.payload += payload
            if fin {
                messages.append(message)
                open = nil
            } else {
                open = message
            }
        } else if fin {
            messages.append(Message(opcode: opcode, payload: payload))
        } else {
            open = Message(opcode: opcode, payload: payload)
        }
    }
    return (messages, false)
}
