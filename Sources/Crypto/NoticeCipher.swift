public import Wire
internal import CCrypto

/// AES-256-CBC as KIS uses it for order and fill notices (H0STCNI0/H0STCNI9): key and iv are the ASCII bytes of
/// the subscribe ack's `output.key` (32) and `output.iv` (16), the payload is base64 of PKCS#7-padded ciphertext.
///
/// One OpenSSL context is created up front and reused. Setting a key runs the full key schedule once; each
/// message then only re-initialises the iv, which costs a fraction of a full `EVP_DecryptInit_ex`
/// (../shared/TOOLCHAIN.md §2). Decryption happens in place, so a notice never leaves the receive buffer.
///
/// Thread-confined: the OpenSSL context is not shareable.
@safe
public struct NoticeCipher: ~Copyable {
    private let context: OpaquePointer
    private let cipher: OpaquePointer
    /// Key (32 bytes) then iv (16 bytes), allocated once.
    private let material: UnsafeMutableRawBufferPointer
    /// Whether a key was set.
    public private(set) var hasKey = false

    public static let keySize = 32
    public static let ivSize = 16
    public static let blockSize = 16

    /// - Throws: `CryptoError.unavailable` if this OpenSSL lacks AES-256-CBC.
    public init() throws(CryptoError) {
        guard let cipher = unsafe EVP_CIPHER_fetch(nil, "AES-256-CBC", nil) else { throw .unavailable }
        guard let context = unsafe EVP_CIPHER_CTX_new() else {
            unsafe EVP_CIPHER_free(cipher)
            throw .unavailable
        }
        unsafe self.cipher = cipher
        unsafe self.context = context
        unsafe self.material = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.keySize + Self.ivSize, alignment: 16)
        unsafe self.material.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        // Key material should not outlive its use.
        unsafe self.material.initializeMemory(as: UInt8.self, repeating: 0)
        unsafe self.material.deallocate()
        unsafe EVP_CIPHER_CTX_free(self.context)
        unsafe EVP_CIPHER_free(self.cipher)
    }

    /// Installs the session's key and iv, as carried by a subscribe ack.
    public mutating func setKey(_ key: RawSpan, iv: RawSpan) throws(DecryptError) {
        guard key.byteCount == Self.keySize else { throw .badKeyLength(key.byteCount) }
        guard iv.byteCount == Self.ivSize else { throw .badIVLength(iv.byteCount) }
        let base = unsafe self.material.baseAddress!
        unsafe key.withUnsafeBytes { unsafe base.copyMemory(from: $0.baseAddress!, byteCount: Self.keySize) }
        unsafe iv.withUnsafeBytes { unsafe (base + Self.keySize).copyMemory(from: $0.baseAddress!, byteCount: Self.ivSize) }
        let keyBytes = unsafe base.assumingMemoryBound(to: UInt8.self)
        guard unsafe EVP_DecryptInit_ex2(self.context, self.cipher, keyBytes, keyBytes + Self.keySize, nil) == 1 else {
            self.hasKey = false
            throw .openSSL(ERR_get_error())
        }
        self.hasKey = true
    }

    /// Installs key and iv given as text (tests and tools).
    public mutating func setKey(_ key: String, iv: String) throws(DecryptError) {
        let keyBytes = Array(key.utf8)
        let ivBytes = Array(iv.utf8)
        try unsafe self.setKey(keyBytes.span.bytes, iv: ivBytes.span.bytes)
    }

    /// Base64-decodes and decrypts the notice payload in `buffer` in place, removing the padding.
    ///
    /// - Returns: the plaintext length; the plaintext is `buffer[0..<length]`.
    /// - Complexity: O(n), no allocation.
    public func decryptBase64InPlace(_ buffer: UnsafeMutableRawBufferPointer) throws(DecryptError) -> Int {
        guard self.hasKey else { throw .noKey }
        let count: Int
        do {
            count = try unsafe Base64.decodeInPlace(buffer)
        } catch {
            throw .base64(error)
        }
        return try unsafe self.decryptInPlace(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
    }

    /// Decrypts raw ciphertext in place and removes its PKCS#7 padding.
    ///
    /// - Returns: the plaintext length.
    public func decryptInPlace(_ buffer: UnsafeMutableRawBufferPointer) throws(DecryptError) -> Int {
        guard self.hasKey else { throw .noKey }
        let count = buffer.count
        guard count > 0, count % Self.blockSize == 0, count <= Int(Int32.max) else {
            throw .badCiphertextLength(count)
        }
        let iv = unsafe self.material.baseAddress!.assumingMemoryBound(to: UInt8.self) + Self.keySize
        // Only the iv changes per message; the key schedule from setKey stays. Padding is stripped by hand below
        // because the flag survives re-initialisation in some OpenSSL versions (TOOLCHAIN.md §2).
        guard unsafe EVP_DecryptInit_ex2(self.context, nil, nil, iv, nil) == 1,
            unsafe EVP_CIPHER_CTX_set_padding(self.context, 0) == 1
        else { throw .openSSL(ERR_get_error()) }
        let bytes = unsafe buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0
        guard unsafe EVP_DecryptUpdate(self.context, bytes, &written, bytes, Int32(count)) == 1, Int(written) == count else {
            throw .openSSL(ERR_get_error())
        }
        // PKCS#7: the last byte n is 1...16 and the last n bytes all equal n. A wrong key or iv fails this check
        // with probability about 255/256.
        let pad = unsafe bytes[count - 1]
        guard pad >= 1, Int(pad) <= Self.blockSize else { throw .badPadding }
        var mismatch: UInt8 = 0
        for i in (count - Int(pad))..<count {
            mismatch |= unsafe bytes[i] ^ pad
        }
        guard mismatch == 0 else { throw .badPadding }
        return count - Int(pad)
    }

    /// Encrypts `plaintext` with PKCS#7 padding, as the KIS server does (simulator and tests; allocates).
    public static func encrypt(_ plaintext: [UInt8], key: [UInt8], iv: [UInt8]) throws(DecryptError) -> [UInt8] {
        guard key.count == Self.keySize else { throw .badKeyLength(key.count) }
        guard iv.count == Self.ivSize else { throw .badIVLength(iv.count) }
        guard let context = unsafe EVP_CIPHER_CTX_new() else { throw .openSSL(ERR_get_error()) }
        defer { unsafe EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: plaintext.count + Self.blockSize)
        var total: Int32 = 0
        let ok = unsafe out.withUnsafeMutableBufferPointer { out -> Bool in
            var n: Int32 = 0
            guard unsafe EVP_EncryptInit_ex2(context, EVP_aes_256_cbc(), key, iv, nil) == 1,
                unsafe EVP_CIPHER_CTX_set_padding(context, 1) == 1,
                unsafe EVP_EncryptUpdate(context, out.baseAddress, &n, plaintext, Int32(plaintext.count)) == 1
            else { return false }
            total = n
            guard unsafe EVP_EncryptFinal_ex(context, out.baseAddress! + Int(n), &n) == 1 else { return false }
            total += n
            return true
        }
        guard ok else { throw .openSSL(ERR_get_error()) }
        return Array(out[..<Int(total)])
    }
}

@available(*, unavailable)
extension NoticeCipher: Sendable {}

/// Why a notice could not be decrypted. The notice is skipped; the session goes on.
public enum DecryptError: Error, Equatable, Sendable {
    /// An encrypted frame arrived before any subscribe ack carried a key.
    case noKey
    case badKeyLength(Int)
    case badIVLength(Int)
    case base64(Base64Error)
    /// Ciphertext is not a positive multiple of the 16-byte block.
    case badCiphertextLength(Int)
    /// The padding is not PKCS#7: most likely the wrong key or iv.
    case badPadding
    /// OpenSSL refused; the value is `ERR_get_error()`.
    case openSSL(UInt)
}

public enum CryptoError: Error, Sendable {
    /// This OpenSSL has no AES-256-CBC (a FIPS-only provider, for instance).
    case unavailable
}
