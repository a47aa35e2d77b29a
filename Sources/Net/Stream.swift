import CCurl
import TickCore

#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection, with TLS for `https`/`wss`, set up by libcurl and then driven byte by byte.
///
/// libcurl's connect-only mode gives us its resolver, connect timeouts and OpenSSL TLS (certificate checks, ALPN
/// pinned to http/1.1) while the bytes on the wire stay ours: requests come from preformatted buffers and
/// responses are parsed in place, so the order path allocates nothing and we can stamp the instant a request
/// has left. `ws://` and `wss://` map to `http://` and `https://`; the path is ignored.
///
/// Thread-confined: one thread owns a stream at a time.
@safe
public struct Stream: ~Copyable {
    private let handle: UnsafeMutableRawPointer
    private let socket: Int32
    /// `host:port`, for messages.
    public let endpoint: String

    /// - Parameters:
    ///   - url: `http(s)://` or `ws(s)://host:port`; the path is ignored.
    ///   - caFile: PEM file of the certificate authorities to trust instead of the system's (a private CA, a
    ///     local TLS front of the simulator).
    public init(url: String, connectTimeoutMilliseconds: Int = 5_000, caFile: String? = nil) throws(NetError) {
        Self.globalInit
        let target = Self.curlURL(url)
        self.endpoint = Self.endpoint(of: target)
        guard let handle = unsafe curl_easy_init() else {
            throw .connectFailed(host: self.endpoint, detail: "curl_easy_init")
        }
        var errorText = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var code = CURLE_OK
        var socket: curl_socket_t = -1
        unsafe errorText.withUnsafeMutableBufferPointer { text in
            _ = unsafe curlx_setopt_ptr(handle, CURLOPT_ERRORBUFFER, text.baseAddress)
            _ = unsafe curlx_setopt_str(handle, CURLOPT_URL, target)
            _ = unsafe curlx_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1)
            if let caFile { _ = unsafe curlx_setopt_str(handle, CURLOPT_CAINFO, caFile) }
            _ = unsafe curlx_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            // Small requests must leave at once, not wait for the previous segment's ACK.
            _ = unsafe curlx_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
            // A connection that died silently (NAT timeout, unplugged link) is found by the kernel, not by an order.
            _ = unsafe curlx_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
            _ = unsafe curlx_setopt_long(handle, CURLOPT_TCP_KEEPIDLE, 15)
            _ = unsafe curlx_setopt_long(handle, CURLOPT_TCP_KEEPINTVL, 5)
            _ = unsafe curlx_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMilliseconds)
            // ALPN offers http/1.1 only: our bytes are HTTP/1.1.
            _ = unsafe curlx_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
            code = unsafe curl_easy_perform(handle)
            if code == CURLE_OK {
                code = unsafe curlx_getinfo_socket(handle, CURLINFO_ACTIVESOCKET, &socket)
            }
            _ = unsafe curlx_setopt_ptr(handle, CURLOPT_ERRORBUFFER, nil)
        }
        guard code == CURLE_OK, socket >= 0 else {
            let written = errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            let detail = written.isEmpty ? Self.text(of: code) : String(decoding: written, as: UTF8.self)
            unsafe curl_easy_cleanup(handle)
            throw .connectFailed(host: self.endpoint, detail: detail)
        }
        unsafe self.handle = handle
        self.socket = socket
    }

    deinit {
        unsafe curl_easy_cleanup(self.handle)
    }

    /// Writes all of `bytes`, waiting while the socket buffer is full.
    /// - Throws: `.timedOut` if the kernel would not take them within the timeout, `.closed` or `.io` on failure.
    ///   Part of the bytes may have left in either case.
    public func send(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int) throws(NetError) {
        var progress = 0
        try unsafe self.send(bytes, timeoutMilliseconds: timeoutMilliseconds, progress: &progress)
    }

    /// `send`, telling through `progress` how many bytes the kernel took before a failure: zero means the peer
    /// cannot have seen any of them.
    public func send(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int, progress: inout Int) throws(NetError) {
        progress = 0
        var deadline: Int64 = 0
        while progress < bytes.count {
            var sent = 0
            let code = unsafe curl_easy_send(self.handle, bytes.baseAddress! + progress, bytes.count - progress, &sent)
            switch code {
            case CURLE_OK:
                progress += sent
            case CURLE_AGAIN:
                if deadline == 0 { deadline = Self.deadline(after: timeoutMilliseconds) }
                guard try self.wait(for: Int16(POLLOUT), until: deadline) else { throw .timedOut }
            case CURLE_SEND_ERROR, CURLE_GOT_NOTHING:
                throw .closed
            default:
                throw .io(detail: Self.text(of: code))
            }
        }
    }

    /// Waits up to `timeoutMilliseconds` for bytes and reads what is there, at most `buffer.count`.
    /// - Returns: the number of bytes read; 0 if none came in time.
    /// - Throws: `.closed` when the peer has ended the connection.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int) throws(NetError) -> Int {
        precondition(buffer.count > 0, "receive needs room for at least one byte")
        var deadline: Int64 = 0
        while true {
            var received = 0
            let code = unsafe curl_easy_recv(self.handle, buffer.baseAddress!, buffer.count, &received)
            switch code {
            case CURLE_OK:
                guard received > 0 else { throw .closed }
                return received
            case CURLE_AGAIN:
                // With TLS, a readable socket may hold only part of a record: go round until the deadline.
                if deadline == 0 { deadline = Self.deadline(after: timeoutMilliseconds) }
                guard try self.wait(for: Int16(POLLIN), until: deadline) else { return 0 }
            case CURLE_RECV_ERROR, CURLE_GOT_NOTHING:
                throw .closed
            default:
                throw .io(detail: Self.text(of: code))
            }
        }
    }

    /// Whether an idle connection is no longer usable: the peer closed it, reset it, or sent bytes nobody asked
    /// for. A TLS record that carries no data (a session ticket) does not count. Never blocks.
    public func isStale() -> Bool {
        var probe = pollfd(fd: self.socket, events: Int16(POLLIN), revents: 0)
        guard unsafe poll(&probe, 1, 0) > 0 else { return false }
        var scratch: UInt8 = 0
        var received = 0
        let code = unsafe curl_easy_recv(self.handle, &scratch, 1, &received)
        return code != CURLE_AGAIN
    }

    /// Polls for `events` until the monotonic `deadline`; false when it passed first.
    private func wait(for events: Int16, until deadline: Int64) throws(NetError) -> Bool {
        while true {
            let now = MonotonicClock().now()
            guard now < deadline else { return false }
            let milliseconds = Int32(min((deadline - now + 999_999) / 1_000_000, Int64(Int32.max)))
            var descriptor = pollfd(fd: self.socket, events: events, revents: 0)
            let ready = unsafe poll(&descriptor, 1, milliseconds)
            if ready > 0 {
                // POLLHUP/POLLERR: let the next curl call report what happened.
                return true
            }
            if ready < 0, errno != EINTR {
                throw .io(detail: "poll: \(unsafe String(cString: strerror(errno)))")
            }
        }
    }

    private static func text(of code: CURLcode) -> String {
        unsafe String(cString: curl_easy_strerror(code))
    }

    private static func deadline(after milliseconds: Int) -> Int64 {
        MonotonicClock().now() + Int64(max(milliseconds, 0)) * 1_000_000
    }

    /// `curl_global_init` is not thread-safe on older libcurl; a lazy global runs it exactly once.
    private static let globalInit: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    static func curlURL(_ url: String) -> String {
        if url.hasPrefix("ws://") { return "http://" + url.dropFirst(5) }
        if url.hasPrefix("wss://") { return "https://" + url.dropFirst(6) }
        return url
    }

    /// `host:port` of `url`, for messages and the HTTP `host` header.
    public static func endpoint(ofURL url: String) -> String {
        Self.endpoint(of: Self.curlURL(url))
    }

    static func endpoint(of url: String) -> String {
        let afterScheme = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        return afterScheme.count > 2 ? String(afterScheme[2]) : url
    }
}

@available(*, unavailable)
extension Stream: Sendable {}
