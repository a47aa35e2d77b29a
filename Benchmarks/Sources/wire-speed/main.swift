import Crypto
import Feed
import Fixtures
import Foundation

/// Plain timing loops for the side-by-side ratios printed by scripts/bench-vs-python and scripts/bench-aes.
///
///     wire-speed decode SECONDS        H0STCNT0 records/s over the real frames
///     wire-speed aes BYTES SECONDS     in-place AES-256-CBC decryption of BYTES-byte messages, bytes/s
let arguments = CommandLine.arguments
guard arguments.count >= 3, let seconds = Double(arguments.last!) else {
    print("usage: wire-speed decode SECONDS | wire-speed aes BYTES SECONDS")
    exit(2)
}
let clock = ContinuousClock()
let budget = Duration.milliseconds(Int64(seconds * 1000))

func elapsedSeconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

switch arguments[1] {
case "decode":
    var decoder = try FeedDecoder()
    var frames = Fixtures.tradeFrames
    var sink = ChecksumSink()
    var passes = 0
    let start = clock.now
    while clock.now - start < budget {
        for _ in 0..<1000 {
            for i in frames.indices {
                _ = try frames[i].withUnsafeMutableBytes {
                    try decoder.decode($0, localTs: Fixtures.localTs, into: &sink)
                }
            }
        }
        passes += 1000
    }
    let elapsed = elapsedSeconds(clock.now - start)
    let records = Double(sink.records)
    print(
        "kistick \(sink.records) records in \(String(format: "%.3f", elapsed)) s: \(Int(records / elapsed)) records/s,"
            + " checksum per pass \(sink.checksum / Int64(passes))"
    )
case "aes":
    guard arguments.count == 4, let size = Int(arguments[2]), size >= 16, size % 16 == 0 else {
        print("aes needs a positive multiple of 16 bytes")
        exit(2)
    }
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
    var messages = 0
    var timed = Duration.zero
    while timed < budget {
        ring.withUnsafeMutableBytes { ring in
            for i in 0..<copies { sealed.withUnsafeBytes { ring.baseAddress!.advanced(by: i * size).copyMemory(from: $0.baseAddress!, byteCount: size) } }
        }
        let start = clock.now
        try ring.withUnsafeMutableBytes { ring in
            for i in 0..<copies {
                _ = try cipher.decryptInPlace(UnsafeMutableRawBufferPointer(rebasing: ring[(i * size)..<((i + 1) * size)]))
            }
        }
        timed += clock.now - start
        messages += copies
    }
    let elapsed = elapsedSeconds(timed)
    print(
        "kistick aes-256-cbc \(size) B: \(messages) messages in \(String(format: "%.3f", elapsed)) s:"
            + " \(Int(Double(messages * size) / elapsed)) bytes/s"
    )
default:
    print("unknown mode \(arguments[1])")
    exit(2)
}
