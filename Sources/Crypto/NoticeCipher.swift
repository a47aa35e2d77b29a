internal import CCrypto
public import Wire

/// AES-256-CBC as KIS uses it for order and fill notices (H0STCNI0/H0STCNI9): key and iv are the ASCII bytes of
/// the subscribe ack's `output.key` (32) and `output.iv` (16), the payload is base64 of PKCS#7-padded ciphertext.
///
/// One OpenSSL context is created up front and reused. Setting a key runs the key schedule once; messages are then
/// decrypted as one continuing CBC stream, with the first block of each corrected for the iv (see
/// `decryptInPlace`), so no per-message re-initialisation is paid. Decryption happens in place: a notice never
/// leaves the receive buffer.
///
/// Thread-confined: the OpenSSL context is not shareable.
@safe
public struct NoticeCipher: ~Copyable {
    private let context: OpaquePointer
    private let cipher: OpaquePointer
    /// Key (32 bytes), iv (16), and the context's current CBC chaining block (16), allocated once.
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
        unsafe self.material = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Self.keySize + 2 * Self.ivSize,
            alignment: 16
        )
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
        unsafe iv.withUnsafeBytes {
            unsafe (base + Self.keySize).copyMemory(from: $0.baseAddress!, byteCount: Self.ivSize)
        }
        try self.restartStream()
    }

    /// Runs the key schedule and starts a CBC stream at the iv.
    private mutating func restartStream() throws(DecryptError) {
        let key = unsafe self.material.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let iv = unsafe key + Self.keySize
        // Padding is removed by hand: OpenSSL would hold back the last block of every update.
        guard unsafe EVP_DecryptInit_ex2(self.context, self.cipher, key, iv, nil) == 1,
            unsafe EVP_CIPHER_CTX_set_padding(self.context, 0) == 1
        else {
            self.hasKey = false
            throw .openSSL(ERR_get_error())
        }
        unsafe (iv + Self.ivSize).update(from: iv, count: Self.ivSize)
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
    public mutating func decryptBase64InPlace(_ buffer: UnsafeMutableRawBufferPointer) throws(DecryptError) -> Int {
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
    /// The context is not re-initialised per message (in OpenSSL 3 that walks parameter tables and costs more than
    /// decrypting a notice). It carries on the CBC chain from the previous message instead, which decrypts every
    /// block correctly but the first: CBC gives P₁ = D(C₁) ⊕ iv, and the context XORs with its chaining block
    /// (the previous message's last ciphertext block). XORing P₁ with chain ⊕ iv puts that right.
    ///
    /// - Returns: the plaintext length.
    public mutating func decryptInPlace(_ buffer: UnsafeMutableRawBufferPointer) throws(DecryptError) -> Int {
        guard self.hasKey else { throw .noKey }
        let count = buffer.count
        guard count > 0, count % Self.blockSize == 0, count <= Int(Int32.max) else {
            throw .badCiphertextLength(count)
        }
        let iv = unsafe UnsafeRawPointer(self.material.baseAddress! + Self.keySize)
        let chain = unsafe self.material.baseAddress! + Self.keySize + Self.ivSize
        let bytes = buffer.baseAddress!
        // Safe because: the material block is 64 bytes and 16-aligned; count >= 16 and a multiple of 16.
        let correction0 = unsafe chain.load(as: UInt64.self) ^ iv.load(as: UInt64.self)
        let correction1 =
            unsafe chain.load(fromByteOffset: 8, as: UInt64.self) ^ iv.load(fromByteOffset: 8, as: UInt64.self)
        let last0 = unsafe bytes.loadUnaligned(fromByteOffset: count - 16, as: UInt64.self)
        let last1 = unsafe bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        var written: Int32 = 0
        let typed = unsafe bytes.assumingMemoryBound(to: UInt8.self)
        guard unsafe EVP_DecryptUpdate(self.context, typed, &written, typed, Int32(count)) == 1, Int(written) == count
        else {
            let error = ERR_get_error()
            // The chain is unknown now; start a fresh stream for the next message.
            try self.restartStream()
            throw .openSSL(error)
        }
        unsafe chain.storeBytes(of: last0, as: UInt64.self)
        unsafe chain.storeBytes(of: last1, toByteOffset: 8, as: UInt64.self)
        unsafe bytes.storeBytes(of: bytes.loadUnaligned(as: UInt64.self) ^ correction0, as: UInt64.self)
        unsafe bytes.storeBytes(
            of: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self) ^ correction1,
            toByteOffset: 8,
            as: UInt64.self
        )
        // PKCS#7: the last byte n is 1...16 and the last n bytes all equal n, checked as two words. A wrong key
        // or iv fails this with probability about 255/256.
        let pad = unsafe bytes.load(fromByteOffset: count - 1, as: UInt8.self)
        guard pad >= 1, Int(pad) <= Self.blockSize else { throw .badPadding }
        let expected = UInt64(pad) &* 0x0101_0101_0101_0101
        let padBits = UInt64(pad) * 8
        // Little-endian words: the padding is the top `pad` bytes of the last block.
        let highMask = padBits >= 64 ? UInt64.max : ~(UInt64.max >> padBits)
        let lowMask = padBits <= 64 ? 0 : ~(UInt64.max >> (padBits - 64))
        let tail0 = unsafe bytes.loadUnaligned(fromByteOffset: count - 16, as: UInt64.self)
        let tail1 = unsafe bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        guard (tail1 ^ expected) & highMask == 0, (tail0 ^ expected) & lowMask == 0 else { throw .badPadding }
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
