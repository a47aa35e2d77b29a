public import Orders
public import TickCore

/// What the engine hands the journal thread, through a ring: fixed layout, no references.
public enum JournalEvent: BitwiseCopyable, Sendable {
    /// An order changed state (with its ODNO once known); `at` is the engine clock, nanoseconds.
    case change(OrderChange, at: Int64)
    /// A whole order, for one the journal may not have from `recordPending`: adopted from KIS, or corrected by
    /// reconciliation.
    case order(OrderSnapshot, at: Int64)
    case fill(Fill)
    /// A position as it stands after the fills journaled before it.
    case position(Position, at: Int64)
}

/// Why the journal could not do what was asked. The text is SQLite's, for the log.
public struct JournalError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var reason: String

    init(_ operation: String, _ error: any Error) {
        self.operation = operation
        self.reason = String(describing: error)
    }

    public var description: String { "journal \(self.operation): \(self.reason)" }
}
