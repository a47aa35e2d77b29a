import Net
import Testing

@Suite struct HTTPResponseParserTests {
    /// Feeds `text` in pieces of `step` bytes, as a socket might deliver it, and returns the body and head.
    private func parse(_ text: String, step: Int) throws -> (HTTPResponseHead, String, consumed: Int)? {
        let bytes = Array(text.utf8)
        var buffer = [UInt8](repeating: 0, count: bytes.count + 16)
        var parser = HTTPResponseParser()
        var filled = 0
        while true {
            if case .complete(let head, let body, let consumed) = try parser.parse(&buffer, count: filled) {
                return (head, String(decoding: buffer[body], as: UTF8.self), consumed)
            }
            guard filled < bytes.count else { return nil }
            let next = min(filled + step, bytes.count)
            buffer.replaceSubrange(filled..<next, with: bytes[filled..<next])
            filled = next
        }
    }

    @Test func contentLengthBodyAtEverySplit() throws {
        let text =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ntr_cont: M\r\nContent-Length: 13\r\n\r\n{\"rt_cd\":\"0\"}"
        for step in 1...text.utf8.count {
            let (head, body, consumed) = try #require(try self.parse(text, step: step))
            #expect(head == HTTPResponseHead(status: 200, keepAlive: true, trCont: UInt8(ascii: "M")))
            #expect(body == #"{"rt_cd":"0"}"#)
            #expect(consumed == text.utf8.count)
        }
    }

    @Test func chunkedBodyIsJoinedInPlaceAtEverySplit() throws {
        let text =
            "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "7\r\n{\"rt_cd\r\n" + "1a;ext=1\r\n\":\"1\",\"msg_cd\":\"EGW00201\"}\r\n" + "0\r\nx-trailer: 1\r\n\r\n"
        for step in 1...text.utf8.count {
            let (head, body, consumed) = try #require(try self.parse(text, step: step))
            #expect(head.status == 500)
            #expect(body == #"{"rt_cd":"1","msg_cd":"EGW00201"}"#)
            #expect(consumed == text.utf8.count)
        }
    }

    @Test func connectionCloseAndHTTP10EndKeepAlive() throws {
        let close = try #require(
            try self.parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", step: 64)
        )
        #expect(!close.0.keepAlive)
        let old = try #require(try self.parse("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", step: 64))
        #expect(!old.0.keepAlive)
        let kept = try #require(
            try self.parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}", step: 64)
        )
        #expect(kept.0.keepAlive)
    }

    @Test func bodyWithoutLengthEndsAtClose() throws {
        var parser = HTTPResponseParser()
        var buffer = Array("HTTP/1.1 200 OK\r\n\r\n{\"a\":1}".utf8)
        #expect(try parser.parse(&buffer, count: buffer.count) == .needMoreData)
        let done = try #require(parser.finishAtClose(count: buffer.count))
        guard case .complete(let head, let body, _) = done else {
            Issue.record("not complete")
            return
        }
        #expect(!head.keepAlive)
        #expect(String(decoding: buffer[body], as: UTF8.self) == #"{"a":1}"#)
    }

    @Test func malformedResponsesAreTypedErrors() {
        let cases = [
            "SSH-2.0-OpenSSH\r\n\r\n",
            "HTTP/1.1 2x0 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
            "HTTP/1.1 100 Continue\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0H junk\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1" + String(repeating: " ", count: 1_100)
                + "\r\nx\r\n0\r\n\r\n",
        ]
        for text in cases {
            #expect(throws: NetError.self, "\(text.debugDescription)") { _ = try self.parse(text, step: 1) }
        }
    }

    @Test func oversizedHeadIsRefusedBeforeItsEndAndWhateverTheChunking() {
        let text = "HTTP/1.1 200 OK\r\n" + String(repeating: "x-filler: 0123456789\r\n", count: 1_000)
        #expect(throws: NetError.malformedResponse(reason: "header section too large")) {
            _ = try self.parse(text, step: 4096)
        }
        // Complete but over the limit, fed at once: the same answer as in pieces (found by FuzzHTTPResponse).
        #expect(throws: NetError.malformedResponse(reason: "header section too large")) {
            _ = try self.parse(text + "\r\n", step: text.utf8.count + 2)
        }
    }
}
