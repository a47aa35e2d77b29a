import Capture
import TestVectors
import Testing
import TickCore

@Suite("Redactor")
struct RedactorTests {
    @Test("every occurrence of every secret becomes stars, anywhere in the message, and nothing else changes")
    func redactsEverywhere() {
        let secrets = [
            String(repeating: "K", count: 36), "PSabcdefghij0123456789abcdefghijklmn",
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9",
            "8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b", "1234",
        ]
        let redactor = Redactor(secrets: secrets)
        var random = SplitMix64(seed: 11)
        for round in 0..<2_000 {
            var message = (0..<Int(random.next() % 400)).map { _ in UInt8(32 + random.next() % 90) }
            for _ in 0..<Int(random.next() % 4) {
                let secret = Array(secrets[Int(random.next() % UInt64(secrets.count))].utf8)
                let at = Int(random.next() % UInt64(message.count + 1))
                message.insert(contentsOf: secret, at: at)
            }
            let expected = Self.reference(message, secrets: secrets)
            message.withUnsafeMutableBytes { redactor.redact($0) }
            #expect(message == expected, "round \(round)")
        }
    }

    @Test("a real trade or book frame holds no secret and is left as it is")
    func realFramesUnchanged() throws {
        let redactor = Redactor(secrets: [String(repeating: "K", count: 36), String(repeating: "S", count: 180)])
        for line in try Vectors.lines(Vectors.trades) + Vectors.lines(Vectors.books) + Vectors.lines(Vectors.acks) {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { redactor.redact($0) }
            #expect(bytes == Array(line.utf8))
        }
    }

    @Test("a secret added later is redacted from then on")
    func adding() {
        let redactor = Redactor().adding("approval-key-0123456789")
        var bytes = Array("x approval-key-0123456789 y".utf8)
        bytes.withUnsafeMutableBytes { redactor.redact($0) }
        #expect(String(decoding: bytes, as: UTF8.self) == "x *********************** y")
    }

    /// The slow obvious answer: scan left to right, each secret in turn, as `Redactor` promises.
    static func reference(_ message: [UInt8], secrets: [String]) -> [UInt8] {
        var out = message
        for secret in secrets.map({ Array($0.utf8) }) where secret.count <= out.count {
            var index = 0
            while index + secret.count <= out.count {
                if out[index..<(index + secret.count)].elementsEqual(secret) {
                    out.replaceSubrange(
                        index..<(index + secret.count),
                        with: repeatElement(UInt8(ascii: "*"), count: secret.count)
                    )
                    index += secret.count
                } else {
                    index += 1
                }
            }
        }
        return out
    }
}
