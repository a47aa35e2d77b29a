public import Synchronization

/// Histograms a recorder can double-buffer: made empty, merged, emptied in place.
public protocol LatencyRecording: Sendable {
    init()
    mutating func add(_ other: Self)
    mutating func reset()
}

extension LatencyHistogram: LatencyRecording {}
extension PipelineLatency: LatencyRecording {}

/// Lets one thread record latencies on its hot path while another (the status display, the end-of-run report)
/// reads them, with no lock and no scan on the recording side.
///
/// Two buffers: the recording thread writes into one while the other is the reader's. To collect, the reader takes
/// the idle buffer (when the writer has acknowledged the last swap), adds it into its own total, empties it, and
/// asks for a swap by bumping `requested`. The writer's next `record` (or `poll`) sees the new request with one
/// acquiring load, switches buffers and acknowledges with one releasing store. This is HdrHistogram's interval
/// recorder (a single-writer phaser) in two atomics:
///
///     writer:  [ record into buffer e&1 … ] sees requested=e+1 → switches to buffer (e+1)&1, acknowledged = e+1
///     reader:  acknowledged == requested == e → buffer (e+1)&1 is the reader's: add it, empty it, requested = e+1
///
/// `requested` is at most one ahead of `acknowledged`, so the reader never touches the buffer the writer uses.
/// A reader therefore sees what was recorded up to one collection interval late; a writer that goes quiet should
/// call `poll()` from its idle loop so its last values are not held back.
@safe
public final class LatencyRecorder<Recording: LatencyRecording>: @unchecked Sendable {
    // Safe because: the buffers are handed between exactly two threads by the requested/acknowledged protocol
    // above (release on one side, acquire on the other); every field is immutable after init.

    @usableFromInline let buffers: UnsafeMutablePointer<Recording>
    @usableFromInline let requested = Atomic<Int>(0)
    @usableFromInline let acknowledged = Atomic<Int>(0)
    /// The writer's current epoch; only the writer reads or writes it.
    @usableFromInline let writerEpoch: UnsafeMutablePointer<Int>

    public init() {
        // Safe because: allocated and initialized here, deinitialized and freed in deinit.
        unsafe self.buffers = .allocate(capacity: 2)
        unsafe self.buffers.initialize(to: Recording())
        unsafe (self.buffers + 1).initialize(to: Recording())
        unsafe self.writerEpoch = .allocate(capacity: 1)
        unsafe self.writerEpoch.initialize(to: 0)
    }

    deinit {
        // Safe because: no thread uses the recorder once it deinitializes.
        unsafe self.buffers.deinitialize(count: 2)
        unsafe self.buffers.deallocate()
        unsafe self.writerEpoch.deallocate()
    }

    // MARK: Writer

    /// Records into the writer's buffer, switching buffers first if the reader asked. Writer thread only.
    ///
    /// - Complexity: O(1) plus `body`; one acquiring load.
    @inlinable
    public func record(_ body: (inout Recording) -> Void) {
        let epoch = self.poll()
        // Safe because: buffer `epoch & 1` is the writer's until it acknowledges a later request.
        unsafe body(&self.buffers[epoch & 1])
    }

    /// Switches buffers if the reader asked, and returns the writer's epoch. Writer thread only; call it from an
    /// idle loop so a quiet writer still hands over what it recorded.
    ///
    /// - Complexity: O(1).
    @inlinable
    @discardableResult
    public func poll() -> Int {
        // Safe because: `writerEpoch` is the writer's own memory.
        let epoch = unsafe self.writerEpoch.pointee
        let wanted = self.requested.load(ordering: .acquiring)
        if wanted == epoch {
            return epoch
        }
        unsafe self.writerEpoch.pointee = wanted
        // Releases everything recorded into the old buffer to the reader.
        self.acknowledged.store(wanted, ordering: .releasing)
        return wanted
    }

    // MARK: Reader

    /// Adds what the writer recorded since the last collection into `total`, if the writer has switched buffers
    /// since then, and asks for the next switch. Reader thread only.
    ///
    /// - Returns: `false` when the writer has not yet acknowledged the previous request (it has not recorded or
    ///   polled since); `total` is then unchanged.
    /// - Complexity: O(size of a buffer), on the reader's thread.
    @discardableResult
    public func collect(into total: inout Recording) -> Bool {
        let epoch = self.acknowledged.load(ordering: .acquiring)
        if self.requested.load(ordering: .relaxed) != epoch {
            return false
        }
        // Safe because: acknowledged == requested == epoch, so the writer uses buffer epoch&1 and has released
        // the other, which stays the reader's until `requested` moves on below.
        let idle = unsafe self.buffers + ((epoch &+ 1) & 1)
        unsafe total.add(idle.pointee)
        unsafe idle.pointee.reset()
        // Releases the emptied buffer back to the writer.
        self.requested.store(epoch &+ 1, ordering: .releasing)
        return true
    }

    /// Adds both buffers into `total` and empties them. Only once the writer thread has stopped (joined).
    public func collectFinal(into total: inout Recording) {
        // Safe because: the writer has stopped, so this thread is the only one touching either buffer.
        for index in 0..<2 {
            unsafe total.add(self.buffers[index])
            unsafe self.buffers[index].reset()
        }
    }
}
