"""A plain hand-written KIS H0STCNT0 parser in Python, the baseline kistick's decoder is compared against.

It does what a careful Python client does per message: split the frame on '|' (first three only), split the
payload on '^', derive the record width from NNN, and convert each field kistick's Trade keeps with int()
(decimals as whole*100+fraction, no float). It prints records/s and the same checksum as
`kistick decode --stats` (sum of price + cumulative volume), so the two provably did the same work.
"""
import sys
import time


def hundredths(text):
    negative = text.startswith("-")
    text = text.lstrip("+-")
    whole, _, fraction = text.partition(".")
    value = int(whole or "0") * 100 + int((fraction + "00")[:2])
    return -value if negative else value


def decode_trade(f):
    return (
        f[0], int(f[1]), int(f[2]), int(f[3]), int(f[4]), hundredths(f[6]), int(f[7]), int(f[8]), int(f[9]),
        int(f[10]), int(f[11]), int(f[12]), int(f[13]), int(f[14]), int(f[15]), int(f[16]), hundredths(f[18]),
        int(f[19]), int(f[20]), int(f[21]), int(f[33]), f[34], f[35] == "Y", int(f[36]), int(f[37]), int(f[38]),
        int(f[39]), f[43], int(f[45] or "0"),
    )


def decode_frame(line):
    enc, tr_id, count, payload = line.split("|", 3)
    if tr_id != "H0STCNT0":
        return []
    n = int(count)
    fields = payload.split("^")
    width, rest = divmod(len(fields), n)
    if rest or width < 46:
        raise ValueError("bad field count")
    return [decode_trade(fields[i * width:(i + 1) * width]) for i in range(n)]


def main():
    path, passes = sys.argv[1], int(sys.argv[2])
    lines = [l.rstrip("\r") for l in open(path, encoding="utf-8").read().split("\n") if l]
    records = 0
    checksum = 0
    start = time.perf_counter()
    for _ in range(passes):
        for line in lines:
            for t in decode_frame(line):
                records += 1
                checksum += t[2] + t[12]
    elapsed = time.perf_counter() - start
    print(f"python {records} records in {elapsed:.3f} s: {records / elapsed:.0f} records/s, checksum {checksum}")


if __name__ == "__main__":
    main()
