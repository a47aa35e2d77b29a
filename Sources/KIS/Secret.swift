/// A credential (app key, app secret, access token, approval key) that must never reach a log, an error, a capture
/// or test output. Every textual rendering is redacted; the value itself is only reachable through `reveal`, whose
/// few call sites are the places that put it on the wire or on disk.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// The credential itself. Grep for this: each use sends or stores it.
    public var reveal: String { self.value }

    public var isEmpty: Bool { self.value.isEmpty }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}
