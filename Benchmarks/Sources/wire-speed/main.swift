import Crypto
import Feed
import Fixtures
import Foundation

/// Plain timing loops for the side-by-side ratios and instruction counts printed by scripts/bench.
///
///     wire-speed decode SECONDS [trades|books|mixed]   records/s over the real frames (trades by default)
///     wire-speed passes N [trades|books|mixed]         exactly N passes, untimed: for callgrind, which counts
///                                                      the instructions of `decodePasses` alone
///     wire-speed aes BYTES SECONDS                     in-place AES-256-CBC decryption of BYTES-byte messages, bytes/s
///
/// `trades` is the four real H0STCNT0 frames (16 records), `books` the five real H0STASP0 frames (one record
/// each), `mixed` both.
/// Runs `body` over and over until `seconds` of it were timed; `body` returns the time it wants counted and the
/// work it did.
func measure(seconds: Double, _ body: () throws -> (Duration, Int)) rethrows -> (seconds: Double, work: Int) {
    let budget = Duration.milliseconds(Int64(seconds * 1000))
    var timed = Duration.zero
    var work = 0
    while timed < budget {
        let (spent, done) = try body()
        timed += spent
        work += done
    }
    return (Double(timed.components.seconds) + Double(timed.components.attoseconds) / 1e18, work)
}

/// The real frames a run decodes.
func stream(_ name: String) -> [[UInt8]]? {
    switch name {
    case "trades": Fixtures.tradeFrames
    case "books": Fixtures.bookFrames
    case "mixed": Fixtures.tradeFrames + Fixtures.bookFrames
    default: nil
    }
}

/// Decodes every frame `passes` times. Plain frames are not modified by decoding, so the same bytes serve every
/// pass. Never inlined, so callgrind can count this function's instructions and nothing else.
@inline(never)
func decodePasses(
    _ passes: Int,
    _ frames: inout [[UInt8]],
    _ decoder: inout FeedDecoder,
    _ sink: inout ChecksumSink
) throws {
    for _ in 0..<passes {
        for i in frames.indices {
            _ = try frames[i].withUnsafeMutableBytes { try decoder.decode($0, localTs: Fixtures.localTs, into: &sink) }
        }
    }
}

func decodeSpeed(seconds: Double, frames: [[UInt8]]) throws {
    let clock = ContinuousClock()
    var decoder = try FeedDecoder()
    var frames = frames
    var sink = ChecksumSink()
    var passes = 0
    let (elapsed, records) = try measure(seconds: seconds) {
        let before = sink.records
        let start = clock.now
        try decodePasses(1000, &frames, &decoder, &sink)
        passes += 1000
        return (clock.now - start, sink.records - before)
    }
    print(
        "kistick \(records) records in \(String(format: "%.3f", elapsed)) s: \(Int(Double(records) / elapsed)) records/s,"
            + " checksum per pass \(sink.checksum / Int64(passes))"
    )
}

func countedPasses(_ passes: Int, frames: [[UInt8]]) throws {
    var decoder = try FeedDecoder()
    var frames = frames
    var sink = ChecksumSink()
    // One pass first, so that one-time work (lazy globals, first-touch page faults) stays out of the counted call.
    try decodePasses(1, &frames, &decoder, &sink)
    let before = sink.records
    try decodePasses(passes, &frames, &decoder, &sink)
    print("kistick \(sink.records - before) records in \(passes) passes, checksum \(sink.checksum)")
}

func aesSpeed(size: Int, seconds: Double) throws {
    let clock = ContinuousClock()
    let key = Array("npudbpdylbqfsndkjgvknsjgsveanbca".utf8)
    let iv = Array("96de248bda413d58".utf8)
    // PKCS#7 adds a block, so size - 16 bytes of plaintext give `size` bytes of ciphertext.
    let sealed = try NoticeCipher.encrypt([UInt8](repeating: 0x41, count: size - 16), key: key, iv: iv)
    var cipher = try NoticeCipher()
    try cipher.setKey(String(decoding: key, as: UTF8.self), iv: String(decoding: iv, as: UTF8.self))
    // Decrypting in place consumes the ciphertext, so a ring of copies is decrypted and refilled in bulk, with
    // the refill outside the timed loop. The ring is sized to stay in L1, like `openssl speed`'s one buffer.
    let copies = max(4, 16 * 1024 / size)
    var ring = [UInt8](repeating: 0, count: copies * size)
    let (elapsed, messages) = try measure(seconds: seconds) {
        try ring.withUnsafeMutableBytes { ring in
            for i in 0..<copies {
                sealed.withUnsafeBytes {
                    (ring.baseAddress! + i * size).copyMemory(from: $0.baseAddress!, byteCount: size)
                }
            }
            let start = clock.now
            for i in 0..<copies {
                _ = try cipher.decryptInPlace(
                    UnsafeMutableRawBufferPointer(rebasing: ring[(i * size)..<((i + 1) * size)])
                )
            }
            return (clock.now - start, copies)
        }
    }
    print(
        "kistick aes-256-cbc \(size) B: \(messages) messages in \(String(format: "%.3f", elapsed)) s:"
            + " \(Int(Double(messages * size) / elapsed)) bytes/s"
    )
}

let arguments = CommandLine.arguments
switch (arguments.count, arguments.dropFirst().first) {
case (3...4, "decode"?):
    guard let frames = stream(arguments.count == 4 ? arguments[3] : "trades") else {
        print("decode takes trades, books or mixed")
        exit(2)
    }
    try decodeSpeed(seconds: Double(arguments[2]) ?? 3, frames: frames)
case (3...4, "passes"?):
    guard let passes = Int(arguments[2]), passes > 0,
        let frames = stream(arguments.count == 4 ? arguments[3] : "trades")
    else {
        print("passes takes a positive count and trades, books or mixed")
        exit(2)
    }
    try countedPasses(passes, frames: frames)
case (4, "aes"?):
    guard let size = Int(arguments[2]), size >= 16, size % 16 == 0 else {
        print("aes needs a positive multiple of 16 bytes")
        exit(2)
    }
    try aesSpeed(size: size, seconds: Double(arguments[3]) ?? 3)
default:
    print(
        "usage: wire-speed decode SECONDS [trades|books|mixed] | wire-speed passes N [trades|books|mixed]"
            + " | wire-speed aes BYTES SECONDS"
    )
    exit(2)
}
