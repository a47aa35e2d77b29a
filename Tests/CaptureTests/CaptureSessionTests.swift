import Capture
import Engine
import Feed
import Foundation
import KIS
import Net
import Simulator
import Synchronization
import Testing
import TickCore

/// A `WebSocketSession` against the in-process simulator (manual clock, loopback) recorded through the engine's
/// tap: what the capture holds is compared with what the session itself saw.
@Suite("Capture from the simulator")
struct CaptureSessionTests {
    static let appKey = String(repeating: "K", count: 36)
    static let appSecret = String(repeating: "S", count: 180)

    @Test("a recorded session reads back byte-identical with its times and markers, and no secret reaches a capture")
    func recordsTheSimulator() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var config = SimConfig()
        config.clock = .manual
        config.date = 20_260_608
        config.symbols = ["005930", "000660"]
        let simulator = Simulator(config: config)
        let endpoints = try await simulator.start()
        let rest = try #require(endpoints[.real]?.restPort)
        let ws = try #require(endpoints[.real]?.webSocketPort)

        var configuration = WebSocketSession.Configuration(url: "ws://127.0.0.1:\(ws)")
        configuration.subscribeGap = .zero
        configuration.backoffBase = .milliseconds(5)
        configuration.backoffCap = .milliseconds(50)
        configuration.pollInterval = .milliseconds(5)
        configuration.jitterSeed = 1
        let session = WebSocketSession(configuration: configuration)
        for code in ["005930", "000660"] {
            try session.subscribe(.trades(code))
            try session.subscribe(.book(code))
        }

        // `plain` holds the credentials only, which the simulator never sends: its bytes must be identical to what
        // the session saw. `canary` also redacts "H0STCNT0", which every trade frame and ack holds: the redaction
        // path runs on real traffic, and the test can see it did.
        var options = CaptureWriter.Options()
        options.secrets = [Self.appKey, Self.appSecret]
        let plain = try CaptureWriter(path: folder.file("plain.kcap"), header: testHeader, options: options)
        options.secrets.append("H0STCNT0")
        let canary = try CaptureWriter(path: folder.file("canary.kcap"), header: testHeader, options: options)

        let seen = SeenMessages()
        let finished = Finished()
        let keys = IssuedKeys(port: rest, seen: seen)
        Thread {
            var keys = CapturingApprovalKeys(CapturingApprovalKeys(keys, writer: plain), writer: canary)
            var sink = CountingSink(DiscardingSink())
            var observer = CapturingObserver(
                CapturingObserver(SeeingObserver(seen: seen), writer: plain),
                writer: canary
            )
            try? session.run(approvalKeys: &keys, sink: &sink, observer: &observer)
            finished.flag.store(true, ordering: .releasing)
        }.start()

        try await seen.wait("four acks") { $0.subscribed == 4 }
        try await seen.wait("trades", advancing: simulator) { $0.messages.count > 40 }
        try Self.post(port: rest, "/sim/fault", #"{"fault":"drop_mid_frame"}"#)
        try await seen.wait("the reconnect", advancing: simulator) { $0.connects == 2 && $0.subscribed == 8 }
        let before = seen.snapshot.messages.count
        try await seen.wait("more trades", advancing: simulator) { $0.messages.count > before + 40 }
        session.stop()
        while !finished.flag.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(2)) }
        try await simulator.stop()
        let plainStats = try plain.finish()
        let canaryStats = try canary.finish()

        let snapshot = seen.snapshot
        let (recorded, end) = try readAll(folder.file("plain.kcap"))
        #expect(end == .complete)
        #expect(recorded.filter { $0.kind == .message } == snapshot.messages)
        #expect(
            recorded.map(\.kind).filter { $0 != .message } == [.connected, .disconnected, .connected, .disconnected]
        )
        #expect(plainStats.messages == recorded.count && plainStats.dropped == 0)
        #expect(canaryStats.messages == recorded.count && canaryStats.dropped == 0)
        #expect(snapshot.approvalKeys.count == 1)

        let (redacted, _) = try readAll(folder.file("canary.kcap"))
        let canaryBytes = Array("H0STCNT0".utf8)
        let stars = [UInt8](repeating: UInt8(ascii: "*"), count: canaryBytes.count)
        #expect(redacted.count == recorded.count)
        var redactions = 0
        for (original, copy) in zip(recorded, redacted) {
            let expected = Self.replacing(canaryBytes, with: stars, in: original.bytes)
            redactions += expected == original.bytes ? 0 : 1
            // Each tap stamps its markers itself, so only messages carry the same time in both files.
            #expect(copy.kind == original.kind && copy.bytes == expected)
            #expect(copy.kind != .message || copy.localNs == original.localNs)
        }
        #expect(redactions > 20)
        let everything = redacted.flatMap(\.bytes)
        let secrets = [Self.appKey, Self.appSecret, "H0STCNT0"] + snapshot.approvalKeys
        for secret in secrets {
            #expect(
                Self.replacing(Array(secret.utf8), with: [], in: everything) == everything,
                "a secret reached the capture"
            )
        }
    }

    static func replacing(_ needle: [UInt8], with replacement: [UInt8], in haystack: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < haystack.count {
            if index + needle.count <= haystack.count, haystack[index..<(index + needle.count)].elementsEqual(needle) {
                out += replacement
                index += needle.count
            } else {
                out.append(haystack[index])
                index += 1
            }
        }
        return out
    }

    static func post(port: Int, _ path: String, _ body: String) throws {
        var writer = ByteWriter(capacity: 512)
        writer.append("POST \(path) HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n")
        writer.append("content-length: \(body.utf8.count)\r\n\r\n\(body)")
        var connection = HTTPConnection(baseURL: "http://127.0.0.1:\(port)")
        let response = try connection.exchange(writer.bytes, timeoutMilliseconds: 5_000)
        #expect(response.head.status == 200)
    }
}

/// What the session saw, for the test thread to wait on and compare.
final class SeenMessages: Sendable {
    struct Snapshot {
        var messages: [Record] = []
        var subscribed = 0
        var connects = 0
        var approvalKeys: [String] = []
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { self.state.withLock { $0 } }

    func record(_ body: (inout Snapshot) -> Void) { self.state.withLock { body(&$0) } }

    /// Polls until `condition` holds, moving the simulator's clock on by a second each 5 ms if given; fails after
    /// `timeout` seconds so a broken session cannot hang the suite.
    func wait(
        _ what: String,
        timeout: Double = 5,
        advancing simulator: Simulator? = nil,
        _ condition: (Snapshot) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while !condition(self.snapshot) {
            guard ContinuousClock.now < deadline else {
                Issue.record("no \(what) within \(timeout) s")
                throw CancellationError()
            }
            simulator?.advance(seconds: 1)
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

final class Finished: Sendable {
    let flag = Atomic<Bool>(false)
}

struct SeeingObserver: WebSocketObserver {
    let seen: SeenMessages

    mutating func event(_ event: WebSocketEvent) {
        switch event {
        case .subscribed: self.seen.record { $0.subscribed += 1 }
        case .connected: self.seen.record { $0.connects += 1 }
        default: break
        }
    }

    mutating func received(_ message: RawSpan, localTs: Int64) {
        let bytes = message.withUnsafeBytes { Array($0) }
        self.seen.record { $0.messages.append(Record(kind: .message, localNs: localTs, bytes: bytes)) }
    }
}

/// Approval keys from the simulator's `POST /oauth2/Approval`, remembered so the test can look for them.
struct IssuedKeys: ApprovalKeyProvider {
    let port: Int
    let seen: SeenMessages

    mutating func approvalKey() throws(KISError) -> Secret {
        let oauth = OAuth(
            restURL: "http://127.0.0.1:\(self.port)",
            credentials: KIS.Credentials(
                appKey: Secret(CaptureSessionTests.appKey),
                appSecret: Secret(CaptureSessionTests.appSecret)
            ),
            userAgent: "kistick-tests",
            caFile: nil,
            timeoutMilliseconds: 5_000
        )
        let key = try oauth.approvalKey()
        self.seen.record { $0.approvalKeys.append(key.reveal) }
        return key
    }
}
