import NIOCore
import Synchronization
import TickCore

/// One WebSocket connection as the exchange sees it: where to write, its AES key and iv, and its keep-alive
/// clock. Writes may come from any thread; they wait in an outbox that the channel's event loop empties in the order
/// they were made, each batch framed into one buffer and written with one flush.
///
/// One write per batch, not per message: an accelerated market sends a session thousands of frames a second (the
/// engine tests' ten codes at 120×), and a task, a trip through NIO's frame encoder and a flush per frame made each
/// one a `writev` and nearly all of the event loop's time; the loop it shares with the REST server then answered
/// orders and inquiries seconds late. The outbox drains whatever gathered since its task was scheduled, so batches
/// grow with the load and a lone message still leaves at once.
final class Session: Sendable {
    let id: Int
    let environment: Environment
    /// The session's AES-256-CBC key (32 lowercase letters) and iv (16 hex digits), as the acks carry them.
    let keyText: String
    let ivText: String
    let key: [UInt8]
    let iv: [UInt8]
    private let channel: any Channel
    /// Writes below NIO's frame encoder, straight to the socket (the cut-frame fault).
    private let raw: RawTap
    /// Bytes handed to NIO and not yet written to the socket: the maximum-speed driver waits on this.
    let pendingBytes = Atomic<Int>(0)
    /// Wall time (µs) of the last message sent, and of the unanswered PINGPONG (0: none).
    let lastSent = Atomic<Int64>(0)
    let pingSentAt = Atomic<Int64>(0)
    /// Messages handed to NIO (a cut frame is not one): what a client that lost none received.
    let messagesSent = Atomic<Int>(0)
    /// What waits for the event loop, oldest first; a drain task is scheduled exactly when it is not empty.
    private let outbox = Mutex<[Outgoing]>([])

    private enum Outgoing {
        case text([UInt8])
        /// Half of this message's frame, then a TCP close (`dropMidFrame`).
        case cut([UInt8])
        /// A TCP close with no close frame (`drop`).
        case close
    }

    init(
        id: Int,
        environment: Environment,
        keyText: String,
        ivText: String,
        channel: any Channel,
        raw: RawTap,
        now: Int64
    ) {
        self.id = id
        self.environment = environment
        self.keyText = keyText
        self.ivText = ivText
        self.key = Array(keyText.utf8)
        self.iv = Array(ivText.utf8)
        self.channel = channel
        self.raw = raw
        self.lastSent.store(now, ordering: .relaxed)
    }

    /// Sends one text message.
    func sendText(_ payload: [UInt8], at wall: Int64) {
        self.lastSent.store(wall, ordering: .relaxed)
        self.messagesSent.add(1, ordering: .relaxed)
        self.pendingBytes.add(payload.count, ordering: .relaxed)
        self.post(.text(payload))
    }

    /// The `drop mid-frame` fault: half of the frame's bytes, then a TCP close with no close frame.
    func dropMidFrame(_ payload: [UInt8]) {
        self.post(.cut(payload))
    }

    /// Closes the TCP connection without a close frame, as the KIS server does.
    func drop() {
        self.post(.close)
    }

    /// Queues `item` behind what waits, and schedules the drain if nothing did. Always a task on the loop, never
    /// inline: callers hold the exchange lock, and a write that fails inline would close the channel and re-enter
    /// the exchange from channelInactive.
    private func post(_ item: Outgoing) {
        let first = self.outbox.withLock { items in
            items.append(item)
            return items.count == 1
        }
        guard first else { return }
        self.channel.eventLoop.execute { self.drain() }
    }

    /// Writes everything the outbox holds, in order: the text frames up to a close as one buffer, written below
    /// NIO's frame encoder and flushed. On the channel's event loop.
    private func drain() {
        let items = self.outbox.withLock { items in
            defer { items = [] }
            return items
        }
        var frames = self.channel.allocator.buffer(capacity: items.reduce(0) { $0 + Self.frameSize(of: $1) })
        var payloadBytes = 0
        for item in items {
            switch item {
            case .text(let payload):
                Self.encode(payload, into: &frames)
                payloadBytes += payload.count
            case .cut(let payload):
                var frame = self.channel.allocator.buffer(capacity: Self.frameSize(of: item))
                Self.encode(payload, into: &frame)
                frames.writeBytes(frame.readableBytesView.prefix(max(1, frame.readableBytes / 2)))
                self.write(&frames, settling: &payloadBytes, thenClose: true)
            case .close:
                self.write(&frames, settling: &payloadBytes)
                self.channel.close(promise: nil)
            }
        }
        self.write(&frames, settling: &payloadBytes)
    }

    /// Writes and flushes `frames`, then counts `payloadBytes` off `pendingBytes` once the socket took them (or
    /// the write failed); both are left empty.
    /// - Parameter thenClose: close the connection behind them, with no close frame.
    private func write(_ frames: inout ByteBuffer, settling payloadBytes: inout Int, thenClose: Bool = false) {
        guard frames.readableBytes > 0 else { return }
        let settled = self.channel.eventLoop.makePromise(of: Void.self)
        let bytes = payloadBytes
        settled.futureResult.whenComplete { _ in self.pendingBytes.subtract(bytes, ordering: .relaxed) }
        self.raw.write(frames, on: self.channel, promise: settled, thenClose: thenClose)
        frames = self.channel.allocator.buffer(capacity: 0)
        payloadBytes = 0
    }

    /// The bytes of `item`'s frame, for sizing a batch's buffer.
    private static func frameSize(of item: Outgoing) -> Int {
        switch item {
        case .text(let payload), .cut(let payload): payload.count + 10
        case .close: 0
        }
    }

    /// Appends `payload` as an unmasked server text frame (RFC 6455 §5.2), as NIO's frame encoder would write it.
    static func encode(_ payload: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeInteger(0x81, as: UInt8.self)
        if payload.count < 126 {
            buffer.writeInteger(UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(payload.count))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(payload.count))
        }
        buffer.writeBytes(payload)
    }
}

/// Sits first in a WebSocket pipeline, under NIO's frame encoder, so bytes it writes reach the socket as they are.
final class RawTap: ChannelOutboundHandler, RemovableChannelHandler, Sendable {
    typealias OutboundIn = ByteBuffer

    /// Writes `bytes` from this handler's place in `channel`'s pipeline, below the frame encoder, and flushes; then,
    /// if `thenClose`, closes the connection from here too, so nothing above it writes a close frame. On the
    /// channel's event loop.
    func write(_ bytes: ByteBuffer, on channel: any Channel, promise: EventLoopPromise<Void>, thenClose: Bool) {
        guard let context = try? channel.pipeline.syncOperations.context(handler: self) else {
            promise.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.writeAndFlush(NIOAny(bytes), promise: promise)
        if thenClose { context.close(promise: nil) }
    }
}

/// Who subscribed to what. Lives inside the exchange state, so subscriptions change in step with the market.
struct SessionRegistry {
    struct Subscription: Hashable {
        var tr: String
        var key: String
    }

    /// KIS accepts 41 registrations per session; the 42nd gets OPSP0008.
    static let maxRegistrations = 41

    private(set) var all: [Int: Session] = [:]
    private var subscriptions: [Int: Set<Subscription>] = [:]
    /// The app key each session speaks for, and the HTS id it subscribed notices with.
    private var appKeys: [Int: String] = [:]
    private var htsIDs: [Int: [String: String]] = [:]
    /// Sessions per market-data registration (trade and book TRs of each venue, by code).
    private var feeds: [Subscription: [Session]] = [:]
    /// Symbol index → code, to look subscribers up by the index the market uses.
    var codes: [String] = []

    mutating func add(_ session: Session) {
        self.all[session.id] = session
    }

    mutating func remove(_ session: Session) {
        self.all[session.id] = nil
        for subscription in self.subscriptions[session.id] ?? [] {
            self.unsubscribe(session, subscription)
        }
        self.subscriptions[session.id] = nil
        self.appKeys[session.id] = nil
        self.htsIDs[session.id] = nil
    }

    func appKey(of session: Session) -> String? { self.appKeys[session.id] }

    /// The open session of `appKey` on `environment`'s WebSocket server other than `session`, if any.
    func otherSession(of appKey: String, on environment: Environment, besides session: Session) -> Session? {
        self.appKeys.first {
            $0.value == appKey && $0.key != session.id && self.all[$0.key]?.environment == environment
        }
        .flatMap { self.all[$0.key] }
    }

    mutating func bind(_ session: Session, to appKey: String) {
        self.appKeys[session.id] = appKey
    }

    func isSubscribed(_ session: Session, _ subscription: Subscription) -> Bool {
        self.subscriptions[session.id]?.contains(subscription) ?? false
    }

    func count(_ session: Session) -> Int { self.subscriptions[session.id]?.count ?? 0 }

    mutating func subscribe(_ session: Session, _ subscription: Subscription) {
        self.subscriptions[session.id, default: []].insert(subscription)
        if Self.isFeed(subscription.tr) {
            self.feeds[subscription, default: []].append(session)
        } else {
            self.htsIDs[session.id, default: [:]][subscription.tr] = subscription.key
        }
    }

    mutating func unsubscribe(_ session: Session, _ subscription: Subscription) {
        self.subscriptions[session.id]?.remove(subscription)
        if Self.isFeed(subscription.tr) {
            self.feeds[subscription]?.removeAll { $0 === session }
        } else {
            self.htsIDs[session.id]?[subscription.tr] = nil
        }
    }

    /// The trade and book TRs of the three feeds (docs/venues.md).
    static func isFeed(_ tr: String) -> Bool {
        switch tr {
        case "H0STCNT0", "H0STASP0", "H0NXCNT0", "H0NXASP0", "H0UNCNT0", "H0UNASP0": true
        default: false
        }
    }

    /// Codes with at least one trade (H0STCNT0) registration, in any session.
    var tradeRegisteredCodes: [String] {
        self.feeds.filter { $0.key.tr == "H0STCNT0" && !$0.value.isEmpty }.map(\.key.key).sorted()
    }

    /// Sessions registered for feed TR `tr` of `symbol`.
    func subscribers(_ tr: String, symbol: Int) -> [Session] {
        self.feeds[Subscription(tr: tr, key: self.codes[symbol])] ?? []
    }

    func hasSubscribers(_ tr: String, symbol: Int) -> Bool { !self.subscribers(tr, symbol: symbol).isEmpty }

    /// The record format for `symbol`'s trades on `venue` (its own TR or the combined one), or nil when nobody
    /// listens (then nothing is formatted at all).
    func tradeFormat(symbol: Int, venue: Venue = .krx, faults: FaultSettings) -> RecordFormat? {
        let own = venue == .nxt ? "H0NXCNT0" : "H0STCNT0"
        guard self.hasSubscribers(own, symbol: symbol) || self.hasSubscribers("H0UNCNT0", symbol: symbol) else {
            return nil
        }
        return RecordFormat(extraFields: faults.extraFields)
    }

    /// Sessions of `appKey` subscribed to notice TR `tr`, with the HTS id they used.
    func noticeSubscribers(appKey: String, tr: String) -> [(Session, String)] {
        self.appKeys.filter { $0.value == appKey }.keys.sorted().compactMap { id in
            guard let session = self.all[id], let hts = self.htsIDs[id]?[tr] else { return nil }
            return (session, hts)
        }
    }
}
