import Capture
import Foundation
import TestVectors
import Testing
import TickCore

@Suite("Capture files")
struct CaptureFileTests {
    @Test("real frames and markers read back byte-identical with their times, header included")
    func roundTrip() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var records: [Record] = []
        let lines = try Vectors.lines(Vectors.acks) + Vectors.lines(Vectors.trades) + Vectors.lines(Vectors.books)
        records.append(Record(kind: .connected, localNs: marketOpenNs - 5, bytes: []))
        for (index, line) in lines.enumerated() {
            records.append(
                Record(kind: .message, localNs: marketOpenNs + Int64(index) * 7_919, bytes: Array(line.utf8))
            )
        }
        records.append(Record(kind: .message, localNs: marketOpenNs + 1_000_000_000, bytes: []))
        records.append(Record(kind: .disconnected, localNs: marketOpenNs + 2_000_000_000, bytes: Array("closed".utf8)))
        let path = folder.file("round.kcap")
        let (stats, paths) = try write(records, to: path)
        #expect(paths == [path])
        #expect(stats.messages == records.count && stats.dropped == 0 && stats.files == 1)
        #expect(stats.rawBytes == records.reduce(0) { $0 + $1.bytes.count })
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(stats.compressedBytes == size)

        let reader = try CaptureReader(path: path)
        #expect(reader.header == testHeader)
        #expect(reader.part == 0)
        #expect(reader.recordCount == records.count)
        #expect(reader.blocks?.count == 1)
        let (read, end) = try readAll(path)
        #expect(end == .complete)
        #expect(read == records)
    }

    @Test("many blocks: a small block size splits the records, each block's times are indexed")
    func blocksAndIndex() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let records = syntheticRecords(count: 5_000, seed: 1)
        var options = CaptureWriter.Options()
        options.blockBytes = 16 << 10
        let path = folder.file("blocks.kcap")
        try write(records, to: path, options: options)
        let reader = try CaptureReader(path: path)
        let blocks = try #require(reader.blocks)
        #expect(blocks.count > 10)
        #expect(blocks.reduce(0) { $0 + $1.records } == records.count)
        var first = 0
        for block in blocks {
            #expect(block.firstNs == records[first].localNs)
            first += block.records
            #expect(block.maxNs == records[first - 1].localNs)
        }
        let (read, end) = try readAll(path)
        #expect(end == .complete)
        #expect(read == records)
    }

    @Test("seeking by time starts at the first record at or after it, with and without the index")
    func seek() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let records = syntheticRecords(count: 4_000, seed: 2)
        var options = CaptureWriter.Options()
        options.blockBytes = 8 << 10
        let path = folder.file("seek.kcap")
        try write(records, to: path, options: options)
        let unfinished = folder.file("unfinished.kcap")
        let reader = try CaptureReader(path: path)
        let indexOffset = try #require(reader.blocks?.last).offset + (try #require(reader.blocks?.last)).frameLength
        try Data(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(indexOffset)).write(
            to: URL(fileURLWithPath: unfinished)
        )
        for target in [0, 1, 1_234, 2_999, 3_999] {
            let fromNs = records[target].localNs - 1
            for file in [path, unfinished] {
                let (read, _) = try readAll(file, fromNs: fromNs)
                #expect(read == Array(records[target...]), "\(file) from record \(target)")
            }
        }
        let (beyond, end) = try readAll(path, fromNs: records.last!.localNs + 1)
        #expect(beyond.isEmpty && end == .complete)
    }

    @Test("a file cut inside a frame reads up to the last complete frame and says where it ends")
    func truncatedMidFrame() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let records = syntheticRecords(count: 3_000, seed: 3)
        var options = CaptureWriter.Options()
        options.blockBytes = 8 << 10
        let path = folder.file("whole.kcap")
        try write(records, to: path, options: options)
        let blocks = try #require(try CaptureReader(path: path).blocks)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        for cut in [5, blocks.count / 2, blocks.count - 1] {
            let block = blocks[cut]
            for into in [1, 4, block.frameLength / 2, block.frameLength - 1] {
                let truncated = folder.file("cut-\(cut)-\(into).kcap")
                try Data(whole.prefix(block.offset + into)).write(to: URL(fileURLWithPath: truncated))
                let (read, end) = try readAll(truncated)
                let complete = blocks[..<cut].reduce(0) { $0 + $1.records }
                #expect(read == Array(records[..<complete]))
                #expect(
                    end
                        == .truncated(
                            "\(truncated) ends inside a block at byte \(block.offset) of \(block.offset + into); "
                                + "read \(complete) messages up to there"
                        )
                )
            }
        }
        let boundary = folder.file("boundary.kcap")
        try Data(whole.prefix(blocks[4].offset)).write(to: URL(fileURLWithPath: boundary))
        let (read, end) = try readAll(boundary)
        let complete = blocks[..<4].reduce(0) { $0 + $1.records }
        #expect(read == Array(records[..<complete]))
        #expect(
            end
                == .truncated(
                    "\(boundary) has no index (the writer did not finish) and ends after the block that ends at byte "
                        + "\(blocks[4].offset); read \(complete) messages up to there"
                )
        )
    }

    @Test("a file cut inside its header or index is refused or read without the index")
    func truncatedHeaderAndIndex() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let records = syntheticRecords(count: 100, seed: 4)
        let path = folder.file("whole.kcap")
        try write(records, to: path)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        let header = folder.file("header.kcap")
        try Data(whole.prefix(20)).write(to: URL(fileURLWithPath: header))
        #expect(throws: CaptureError(path: header, reason: .badHeader("cut short"))) { try CaptureReader(path: header) }
        let index = folder.file("index.kcap")
        try Data(whole.prefix(whole.count - 3)).write(to: URL(fileURLWithPath: index))
        let reader = try CaptureReader(path: index)
        #expect(reader.blocks == nil)
        let (read, end) = try readAll(index)
        #expect(read == records)
        guard case .truncated(let message) = end else {
            Issue.record("expected .truncated, got \(end)")
            return
        }
        #expect(message.contains("ends inside a block"))
    }

    @Test("a file that is not a capture, a missing one or another version: typed errors naming it")
    func badFiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let missing = folder.file("missing.kcap")
        #expect(throws: CaptureError(path: missing, reason: .system(call: "open", errno: ENOENT))) {
            try CaptureReader(path: missing)
        }
        let text = folder.file("text.kcap")
        try Data("0|H0STCNT0|001|005930^090000^71900\n".utf8).write(to: URL(fileURLWithPath: text))
        let notCapture = CaptureError(path: text, reason: .notACapture)
        #expect(throws: notCapture) { try CaptureReader(path: text) }
        #expect(notCapture.description == "\(text): not a kistick capture (bad magic)")

        let path = folder.file("good.kcap")
        try write(syntheticRecords(count: 100, seed: 5), to: path)
        var future = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        future[8] = 2
        let versioned = folder.file("future.kcap")
        try Data(future).write(to: URL(fileURLWithPath: versioned))
        #expect(throws: CaptureError(path: versioned, reason: .unsupportedVersion(2))) {
            try CaptureReader(path: versioned)
        }
        // A system error is said in words, not as an errno number.
        let full = CaptureError(path: path, reason: .system(call: "write", errno: ENOSPC))
        #expect(full.description == "\(path): write failed: No space left on device")
    }

    @Test("a damaged block costs only itself: reading resumes at the next block, with or without the index")
    func damagedBlocks() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let records = syntheticRecords(count: 2_000, seed: 5)
        var options = CaptureWriter.Options()
        options.blockBytes = 8 << 10
        let path = folder.file("good.kcap")
        try write(records, to: path, options: options)
        let blocks = try #require(try CaptureReader(path: path).blocks)
        #expect(blocks.count > 8)
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let indexOffset = blocks[blocks.count - 1].offset + blocks[blocks.count - 1].frameLength
        /// The records of every block but `lost`, in order.
        func survivors(_ lost: Set<Int>) -> [Record] {
            var kept: [Record] = []
            var first = 0
            for (i, block) in blocks.enumerated() {
                if !lost.contains(i) { kept += records[first..<(first + block.records)] }
                first += block.records
            }
            return kept
        }
        func damaged(_ bytes: [UInt8], _ name: String) throws -> (CaptureReader, [Record], CaptureEnd) {
            let file = folder.file(name)
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            let reader = try CaptureReader(path: file)
            var read: [Record] = []
            let end = reader.read { read.append(Record(kind: $0.kind, localNs: $0.localNs, bytes: Array($0.bytes))) }
            return (reader, read, end)
        }

        // Bytes inside block 3 flipped: its checksum fails. The index says where block 4 starts and what was lost.
        var content = whole
        for offset in (blocks[3].offset + 20)..<(blocks[3].offset + 60) { content[offset] ^= 0x5A }
        var (reader, read, end) = try damaged(content, "content.kcap")
        #expect(end == .complete)
        #expect(read == survivors([3]))
        #expect(reader.damage.count == 1)
        let stretch = try #require(reader.damage.first)
        #expect(stretch.path == reader.path && stretch.offset == blocks[3].offset)
        #expect(stretch.length == blocks[3].frameLength && stretch.records == blocks[3].records)
        #expect(stretch.description.hasPrefix("\(reader.path): skipped \(blocks[3].frameLength) damaged bytes"))

        // The same file cut before its index: the frame's own size finds block 4.
        (reader, read, end) = try damaged(Array(content[..<indexOffset]), "content-unfinished.kcap")
        #expect(read == survivors([3]))
        #expect(reader.damage.map(\.offset) == [blocks[3].offset] && reader.damage.first?.records == nil)
        #expect(reader.damage.first?.length == blocks[3].frameLength)
        guard case .truncated = end else {
            Issue.record("an unfinished file read as \(end)")
            return
        }

        // Block 5's frame header destroyed, no index: a scan for the next frame finds block 6.
        var header = Array(whole[..<indexOffset])
        for offset in blocks[5].offset..<(blocks[5].offset + 6) { header[offset] = 0 }
        (reader, read, _) = try damaged(header, "header-unfinished.kcap")
        #expect(read == survivors([5]))
        #expect(reader.damage.map(\.offset) == [blocks[5].offset])
        #expect(reader.damage.first?.length == blocks[5].frameLength)

        // Two damaged blocks in a row are one stretch, with both blocks' records.
        var pair = whole
        for block in blocks[6...7] { pair[block.offset + 30] ^= 0xFF }
        (reader, read, end) = try damaged(pair, "pair.kcap")
        #expect(end == .complete)
        #expect(read == survivors([6, 7]))
        #expect(reader.damage.count == 1 && reader.damage.first?.records == blocks[6].records + blocks[7].records)
        #expect(reader.damage.first?.length == blocks[8].offset - blocks[6].offset)

        // The last block damaged in an unfinished file: nothing follows it, so it is damage, not a cut.
        var last = Array(whole[..<indexOffset])
        last[blocks[blocks.count - 1].offset + 30] ^= 0xFF
        (reader, read, _) = try damaged(last, "last-unfinished.kcap")
        #expect(read == survivors([blocks.count - 1]))
        #expect(reader.damage.map(\.offset) == [blocks[blocks.count - 1].offset])
    }

    @Test("a writer that cannot create its file throws naming it")
    func unwritable() throws {
        let path = "/nonexistent-kistick-folder/x.kcap"
        #expect(throws: CaptureError(path: path, reason: .system(call: "open", errno: ENOENT))) {
            try CaptureWriter(path: path, header: testHeader)
        }
    }

    @Test("a capture never replaces an existing file, at the start or at a rotation, and is private (0600)")
    func neverOverwrites() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let earlier = folder.file("earlier.kcap")
        try Data("an earlier recording".utf8).write(to: URL(fileURLWithPath: earlier))
        let refusal = CaptureError(path: earlier, reason: .exists)
        #expect(throws: refusal) { try CaptureWriter(path: earlier, header: testHeader) }
        #expect(refusal.description.contains("exists: a capture is never overwritten"))
        #expect(try String(contentsOfFile: earlier, encoding: .utf8) == "an earlier recording")

        // Part 1 of a size-rotated recording is in the way: the writer stops there, says so at once, and part 0 is
        // a complete capture.
        let path = folder.file("rotated.kcap")
        let second = CaptureRotation.path(of: path, part: 1)
        try Data("in the way".utf8).write(to: URL(fileURLWithPath: second))
        var options = CaptureWriter.Options()
        options.blockBytes = 4 << 10
        let writer = try CaptureWriter(
            path: path,
            header: testHeader,
            rotation: CaptureRotation(daily: false, maxBytes: 16 << 10),
            options: options
        )
        for record in syntheticRecords(count: 2_000, seed: 9) {
            _ = record.bytes.withUnsafeBytes { writer.append(record.kind, localNs: record.localNs, bytes: $0) }
        }
        #expect(throws: CaptureError(path: second, reason: .exists)) {
            try writer.finish()
        }
        #expect(writer.stats.dropped > 0)
        #expect(try String(contentsOfFile: second, encoding: .utf8) == "in the way")
        #expect(try readAll(path).end == .complete)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
    }

    @Test("a full disk is seen while recording, not only when the writer finishes")
    func fullDiskSeenAtOnce() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.file("full.kcap")
        var options = CaptureWriter.Options()
        options.flushIntervalNanoseconds = 1_000_000
        let writer = try CaptureWriter(path: path, header: testHeader, options: options)
        // The disk fills up: the writer's descriptor now refers to /dev/full, whose every write fails with ENOSPC.
        let fd = try #require(Self.descriptor(of: path))
        let full = open("/dev/full", O_WRONLY)
        #expect(full >= 0 && dup2(full, fd) == fd)
        close(full)
        #expect(writer.failure == nil)
        let deadline = Date().addingTimeInterval(5)
        var index = 0
        let records = syntheticRecords(count: 100, seed: 10)
        while writer.failure == nil, Date() < deadline {
            let record = records[index % records.count]
            _ = record.bytes.withUnsafeBytes { writer.append(record.kind, localNs: record.localNs, bytes: $0) }
            index += 1
            usleep(1_000)
        }
        let failure = CaptureError(path: path, reason: .system(call: "write", errno: ENOSPC))
        #expect(writer.failure == failure)
        #expect(failure.description == "\(path): write failed: No space left on device")
        #expect(throws: failure) { try writer.finish() }
    }

    /// This process's descriptor open on `path`.
    static func descriptor(of path: String) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.compactMap(Int32.init).first { fd in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) == path
        }
    }

    @Test("a message larger than maxMessageBytes is refused and counted, the others go through")
    func oversized() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var options = CaptureWriter.Options()
        options.ringBytes = 1 << 16
        options.maxMessageBytes = 1_000
        let path = folder.file("big.kcap")
        let writer = try CaptureWriter(path: path, header: testHeader, options: options)
        let big = [UInt8](repeating: 0x41, count: 1_001)
        let fits = [UInt8](repeating: 0x42, count: 1_000)
        #expect(!big.withUnsafeBytes { writer.append(.message, localNs: 1, bytes: $0) })
        #expect(fits.withUnsafeBytes { writer.append(.message, localNs: 2, bytes: $0) })
        let stats = try writer.finish()
        #expect(stats.messages == 1 && stats.dropped == 1 && stats.rawBytes == 1_000)
        #expect(try readAll(path).records == [Record(kind: .message, localNs: 2, bytes: fits)])
    }

    @Test("records wrap around a small ring intact")
    func ringWraps() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var options = CaptureWriter.Options()
        options.ringBytes = 4_096
        options.maxMessageBytes = 2_000
        var random = SplitMix64(seed: 6)
        var records: [Record] = []
        for index in 0..<3_000 {
            let length = Int(random.next() % 1_500)
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ index) }
            records.append(Record(kind: .message, localNs: Int64(index), bytes: bytes))
        }
        let path = folder.file("wrap.kcap")
        let writer = try CaptureWriter(path: path, header: testHeader, options: options)
        for record in records {
            // The ring holds two or three of these: wait for the writer thread when it is full.
            while !record.bytes.withUnsafeBytes({ writer.append(record.kind, localNs: record.localNs, bytes: $0) }) {
                sched_yield()
            }
        }
        let stats = try writer.finish()
        #expect(stats.messages == records.count)
        #expect(try readAll(path).records == records)
    }

    @Test("rotation by KST day and by size: each file a complete capture, named in order")
    func rotation() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // 09:00 KST on 2026-06-08 plus 10 minutes per record: the date changes after 90 records (15 hours).
        let records = syntheticRecords(count: 300, seed: 7, spacingNs: 600_000_000_000)
        let daily = folder.file("daily.kcap")
        let (stats, paths) = try write(records, to: daily)
        #expect(stats.files == 3)
        #expect(paths == [daily, folder.file("daily.001.kcap"), folder.file("daily.002.kcap")])
        #expect(CaptureReader.parts(of: daily) == paths)
        var read: [Record] = []
        for (part, path) in paths.enumerated() {
            let reader = try CaptureReader(path: path)
            #expect(reader.part == part && reader.header == testHeader)
            let (records, end) = try readAll(path)
            #expect(end == .complete)
            let dates = Set(records.map { KSTDate.of($0.localNs) })
            #expect(dates.count == 1)
            read += records
        }
        #expect(read == records)

        let many = syntheticRecords(count: 20_000, seed: 8)
        var options = CaptureWriter.Options()
        options.blockBytes = 16 << 10
        let sized = folder.file("sized")
        let (sizedStats, sizedPaths) = try write(
            many,
            to: sized,
            rotation: .init(daily: false, maxBytes: 40_000),
            options: options
        )
        #expect(sizedStats.files == sizedPaths.count && sizedPaths.count > 3)
        #expect(sizedPaths[1] == folder.file("sized.001"))
        var sizedRead: [Record] = []
        for path in sizedPaths {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            #expect(size < 40_000 + 16_000)
            sizedRead += try readAll(path).records
        }
        #expect(sizedRead == many)
    }

    @Test("rotated names insert the part before the extension")
    func rotatedNames() {
        #expect(CaptureRotation.path(of: "a/day.kcap", part: 0) == "a/day.kcap")
        #expect(CaptureRotation.path(of: "a/day.kcap", part: 1) == "a/day.001.kcap")
        #expect(CaptureRotation.path(of: "a/day.kcap", part: 1_234) == "a/day.1234.kcap")
        #expect(CaptureRotation.path(of: "a.b/day", part: 2) == "a.b/day.002")
        #expect(CaptureRotation.path(of: ".hidden", part: 2) == ".hidden.002")
    }

    @Test("preconditions at the edges stop the process")
    func preconditions() async {
        await #expect(processExitsWith: .failure) {
            var options = CaptureWriter.Options()
            options.ringBytes = 5_000
            _ = try? CaptureWriter(path: "/tmp/kistick-never.kcap", header: testHeader, options: options)
        }
        await #expect(processExitsWith: .failure) {
            var options = CaptureWriter.Options()
            options.ringBytes = 1 << 16
            options.maxMessageBytes = 1 << 15
            _ = try? CaptureWriter(path: "/tmp/kistick-never.kcap", header: testHeader, options: options)
        }
        await #expect(processExitsWith: .failure) {
            var options = CaptureWriter.Options()
            options.blockBytes = 0
            _ = try? CaptureWriter(path: "/tmp/kistick-never.kcap", header: testHeader, options: options)
        }
        await #expect(processExitsWith: .failure) {
            var options = CaptureWriter.Options()
            options.flushIntervalNanoseconds = 0
            _ = try? CaptureWriter(path: "/tmp/kistick-never.kcap", header: testHeader, options: options)
        }
        await #expect(processExitsWith: .failure) {
            _ = CaptureRotation(maxBytes: 0)
        }
        await #expect(processExitsWith: .failure) {
            _ = CaptureRotation.path(of: "x.kcap", part: -1)
        }
        await #expect(processExitsWith: .failure) {
            _ = Redactor(secrets: ["abc"])
        }
        await #expect(processExitsWith: .failure) {
            let path = "/tmp/kistick-finish-twice-\(getpid()).kcap"
            defer { unlink(path) }
            let writer = try? CaptureWriter(path: path, header: testHeader)
            _ = try? writer?.finish()
            _ = try? writer?.finish()
        }
    }
}

/// The KST date of a time in nanoseconds, for the rotation test.
enum KSTDate {
    static func of(_ ns: Int64) -> Int64 {
        (ns / 1_000_000_000 + 9 * 3_600) / 86_400
    }
}
