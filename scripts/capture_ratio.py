#!/usr/bin/env python3
"""Where a capture's compressed bytes go: its trade frames (H0STCNT0) in one-second blocks as the writer cuts them,
compressed with the record headers (kind, nanosecond receive time, length) in line as the format stores them, and
with the frames' bytes alone.

    capture_ratio.py FILE [LEVEL [MIN_MATCH]]     defaults: the writer's, 9 and 6

Needs the `zstandard` package (Debian: python3-zstandard).
"""
import struct
import sys

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
    in_line = sum(len(compressor.compress(b"".join(struct.pack("<BqI", 0, ns, len(f)) + f for ns, f in b))) for b in blocks)
    alone = sum(len(compressor.compress(b"".join(f for _, f in b))) for b in blocks)
    print(f"{len(trades)} trade frames, {raw} bytes, {len(blocks)} one-second blocks; level {level}, min match {min_match}")
    print(f"with the record headers: {raw / in_line:.2f}x ({in_line} bytes)")
    print(f"the frames alone:        {raw / alone:.2f}x ({alone} bytes)")
    print(f"headers: {(in_line - alone) / len(trades):.1f} compressed bytes per record")


if __name__ == "__main__":
    main()
