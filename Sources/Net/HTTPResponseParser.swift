/// What a response's head says, as far as a KIS client cares.
public struct HTTPResponseHead: Sendable, Equatable {
    public var status: Int
    /// Whether the connection may carry the next request (`Connection: close` and HTTP/1.0 say no).
    public var keepAlive: Bool
    /// The first byte of KIS's `tr_cont` header (`F`/`M` more pages, `D`/`E` last page), 0 when absent.
    public var trCont: UInt8

    public init(status: Int, keepAlive: Bool, trCont: UInt8) {
        self.status = status
        self.keepAlive = keepAlive
        self.trCont = trCont
    }
}

/// An incremental HTTP/1.1 response parser over a buffer that only grows at its end.
///
/// It remembers how far it has looked, so each call scans only new bytes. Chunked bodies are joined in place:
/// chunk data moves down over the chunk-size lines, so the body ends up contiguous right after the head.
///
/// ```
/// buffer: | head ... \r\n\r\n | body (de-chunked so far) | bytes not yet decoded ... | free |
///                             ^bodyStart        ^bodyEnd  ^readIndex                ^count
/// ```
public struct HTTPResponseParser: Sendable {
    public enum Progress: Equatable, Sendable {
        case needMoreData
        /// The whole response is in; the body is `buffer[body]`, and `consumed` bytes of the buffer belong to it.
        case complete(HTTPResponseHead, body: Range<Int>, consumed: Int)
    }

    private enum State: Equatable {
        case head(scanned: Int)
        case fixed(length: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailer
        case untilClose
    }

    private var state = State.head(scanned: 0)
    private var head = HTTPResponseHead(status: 0, keepAlive: true, trCont: 0)
    private var bodyStart = 0
    private var bodyEnd = 0
    private var readIndex = 0
    /// A head larger than this is not an HTTP server talking.
    public static let maxHeadSize = 16 * 1024
    /// A chunk-size line (digits and extensions) longer than this is not a server talking either.
    static let maxChunkLine = 1024

    public init() {}

    /// Starts over for the next response on the same connection.
    public mutating func reset() {
        self = HTTPResponseParser()
    }

    /// Parses what `buffer[..<count]` holds; call again after more bytes arrive.
    public mutating func parse(_ buffer: inout [UInt8], count: Int) throws(NetError) -> Progress {
        while true {
            switch self.state {
            case .head(let scanned):
                guard let end = Self.headEnd(buffer, from: max(scanned - 3, 0), to: count) else {
                    guard count < Self.maxHeadSize else { throw .malformedResponse(reason: "header section too large") }
                    self.state = .head(scanned: count)
                    return .needMoreData
                }
                // The same limit whether the head came in pieces or at once.
                guard end <= Self.maxHeadSize else { throw .malformedResponse(reason: "header section too large") }
                let body = try self.readHead(buffer, end: end)
                self.bodyStart = end
                self.bodyEnd = end
                self.readIndex = end
                guard self.head.status >= 200 else {
                    // We never send `Expect:`, so no interim answer is due.
                    throw .malformedResponse(reason: "unexpected interim status \(self.head.status)")
                }
                self.state = body
            case .fixed(let length):
                guard count - self.bodyStart >= length else { return .needMoreData }
                return .complete(
                    self.head,
                    body: self.bodyStart..<self.bodyStart + length,
                    consumed: self.bodyStart + length
                )
            case .untilClose:
                return .needMoreData
            case .chunkSize:
                // The same limit on the line's length whether it is complete or still arriving: an incomplete
                // line may end in the CR of its CR LF, which is not part of it.
                guard let lineEnd = Self.lineEnd(buffer, from: self.readIndex, to: count) else {
                    guard count - self.readIndex - 1 <= Self.maxChunkLine else {
                        throw .malformedResponse(reason: "chunk size line too long")
                    }
                    return .needMoreData
                }
                guard lineEnd - self.readIndex <= Self.maxChunkLine else {
                    throw .malformedResponse(reason: "chunk size line too long")
                }
                var size = 0
                var index = self.readIndex
                var digits = 0
                while index < lineEnd, let digit = Self.hexValue(buffer[index]) {
                    size = size << 4 | digit
                    digits += 1
                    index += 1
                    guard digits <= 8 else { throw .malformedResponse(reason: "chunk size too large") }
                }
                // After the digits only an extension (`;name=value`) or whitespace before it may follow.
                guard digits > 0,
                    index == lineEnd || [UInt8(ascii: ";"), 0x20, 0x09].contains(buffer[index])
                else { throw .malformedResponse(reason: "chunk size is not hexadecimal") }
                self.readIndex = lineEnd + 2
                self.state = size == 0 ? .trailer : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let available = min(remaining, count - self.readIndex)
                if available > 0 {
                    if self.bodyEnd != self.readIndex {
                        let (to, from) = (self.bodyEnd, self.readIndex)
                        // Safe because: both ranges lie inside `buffer[..<count]` and `copyMemory` allows overlap.
                        unsafe buffer.withUnsafeMutableBytes { raw in
                            unsafe raw.baseAddress!.advanced(by: to)
                                .copyMemory(from: raw.baseAddress!.advanced(by: from), byteCount: available)
                        }
                    }
                    self.bodyEnd += available
                    self.readIndex += available
                }
                guard available == remaining else {
                    self.state = .chunkData(remaining: remaining - available)
                    return .needMoreData
                }
                self.state = .chunkDataEnd
            case .chunkDataEnd:
                guard count - self.readIndex >= 2 else { return .needMoreData }
                guard buffer[self.readIndex] == 0x0D, buffer[self.readIndex + 1] == 0x0A else {
                    throw .malformedResponse(reason: "chunk not followed by CRLF")
                }
                self.readIndex += 2
                self.state = .chunkSize
            case .trailer:
                // Trailer fields (none expected) end with an empty line.
                guard let lineEnd = Self.lineEnd(buffer, from: self.readIndex, to: count) else { return .needMoreData }
                let empty = lineEnd == self.readIndex
                self.readIndex = lineEnd + 2
                if empty {
                    return .complete(self.head, body: self.bodyStart..<self.bodyEnd, consumed: self.readIndex)
                }
            }
        }
    }

    /// The peer closed the connection: a close-delimited body is complete now, anything else is cut short.
    public func finishAtClose(count: Int) -> Progress? {
        guard self.state == .untilClose else { return nil }
        var head = self.head
        head.keepAlive = false
        return .complete(head, body: self.bodyStart..<count, consumed: count)
    }

    /// Reads the status line and the headers that matter; returns how the body is delimited.
    private mutating func readHead(_ buffer: [UInt8], end: Int) throws(NetError) -> State {
        guard let statusEnd = Self.lineEnd(buffer, from: 0, to: end), statusEnd >= 12,
            buffer[0..<5].elementsEqual("HTTP/".utf8), buffer[6] == UInt8(ascii: "."), buffer[8] == 0x20
        else { throw .malformedResponse(reason: "no HTTP/1.x status line") }
        var status = 0
        for index in 9..<12 {
            guard let digit = Self.decimalValue(buffer[index]) else {
                throw .malformedResponse(reason: "bad status code")
            }
            status = status * 10 + digit
        }
        self.head = HTTPResponseHead(status: status, keepAlive: buffer[7] == UInt8(ascii: "1"), trCont: 0)
        var contentLength: Int?
        var chunked = false
        var lineStart = statusEnd + 2
        while lineStart < end - 2, let lineEnd = Self.lineEnd(buffer, from: lineStart, to: end) {
            defer { lineStart = lineEnd + 2 }
            guard let colon = buffer[lineStart..<lineEnd].firstIndex(of: UInt8(ascii: ":")) else {
                throw .malformedResponse(reason: "header line without a colon")
            }
            var valueStart = colon + 1
            while valueStart < lineEnd, buffer[valueStart] == 0x20 || buffer[valueStart] == 0x09 { valueStart += 1 }
            var valueEnd = lineEnd
            while valueEnd > valueStart, buffer[valueEnd - 1] == 0x20 || buffer[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            let name = buffer[lineStart..<colon]
            let value = buffer[valueStart..<valueEnd]
            if Self.equalsIgnoringCase(name, "content-length") {
                var length = 0
                guard !value.isEmpty, value.count <= 12 else { throw .malformedResponse(reason: "bad content-length") }
                for byte in value {
                    guard let digit = Self.decimalValue(byte) else {
                        throw .malformedResponse(reason: "bad content-length")
                    }
                    length = length * 10 + digit
                }
                guard contentLength == nil || contentLength == length else {
                    throw .malformedResponse(reason: "conflicting content-length headers")
                }
                contentLength = length
            } else if Self.equalsIgnoringCase(name, "transfer-encoding") {
                chunked = Self.containsIgnoringCase(value, "chunked")
            } else if Self.equalsIgnoringCase(name, "connection") {
                if Self.containsIgnoringCase(value, "close") { self.head.keepAlive = false }
                if Self.containsIgnoringCase(value, "keep-alive") { self.head.keepAlive = true }
            } else if Self.equalsIgnoringCase(name, "tr_cont") {
                self.head.trCont = value.first ?? 0
            }
        }
        if chunked { return .chunkSize }
        if let contentLength { return .fixed(length: contentLength) }
        if self.head.status == 204 || self.head.status == 304 { return .fixed(length: 0) }
        self.head.keepAlive = false
        return .untilClose
    }

    private static func headEnd(_ buffer: [UInt8], from start: Int, to count: Int) -> Int? {
        var index = start
        while index + 3 < count {
            if buffer[index] == 0x0D, buffer[index + 1] == 0x0A, buffer[index + 2] == 0x0D, buffer[index + 3] == 0x0A {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    /// The index of the next CR LF at or after `start`, before `count`.
    private static func lineEnd(_ buffer: [UInt8], from start: Int, to count: Int) -> Int? {
        var index = start
        while index + 1 < count {
            if buffer[index] == 0x0D, buffer[index + 1] == 0x0A { return index }
            index += 1
        }
        return nil
    }

    private static func decimalValue(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return unsafe zip(bytes, UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount))
            .allSatisfy { $0 | 0x20 == $1 | 0x20 }
    }

    private static func containsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        let needle = unsafe UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        guard bytes.count >= needle.count else { return false }
        return (bytes.startIndex...bytes.endIndex - needle.count).contains { start in
            unsafe zip(bytes[start..<start + needle.count], needle).allSatisfy { $0 | 0x20 == $1 | 0x20 }
        }
    }
}
