import Foundation
import Testing
import TickCore

@testable import Wire

@Suite struct Base64Tests {
    // RFC 4648 §10.
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ]

    @Test func rfc4648Vectors() {
        for (plain, encoded) in Self.vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
    }

    @Test func matchesFoundationOnRandomBytes() {
        var rng = SplitMix64(seed: 0x6B69_7374_6963_6B00)
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let reference = Data(bytes).base64EncodedString()
            #expect(Base64.encode(bytes) == reference)
            #expect(Base64.decode(reference) == bytes)
        }
    }

    @Test func decodesInPlace() throws {
        var text = Array("Zm9vYmFy".utf8)
        let count = try text.withUnsafeMutableBytes { try Base64.decodeInPlace($0) }
        #expect(Array(text[..<count]) == Array("foobar".utf8))
    }

    @Test func rejectsMalformedInput() {
        func error(_ text: String) -> Base64Error? {
            var bytes = Array(text.utf8)
            do {
                _ = try bytes.withUnsafeMutableBytes { try Base64.decodeInPlace($0) }
                return nil
            } catch let error as Base64Error {
                return error
            } catch {
                return nil
            }
        }
        #expect(error("Zm9") == .badLength(3))
        #expect(error("Zm9v!mFy") == .invalidCharacter(offset: 4))
        #expect(error("Z=9v") == .invalidCharacter(offset: 1))
        #expect(error("Zm9vYm=y") == .invalidCharacter(offset: 6))
        #expect(error("Zh==") == .nonCanonicalPadding)
        #expect(error("Zm9=") == .nonCanonicalPadding)
        #expect(error("====") == .invalidCharacter(offset: 0))
    }
}

@Suite struct SHA1Tests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func fipsVectors() {
        #expect(Self.hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(Self.hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(
            Self.hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        )
        #expect(
            Self.hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
                == "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        )
    }
}
