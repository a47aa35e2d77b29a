import Foundation
import Glibc
import Synchronization

/// A loopback TCP server that answers each request with whatever the test scripts, including the misbehaviour
/// a real server shows (closing idle connections, dying mid-answer, never answering).
public final class ScriptedServer: Sendable {
    public enum Reply: Sendable {
        /// Write these bytes and keep the connection.
        case respond([UInt8])
        /// Write these bytes, then close the connection.
        case respondAndClose([UInt8])
        /// Close without answering.
        case close
        /// Read the request and say nothing.
        case silence
    }

    public let port: Int
    private let listener: Int32
    private let script: @Sendable (_ request: [UInt8], _ index: Int) -> Reply
    private let state = Mutex(State())

    private struct State {
        var requests: [[UInt8]] = []
        var accepted = 0
        var clients: [Int32] = []
    }

    public var requests: [[UInt8]] { self.state.withLock { $0.requests } }
    public var acceptedConnections: Int { self.state.withLock { $0.accepted } }

    public init(script: @escaping @Sendable (_ request: [UInt8], _ index: Int) -> Reply) {
        self.script = script
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                precondition(bind(fd, raw, length) == 0 && listen(fd, 16) == 0)
                precondition(getsockname(fd, raw, &length) == 0)
            }
        }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { self.acceptLoop() }
        thread.start()
    }

    public var url: String { "http://127.0.0.1:\(self.port)" }

    /// Closes every open client connection from the server side, as an idle timeout would.
    public func dropClients() {
        // Under the lock, so no serving thread closes a descriptor (which the process may then reuse for another
        // test's socket) between our reading it and shutting it down.
        self.state.withLock { state in
            for client in state.clients { shutdown(client, Int32(SHUT_RDWR)) }
        }
    }

    /// Stops listening and drops every client. The accept thread closes the listener: closing it here could let
    /// the process reuse the descriptor number for another test's socket before that thread calls `accept` on it.
    public func stop() {
        shutdown(self.listener, Int32(SHUT_RDWR))
        self.dropClients()
    }

    private func acceptLoop() {
        while true {
            let client = accept(self.listener, nil, nil)
            guard client >= 0 else {
                close(self.listener)
                return
            }
            self.state.withLock { state in
                state.accepted += 1
                state.clients.append(client)
            }
            Thread { self.serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            pending.append(contentsOf: chunk[..<count])
            while let request = Self.takeRequest(&pending) {
                let index = self.state.withLock { state in
                    state.requests.append(request)
                    return state.requests.count - 1
                }
                switch self.script(request, index) {
                case .respond(let bytes):
                    _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                case .respondAndClose(let bytes):
                    _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    shutdown(client, Int32(SHUT_RDWR))
                case .close:
                    shutdown(client, Int32(SHUT_RDWR))
                case .silence:
                    break
                }
            }
        }
        self.state.withLock { state in
            state.clients.removeAll { $0 == client }
            close(client)
        }
    }

    /// One whole request (head plus `content-length` body) off the front of `pending`.
    private static func takeRequest(_ pending: inout [UInt8]) -> [UInt8]? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = pending.indices.first(where: { pending[$0...].starts(with: separator) }) else { return nil }
        let head = String(decoding: pending[..<headEnd], as: UTF8.self).lowercased()
        var length = 0
        for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
            length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let end = headEnd + 4 + length
        guard pending.count >= end else { return nil }
        defer { pending.removeFirst(end) }
        return Array(pending[..<end])
    }

    public static func response(status: Int = 200, headers: [String] = [], body: String) -> [UInt8] {
        let bytes = Array(body.utf8)
        let head = (["HTTP/1.1 \(status) OK", "content-length: \(bytes.count)"] + headers).joined(separator: "\r\n")
        return Array((head + "\r\n\r\n").utf8) + bytes
    }
}
