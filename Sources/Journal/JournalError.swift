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
