import Engine
import Foundation
import Testing

/// `kistick kill` reaches every running engine and never another process.
@Suite struct EngineRegistryTests {
    @Test func everyLiveEngineIsFoundAndAStaleFileSignalsNobody() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kistick-engines-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let registry = try EngineRegistry(directory: folder)
        #expect(registry.running().isEmpty)

        // Two engines, each a process holding the lock on its own pid file, as `EngineRegistration` does.
        let engines = try (0..<2).map { _ in try LockHolder(folder: folder) }
        // A file left by an engine that died, naming a process that is alive but is not an engine.
        let bystander = Process()
        bystander.executableURL = URL(fileURLWithPath: "/bin/sleep")
        bystander.arguments = ["30"]
        try bystander.run()
        defer { if bystander.isRunning { bystander.terminate() } }
        let stale = "\(folder)/\(bystander.processIdentifier).pid"
        try Data("\(bystander.processIdentifier)\n".utf8).write(to: URL(fileURLWithPath: stale))

        #expect(registry.running() == engines.map(\.pid).sorted())
        #expect(!FileManager.default.fileExists(atPath: stale), "the stale file is removed")

        let signalled = registry.signalAll(SIGUSR1)
        #expect(signalled.map(\.pid).sorted() == engines.map(\.pid).sorted())
        #expect(signalled.allSatisfy { $0.errno == 0 })
        for engine in engines {
            engine.process.waitUntilExit()
            #expect(engine.process.terminationReason == .uncaughtSignal && engine.process.terminationStatus == SIGUSR1)
        }
        #expect(bystander.isRunning, "a process whose pid a stale file names is never signalled")
        // Their locks went with them.
        #expect(registry.running().isEmpty)
    }

    @Test func aRegistrationIsSeenUntilItEnds() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kistick-engines-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let registry = try EngineRegistry(directory: folder)
        var registration: EngineRegistration? = try registry.register()
        #expect(registry.running() == [getpid()])
        let mode = try FileManager.default.attributesOfItem(atPath: try #require(registration?.path))[.posixPermissions]
        #expect(mode as? Int == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int == 0o700)
        // Two engines of one process can not both be registered under its pid, but a second registration after the
        // first one ended is found again.
        registration = nil
        #expect(registry.running().isEmpty)
        registration = try registry.register()
        #expect(registry.running() == [getpid()])
        withExtendedLifetime(registration) {}
    }
}

/// A child process that takes an exclusive `flock` on `<folder>/<its pid>.pid` and sleeps; SIGUSR1 ends it.
private struct LockHolder {
    let process = Process()
    var pid: Int32 { self.process.processIdentifier }

    init(folder: String) throws {
        self.process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        self.process.arguments = [
            "-c",
            """
            import fcntl, os, signal, sys, time
            # The test process may have left it ignored or blocked, and both are inherited.
            signal.signal(signal.SIGUSR1, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
            f = open(os.path.join(sys.argv[1], f"{os.getpid()}.pid"), "w")
            fcntl.flock(f, fcntl.LOCK_EX)
            print("locked", flush=True)
            time.sleep(30)
            """,
            folder,
        ]
        let pipe = Pipe()
        self.process.standardOutput = pipe
        try self.process.run()
        let line = pipe.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).hasPrefix("locked") else {
            self.process.terminate()
            throw LockFailed()
        }
    }

    struct LockFailed: Error {}
}
