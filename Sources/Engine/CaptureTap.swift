public import Capture
public import KIS
import TickCore

/// A session observer that records every message the session receives, and its connects and disconnects, into a
/// capture, then passes each event on to `base`. With no writer it only passes events on.
///
/// The messages reach the writer through `WebSocketObserver.received`, before decoding, so a notice is captured
/// as KIS sent it (encrypted) and replay exercises the same decryption.
public struct CapturingObserver<Base: WebSocketObserver>: WebSocketObserver {
    public var base: Base
    public let writer: CaptureWriter?

    public init(_ base: Base, writer: CaptureWriter?) {
        self.base = base
        self.writer = writer
    }

    public mutating func event(_ event: WebSocketEvent) {
        if let writer = self.writer {
            switch event {
            case .connected:
                _ = writer.append(
                    .connected,
                    localNs: WallClock().now(),
                    bytes: UnsafeRawBufferPointer(start: nil, count: 0)
                )
            case .disconnected(let reason):
                var text = "\(reason)"
                _ = text.withUTF8 {
                    writer.append(.disconnected, localNs: WallClock().now(), bytes: UnsafeRawBufferPointer($0))
                }
            default:
                break
            }
        }
        self.base.event(event)
    }

    /// - Complexity: one copy of the message into the capture ring; no allocation.
    public mutating func received(_ message: RawSpan, localTs: Int64) {
        if let writer = self.writer {
            _ = message.withUnsafeBytes { writer.append(.message, localNs: localTs, bytes: $0) }
        }
        self.base.received(message, localTs: localTs)
    }
}

/// An approval-key provider that adds each key it hands out to the capture's secrets before the session uses it,
/// so a capture never holds one even if a server echoed it.
public struct CapturingApprovalKeys<Base: ApprovalKeyProvider>: ApprovalKeyProvider {
    public var base: Base
    public let writer: CaptureWriter?

    public init(_ base: Base, writer: CaptureWriter?) {
        self.base = base
        self.writer = writer
    }

    public mutating func approvalKey() throws(KISError) -> Secret {
        let key = try self.base.approvalKey()
        // `reveal` here stores the key only in the capture's redactor, which overwrites it.
        self.writer?.addSecret(key.reveal)
        return key
    }
}
