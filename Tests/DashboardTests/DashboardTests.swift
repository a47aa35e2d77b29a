import Candles
import Dashboard
import Engine
import Foundation
import KIS
import Metrics
import Synchronization
import Testing
import TickCore

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct DashboardTests {
    /// What the controls were asked to do.
    final class Pressed: Sendable {
        let names = Mutex<[String]>([])
        var controls: DashboardControls {
            DashboardControls(
                pauseEntries: { self.names.withLock { $0.append("pause") } },
                resumeEntries: { self.names.withLock { $0.append("resume") } },
                armKillSwitch: { self.names.withLock { $0.append("kill") } }
            )
        }
    }

    static func snapshot() -> DashboardSnapshot {
        var status = EngineStatus()
        status.sessions = 1
        status.connectedSessions = 1
        status.records = 1_234
        status.positions = [
            .init(code: "005930", quantity: 14, averagePrice: 70_150.5, lastPrice: 70_300, unrealisedPnL: 1_200)
        ]
        status.orders.sent = 3
        status.orders.filled = 2
        status.latency = [
            .init(
                stage: "read→decoded",
                summary: LatencySummary(count: 4, p50: 1_500, p90: 2_000, p99: 9_000, p999: 9_000, max: 9_000),
                sum: 15_000,
                buckets: EngineStatus.LatencyLine.bucketBounds.map { $0 >= 10_000 ? 4 : $0 >= 2_500 ? 3 : 0 }
            )
        ]
        let code = SymbolCode(ascii: "005930")
        var history = DashboardHistory(mode: "paper", environment: "paper")
        var bar = Candle()
        (bar.code, bar.start, bar.seconds) = (code, 1_800_000_000, 60)
        (bar.open, bar.high, bar.low, bar.close, bar.volume) = (1, 2, 1, 2, 10)
        history.add(bar: bar)
        history.add(fills: [FillReport(code: code, side: .buy, quantity: 14, price: 2, localTs: 1, exchangeTime: 1)])
        return history.snapshot(status, live: [code], wallTime: 0)
    }

    func request(
        _ server: DashboardServer,
        _ path: String,
        method: String = "GET",
        bearer: String? = nil
    ) throws -> (status: Int, body: String, type: String) {
        let connection = try LoopbackClient(port: server.port)
        let authorization = bearer.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        try connection.send(
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(authorization)Connection: close\r\n\r\n"
        )
        let text = try connection.readAll()
        let (head, body) = try #require(
            text.range(of: "\r\n\r\n").map { (text[..<$0.lowerBound], text[$0.upperBound...]) }
        )
        let status = Int(head.split(separator: " ")[1]) ?? 0
        let type =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-type:") }
            .map { String($0.dropFirst("content-type:".count)).trimmingCharacters(in: .whitespaces) } ?? ""
        return (status, String(body), type)
    }

    @Test func everyRouteWantsTheToken() async throws {
        let server = try await DashboardServer(host: "127.0.0.1", port: 0, controls: Pressed().controls)
        defer { Task { await server.stop() } }
        let token = server.token.reveal
        #expect(token.count == 64)
        for path in ["/", "/api/state", "/metrics", "/events"] {
            #expect(try self.request(server, path).status == 401)
            #expect(try self.request(server, path + "?token=" + String(repeating: "0", count: 64)).status == 401)
        }
        #expect(try self.request(server, "/api/pause", method: "POST").status == 401)
        let page = try self.request(server, "/?token=\(token)")
        #expect(page.status == 200 && page.type.hasPrefix("text/html"))
        #expect(page.body.contains("<canvas") || page.body.contains("charts"))
        #expect(try self.request(server, "/metrics", bearer: token).status == 200)
        #expect(server.url.reveal == "http://127.0.0.1:\(server.port)/?token=\(token)")
        #expect("\(server.url)" == "<redacted>")
    }

    @Test func statePublishedIsWhatTheAPIAnswers() async throws {
        let server = try await DashboardServer(host: "127.0.0.1", port: 0, controls: Pressed().controls)
        defer { Task { await server.stop() } }
        server.publish(Self.snapshot())
        let state = try self.request(server, "/api/state", bearer: server.token.reveal)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(state.body.utf8)) as? [String: Any])
        let status = try #require(json["status"] as? [String: Any])
        let positions = try #require(status["positions"] as? [[String: Any]])
        #expect(positions.first?["code"] as? String == "005930")
        #expect(positions.first?["quantity"] as? Int == 14)
        let chart = try #require((json["charts"] as? [[String: Any]])?.first)
        #expect(chart["code"] as? String == "005930")
        #expect((chart["candles"] as? [[String: Any]])?.first?["start"] as? Int == 1_800_000_000)
        #expect((chart["marks"] as? [[String: Any]])?.first?["side"] as? String == "buy")
    }

    /// The exposition parses line by line as Prometheus's text format: a TYPE before each family's samples, every
    /// sample `name{labels} value`, histogram buckets cumulative and ending at `+Inf` equal to `_count`.
    @Test func metricsAreThePrometheusTextFormat() async throws {
        let server = try await DashboardServer(host: "127.0.0.1", port: 0, controls: Pressed().controls)
        defer { Task { await server.stop() } }
        server.publish(Self.snapshot())
        let metrics = try self.request(server, "/metrics?token=\(server.token.reveal)")
        #expect(metrics.type.hasPrefix("text/plain; version=0.0.4"))
        var typed: [String: String] = [:]
        var buckets: [(le: String, count: Int)] = []
        var count: Int?
        let sample = try Regex(#"^(kistick_[a-z_]+)(\{[^}]*\})? (-?[0-9.]+)$"#)
        for line in metrics.body.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                typed[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("# HELP ") { continue }
            let match = try #require(try sample.wholeMatch(in: String(line)), "not a sample: \(line)")
            let name = String(match.output[1].substring!)
            let family = ["_bucket", "_sum", "_count"].reduce(name) { name, suffix in
                typed[name] == nil && name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name
            }
            #expect(typed[family] != nil, "\(name) has no TYPE before it")
            if name == "kistick_stage_latency_seconds_bucket" {
                let labels = String(match.output[2].substring!)
                let le = labels.split(separator: "le=\"")[1].dropLast(2)
                buckets.append((String(le), Int(match.output[3].substring!)!))
            }
            if name == "kistick_stage_latency_seconds_count" { count = Int(match.output[3].substring!) }
        }
        #expect(typed["kistick_stage_latency_seconds"] == "histogram")
        #expect(typed["kistick_ring_lost_total"] == "counter")
        #expect(buckets.count == EngineStatus.LatencyLine.bucketBounds.count + 1)
        #expect(buckets.first?.le == "0.000001" && buckets.last?.le == "+Inf")
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.count <= $1.count })
        #expect(buckets.last?.count == count && count == 4)
        #expect(metrics.body.contains("kistick_position_shares{code=\"005930\"} 14\n"))
        #expect(metrics.body.contains("kistick_stage_latency_seconds_sum{stage=\"read→decoded\"} 0.000015\n"))
    }

    @Test func eventsStreamEachNewSnapshot() async throws {
        let server = try await DashboardServer(host: "127.0.0.1", port: 0, controls: Pressed().controls)
        defer { Task { await server.stop() } }
        var snapshot = Self.snapshot()
        server.publish(snapshot)
        let connection = try LoopbackClient(port: server.port)
        try connection.send("GET /events?token=\(server.token.reveal) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        var records: [Int] = []
        var seen = ""
        while records.count < 2 {
            seen += try connection.readSome()
            while let end = seen.range(of: "\n\n") {
                let event = seen[..<end.lowerBound]
                seen = String(seen[end.upperBound...])
                // Chunk sizes and the head sit on CRLF lines (one Character each), the event's own lines on LF.
                let lines = event.split { $0 == "\n" || $0 == "\r\n" }
                guard let data = lines.first(where: { $0.hasPrefix("data: ") }) else { continue }
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(data.dropFirst(6).utf8)) as? [String: Any]
                )
                records.append((json["status"] as? [String: Any])?["records"] as? Int ?? -1)
                snapshot.status.records = 5_678
                server.publish(snapshot)
            }
        }
        #expect(records == [1_234, 5_678])
    }

    @Test func controlsDoWhatTheySayAndTheKillSwitchAsksForConfirmation() async throws {
        let pressed = Pressed()
        let server = try await DashboardServer(host: "127.0.0.1", port: 0, controls: pressed.controls)
        defer { Task { await server.stop() } }
        let token = server.token.reveal
        #expect(try self.request(server, "/api/pause", method: "POST", bearer: token).status == 200)
        #expect(try self.request(server, "/api/resume?token=\(token)", method: "POST").status == 200)
        #expect(try self.request(server, "/api/kill", method: "POST", bearer: token).status == 400)
        #expect(pressed.names.withLock { $0 } == ["pause", "resume"])
        #expect(try self.request(server, "/api/kill?confirm=yes", method: "POST", bearer: token).status == 200)
        #expect(pressed.names.withLock { $0 } == ["pause", "resume", "kill"])
        // A GET never acts.
        #expect(try self.request(server, "/api/kill?confirm=yes&token=\(token)").status == 404)
    }

    @Test func addressesParse() {
        #expect(DashboardServer.address("127.0.0.1:8080")! == ("127.0.0.1", 8080))
        #expect(DashboardServer.address("[::1]:0")! == ("::1", 0))
        #expect(DashboardServer.address("0.0.0.0:9000")! == ("0.0.0.0", 9000))
        for bad in ["8080", "localhost:80", "127.0.0.1:70000", "127.0.0.1:", ":80", "off"] {
            #expect(DashboardServer.address(bad) == nil, "\(bad)")
        }
        #expect(DashboardServer.isLoopback("127.0.0.1") && DashboardServer.isLoopback("::1"))
        #expect(!DashboardServer.isLoopback("0.0.0.0"))
    }
}

/// A blocking HTTP/1.1 client on a loopback socket, each read bounded by 5 s: what a browser sends, nothing more.
final class LoopbackClient {
    private let fd: Int32

    init(port: Int) throws {
        self.fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(self.fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ write(self.fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw POSIXError(.EIO)
        }
    }

    /// What one read returns; throws on a timeout or the end of the stream.
    func readSome() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { read(self.fd, $0.baseAddress, $0.count) }
        guard count > 0 else { throw POSIXError(.ETIMEDOUT) }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Everything until the server closes.
    func readAll() throws -> String {
        var text = ""
        while true {
            do { text += try self.readSome() } catch { return text }
        }
    }
}
