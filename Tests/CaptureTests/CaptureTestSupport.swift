import Capture
import Foundation
import Testing
import TickCore

/// A fresh folder under the system's temporary one, removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init() throws {
        self.path =
            FileManager.default.temporaryDirectory.appendingPathComponent("kistick-capture-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String {
        self.path + "/" + name
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

/// A record as the tests compare them.
struct Record: Equatable, CustomStringConvertible {
    var kind: CaptureRecordKind
    var localNs: Int64
    var bytes: [UInt8]

    var description: String {
        "\(self.kind) @\(self.localNs) \(String(decoding: self.bytes, as: UTF8.self).prefix(60))"
    }
}

/// 2026-06-08 09:00:00 KST, in nanoseconds since the epoch.
let marketOpenNs: Int64 = 1_780_876_800 * 1_000_000_000

let testHeader = CaptureHeader(
    environment: "sim",
    codes: ["005930", "000660"],
    trIDs: ["H0STCNT0", "H0STASP0"],
    startNs: marketOpenNs,
    note: "tests"
)

/// Writes `records` to `path` with `options` and `rotation`, and returns the writer's final statistics.
@discardableResult
func write(
    _ records: [Record],
    to path: String,
    rotation: CaptureRotation = .init(),
    options: CaptureWriter.Options = .init()
) throws -> (stats: CaptureStats, paths: [String]) {
    let writer = try CaptureWriter(path: path, header: testHeader, rotation: rotation, options: options)
    for record in records {
        let accepted = record.bytes.withUnsafeBytes { writer.append(record.kind, localNs: record.localNs, bytes: $0) }
        #expect(accepted)
    }
    let stats = try writer.finish()
    return (stats, writer.paths)
}

/// Reads every record of `path` from `fromNs`.
func readAll(_ path: String, fromNs: Int64? = nil) throws -> (records: [Record], end: CaptureEnd) {
    let reader = try CaptureReader(path: path)
    var records: [Record] = []
    let end = reader.read(fromNs: fromNs) { message in
        records.append(Record(kind: message.kind, localNs: message.localNs, bytes: Array(message.bytes)))
    }
    return (records, end)
}

/// Trade-like frames with seeded contents, one every `spacingNs` from the market open, with a marker now and then.
func syntheticRecords(count: Int, seed: UInt64, spacingNs: Int64 = 1_000_000) -> [Record] {
    var random = SplitMix64(seed: seed)
    var records: [Record] = []
    records.reserveCapacity(count)
    for index in 0..<count {
        let time = marketOpenNs + Int64(index) * spacingNs
        if index % 500 == 499 {
            records.append(Record(kind: .disconnected, localNs: time, bytes: Array("closed".utf8)))
            continue
        }
        if index % 500 == 0 {
            records.append(Record(kind: .connected, localNs: time, bytes: []))
            continue
        }
        let price = 70_000 + Int(random.next() % 200) * 100
        let volume = Int(random.next() % 500) + 1
        let text =
            "0|H0STCNT0|001|005930^0900\(String(format: "%02d", index / 100 % 60))^\(price)^5^-100^-0.14^"
            + "\(price)^\(price + 100)^\(price + 200)^\(price - 100)^\(price + 100)^\(price)^\(volume)^18032158"
        records.append(Record(kind: .message, localNs: time, bytes: Array(text.utf8)))
    }
    return records
}
