// libFuzzer target for Capture.CaptureReader, which reads files a crash, a full disk or a bad sector may have
// damaged. Built and run by scripts/fuzz.
//
// Input: the bytes of a capture file, written to a file in /dev/shm (memory) that the reader opens and maps.
//
// Oracles, besides traps and ASan/LSan reports:
//   - opening fails only with a typed `CaptureError` naming the file;
//   - reading twice gives the same records, damage and end (the reader reuses its buffer and context);
//   - the stretches it skipped lie inside the file, in order, apart;
//   - in a file without an index, reading from a time gives the full read from its first record at or after that
//     time: seeking skips nothing else and adds nothing.
import Capture

#if canImport(Glibc)
import Glibc
#endif

/// One file per fuzzing process, rewritten for each input.
let path = "/dev/shm/kistick-fuzz-capture-\(getpid()).kcap"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaptureReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    precondition(fd >= 0, "cannot write \(path)")
    var written = 0
    while written < size {
        let n = write(fd, data! + written, size - written)
        precondition(n > 0, "write to \(path) failed")
        written += n
    }
    close(fd)
    let reader: CaptureReader
    do throws(CaptureError) {
        reader = try CaptureReader(path: path)
    } catch {
        precondition(error.path == path, "an error naming another file: \(error)")
        _ = error.description
        return 0
    }
    precondition(reader.fileSize == size)

    let first = readAll(reader)
    let second = readAll(reader)
    precondition(first.records == second.records && first.end == second.end, "a second read differs")
    precondition(first.damage == second.damage, "a second read found other damage")
    var previousEnd = 0
    for stretch in first.damage {
        precondition(stretch.path == path && stretch.length > 0, "an empty or misnamed stretch: \(stretch)")
        precondition(stretch.offset >= previousEnd && stretch.offset + stretch.length <= size, "stretch \(stretch)")
        previousEnd = stretch.offset + stretch.length
        _ = stretch.description
    }
    if let blocks = reader.blocks {
        precondition(blocks.allSatisfy { $0.offset >= 0 && $0.offset + $0.frameLength <= size })
    } else {
        for t in Set(first.records.prefix(4).map(\.localNs) + first.records.suffix(2).map(\.localNs)) {
            let from = readAll(reader, fromNs: t)
            let expected = first.records.drop { $0.localNs < t }
            precondition(from.records == Array(expected), "reading from \(t) is not the read from its first record")
        }
    }
    return 0
}

struct Record: Equatable {
    var kind: UInt8
    var localNs: Int64
    var bytes: [UInt8]
}

func readAll(
    _ reader: CaptureReader,
    fromNs: Int64? = nil
) -> (records: [Record], end: CaptureEnd, damage: [CaptureDamage]) {
    var records: [Record] = []
    let end = reader.read(fromNs: fromNs) { message in
        records.append(Record(kind: message.kind.rawValue, localNs: message.localNs, bytes: Array(message.bytes)))
    }
    return (records, end, reader.damage)
}
