import Foundation
import JSON
import KIS
import Net
import Simulator
import Synchronization
import Testing
import TickCore

/// A simulator on loopback port 0 with a manual clock (both servers), and clients pointed at it with made-up
/// credentials of KIS's lengths and a token cache in a fresh temporary folder.
final class SimulatedKIS: Sendable {
    let simulator: Simulator
    let settings: ClientSettings
    let cacheDirectory: String
    let today: UInt32

    init(environment: KIS.Environment = .real) async throws {
        var config = SimConfig()
        config.clock = .manual
        config.symbols = ["005930", "000660"]
        config.servers = [.real: SimConfig.Ports(), .paper: SimConfig.Ports()]
        self.simulator = Simulator(config: config)
        let endpoints = try await self.simulator.start()
        let served = try #require(endpoints[environment == .real ? .real : .paper])
        self.settings = ClientSettings.madeUp(
            environment: environment,
            restURL: served.rest,
            webSocketURL: served.webSocket,
            userAgent: "kistick-tests"
        )
        self.cacheDirectory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("kistick-rest-\(UUID().uuidString)").path
        self.today = KST.date(epochSeconds: Int64(Date().timeIntervalSince1970))
    }

    /// A new client: its own memory and connections, as another process would have; the token cache folder, and
    /// the rate limiter's block in it, are shared, as between processes.
    func client(settings: ClientSettings? = nil, clock: (any NanoClock)? = nil) throws -> KISClient {
        let settings = settings ?? self.settings
        let cache = try TokenCache(directory: self.cacheDirectory)
        guard let clock else { return try KISClient.make(settings: settings, cache: cache) }
        let tokens = TokenManager(
            appKey: settings.credentials.appKey,
            environment: settings.environment,
            cache: cache,
            clock: clock,
            issuer: OAuth(settings: settings)
        )
        return KISClient(settings: settings, limiter: RateLimiter(environment: settings.environment), tokens: tokens)
    }

    /// A client of a scripted server, with a token that needs no issuing.
    static func client(restURL: String, tokens: FixedToken) throws -> KISClient {
        let settings = ClientSettings.madeUp(
            environment: .real,
            restURL: restURL,
            webSocketURL: "ws://127.0.0.1:1",
            userAgent: "kistick-tests"
        )
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kistick-rest-\(UUID().uuidString)"
        ).path
        let manager = TokenManager(
            appKey: settings.credentials.appKey,
            environment: .real,
            cache: try TokenCache(directory: directory),
            issuer: tokens
        )
        return KISClient(settings: settings, limiter: RateLimiter(limit: 1_000), tokens: manager)
    }

    func fault(_ json: String) throws {
        try self.post("/sim/fault", json)
    }

    /// The simulator's market time, HHMMSS: what KIS stamps orders with.
    func marketTime() throws -> UInt32 {
        let state = try self.post("/sim/state", nil)
        let stamp = try #require(state["market_time"]?.text)
        return try #require(UInt32(stamp.suffix(6)))
    }

    @discardableResult
    private func post(_ path: String, _ body: String?) throws -> JSON {
        let port = try #require(URLComponents(string: self.settings.restURL)?.port)
        let answer = try LoopbackHTTP.request(body == nil ? "GET" : "POST", port: port, path: path, body: body ?? "")
        #expect(answer.status == 200, "\(path) \(body ?? "")")
        return try #require(JSON(parsing: answer.body))
    }

    func finish() {
        let simulator = self.simulator
        try? FileManager.default.removeItem(atPath: self.cacheDirectory)
        Task { try? await simulator.stop() }
    }
}

/// A token issuer for scripted servers, which check no token.
struct FixedToken: TokenIssuing {
    static let fixed = FixedToken()
    func issueAccessToken() throws(KISError) -> AccessToken {
        let now = Int64(Date().timeIntervalSince1970)
        return AccessToken(token: Secret("scripted"), expiresAt: now + 86_400, issuedAt: now)
    }
}

/// Wall time that moves the simulator's manual clock along when the token manager sleeps, so waiting out KIS's
/// one-token-a-minute rule costs no real minute.
final class SimulatorClock: NanoClock {
    private let simulator: Simulator
    private let offset = Atomic<Int64>(0)

    init(_ simulator: Simulator) {
        self.simulator = simulator
    }

    /// Seconds slept so far.
    var slept: Int64 { self.offset.load(ordering: .relaxed) / 1_000_000_000 }

    func now() -> Int64 { WallClock().now() + self.offset.load(ordering: .relaxed) }

    func sleep(nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        self.offset.add(nanoseconds, ordering: .relaxed)
        self.simulator.advance(seconds: Double(nanoseconds) / 1e9)
    }
}
