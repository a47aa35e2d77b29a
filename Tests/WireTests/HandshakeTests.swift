import Testing
import Wire

@Suite struct HandshakeTests {
    /// The RFC 6455 §1.3 example: this nonce gives this key and this accept value.
    static let rfcNonce: [UInt8] = Array("the sample nonce".utf8)

    static func response(accept: String, status: String = "101 Switching Protocols", extra: String = "") -> [UInt8] {
        Array(
            ("HTTP/1.1 \(status)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(accept)\r\n\(extra)\r\n").utf8
        )
    }

    @Test func rfcExample() {
        let handshake = WebSocketHandshake(nonce: Self.rfcNonce)
        #expect(handshake.key == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(handshake.expectedAccept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func requestCarriesTheUpgradeHeaders() {
        let handshake = WebSocketHandshake(nonce: Self.rfcNonce)
        let text = String(decoding: handshake.request(host: "127.0.0.1:21000", path: "/tryitout"), as: UTF8.self)
        #expect(text.hasPrefix("GET /tryitout HTTP/1.1\r\nHost: 127.0.0.1:21000\r\n"))
        #expect(text.contains("\r\nUpgrade: websocket\r\n"))
        #expect(text.contains("\r\nConnection: Upgrade\r\n"))
        #expect(text.contains("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"))
        #expect(text.contains("\r\nSec-WebSocket-Version: 13\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"))
        // KIS's legacy samples connect to the bare host: the path must still be "/".
        let bare = String(decoding: handshake.request(host: "h", path: ""), as: UTF8.self)
        #expect(bare.hasPrefix("GET / HTTP/1.1\r\n"))
    }

    @Test func acceptsAValidResponseAndLeavesTheFramesAfterIt() throws {
        let handshake = WebSocketHandshake(nonce: Self.rfcNonce)
        let head = Self.response(accept: handshake.expectedAccept)
        let frames: [UInt8] = [0x81, 0x05] + Array("Hello".utf8)
        #expect(try handshake.parseResponse(head + frames) == head.count)
    }

    @Test func headersAreCaseInsensitiveAndConnectionIsATokenList() throws {
        let handshake = WebSocketHandshake(nonce: Self.rfcNonce)
        let head = Array(
            ("HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
                + "sec-websocket-accept:  \(handshake.expectedAccept)\r\n\r\n").utf8
        )
        #expect(try handshake.parseResponse(head) == head.count)
    }

    @Test func incompleteResponseAsksForMore() throws {
        let handshake = WebSocketHandshake(nonce: Self.rfcNonce)
        let head = Self.response(accept: handshake.expectedAccept)
        for cut in 0..<head.count {
            #expect(try handshake.parseResponse(head[..<cut]) == nil)
        }
    }

    @Test func rejectsBadResponses() {
        let handshake = WebSocketHandshake(nonce: Self.rfcNonce)
        let good = handshake.expectedAccept
        #expect(throws: WebSocketHandshakeError.badAccept) {
            try handshake.parseResponse(Self.response(accept: "x3JJHMbDL1EzLkh9GBhXDw=="))
        }
        #expect(throws: WebSocketHandshakeError.notSwitchingProtocols(status: 403)) {
            try handshake.parseResponse(Self.response(accept: good, status: "403 Forbidden"))
        }
        #expect(throws: WebSocketHandshakeError.missingUpgrade) {
            try handshake.parseResponse(Array("HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n\r\n".utf8))
        }
        #expect(throws: WebSocketHandshakeError.missingConnectionUpgrade) {
            try handshake.parseResponse(Array("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\n".utf8))
        }
        #expect(throws: WebSocketHandshakeError.malformedStatusLine("ICY 200 OK")) {
            try handshake.parseResponse(Array("ICY 200 OK\r\n\r\n".utf8))
        }
        #expect(throws: WebSocketHandshakeError.responseTooLarge) {
            try handshake.parseResponse([UInt8](repeating: UInt8(ascii: "a"), count: 20_000))
        }
    }
}
