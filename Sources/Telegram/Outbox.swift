import Synchronization

/// A message waiting to be sent.
struct OutgoingMessage: Sendable, Equatable {
    var chat: Int64
    var text: String
    /// Failed attempts so far (Telegram unreachable); the message is given up after `Outbox.maxAttempts`.
    var attempts = 0
}

/// The bounded queue between the threads that have something to say (the control loop's notifications, the poller's
/// answers) and the sender thread. Pushing never waits: a full queue drops the new message and counts it.
final class Outbox: Sendable {
    static let maxAttempts = 3
    private let capacity: Int
    private let queue = Mutex<[OutgoingMessage]>([])
    private let droppedCount = Atomic<Int>(0)

    init(capacity: Int) {
        assert(capacity > 0, "an outbox needs room for at least one message")
        self.capacity = capacity
        self.queue.withLock { $0.reserveCapacity(capacity) }
    }

    /// Queues `text` for `chat`, or drops it if the queue is full.
    /// - Returns: false when dropped.
    @discardableResult
    func push(chat: Int64, text: String) -> Bool {
        let queued = self.queue.withLock { queue in
            guard queue.count < self.capacity else { return false }
            queue.append(OutgoingMessage(chat: chat, text: text))
            return true
        }
        if !queued { self.droppedCount.add(1, ordering: .relaxed) }
        return queued
    }

    /// The oldest message, left in place.
    func peek() -> OutgoingMessage? {
        self.queue.withLock { $0.first }
    }

    /// Removes the oldest message (sent, or given up).
    func removeFirst() {
        self.queue.withLock { queue in
            if !queue.isEmpty { queue.removeFirst() }
        }
    }

    /// Counts a failed attempt on the oldest message.
    /// - Returns: whether it should be tried again.
    func failedFirst() -> Bool {
        self.queue.withLock { queue in
            guard !queue.isEmpty else { return false }
            queue[0].attempts += 1
            guard queue[0].attempts < Self.maxAttempts else {
                queue.removeFirst()
                return false
            }
            return true
        }
    }

    var count: Int { self.queue.withLock { $0.count } }

    /// Messages dropped because the queue was full.
    var dropped: Int { self.droppedCount.load(ordering: .relaxed) }
}
