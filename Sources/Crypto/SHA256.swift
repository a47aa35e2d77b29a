import CCrypto

/// SHA-256 as 64 lower-case hex characters: the simulator's `/uapi/hashkey` HASH and the token cache's file names.
public enum SHA256 {
    public static func hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let status = unsafe bytes.withUnsafeBytes { input in
            unsafe digest.withUnsafeMutableBufferPointer { output in
                unsafe EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        // Only an OpenSSL without SHA-256 fails here, which no supported system is.
        precondition(status == 1 && length == 32, "OpenSSL SHA-256 failed")
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}
