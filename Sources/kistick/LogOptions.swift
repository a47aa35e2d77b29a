import ArgumentParser
import EventLog
import Foundation
import Logging

/// The log every command that talks to KIS keeps: the day's JSON-lines file and lines on stderr (`EventLog`).
struct LogOptions: ParsableArguments {
    @Option(
        help: """
            Folder of the daily JSON-lines log, or 'off' (default: $XDG_STATE_HOME/kistick/logs, else \
            ~/.local/state/kistick/logs).
            """
    )
    var logDir: String?

    @Option(help: "Lines at this level and above go to stderr: trace, debug, info, notice, warning, error, critical.")
    var logLevel: LevelOption = .warning

    @Option(help: "Days of daily log files kept.")
    var logKeepDays = 30

    func validate() throws {
        guard self.logKeepDays >= 1 else { throw ValidationError("--log-keep-days must be at least 1") }
    }

    /// Starts the log and makes it swift-log's for the whole process, so any library's lines reach it too. The file
    /// takes `info` and above, or the `--log-level` when lower.
    func start() throws -> EventLog {
        let variables = ProcessInfo.processInfo.environment
        let directory: String? =
            switch self.logDir {
            case "off": nil
            case let directory?: directory
            case nil: EventLog.Settings.defaultDirectory(environmentVariables: variables)
            }
        var settings = EventLog.Settings(directory: directory)
        settings.fileLevel = min(.info, self.logLevel.level)
        settings.consoleLevel = self.logLevel.level
        settings.keepDays = self.logKeepDays
        let log = try EventLog(settings: settings)
        LoggingSystem.bootstrap { label in log.handler(label: label) }
        return log
    }

    /// Runs `body` with the log started, keeps what it throws in the log (ArgumentParser prints it on stderr), and
    /// stops the log, which writes what is waiting, when it returns.
    func around<T>(_ body: (EventLog) async throws -> T) async throws -> T {
        let log = try self.start()
        defer { log.stop() }
        do {
            return try await body(log)
        } catch {
            log.logger(label: "kistick", console: false).error("\(error)")
            throw error
        }
    }
}

/// `--log-level`: an argument type of the CLI's own, so swift-log's `Logger.Level` needs no ArgumentParser
/// conformance.
enum LevelOption: String, CaseIterable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: self.rawValue)! }
}
