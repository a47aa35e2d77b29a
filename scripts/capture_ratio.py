#!/usr/bin/env python3
"""Where a capture's compressed bytes go: its trade frames (H0STCNT0) in one-second blocks as the writer cuts them,
compressed with the record headers (kind, nanosecond receive time, length) in line as the format stores them, and
with the frames' bytes alone, and with the headers' times delta-coded in varints; then how fast the first of
those compresses, in Python's binding of the same libzstd.

    capture_ratio.py FILE [LEVEL [MIN_MATCH]]     defaults: the writer's, 9 and 6

Needs the `zstandard` package (Debian: python3-zstandard).
"""
import struct
import sys
import time

import zstandard

from capture_reader import header, records


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    level = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    min_match = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    data = open(sys.argv[1], "rb").read()
    trades = [(ns, b) for kind, ns, b in records(data, header(data)[-1]) if kind == "message" and b.startswith(b"0|H0STCNT0|")]
    if not trades:
        raise SystemExit(f"{sys.argv[1]} holds no H0STCNT0 frames")
    blocks, block, start = [], [], trades[0][0]
    for ns, frame in trades:
        if block and ns - start >= 1_000_000_000:
            blocks.append(block)
            block, start = [], ns
        block.append((ns, frame))
    blocks.append(block)
    compressor = zstandard.ZstdCompressor(
        compression_params=zstandard.ZstdCompressionParameters(compression_level=level, min_match=min_match)
    )
    raw = sum(len(frame) for _, frame in trades)

    def compressed(layout):
        return sum(len(compressor.compress(layout(b))) for b in blocks)

    def timed(layout):
        laid_out = [layout(b) for b in blocks]
        started = time.perf_counter()
        size = sum(len(compressor.compress(b)) for b in laid_out)
        return size, time.perf_counter() - started

    def in_line(block):
        return b"".join(struct.pack("<BqI", 0, ns, len(f)) + f for ns, f in block)

    def alone(block):
        return b"".join(f for _, f in block)

    def delta_coded(block):
        headers, previous = bytearray(), block[0][0]
        for ns, frame in block:
            headers += varint(ns - previous) + varint(len(frame))
            previous = ns
        return bytes(headers) + alone(block)

    with_headers, seconds = timed(in_line)
    frames_only = compressed(alone)
    print(f"{len(trades)} trade frames, {raw} bytes, {len(blocks)} one-second blocks; level {level}, min match {min_match}")
    print(f"with the record headers: {raw / with_headers:.2f}x ({with_headers} bytes), {raw / seconds / 1e6:.0f} MB/s")
    print(f"the frames alone:        {raw / frames_only:.2f}x ({frames_only} bytes)")
    print(f"times delta-coded:       {raw / compressed(delta_coded):.2f}x")
    print(f"headers: {(with_headers - frames_only) / len(trades):.1f} compressed bytes per record")


def varint(n):
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)

if __name__ == "__main__":
    main()
