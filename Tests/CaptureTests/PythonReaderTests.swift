import Capture
import Foundation
import TestVectors
import Testing

/// `scripts/capture_reader.py`, the format's second reader, against files the Swift writer made: what
/// captures/README.md specifies is enough to read them.
@Suite("Python reader")
struct PythonReaderTests {
    @Test("reads a finished and a cut capture exactly as CaptureReader does")
    func agreesWithTheSwiftReader() throws {
        let python = try #require(
            Self.python,
            "no python3 with the zstandard package: install python3-zstandard (scripts/deps)"
        )
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var records = syntheticRecords(count: 3_000, seed: 21)
        for (index, line) in try Vectors.lines(Vectors.acks).enumerated() {
            records.insert(
                Record(kind: .message, localNs: records[index * 7].localNs, bytes: Array(line.utf8)),
                at: index * 7
            )
        }
        var options = CaptureWriter.Options()
        options.blockBytes = 16 << 10
        let path = folder.file("python.kcap")
        try write(records, to: path, options: options)
        let blocks = try #require(try CaptureReader(path: path).blocks)
        let cut = folder.file("cut.kcap")
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try Data(whole.prefix(blocks[3].offset + 100)).write(to: URL(fileURLWithPath: cut))

        for file in [path, cut] {
            let (read, end) = try readAll(file)
            var expected = read.map { "\($0.kind) \($0.localNs) \($0.bytes.count) \(Self.hex($0.bytes))" }
            switch end {
            case .complete: expected.append("end complete read \(read.count) messages")
            case .truncated:
                expected.append(
                    "end truncated ends inside a block at byte \(blocks[3].offset) of \(blocks[3].offset + 100); read \(read.count) messages"
                )
            }
            let output = try Self.run(python, [Self.script, "--records", file])
            let lines = output.split(separator: "\n").map(String.init)
            #expect(
                lines.first?.hasPrefix(
                    "header part=0 startNs=\(marketOpenNs) environment=sim codes=['005930', '000660']"
                ) == true
            )
            #expect(Array(lines.dropFirst()) == expected)
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/capture_reader.py").path

    /// The first python3 that imports zstandard: Debian's own first, since a pyenv or venv interpreter may lack it.
    static let python: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { candidate in
        FileManager.default.isExecutableFile(atPath: candidate)
            && (try? Self.run(candidate, ["-c", "import zstandard"])) != nil
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PythonFailed(status: process.terminationStatus) }
        return String(decoding: data, as: UTF8.self)
    }

    struct PythonFailed: Error {
        var status: Int32
    }
}
