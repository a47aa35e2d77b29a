// What the write-ahead rule costs the dispatcher: `PendingRecorder.recordPending`, one commit per intent, timed
// per call for each durability (fsync, and OS page cache only); and a journal-thread batch (`append` ×N +
// `flush`) for comparison.
// Usage: journal-speed [DIRECTORY] [COUNT]; DIRECTORY defaults to the temporary directory (use the disk the
// journal will live on: fsync cost is the disk's). One line per measurement on stdout.
import Foundation
import Journal
import Orders
import TickCore

let arguments = CommandLine.arguments
let directory = arguments.count > 1 ? arguments[1] : NSTemporaryDirectory()
let count = arguments.count > 2 ? Int(arguments[2]) ?? 1_000 : 1_000
let path = (directory as NSString).appendingPathComponent("kistick-journal-speed-\(getpid()).sqlite")
defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func report(_ name: String, _ samples: [UInt64]) {
    let sorted = samples.sorted()
    func percentile(_ p: Double) -> Double {
        Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1_000
    }
    print(
        "\(name): n=\(sorted.count) p50=\(percentile(0.5)) µs p90=\(percentile(0.9)) µs p99=\(percentile(0.99)) µs "
            + "max=\(Double(sorted.last ?? 0) / 1_000) µs"
    )
}

let journal = try Journal.open(path)
let code = SymbolCode(ascii: "005930")
var next: UInt32 = 0
for (name, durability) in [("powerLoss", PendingRecorder.Durability.powerLoss), ("processCrash", .processCrash)] {
    let recorder = try journal.pendingRecorder(durability: durability)
    var samples: [UInt64] = []
    for _ in 0..<count {
        next += 1
        let intent = OrderIntent(
            id: OrderID(rawValue: next),
            code: code,
            side: .buy,
            quantity: 10,
            price: 70_000,
            purpose: .entry
        )
        let start = now()
        try recorder.recordPending(intent, at: Int64(start))
        samples.append(now() - start)
    }
    report("recordPending, durability \(name)", samples)
}

var batches: [UInt64] = []
for b in 0..<max(1, count / 64) {
    let start = now()
    for i in 0..<64 {
        let fill = Fill(
            id: OrderID(rawValue: next + UInt32(b * 64 + i)),
            code: code,
            side: .buy,
            quantity: 1,
            price: 70_000
        )
        journal.append(.fill(fill))
    }
    try journal.flush()
    batches.append(now() - start)
}
report("journal batch of 64 fills (append + flush)", batches)
