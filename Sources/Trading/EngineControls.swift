public import Engine
import Foundation
import Synchronization

/// The engine's process-level controls: SIGINT/SIGTERM end the run cleanly, SIGUSR1 arms the kill switch, and a
/// registration in the `EngineRegistry` lets `kistick kill` find the process. `@unchecked` because Dispatch sources
/// are thread-safe but not marked `Sendable`; the flags are atomics.
public final class EngineControls: @unchecked Sendable {
    private let stop = Atomic(false)
    private let kill = Atomic(false)
    private var sources: [any DispatchSourceSignal] = []
    private var registration: EngineRegistration?

    public init(registry: EngineRegistry) throws {
        self.registration = try registry.register()
        for number in [SIGINT, SIGTERM, SIGUSR1] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [unowned self] in
                if number == SIGUSR1 {
                    self.kill.store(true, ordering: .relaxed)
                } else {
                    self.stop.store(true, ordering: .relaxed)
                }
            }
            source.resume()
            self.sources.append(source)
        }
    }

    public var stopRequested: Bool { self.stop.load(ordering: .relaxed) }

    /// Whether SIGUSR1 came since the last call.
    public func takeKillRequest() -> Bool { self.kill.exchange(false, ordering: .relaxed) }

    public func close() {
        for source in self.sources { source.cancel() }
        self.registration = nil
    }
}
