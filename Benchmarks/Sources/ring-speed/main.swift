import Foundation
import Ring
import TickCore

// Two threads through SPSCRing, measured as rigtorp's SPSCQueue README does:
//   throughput: one thread pushes N elements, the other pops them; N ÷ elapsed, in ops/ms;
//   round trip: A pushes into ring 1 and waits for the echo on ring 2, which B sends back; elapsed ÷ N, in ns.
// Usage: ring-speed [COUNT] [CPU_A CPU_B]   (default 10,000,000 elements, threads unpinned)
let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let count = arguments.first ?? 10_000_000
let cpus: (Int?, Int?) = arguments.count >= 3 ? (arguments[1], arguments[2]) : (nil, nil)

func elapsed(_ body: () throws -> Void) rethrows -> Duration {
    let start = ContinuousClock.now
    try body()
    return ContinuousClock.now - start
}

func nanoseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}

/// A result handed from a measuring thread to the main thread, which reads it after `join()`.
final class Box<Value>: @unchecked Sendable {
    var value: Value

    init(_ value: Value) {
        self.value = value
    }
}

/// Throughput of `Slot` elements through a ring of `capacity`, batching the consumer's drain.
func throughput<Slot: BitwiseCopyable>(_ make: @escaping @Sendable (Int) -> Slot, capacity: Int) throws -> Double {
    let ring = SPSCRing<Slot>(capacity: capacity)
    let time = try elapsed {
        let producer = try StageThread(name: "speed-producer", cpu: cpus.0) {
            var wait = BusySpin()
            for index in 0..<count {
                while !ring.tryPush(make(index)) {
                    wait.idle()
                }
            }
        }
        try onThread(cpus.1) {
            var wait = BusySpin()
            var received = 0
            while received < count {
                let drained = ring.drain(max: 256) { _ in }
                received += drained
                if drained == 0 {
                    wait.idle()
                }
            }
        }
        producer.join()
    }
    return Double(count) / (nanoseconds(time) / 1e6)
}

/// Mean round trip between two threads through two rings of one-element messages.
func roundTrip() throws -> Double {
    let there = SPSCRing<Int>(capacity: 1_024)
    let back = SPSCRing<Int>(capacity: 1_024)
    let trips = count / 10
    let echo = try StageThread(name: "speed-echo", cpu: cpus.0) {
        var wait = BusySpin()
        var echoed = 0
        while echoed < trips {
            if let value = there.tryPop() {
                while !back.tryPush(value) {
                    wait.idle()
                }
                echoed += 1
            } else {
                wait.idle()
            }
        }
    }
    let time = Box(Duration.zero)
    try onThread(cpus.1) {
        var wait = BusySpin()
        time.value = elapsed {
            for index in 0..<trips {
                while !there.tryPush(index) {
                    wait.idle()
                }
                while back.tryPop() == nil {
                    wait.idle()
                }
            }
        }
    }
    echo.join()
    return nanoseconds(time.value) / Double(trips)
}

/// Runs `body` on a thread of its own, pinned to `cpu` if given, and waits for it.
func onThread(_ cpu: Int?, _ body: @escaping @Sendable () -> Void) throws {
    try StageThread(name: "speed-main", cpu: cpu, body).join()
}

print("ring-speed: \(count) elements, CPUs \(cpus.0.map(String.init) ?? "any") and \(cpus.1.map(String.init) ?? "any")")
for round in 1...3 {
    let ints = try throughput({ $0 }, capacity: 1_024)
    let trades = try throughput(
        { index in
            var trade = Trade()
            trade.price = Int32(truncatingIfNeeded: index)
            return trade
        },
        capacity: 1_024
    )
    let trip = try roundTrip()
    print(
        "round \(round): Int \(Int(ints)) ops/ms, Trade (128 B) \(Int(trades)) ops/ms, round trip \(Int(trip)) ns"
    )
}
