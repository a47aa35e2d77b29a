public import TickCore

/// What the broker hands the journal thread, through a ring: fixed layout, no references.
public enum JournalEvent: BitwiseCopyable, Sendable {
    /// An order changed state (with its ODNO once known); `at` is the engine clock, nanoseconds.
    case change(OrderChange, at: Int64)
    /// A whole order, for one the journal may not have from its pending row: adopted from KIS, or corrected by
    /// reconciliation.
    case order(OrderSnapshot, at: Int64)
    case fill(Fill)
    /// A position as it stands after the fills journaled before it.
    case position(Position, at: Int64)
}
