import ArgumentParser
import Foundation
import Simulator

/// `kistick sim`: the KIS-faithful local server every run and test can use as its peer.
struct Sim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run a local KIS server (REST + WebSocket) with a seeded KRX market on loopback.",
        discussion: """
            Prints one JSON line with the URLs, then runs until SIGINT or SIGTERM. With --paper the given ports \
            serve the paper (모의투자) environment and the real environment runs beside it on --real-rest-port and \
            --real-ws-port, because paper clients fetch quotes from the real host. With --capture FILE the market \
            is a recorded one: the capture's trade and book frames go out byte for byte at their recorded times \
            (divided by --speed), and orders match them as `kistick replay` matches them.
            """
    )

    @Option(help: "REST port (0: any free port).") var restPort = 0
    @Option(help: "WebSocket port (0: any free port).") var wsPort = 0
    @Option(help: "Comma-separated KRX codes, or 'all' for the 30 catalogued KOSPI names.") var symbols = Catalog
        .defaultCodes.joined(separator: ",")
    @Option(help: "Seed of the market model.") var seed: UInt64 = 1
    @Option(help: "Market speed: a factor of real time, or 'max' (as fast as the slowest subscriber reads).")
    var speed = "1"
    @Flag(help: "Serve the paper (모의투자) environment on the given ports.") var paper = false
    @Option(help: "With --paper: REST port of the real environment.") var realRestPort = 0
    @Option(help: "With --paper: WebSocket port of the real environment.") var realWsPort = 0
    @Option(help: "First trading day, YYYYMMDD (default: today in KST).") var date: UInt32?
    @Option(help: "Market time of day to start at, HHMMSS (KST).") var start: UInt32 = 90_000
    @Flag(help: "Jump from each close to the next pre-open instead of running through the night.")
    var skipClosedHours = false
    @Option(help: "Seconds of silence after which a session gets a PINGPONG.") var pingInterval = 10.0
    @Option(help: "Fault: extra fields appended to every record (schema drift).") var schemaDrift = 0
    @Flag(help: "Fault: send every order notice twice.") var duplicateNotices = false
    @Option(help: "Fault: seconds to hold every order response.") var orderDelay = 0.0
    @Option(
        help:
            "A capture (.kcap) to send again as the market instead of the generated one; --speed 1 is its recorded pace."
    )
    var capture: String?

    private var codes: [String] {
        self.symbols == "all" ? Catalog.knownCodes : self.symbols.split(separator: ",").map(String.init)
    }

    func validate() throws {
        guard !self.codes.isEmpty, self.codes.allSatisfy(Catalog.isValidCode) else {
            throw ValidationError("--symbols takes six-digit KRX codes")
        }
        guard self.speed == "max" || (Double(self.speed).map { $0 > 0 && $0.isFinite } ?? false) else {
            throw ValidationError("--speed takes a positive number or 'max'")
        }
        guard self.paper || (self.realRestPort == 0 && self.realWsPort == 0) else {
            throw ValidationError("--real-rest-port and --real-ws-port go with --paper")
        }
        do {
            try self.config.validate()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The simulator's settings from the options, but for the recorded market, which is read when it runs.
    private var config: SimConfig {
        var config = SimConfig()
        config.seed = self.seed
        config.symbols = self.codes
        config.clock = Double(self.speed).map { .realtime(speed: $0) } ?? .maximum
        config.date = self.date
        config.startTime = self.start
        config.skipsClosedHours = self.skipClosedHours
        config.pingInterval = self.pingInterval
        config.faults.extraFields = self.schemaDrift
        config.faults.duplicateNotices = self.duplicateNotices
        config.faults.orderDelay = self.orderDelay
        let primary = SimConfig.Ports(rest: self.restPort, webSocket: self.wsPort)
        config.servers =
            self.paper
            ? [.paper: primary, .real: SimConfig.Ports(rest: self.realRestPort, webSocket: self.realWsPort)]
            : [.real: primary]
        return config
    }

    func run() async throws {
        var config = self.config
        if let capture = self.capture { config.market = try RecordedMarket(path: capture) }

        let simulator = Simulator(config: config)
        let endpoints = try await simulator.start()
        let main = endpoints[self.paper ? .paper : .real]!
        var line = #"{"rest":"\#(main.rest)","ws":"\#(main.webSocket)","env":"\#(self.paper ? "paper" : "real")""#
        if self.paper, let real = endpoints[.real] {
            line += #","real_rest":"\#(real.rest)","real_ws":"\#(real.webSocket)""#
        }
        line +=
            #","seed":\#(self.seed),"speed":"\#(self.speed)","symbols":\#(config.market?.codes.count ?? config.symbols.count)}"#
        // One unbuffered write, so a parent reading our stdout through a pipe sees the line at once.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
        await Self.waitForTermination()
        try await simulator.stop()
    }

    /// Suspends until SIGINT or SIGTERM.
    private static func waitForTermination() async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            sources.append(source)
        }
        for await _ in stream { break }
        withExtendedLifetime(sources) {}
    }
}
