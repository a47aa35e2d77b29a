internal import CAffinity

#if canImport(Glibc)
import Glibc
#endif

/// Why a stage thread could not start.
public enum StageThreadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `pthread_create` failed with this errno (EINVAL for a CPU the process may not run on, EAGAIN for limits).
    case create(errno: Int32)
    /// The CPU to pin to is outside the kernel's CPU set.
    case affinity(cpu: Int, errno: Int32)

    public var description: String {
        switch self {
        case .create(let code): "cannot create a thread: \(Self.text(code))"
        case .affinity(let cpu, let code): "cannot pin a thread to CPU \(cpu): \(Self.text(code))"
        }
    }

    private static func text(_ code: Int32) -> String {
        unsafe String(cString: strerror(code))
    }
}

/// A named OS thread running one pipeline stage, optionally pinned to a CPU; `join()` waits for it.
///
/// A plain pthread rather than a Swift task: a stage owns its thread for the whole run, spins or sleeps on its rings
/// by itself, and must never be suspended behind another task on a cooperative pool.
@safe
public final class StageThread {
    /// The thread's name as `top -H` and `/proc/<pid>/task/*/comm` show it.
    public let name: String
    /// The CPU the thread is pinned to, if any.
    public let cpu: Int?
    private let thread: pthread_t
    private var joined = false

    /// What the new thread runs: the body and its settings, passed through pthread's `void *` argument.
    private final class Start {
        let name: String
        let timerSlackNanoseconds: Int?
        let body: @Sendable () -> Void

        init(name: String, timerSlackNanoseconds: Int?, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.timerSlackNanoseconds = timerSlackNanoseconds
            self.body = body
        }
    }

    /// Starts a thread running `body`.
    ///
    /// - Parameters:
    ///   - name: at most 15 UTF-8 bytes, the kernel's limit (`precondition`).
    ///   - cpu: pins the thread to this CPU before it runs, if given.
    ///   - timerSlackNanoseconds: how late the kernel may end the thread's sleeps, if given (default 50 µs);
    ///     1_000 suits `SpinYieldSleep`.
    ///   - body: the stage's loop; the thread ends when it returns.
    /// - Throws: `StageThreadError` when the thread cannot be created or pinned.
    public init(
        name: String,
        cpu: Int? = nil,
        timerSlackNanoseconds: Int? = nil,
        _ body: @escaping @Sendable () -> Void
    ) throws(StageThreadError) {
        precondition(
            !name.isEmpty && name.utf8.count <= 15 && !name.utf8.contains(0),
            "StageThread name must be 1 to 15 bytes without NUL, got \"\(name)\""
        )
        precondition(
            timerSlackNanoseconds.map { $0 > 0 } ?? true,
            "StageThread timerSlackNanoseconds must be positive"
        )
        self.name = name
        self.cpu = cpu
        var attributes = pthread_attr_t()
        // Safe because: `attributes` is a local initialized by pthread_attr_init and destroyed before return.
        unsafe pthread_attr_init(&attributes)
        defer { unsafe pthread_attr_destroy(&attributes) }
        if let cpu {
            let error = unsafe caff_attr_set_cpu(&attributes, Int32(clamping: cpu))
            if error != 0 || cpu > Int(Int32.max) {
                throw .affinity(cpu: cpu, errno: error != 0 ? error : EINVAL)
            }
        }
        let start = Start(name: name, timerSlackNanoseconds: timerSlackNanoseconds, body: body)
        // Safe because: the retained reference is released exactly once, by the new thread (or below on failure).
        let argument = unsafe Unmanaged.passRetained(start).toOpaque()
        var thread = pthread_t()
        let error = unsafe pthread_create(
            &thread,
            &attributes,
            { argument in
                // Safe because: pthread passes back the pointer given to pthread_create, a retained `Start`.
                let start = unsafe Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
                _ = unsafe caff_set_thread_name(start.name)
                if let slack = start.timerSlackNanoseconds {
                    _ = caff_set_timer_slack(UInt(slack))
                }
                start.body()
                return nil
            },
            argument
        )
        if error != 0 {
            unsafe Unmanaged<Start>.fromOpaque(argument).release()
            throw .create(errno: error)
        }
        self.thread = thread
    }

    /// Waits for the thread to finish. Call it once (`precondition`), from another thread.
    public func join() {
        precondition(!self.joined, "StageThread \(self.name) joined twice")
        self.joined = true
        pthread_join(self.thread, nil)
    }

    deinit {
        if !self.joined {
            // Never joined: detached, the thread's resources go when it ends.
            pthread_detach(self.thread)
        }
    }
}

@available(*, unavailable)
extension StageThread: Sendable {}
