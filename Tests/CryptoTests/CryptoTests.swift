import Crypto
import Foundation
import TestVectors
import Testing
import TickCore
import Wire

/// The synthetic notice vector from Tests/Fixtures/kis (no real encrypted frame with its key is public).
struct SyntheticVector: Decodable {
    var key: String
    var iv: String
    var plaintext: String
    var ciphertext_base64: String
    var frame: String

    static func load() throws -> SyntheticVector {
        try JSONDecoder().decode(SyntheticVector.self, from: Data(contentsOf: Vectors.url(Vectors.aes)))
    }
}

@Suite struct NoticeCipherTests {
    static func decrypt(_ base64: String, key: String, iv: String) throws(DecryptError) -> [UInt8] {
        var cipher = try! NoticeCipher()
        try cipher.setKey(key, iv: iv)
        var bytes = Array(base64.utf8)
        let result = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(DecryptError) -> Int in try cipher.decryptBase64InPlace(buffer) }
        }
        return Array(bytes[..<(try result.get())])
    }

    @Test func syntheticVectorDecryptsToItsPlaintext() throws {
        let vector = try SyntheticVector.load()
        let plain = try Self.decrypt(vector.ciphertext_base64, key: vector.key, iv: vector.iv)
        #expect(String(decoding: plain, as: UTF8.self) == vector.plaintext)
    }

    @Test func encryptMatchesTheVectorAndRoundTrips() throws {
        let vector = try SyntheticVector.load()
        let sealed = try NoticeCipher.encrypt(
            Array(vector.plaintext.utf8),
            key: Array(vector.key.utf8),
            iv: Array(vector.iv.utf8)
        )
        #expect(Base64.encode(sealed) == vector.ciphertext_base64)
    }

    /// NIST SP 800-38A F.2.5 (CBC-AES256.Encrypt): our padded output starts with the standard's four blocks.
    @Test func nistVector() throws {
        func hex(_ s: String) -> [UInt8] {
            stride(from: 0, to: s.count, by: 2).map { UInt8(s.dropFirst($0).prefix(2), radix: 16)! }
        }
        let key = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
        let iv = hex("000102030405060708090a0b0c0d0e0f")
        let plain = hex(
            "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
        )
        let expected = hex(
            "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"
        )
        let sealed = try NoticeCipher.encrypt(plain, key: key, iv: iv)
        #expect(Array(sealed.prefix(64)) == expected)
        #expect(sealed.count == 80, "a full block of PKCS#7 padding follows a block-aligned plaintext")

        var cipher = try NoticeCipher()
        try key.withUnsafeBytes { k in try iv.withUnsafeBytes { v in try cipher.setKey(k.bytes, iv: v.bytes) } }
        var buffer = sealed
        let count = try buffer.withUnsafeMutableBytes { try cipher.decryptInPlace($0) }
        #expect(Array(buffer[..<count]) == plain)
    }

    /// One context serves many messages: the iv is re-applied per message, not chained from the last one.
    @Test func ivIsResetForEveryMessage() throws {
        let vector = try SyntheticVector.load()
        var cipher = try NoticeCipher()
        try cipher.setKey(vector.key, iv: vector.iv)
        for _ in 0..<3 {
            var bytes = Array(vector.ciphertext_base64.utf8)
            let count = try bytes.withUnsafeMutableBytes { try cipher.decryptBase64InPlace($0) }
            #expect(String(decoding: bytes[..<count], as: UTF8.self) == vector.plaintext)
        }
    }

    /// Messages of every length in a row through one cipher, with failures between them: each decrypts on its
    /// own, whatever came before (the stream is corrected per message, not re-initialised).
    @Test func messagesDecryptIndependentlyOfTheirPredecessors() throws {
        let key = Array("npudbpdylbqfsndkjgvknsjgsveanbca".utf8)
        let iv = Array("96de248bda413d58".utf8)
        var cipher = try NoticeCipher()
        try cipher.setKey(String(decoding: key, as: UTF8.self), iv: String(decoding: iv, as: UTF8.self))
        var rng = SplitMix64(seed: 0x6B69_7374_6963_6B00)
        for length in Array(0..<70) + [255, 256, 1000] {
            let plain = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var sealed = try NoticeCipher.encrypt(plain, key: key, iv: iv)
            let count = try sealed.withUnsafeMutableBytes { try cipher.decryptInPlace($0) }
            #expect(Array(sealed[..<count]) == plain, "length \(length)")
            if length % 7 == 0 {
                // A corrupted message in between must not poison the next one.
                var junk = [UInt8](repeating: UInt8(length & 0xFF), count: 32)
                _ = try? junk.withUnsafeMutableBytes { try cipher.decryptInPlace($0) }
            }
        }
    }

    /// CBC ciphertext truncated at a block boundary decrypts to a plaintext prefix, which lets the padding check
    /// be fed any final block.
    static let finalBlocks: [([UInt8], Int?)] = [
        ([UInt8](repeating: 7, count: 14) + [2, 2], 30),
        ([UInt8](repeating: 16, count: 16), 16),
        ([UInt8](repeating: 9, count: 8) + [UInt8](repeating: 8, count: 8), 24),
        ([UInt8](repeating: 9, count: 7) + [UInt8](repeating: 9, count: 9), 23),
        ([UInt8](repeating: 7, count: 14) + [2, 3], nil),
        ([UInt8](repeating: 7, count: 15) + [0], nil),
        ([UInt8](repeating: 17, count: 16), nil),
        ([UInt8](repeating: 9, count: 8) + [7] + [UInt8](repeating: 9, count: 7), nil),
        ([1] + [UInt8](repeating: 16, count: 15), nil),
    ]

    @Test(arguments: Self.finalBlocks)
    func paddingIsCheckedExactly(lastBlock: [UInt8], plaintextLength: Int?) throws {
        let key = Array("npudbpdylbqfsndkjgvknsjgsveanbca".utf8)
        let iv = Array("96de248bda413d58".utf8)
        let sealed = try NoticeCipher.encrypt([UInt8](repeating: 0x41, count: 16) + lastBlock, key: key, iv: iv)
        var truncated = Array(sealed.prefix(32))
        var cipher = try NoticeCipher()
        try cipher.setKey(String(decoding: key, as: UTF8.self), iv: String(decoding: iv, as: UTF8.self))
        let result = truncated.withUnsafeMutableBytes { buffer in
            Result { () throws(DecryptError) -> Int in try cipher.decryptInPlace(buffer) }
        }
        if let plaintextLength {
            #expect(result == .success(plaintextLength))
        } else {
            #expect(result == .failure(.badPadding))
        }
    }

    @Test func wrongKeyIsDetected() throws {
        let vector = try SyntheticVector.load()
        #expect(throws: DecryptError.badPadding) {
            try Self.decrypt(vector.ciphertext_base64, key: "zbcdefghijklmnopqrstuvwxyzabcdef", iv: vector.iv)
        }
        // The iv the "approval_key[:16]" myth would derive (docs/kis-protocol.md §5.6) does not decrypt either.
        let wrongIV = try? Self.decrypt(vector.ciphertext_base64, key: vector.key, iv: "71c2fb04-e000-00")
        #expect(wrongIV.map { String(decoding: $0, as: UTF8.self) } != vector.plaintext)
    }

    @Test func malformedInputGivesTypedErrors() throws {
        let vector = try SyntheticVector.load()
        #expect(throws: DecryptError.base64(.invalidCharacter(offset: 0))) {
            try Self.decrypt("!" + vector.ciphertext_base64.dropFirst(), key: vector.key, iv: vector.iv)
        }
        #expect(throws: DecryptError.badCiphertextLength(12)) {
            try Self.decrypt("AAAAAAAAAAAAAAAA", key: vector.key, iv: vector.iv)
        }
        #expect(throws: DecryptError.badCiphertextLength(0)) { try Self.decrypt("", key: vector.key, iv: vector.iv) }
        #expect(throws: DecryptError.badKeyLength(31)) {
            try Self.decrypt("", key: String(vector.key.dropLast()), iv: vector.iv)
        }
        #expect(throws: DecryptError.badIVLength(17)) { try Self.decrypt("", key: vector.key, iv: vector.iv + "0") }

        var cipher = try NoticeCipher()
        var bytes = Array(vector.ciphertext_base64.utf8)
        #expect(throws: DecryptError.noKey) {
            try bytes.withUnsafeMutableBytes { try cipher.decryptBase64InPlace($0) }
        }
    }
}
