import CCrypto
import Testing
import TickCore

@testable import Wire

/// Our SHA-1 exists only to keep Wire free of C; it must agree with OpenSSL's.
@Suite struct OpenSSLCrossCheckTests {
    @Test func sha1MatchesOpenSSL() {
        var rng = SplitMix64(seed: 0x6B69_7374_6963_6B00)
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000] {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var digest = [UInt8](repeating: 0, count: 20)
            _ = SHA1(message, message.count, &digest)
            #expect(Wire.SHA1.hash(message) == digest, "length \(length)")
        }
    }
}
