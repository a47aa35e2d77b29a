#!/usr/bin/env python3
"""Reads a kistick capture file (captures/README.md has the format) without kistick.

    capture_reader.py FILE            header, then one line per record: kind, localNs, length
    capture_reader.py --records FILE  the same with each record's bytes in hex

Needs the `zstandard` package (Debian: python3-zstandard). Reads finished and unfinished files alike, by walking
the zstd frames; the last line says whether the file ended complete or cut short.
"""
import struct
import sys

import zstandard

MAGIC = b"KTCAPT\r\n"
TRAILER = b"KTCIDX\r\n"
KINDS = {0: "message", 1: "connected", 2: "disconnected"}


def header(data):
    """The header's fields and where the first frame starts."""
    if data[:8] != MAGIC:
        raise SystemExit("not a kistick capture (bad magic)")
    version, length = struct.unpack_from("<HI", data, 8)
    if version != 1:
        raise SystemExit(f"capture format version {version} is not supported")
    pos = 14
    part, start_ns = struct.unpack_from("<Iq", data, pos)
    pos += 12

    def string():
        nonlocal pos
        (n,) = struct.unpack_from("<H", data, pos)
        pos += 2 + n
        return data[pos - n : pos].decode()

    def strings():
        nonlocal pos
        (count,) = struct.unpack_from("<H", data, pos)
        pos += 2
        return [string() for _ in range(count)]

    environment, codes, trs = string(), strings(), strings()
    (n,) = struct.unpack_from("<I", data, pos)
    note = data[pos + 4 : pos + 4 + n].decode()
    fields = dict(part=part, startNs=start_ns, environment=environment, codes=codes, trIDs=trs, note=note)
    return fields, 14 + length


def frame_length(data, pos):
    """The length of the zstd frame at `pos` (RFC 8878 §3.1), or None if the file ends inside it."""
    if len(data) - pos < 8:
        return None
    (magic,) = struct.unpack_from("<I", data, pos)
    if magic & 0xFFFFFFF0 == 0x184D2A50:  # skippable frame: magic, u32 size, content
        (size,) = struct.unpack_from("<I", data, pos + 4)
        return 8 + size if pos + 8 + size <= len(data) else None
    if magic != 0xFD2FB528:
        raise SystemExit(f"corrupt: no zstd frame at byte {pos}")
    descriptor = data[pos + 4]
    single_segment = descriptor >> 5 & 1
    size_bytes = {0: single_segment, 1: 2, 2: 4, 3: 8}[descriptor >> 6]
    end = pos + 5 + (0 if single_segment else 1) + [0, 1, 2, 4][descriptor & 3] + size_bytes
    while True:  # blocks: a 3-byte header (last flag, type, size), then the block's bytes
        if end + 3 > len(data):
            return None
        block = int.from_bytes(data[end : end + 3], "little")
        end += 3 + (1 if block >> 1 & 3 == 1 else block >> 3)  # an RLE block stores one byte
        if block & 1:
            break
    end += 4 if descriptor >> 2 & 1 else 0  # content checksum
    return end - pos if end <= len(data) else None


def records(data, pos):
    """Yields (kind, localNs, bytes) for every record, then ("end", state, message)."""
    decompressor = zstandard.ZstdDecompressor()
    finished = data[-8:] == TRAILER
    end = struct.unpack_from("<Q", data, len(data) - 16)[0] if finished else len(data)
    count = 0
    while pos < end:
        length = frame_length(data, pos)
        if length is None:
            yield ("end", "truncated", f"ends inside a block at byte {pos} of {len(data)}; read {count} messages")
            return
        frame = data[pos : pos + length]
        pos += length
        if struct.unpack_from("<I", frame)[0] & 0xFFFFFFF0 == 0x184D2A50:
            continue
        block = decompressor.decompress(frame)
        at = 0
        while at < len(block):
            kind, local_ns, n = struct.unpack_from("<BqI", block, at)
            yield (KINDS[kind], local_ns, block[at + 13 : at + 13 + n])
            at += 13 + n
            count += 1
    if finished:
        yield ("end", "complete", f"read {count} messages")
    else:
        yield ("end", "truncated", f"has no index; read {count} messages")


def main():
    args = sys.argv[1:]
    hex_bytes = "--records" in args
    paths = [a for a in args if not a.startswith("--")]
    if len(paths) != 1:
        raise SystemExit(__doc__)
    with open(paths[0], "rb") as file:
        data = file.read()
    fields, start = header(data)
    print("header", " ".join(f"{key}={value}" for key, value in fields.items()))
    for kind, local_ns, payload in records(data, start):
        if kind == "end":
            print("end", local_ns, payload)
        else:
            print(kind, local_ns, len(payload), payload.hex() if hex_bytes else "")


if __name__ == "__main__":
    main()
