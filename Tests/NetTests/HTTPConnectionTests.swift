import Glibc
import Net
import ScriptedServer
import Testing

@Suite struct HTTPConnectionTests {
    private let ok = ScriptedServer.response(body: #"{"rt_cd":"0"}"#)

    private func request(_ path: String = "/x") -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".utf8)
    }

    @Test func preWarmedConnectionCarriesEveryRequest() throws {
        let server = ScriptedServer { _, _ in .respond(self.ok) }
        defer { server.stop() }
        var connection = HTTPConnection(baseURL: server.url)
        try connection.connect()
        for _ in 0..<20 {
            let response = try connection.exchange(self.request(), timeoutMilliseconds: 2_000)
            #expect(!response.connected)
            #expect(connection.withBytes(response.body) { String(decoding: $0, as: UTF8.self) } == #"{"rt_cd":"0"}"#)
        }
        #expect(connection.connectCount == 1)
        #expect(server.acceptedConnections == 1)
        #expect(server.requests.count == 20)
    }

    @Test func idleConnectionClosedByServerIsReopenedBeforeTheNextRequest() throws {
        let server = ScriptedServer { _, _ in .respond(self.ok) }
        defer { server.stop() }
        var connection = HTTPConnection(baseURL: server.url)
        _ = try connection.exchange(self.request(), timeoutMilliseconds: 2_000)
        server.dropClients()
        // keepWarm finds the dead connection before any request needs it.
        var reopened = false
        for _ in 0..<100 where !reopened {
            reopened = try connection.keepWarm()
            if !reopened { usleep(2_000) }
        }
        #expect(reopened)
        let response = try connection.exchange(self.request(), timeoutMilliseconds: 2_000)
        #expect(!response.connected)
        #expect(connection.connectCount == 2)
    }

    @Test func connectionCloseFromServerIsHonoured() throws {
        let server = ScriptedServer { _, index in
            index == 0
                ? .respondAndClose(ScriptedServer.response(headers: ["connection: close"], body: "{}"))
                : .respond(self.ok)
        }
        defer { server.stop() }
        var connection = HTTPConnection(baseURL: server.url)
        _ = try connection.exchange(self.request(), timeoutMilliseconds: 2_000)
        let connected = connection.isConnected
        #expect(!connected)
        let second = try connection.exchange(self.request(), timeoutMilliseconds: 2_000)
        #expect(second.connected)
    }

    @Test func answerCutShortIsLostNotNotSent() throws {
        let server = ScriptedServer { _, _ in
            .respondAndClose(Array(ScriptedServer.response(body: "{\"rt_cd\":\"0\"}").prefix(30)))
        }
        defer { server.stop() }
        var connection = HTTPConnection(baseURL: server.url)
        #expect(throws: ExchangeError.lost(.closed)) {
            _ = try connection.exchange(self.request(), timeoutMilliseconds: 2_000)
        }
        let connected = connection.isConnected
        #expect(!connected)
    }

    @Test func silenceTimesOutAsLost() throws {
        let server = ScriptedServer { _, _ in .silence }
        defer { server.stop() }
        var connection = HTTPConnection(baseURL: server.url)
        #expect(throws: ExchangeError.lost(.timedOut)) {
            _ = try connection.exchange(self.request(), timeoutMilliseconds: 100)
        }
    }

    @Test func refusedConnectionIsNotSent() throws {
        let server = ScriptedServer { _, _ in .silence }
        let url = server.url
        server.stop()
        var connection = HTTPConnection(baseURL: url, connectTimeoutMilliseconds: 500)
        #expect {
            _ = try connection.exchange(self.request(), timeoutMilliseconds: 100)
        } throws: { error in
            guard case ExchangeError.notSent(.connectFailed) = error else { return false }
            return true
        }
    }

    @Test func responseLargerThanTheBufferIsRefused() throws {
        let server = ScriptedServer { _, _ in
            .respond(ScriptedServer.response(body: String(repeating: "x", count: 5_000)))
        }
        defer { server.stop() }
        var connection = HTTPConnection(baseURL: server.url, maxResponseSize: 1_024)
        #expect(throws: ExchangeError.lost(.tooLarge(limit: 1_024))) {
            _ = try connection.exchange(self.request(), timeoutMilliseconds: 2_000)
        }
    }
}
