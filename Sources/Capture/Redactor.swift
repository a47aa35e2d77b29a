#if canImport(Glibc)
import Glibc
#endif

/// Overwrites every occurrence of a set of secrets (app key, app secret, access token, approval key) with `*`,
/// so none reaches a capture.
///
/// KIS never echoes a credential in what it sends, so the common case must cost next to nothing: a message is
/// probed at every `step`-th byte, where `step` is the shortest secret's length less 3, by looking its 4 bytes
/// up in a bit set of every 4-byte run of every secret. Any occurrence of a secret of length `L ≥ step + 3`
/// covers a probe whose 4 bytes lie inside it, so a message with no probe in the set holds no secret; one with a
/// probe in the set (rare: a false positive, or a real secret) is searched in full for each secret.
public struct Redactor: Sendable {
    /// Secrets shorter than this are refused: the probes read 4 bytes. Credentials are 36 bytes and more; a
    /// short secret still works, with a probe at (nearly) every byte.
    public static let minimumLength = 4
    private static let filterBits = 1 << 16

    private let secrets: [[UInt8]]
    private let filter: [UInt64]
    private let step: Int

    /// A redactor that changes nothing.
    public init() {
        self.secrets = []
        self.filter = []
        self.step = 0
    }

    /// - Parameter secrets: the credentials; empty ones are ignored, others must be at least `minimumLength`
    ///   bytes (`precondition`).
    public init(secrets: [String]) {
        let secrets = secrets.map { Array($0.utf8) }.filter { !$0.isEmpty }
        precondition(
            secrets.allSatisfy { $0.count >= Self.minimumLength },
            "Redactor secrets must be at least \(Self.minimumLength) bytes"
        )
        var filter = [UInt64](repeating: 0, count: secrets.isEmpty ? 0 : Self.filterBits / 64)
        for secret in secrets {
            for start in 0...(secret.count - 4) {
                let bit = Self.bit(Self.gram(secret, at: start))
                filter[bit >> 6] |= 1 << UInt64(bit & 63)
            }
        }
        self.secrets = secrets
        self.filter = filter
        self.step = secrets.map(\.count).min().map { $0 - 3 } ?? 0
    }

    /// This redactor's secrets and `secret`; the same redactor if `secret` is empty or already among them.
    public func adding(_ secret: String) -> Redactor {
        let bytes = Array(secret.utf8)
        guard !bytes.isEmpty, !self.secrets.contains(bytes) else { return self }
        return Redactor(secrets: self.secrets.map { String(decoding: $0, as: UTF8.self) } + [secret])
    }

    /// Overwrites every secret in `bytes` with `*`.
    ///
    /// - Complexity: O(n / step) probes when no probe hits the filter; O(n · secrets) when one does.
    public func redact(_ bytes: UnsafeMutableRawBufferPointer) {
        guard self.step > 0, let base = bytes.baseAddress, bytes.count >= self.step + 3 else { return }
        var probe = 0
        let last = bytes.count - 4
        while probe <= last {
            // Safe because: probe + 4 ≤ count.
            let gram = unsafe UInt32(littleEndian: base.loadUnaligned(fromByteOffset: probe, as: UInt32.self))
            let bit = Self.bit(gram)
            if self.filter[bit >> 6] & (1 << UInt64(bit & 63)) != 0 {
                unsafe self.searchAll(base, count: bytes.count)
                return
            }
            probe += self.step
        }
    }

    /// The slow path, for a message a probe flagged: a plain search for each secret (glibc's `memmem` needs
    /// `_GNU_SOURCE`, which Swift's Glibc module does not define).
    private func searchAll(_ base: UnsafeMutableRawPointer, count: Int) {
        for secret in self.secrets where secret.count <= count {
            unsafe secret.withUnsafeBytes { needle in
                let first = unsafe needle[0]
                var start = 0
                while start <= count - needle.count {
                    // Safe because: start + needle.count ≤ count, so both ranges lie inside the message.
                    if unsafe base.load(fromByteOffset: start, as: UInt8.self) == first,
                        unsafe memcmp(base + start, needle.baseAddress!, needle.count) == 0
                    {
                        unsafe (base + start).initializeMemory(
                            as: UInt8.self,
                            repeating: UInt8(ascii: "*"),
                            count: needle.count
                        )
                        start += needle.count
                    } else {
                        start += 1
                    }
                }
            }
        }
    }

    private static func gram(_ bytes: [UInt8], at start: Int) -> UInt32 {
        UInt32(bytes[start]) | UInt32(bytes[start + 1]) << 8 | UInt32(bytes[start + 2]) << 16
            | UInt32(bytes[start + 3]) << 24
    }

    private static func bit(_ gram: UInt32) -> Int {
        Int((gram &* 0x9E37_79B1) >> 16)
    }
}
