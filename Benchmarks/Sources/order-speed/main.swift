// Decision → order request bytes written, on a warm connection and on a cold one, against a running `kistick sim`
// (scripts/order-bench starts it and runs python-kis beside this). One JSON line per client on stdout.
//
// Environment: SIM (the simulator's JSON line), REST_URL (overrides its REST URL, e.g. a TLS front),
// KISTICK_CA_FILE (CA of that front), ORDERS (orders per client, default 100).
import Foundation
import KIS
import Net
import TickCore

let environment = ProcessInfo.processInfo.environment
guard let line = environment["SIM"],
    let sim = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
    let simREST = sim["rest"] as? String, let simWS = sim["ws"] as? String
else {
    FileHandle.standardError.write(Data("order-speed: set SIM to the JSON line `kistick sim` prints\n".utf8))
    exit(2)
}
let orders = Int(environment["ORDERS"] ?? "") ?? 100

// Made-up credentials of KIS's lengths: the simulator takes any.
var settings = ClientSettings.madeUp(
    environment: .real,
    restURL: environment["REST_URL"] ?? simREST,
    webSocketURL: simWS,
    userAgent: "kistick-bench"
)
settings.caFile = environment["KISTICK_CA_FILE"]
let cacheDirectory = NSTemporaryDirectory() + "kistick-order-speed-\(getpid())"
let client = try KISClient.make(settings: settings, cache: try TokenCache(directory: cacheDirectory))
defer { try? FileManager.default.removeItem(atPath: cacheDirectory) }

// A resting limit buy 3 % under the market, so the account's cash, not its position, bounds the run.
let quote = try client.price("005930")
let restingPrice = quote.price * 97 / 100 / quote.tickSize * quote.tickSize
let ticket = OrderTicket(side: .buy, code: SymbolCode("005930")!, quantity: 1, price: restingPrice)
/// Orders are paced as python-kis's are (ORDER_GAP_MS), under the real server's 20/s, so the rate limiter admits
/// each at once: what is timed is the client, not a wait for budget.
let gapMicroseconds = UInt32(environment["ORDER_GAP_MS"].flatMap(Int.init) ?? 100) * 1_000

/// Nanoseconds from the decision to the order's request going to the socket, and to the kernel having all of it.
struct Sample {
    var sendStarted: Int64
    var written: Int64
}

func place(_ lane: inout OrderLane, cold: Bool) throws -> Sample {
    if cold { lane.dropConnection() }
    // The wait between orders is an engine's idle loop: the lane keeps itself warm every half millisecond, and
    // the thread sleeps in between (a spinning thread would take the simulator's only other core).
    let until = MonotonicClock().now() + Int64(gapMicroseconds) * 1_000
    while MonotonicClock().now() < until {
        if !cold { try lane.keepWarm() }
        usleep(500)
    }
    let decision = MonotonicClock().now()
    let ack = try lane.place(ticket)
    return Sample(sendStarted: ack.sendStartedAt - decision, written: ack.sentAt - decision)
}

func run() throws -> (warm: [Sample], cold: [Sample]) {
    var lane = try client.makeOrderLane()
    for _ in 0..<3 { _ = try place(&lane, cold: false) }
    var warm: [Sample] = []
    var cold: [Sample] = []
    // Interleaved, so drift in this machine's speed lands on both alike.
    for _ in 0..<orders {
        warm.append(try place(&lane, cold: false))
        cold.append(try place(&lane, cold: true))
    }
    return (warm, cold)
}

let (warm, cold) = try run()
for (name, samples) in [("kistick-warm", warm), ("kistick-cold", cold)] {
    func list(_ values: [Int64]) -> String { values.map(String.init).joined(separator: ",") }
    print(
        #"{"client":"\#(name)","n":\#(samples.count),"decision_to_written_ns":[\#(list(samples.map(\.written)))],"#
            + #""decision_to_send_started_ns":[\#(list(samples.map(\.sendStarted)))]}"#
    )
}
