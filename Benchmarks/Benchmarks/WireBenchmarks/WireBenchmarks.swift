import Benchmark
import BenchmarkSupport
import Crypto
import Feed
import Fixtures
import Foundation
import KIS
import Net
import TickCore
import Wire

/// The wire core's hot paths on real KIS frames. Each benchmark's steady state must not allocate: the committed
/// thresholds (Thresholds/) hold mallocCountTotal at 0, and `scripts/bench check` fails on any regression.
let benchmarks: @Sendable () -> Void = {
    configureAllocationFreeBenchmarks()

    // One iteration decodes the four real frames: 16 trade records.
    Benchmark("H0STCNT0-decode-16-records") { benchmark in
        var decoder = try FeedDecoder()
        var frames = Fixtures.tradeFrames
        var sink = ChecksumSink()
        // Plain frames are not modified by decoding, so the same bytes serve every iteration.
        func pass() throws {
            for i in frames.indices {
                _ = try frames[i].withUnsafeMutableBytes {
                    try decoder.decode($0, localTs: Fixtures.localTs, into: &sink)
                }
            }
        }
        try measure(benchmark, pass)
        blackHole(sink.checksum)
    }

    Benchmark("H0STASP0-decode-1-book") { benchmark in
        var decoder = try FeedDecoder()
        var frame = Fixtures.bookFrames[0]
        var sink = ChecksumSink()
        func pass() throws {
            _ = try frame.withUnsafeMutableBytes { try decoder.decode($0, localTs: Fixtures.localTs, into: &sink) }
        }
        try measure(benchmark, pass)
        blackHole(sink.checksum)
    }

    // Built from the documented layout (no real H0STMKO0 frame is public): a halt and a resumption.
    Benchmark("H0STMKO0-decode-2-statuses") { benchmark in
        var decoder = try FeedDecoder()
        var frame = Array(
            ("0|H0STMKO0|002|005930^Y^거래정지^112^212^1^01^58^2^N^K^000660^N^^120^^^00^55^N^N^K").utf8
        )
        var sink = ChecksumSink()
        func pass() throws {
            _ = try frame.withUnsafeMutableBytes { try decoder.decode($0, localTs: Fixtures.localTs, into: &sink) }
        }
        try measure(benchmark, pass)
        blackHole(sink.checksum)
    }

    // Decryption works in place, so each iteration first restores the ciphertext (a ~230-byte copy).
    Benchmark("H0STCNI9-decrypt-decode-1-notice") { benchmark in
        var decoder = try FeedDecoder()
        var sink = ChecksumSink()
        var ack = Fixtures.notice.ack
        _ = try ack.withUnsafeMutableBytes { try decoder.decode($0, localTs: Fixtures.localTs, into: &sink) }
        let frame = Fixtures.notice.frame
        var scratch = frame
        func pass() throws {
            _ = try scratch.withUnsafeMutableBytes { buffer in
                frame.withUnsafeBytes { buffer.copyMemory(from: $0) }
                return try decoder.decode(buffer, localTs: Fixtures.localTs, into: &sink)
            }
        }
        try measure(benchmark, pass)
        blackHole(sink.checksum)
    }

    // The nine real frames as a server sends them; one iteration writes the stream (as a socket read would) and
    // parses every frame out of it.
    Benchmark("WebSocket-parse-9-frames") { benchmark in
        var reader = WebSocketReader(maxMessageSize: 64 * 1024)
        let stream = Fixtures.webSocketStream.bytes
        var total = 0
        func pass() throws {
            _ = stream.withUnsafeBytes { reader.write($0) }
            while let message = try reader.next() {
                total &+= message.count
            }
        }
        try measure(benchmark, pass)
        blackHole(total)
    }

    // The order path from decision to request bytes: one order-cash request (head, per-token headers, JSON body)
    // written into the lane's reused buffer.
    Benchmark("order-cash-format") { benchmark in
        let settings = ClientSettings(
            environment: .real,
            restURL: "https://openapi.koreainvestment.com:9443",
            webSocketURL: "ws://127.0.0.1:1",
            credentials: Credentials(
                appKey: Secret(String(repeating: "K", count: 36)),
                appSecret: Secret(String(repeating: "S", count: 180))
            ),
            account: Account(cano: "50000000", productCode: "01")!,
            htsID: "bench",
            userAgent: "kistick-bench"
        )
        var requests = OrderRequestWriter(settings: settings)
        var writer = ByteWriter(capacity: 2_048)
        let token = Secret(String(repeating: "T", count: 350))
        var ticket = OrderTicket(side: .buy, code: SymbolCode("005930")!, quantity: 1, price: 65_800)
        func pass() {
            ticket.quantity &+= 1
            ticket.side = ticket.side == .buy ? .sell : .buy
            requests.format(ticket, token: token, into: &writer)
        }
        try measure(benchmark, pass)
        blackHole(writer.count)
    }

    // The order path's answer side: a real accepted order-cash answer read into numbers (ODNO, branch, time,
    // msg_cd) without JSON, String or array.
    Benchmark("order-ack-read") { benchmark in
        let body =
            Array(#"{"rt_cd":"0","msg_cd":"APBK0013","msg1":"주문 전송 완료 되었습니다.","#.utf8)
            + Array(#""output":{"KRX_FWDG_ORD_ORGNO":"06590","ODNO":"0000006555","ORD_TMD":"151059"}}"#.utf8)
        var sum: UInt64 = 0
        func pass() throws {
            sum &+= try OrderAck.read(status: 200, body: body[...], trID: "TTTC0012U").orderNumber
        }
        try measure(benchmark, pass)
        blackHole(sum)
    }

    // The rate limiter as the order lane asks it before every order: one grant from the block every kistick process
    // on the machine maps for the key (a 1 ns window, so every ask is granted and each pass takes the grant path).
    Benchmark("rate-limiter-order-grant-shared") { benchmark in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kistick-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let limiter = try RateLimiter(
            sharedAt: directory.appendingPathComponent("bench.rate").path,
            limit: 20,
            windowNanoseconds: 1
        )
        let clock = MonotonicClock()
        var granted = 0
        try measure(benchmark) {
            if limiter.tryAcquire(.order, now: clock.now()) == .granted { granted &+= 1 }
        }
        blackHole(granted)
    }
}
