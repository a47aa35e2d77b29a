/// Writes client frames, which RFC 6455 §5.3 requires to be masked, into a caller's buffer.
public enum WebSocketFrameEncoder {
    /// Bytes needed for a frame carrying `payloadCount` bytes.
    @inlinable
    public static func frameSize(payloadCount: Int) -> Int {
        let lengthBytes = payloadCount < 126 ? 0 : payloadCount <= 0xFFFF ? 2 : 8
        return 2 + lengthBytes + 4 + payloadCount
    }

    /// Writes one masked frame of `payload` into the start of `out`.
    ///
    /// - Parameters:
    ///   - opcode: control opcodes need `fin` and at most 125 bytes.
    ///   - maskingKey: a fresh unpredictable value per frame (§10.3).
    ///   - out: at least `frameSize(payloadCount:)` bytes.
    /// - Returns: bytes written.
    /// - Complexity: O(payload), no allocation.
    public static func writeFrame(
        opcode: WebSocketOpcode,
        fin: Bool = true,
        payload: RawSpan,
        maskingKey: UInt32,
        into out: UnsafeMutableRawBufferPointer
    ) -> Int {
        let count = payload.byteCount
        let size = Self.frameSize(payloadCount: count)
        precondition(out.count >= size, "frame needs \(size) bytes, buffer has \(out.count)")
        precondition(!opcode.isControl || (fin && count <= 125), "control frames are unfragmented and ≤125 bytes")
        let base = out.baseAddress!
        unsafe base.storeBytes(of: (fin ? 0x80 : 0) | opcode.rawValue, as: UInt8.self)
        var offset = 2
        if count < 126 {
            unsafe base.storeBytes(of: 0x80 | UInt8(count), toByteOffset: 1, as: UInt8.self)
        } else if count <= 0xFFFF {
            unsafe base.storeBytes(of: 0x80 | 126, toByteOffset: 1, as: UInt8.self)
            unsafe base.storeBytes(of: UInt16(count).bigEndian, toByteOffset: 2, as: UInt16.self)
            offset = 4
        } else {
            unsafe base.storeBytes(of: 0x80 | 127, toByteOffset: 1, as: UInt8.self)
            unsafe base.storeBytes(of: UInt64(count).bigEndian, toByteOffset: 2, as: UInt64.self)
            offset = 10
        }
        // The key goes on the wire in network order; byte i of the payload is XORed with key byte i % 4.
        unsafe base.storeBytes(of: maskingKey.bigEndian, toByteOffset: offset, as: UInt32.self)
        offset += 4
        // Safe because: i < count == payload.byteCount and offset + count == size <= out.count.
        for i in 0..<count {
            let byte = unsafe payload.unsafeLoad(fromUncheckedByteOffset: i, as: UInt8.self)
            let keyByte = UInt8(truncatingIfNeeded: maskingKey >> UInt32(24 - 8 * (i & 3)))
            unsafe base.storeBytes(of: byte ^ keyByte, toByteOffset: offset + i, as: UInt8.self)
        }
        return size
    }

    /// Writes one masked frame of `payload`; see `writeFrame(opcode:fin:payload:maskingKey:into:)`.
    public static func writeFrame(
        opcode: WebSocketOpcode,
        fin: Bool = true,
        payload: [UInt8],
        maskingKey: UInt32,
        into out: UnsafeMutableRawBufferPointer
    ) -> Int {
        unsafe Self.writeFrame(opcode: opcode, fin: fin, payload: payload.span.bytes, maskingKey: maskingKey, into: out)
    }

    /// A whole masked frame as a new array, for the cold path (subscribe, PINGPONG echo, close).
    public static func frame(opcode: WebSocketOpcode, payload: [UInt8], maskingKey: UInt32) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.frameSize(payloadCount: payload.count))
        let n = unsafe out.withUnsafeMutableBytes {
            unsafe Self.writeFrame(opcode: opcode, payload: payload, maskingKey: maskingKey, into: $0)
        }
        precondition(n == out.count)
        return out
    }
}
