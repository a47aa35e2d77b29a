import CCurl
import Synchronization

/// A set-once flag a blocked request checks every second or so, so a long poll ends when the bot stops.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    func set() { self.flag.store(true, ordering: .relaxed) }

    var isSet: Bool { self.flag.load(ordering: .relaxed) }
}

/// One HTTP answer: the status and the body.
struct HTTPAnswer {
    var status: Int
    var body: [UInt8]
}

/// Why a request got no HTTP answer. The text is libcurl's generic one for the code, never its error buffer: that
/// could hold the URL, and the URL holds the bot token.
struct TransportFailure: Error {
    var reason: String
}

/// POSTs of JSON bodies over one libcurl easy handle, kept alive between requests. Thread-confined: the poller and
/// the sender each own one. `@safe` because the handle never leaves this class and is freed only in `deinit`.
@safe
final class BotHTTP {
    private let handle: UnsafeMutableRawPointer
    private let stop: StopFlag
    private let response = ResponseBody()

    /// Bodies larger than this are cut off (a getUpdates answer of 100 long messages is well below it).
    static let maxBody = 1 << 20

    /// Nil when libcurl cannot make a handle (out of memory).
    init?(stop: StopFlag) {
        _ = Self.globalInit
        guard let handle = unsafe curl_easy_init() else { return nil }
        unsafe self.handle = handle
        self.stop = stop
    }

    deinit {
        unsafe curl_easy_cleanup(self.handle)
    }

    /// POSTs `body` as JSON to `url` and waits up to `timeoutSeconds` for the whole answer.
    /// - Throws: `TransportFailure` when there is no answer (refused, timed out, stopped).
    func post(_ url: String, body: [UInt8], timeoutSeconds: Int) throws(TransportFailure) -> HTTPAnswer {
        self.response.bytes.removeAll(keepingCapacity: true)
        let headers = unsafe curl_slist_append(nil, "content-type: application/json")
        defer { unsafe curl_slist_free_all(headers) }
        let responsePointer = unsafe Unmanaged.passUnretained(self.response).toOpaque()
        let stopPointer = unsafe Unmanaged.passUnretained(self.stop).toOpaque()
        let code: CURLcode = unsafe body.withUnsafeBufferPointer { bytes in
            let handle = unsafe self.handle
            _ = unsafe curlx_setopt_str(handle, CURLOPT_URL, url)
            _ = unsafe curlx_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            _ = unsafe curlx_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
            _ = unsafe curlx_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 5_000)
            _ = unsafe curlx_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutSeconds * 1_000)
            _ = unsafe curlx_setopt_long(handle, CURLOPT_POST, 1)
            // Safe because: the body outlives `curl_easy_perform` below, which is the only reader of the pointer.
            _ = unsafe curlx_setopt_ptr(
                handle,
                CURLOPT_POSTFIELDS,
                UnsafeMutableRawPointer(mutating: bytes.baseAddress)
            )
            _ = unsafe curlx_setopt_long(handle, CURLOPT_POSTFIELDSIZE, bytes.count)
            _ = unsafe curlx_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
            _ = unsafe curlx_setopt_writefn(handle, writeBody)
            // Safe because: `self.response` lives as long as `self`, and curl calls back only during perform.
            _ = unsafe curlx_setopt_ptr(handle, CURLOPT_WRITEDATA, responsePointer)
            _ = unsafe curlx_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
            _ = unsafe curlx_setopt_xferinfofn(handle, abortWhenStopped)
            // Safe because: the flag is retained by `self` for as long as the handle exists.
            _ = unsafe curlx_setopt_ptr(handle, CURLOPT_XFERINFODATA, stopPointer)
            return unsafe curl_easy_perform(handle)
        }
        // The body's pointer dies with this call: leave no dangling option behind.
        _ = unsafe curlx_setopt_ptr(self.handle, CURLOPT_POSTFIELDS, nil)
        _ = unsafe curlx_setopt_slist(self.handle, CURLOPT_HTTPHEADER, nil)
        guard code == CURLE_OK else {
            throw TransportFailure(reason: unsafe String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        _ = unsafe curlx_getinfo_long(self.handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPAnswer(status: status, body: self.response.bytes)
    }

    /// `curl_global_init` is not thread-safe on older libcurl; a lazy global runs it exactly once.
    private static let globalInit: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()
}

@available(*, unavailable)
extension BotHTTP: Sendable {}

/// Where curl's write callback appends the answer.
private final class ResponseBody {
    var bytes: [UInt8] = []
}

private func writeBody(
    _ data: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ user: UnsafeMutableRawPointer?
)
    -> Int
{
    let length = size * count
    guard let data = unsafe data, let user = unsafe user else { return 0 }
    // Safe because: `user` is the `ResponseBody` `post` passed as CURLOPT_WRITEDATA, alive during the transfer.
    let body = unsafe Unmanaged<ResponseBody>.fromOpaque(user).takeUnretainedValue()
    guard body.bytes.count + length <= BotHTTP.maxBody else { return 0 }
    // Safe because: curl hands `length` readable bytes at `data` for the duration of this call.
    unsafe data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        unsafe body.bytes.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
    }
    return length
}

private func abortWhenStopped(
    _ user: UnsafeMutableRawPointer?,
    _: curl_off_t,
    _: curl_off_t,
    _: curl_off_t,
    _: curl_off_t
)
    -> Int32
{
    guard let user = unsafe user else { return 0 }
    // Safe because: `user` is the `StopFlag` `post` passed as CURLOPT_XFERINFODATA, retained by the `BotHTTP`.
    return unsafe Unmanaged<StopFlag>.fromOpaque(user).takeUnretainedValue().isSet ? 1 : 0
}
