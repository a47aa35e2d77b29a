import Ring
import Synchronization
public import TickCore

#if canImport(Glibc)
import Glibc
#endif

/// One stage thread's way into the log: a ring of `LogRecord`s the log writer drains. Recording never blocks and
/// never allocates: when the writer has fallen `capacity` records behind, the record is dropped and counted, and the
/// writer notes the count in the log.
///
/// Exactly one thread records into a producer (the ring is single-producer); make one per stage with
/// `EventLog.producer(stage:)`.
public final class LogProducer: Sendable {
    /// The stage's name in each line (`"stage":"strategy"`).
    public let stage: String
    /// What the `value` of its records names when their kind fills `.reason`, by value.
    let reasons: [String]
    let ring: SPSCRing<LogRecord>
    private let droppedCount = Atomic<Int>(0)

    init(stage: String, capacity: Int, reasons: [String]) {
        self.stage = stage
        self.reasons = reasons
        self.ring = SPSCRing(capacity: capacity)
    }

    /// Hands `record` to the writer, or counts it dropped when the ring is full.
    ///
    /// - Complexity: O(1): a ring push, or one atomic add when full; no allocation, no lock, no system call.
    public func record(_ record: LogRecord) {
        if !self.ring.tryPush(record) {
            self.droppedCount.add(1, ordering: .relaxed)
        }
    }

    /// Records `kind` stamped with the wall clock now.
    public func record(
        _ kind: LogRecord.Kind,
        order: OrderID = OrderID(rawValue: 0),
        code: SymbolCode = SymbolCode(rawValue: 0),
        side: OrderSide = .buy,
        quantity: Int32 = 0,
        price: Int32 = 0,
        number: UInt64 = 0,
        message: PackedASCII = PackedASCII(rawValue: 0),
        value: Int64 = 0
    ) {
        self.record(
            LogRecord(
                kind,
                time: Self.now(),
                order: order,
                code: code,
                side: side,
                quantity: quantity,
                price: price,
                number: number,
                message: message,
                value: value
            )
        )
    }

    /// Records dropped because the writer was behind.
    public var dropped: Int { self.droppedCount.load(ordering: .relaxed) }

    /// `CLOCK_REALTIME` through the vDSO: no system call.
    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
