#!/usr/bin/env python3
"""Writes the seed inputs of one fuzz target into a folder (scripts/fuzz calls this on every run).

    make_seeds.py websocket|feed|http|control|answer|capture OUT_DIR [VECTORS_DIR]

Seeds are made from Tests/Fixtures/kis at run time and never committed. The websocket seeds are hand-made
RFC 6455 frames plus the KIS messages wrapped in text frames, each behind the 4 configuration bytes that
FuzzWebSocketReader reads first (maximum message size, read slack, chunking).
"""
import hashlib
import json
import os
import struct
import sys


def kis_messages(vectors):
    """KIS messages and other text from the vectors: each line, each whole file, compact JSON."""
    out = []
    if not vectors or not os.path.isdir(vectors):
        return out
    for name in sorted(os.listdir(vectors)):
        path = os.path.join(vectors, name)
        if not os.path.isfile(path):
            continue
        data = open(path, "rb").read()
        out.append(data)
        out.extend(line for line in data.split(b"\n") if line.strip())
        if name.endswith(".json"):
            try:
                doc = json.loads(data)
            except ValueError:
                continue
            out.append(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())
            if isinstance(doc, dict):
                for key in ("ack", "frame"):
                    if key in doc:
                        value = doc[key]
                        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
                        out.append(text.encode())
                if "plaintext" in doc:
                    out.append(b"0|H0STCNI9|001|" + doc["plaintext"].encode())
    return out


HAND_MADE_KIS = [
    b'{"header":{"tr_id":"PINGPONG","datetime":"20231004160455"}}',
    b'{"header":{"tr_id":"H0STCNT0","tr_key":"005930","encrypt":"N"},"body":{"rt_cd":"1","msg_cd":"OPSP0008",'
    b'"msg1":"MAX SUBSCRIBE OVER"}}',
    b'{"header":{"tr_id":"H0STCNT0"},"body":{"rt_cd":"0","msg1":"esc \\"\\u00e9\\ud83d\\ude00\\n"}}',
    b"0|H0STCNT0|001|",
    b"0|H0STMBC0|001|005930^a^b",
    b"1|H0STCNI9|001|AAAAAAAAAAAAAAAAAAAAAA==",
]


def frame(opcode, payload=b"", fin=True, rsv=0, mask=None, length=None):
    """One server frame; `length` forces the header's length field (0-125, 126 or 127 form chosen by size)."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv << 4 | opcode
    mbit = 0x80 if mask is not None else 0
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n <= 0xFFFF:
        head = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if mask is not None:
        head += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


def fragments(opcode, payload, parts):
    """`payload` as a first frame and continuations."""
    step = max(1, -(-len(payload) // parts))
    pieces = [payload[i : i + step] for i in range(0, len(payload), step)] or [b""]
    return b"".join(
        frame(opcode if i == 0 else 0, piece, fin=(i == len(pieces) - 1)) for i, piece in enumerate(pieces)
    )


def hand_made_streams():
    hello = b"Hello"
    return [
        frame(1, hello),
        frame(2, bytes(range(256))[:200]),
        frame(2, b"x" * 300),  # 126 form
        frame(1, b"") + frame(9, b"") + frame(10, b"pong") + frame(8, b""),
        frame(8, struct.pack(">H", 1000) + b"bye"),
        fragments(1, hello, 2),
        frame(1, b"Hel", fin=False) + frame(9, b"ping!") + frame(0, b"lo"),
        frame(1, b"a", fin=False) + frame(0, b"", fin=False) + frame(10, b"") + frame(0, b"b", fin=False)
        + frame(0, b"c"),
        b"\x82\x7f" + struct.pack(">Q", 70000) + b"y" * 16,  # 127 form, too large for every config
        frame(2, b"z" * 130)[:3],  # cut in the extended length
        # Protocol errors, each after a good message.
        frame(1, hello) + frame(1, hello, mask=b"\x01\x02\x03\x04"),
        frame(1, hello) + frame(1, hello, rsv=4),
        frame(1, hello) + frame(3, b""),
        frame(1, hello) + frame(9, b"", fin=False),
        frame(1, hello) + b"\x89\x7e\x00\x7e" + b"p" * 126,
        frame(1, hello) + frame(8, b"\x03"),
        frame(1, hello) + frame(0, b"orphan"),
        frame(1, b"a", fin=False) + frame(1, b"b"),
        b"\x82\x7f\x80" + b"\x00" * 7,
    ] + compaction_streams()


def compaction_streams():
    """Streams longer than the small configurations' buffers with a fragmented message open most of the time, so
    that writes compact while a fragment is open (and control frames sit between its pieces)."""
    def pinged_fragments(payload, step):
        pieces = [payload[i : i + step] for i in range(0, len(payload), step)]
        out = b""
        for i, piece in enumerate(pieces):
            out += frame(1 if i == 0 else 0, piece, fin=(i == len(pieces) - 1))
            if i < len(pieces) - 1:
                out += frame(9 if i % 2 else 10, b"p" * (i % 3))
        return out

    small = b"".join(pinged_fragments(bytes([97 + i % 26]) * 4, 2) for i in range(40))
    large = frame(1, b"L" * 100) + pinged_fragments(bytes(range(48, 48 + 120)), 10) * 3
    return [small, large]


def kis_streams(vectors):
    """KIS lines as text frames, whole and in 3 fragments, and one session of them with pings between."""
    streams = []
    session = b""
    for text in [m for m in kis_messages(vectors) if b"\n" not in m.strip()] + HAND_MADE_KIS:
        if len(text) > 2000:
            continue
        streams.append(frame(1, text))
        streams.append(fragments(1, text, 3))
        if len(session) < 3000:
            session += frame(1, text) + frame(9, b"")
    return streams + [session]


# (maxMessageSize byte, readSlack, seed, chunking): large / tiny / mid-size buffers, chunks of 1 to 32768 bytes.
CONFIGS = [
    (0xFF, 0x00, 0x00, 0x0F),  # 8192, no slack, as much as fits
    (0xFF, 0x40, 0x17, 0x20),  # 8192, byte by byte
    (0x8F, 0x07, 0x5A, 0x33),  # 1024, chunks up to 8
    (0x7F, 0x00, 0x01, 0x46),  # 128, chunks up to 64
    (0x0F, 0x03, 0x99, 0x12),  # 16, chunks up to 4
]


def websocket_seeds(vectors):
    seeds = [bytes(c) + s for s in hand_made_streams() for c in CONFIGS]
    for i, stream in enumerate(kis_streams(vectors)):
        seeds += [bytes(CONFIGS[0]) + stream, bytes(CONFIGS[2 + i % 3]) + stream]
    return seeds


def feed_seeds(vectors):
    return kis_messages(vectors) + HAND_MADE_KIS


def http_seeds(vectors):
    """KIS REST answers as a server sends them: every JSON vector behind content-length, chunked and
    close-delimited heads, after the 1 configuration byte FuzzHTTPResponse reads first."""
    bodies = [b'{"rt_cd":"0","msg_cd":"MCA00000","msg1":"ok"}', b""]
    if vectors and os.path.isdir(vectors):
        bodies += [open(os.path.join(vectors, n), "rb").read() for n in sorted(os.listdir(vectors)) if n.endswith(".json")]
    seeds = []
    for i, body in enumerate(bodies):
        status = b"500 Internal Server Error" if b"EGW" in body else b"200 OK"
        fixed = b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\ntr_cont: M\r\ncontent-length: " \
            + str(len(body)).encode() + b"\r\n\r\n" + body
        chunks = b"".join(b"%x\r\n" % len(body[j:j + 97]) + body[j:j + 97] + b"\r\n" for j in range(0, len(body), 97))
        chunked = b"HTTP/1.1 " + status + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
        closed = b"HTTP/1.0 " + status + b"\r\nConnection: close\r\n\r\n" + body
        seeds += [bytes([i % 16]) + s for s in (fixed, chunked, closed)]
    return seeds


def control_seeds(vectors):
    """JSON control messages: the real and hand-made acks, errors and PINGPONG, and the same with the whitespace,
    escapes, nesting and key orders valid JSON allows."""
    messages = [m.strip() for m in kis_messages(vectors) + HAND_MADE_KIS if m.strip().startswith(b"{")]
    messages += [
        b'{ "header" : { "tr_id" : "H0STCNI9", "tr_key" : "HTS\\u0041ID", "encrypt" : "Y" } ,\n "body" : {'
        b' "rt_cd" : "0", "msg_cd" : "OPSP0000", "msg1" : "SUBSCRIBE SUCCESS", "output" : { "iv" :'
        b' "0123456789abcdef", "key" : "abcdefghijklmnopqrstuvwxyzabcdef" } } }',
        b'{"body":{"output":{"key":"k","iv":"i"},"rt_cd":"0","msg_cd":"OPSP0002","msg1":"ALREADY IN SUBSCRIBE"},'
        b'"header":{"tr_id":"H0STCNT0","tr_key":"005930","encrypt":"N"}}',
        b'{"header":{"tr_id":"H0STCNT0","tr_id":"H0STASP0","x":[1,-2.5e+3,true,false,null,{"tr_id":"no"}]},'
        b'"body":{"rt_cd":"1","msg_cd":"OPSP0008","msg1":"\\ud83d\\ude00 \\ud800 \\udc00 \\u00e9\\n"}}',
        b'{"header":{"tr_id":"PINGPONG","datetime":"20231004160455"}}',
        b'{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{}}}}}}}}}}}}',
        b"{}",
    ]
    return messages


def answer_seeds(vectors):
    """REST answer bodies behind the status byte FuzzOrderAnswer reads first: every JSON vector, order acks (upper
    and lower case), refusals, OAuth errors, today's orders with the numbers written as KIS writes them."""
    bodies = [
        b'{"rt_cd":"0","msg_cd":"APBK0013","msg1":"ok","output":{"KRX_FWDG_ORD_ORGNO":"06590","ODNO":"0000006555",'
        b'"ORD_TMD":"151059"}}',
        b'{"rt_cd":"0","msg_cd":"40600000","msg1":"ok","output":[{"krx_fwdg_ord_orgno":"00950","odno":"47589",'
        b'"ord_tmd":"134354"}]}',
        b'{"rt_cd":"1","msg_cd":"APBK0344","msg1":"   refused   "}',
        b'{"error_code":"EGW00133","error_description":"one a minute"}',
        b'{"access_token":"t","token_type":"Bearer","expires_in":86400}',
        b'{"output1":[{"ord_dt":"20260608","ord_gno_brno":"06590","odno":"0000000001","orgn_odno":"","pdno":"005930",'
        b'"sll_buy_dvsn_cd":"02","ord_dvsn_cd":"00","ord_qty":"10","ord_unpr":"70000","ord_tmd":"090000",'
        b'"tot_ccld_qty":"4","avg_prvs":"70000.00","cncl_yn":"N","rmn_qty":"6","rjct_qty":"0"},'
        b'{"odno":"0000000003","orgn_odno":"0000000002","pdno":"005930","sll_buy_dvsn_cd":"01","ord_qty":"10",'
        b'"ord_unpr":"69900","tot_ccld_qty":"0","avg_prvs":"0","cncl_yn":"N","rmn_qty":"10","rjct_qty":"0"},{}],'
        b'"output2":{"tot_ord_qty":"20"},"rt_cd":"0","msg_cd":"KIOK0000","msg1":"done"}',
        b'{"output":[{"odno":"5","pdno":"005930","sll_buy_dvsn_cd":"02","ord_qty":"1.00","ord_unpr":"70000",'
        b'"psbl_qty":"1","avg_prvs":"1e3"}],"rt_cd":"0"}',
    ]
    if vectors and os.path.isdir(vectors):
        bodies += [open(os.path.join(vectors, n), "rb").read() for n in sorted(os.listdir(vectors)) if n.endswith(".json")]
    return [bytes([i % 4]) + body for i, body in enumerate(bodies)]


def capture_file(records, blocks, index=True, checksum=True, note=b"fuzz seed"):
    """A version-1 capture (captures/README.md) of `records` [(kind, localNs, bytes)] cut into `blocks` frames."""
    import zstandard

    def string(b):
        return struct.pack("<H", len(b)) + b

    body = struct.pack("<Iq", 0, 1_780_886_907_000_000_000) + string(b"sim") + struct.pack("<H", 1) \
        + string(b"005930") + struct.pack("<H", 2) + string(b"H0STCNT0") + string(b"H0STASP0") \
        + struct.pack("<I", len(note)) + note
    out = b"KTCAPT\r\n" + struct.pack("<HI", 1, len(body)) + body
    compressor = zstandard.ZstdCompressor(level=3, write_checksum=checksum, write_content_size=True)
    per = max(1, -(-len(records) // blocks))
    entries = []
    for start in range(0, len(records), per):
        group = records[start:start + per]
        raw = b"".join(struct.pack("<BqI", k, t, len(b)) + b for k, t, b in group)
        frame = compressor.compress(raw)
        entries.append((group[0][1], max(t for _, t, _ in group), len(out), len(group), len(frame)))
        out += frame
    if index:
        content = b"".join(struct.pack("<qqQII", *e) for e in entries)
        content += struct.pack("<IIQQ", len(entries), 0, len(records), len(out)) + b"KTCIDX\r\n"
        out += struct.pack("<II", 0x184D2A5B, len(content)) + content
    return out


def capture_seeds(vectors):
    """Small captures of KIS lines: finished and unfinished, with and without zstd's checksum (without it, changed
    bytes reach the record parser), cut mid-frame, with a block damaged, with times going back."""
    lines = [m for m in kis_messages(vectors) + HAND_MADE_KIS if b"\n" not in m and len(m) < 300][:24]
    t0 = 1_780_886_907_000_000_000
    records = [(1, t0, b"")] + [(0, t0 + 1_000_000 * (i + 1), line) for i, line in enumerate(lines)] \
        + [(2, t0 + 90_000_000, b"closed")]
    back = [(k, t0 - 5_000 * i if i % 3 == 0 else t, b) for i, (k, t, b) in enumerate(records)]
    seeds = []
    for blocks in (1, 3):
        for checksum in (True, False):
            finished = capture_file(records, blocks, index=True, checksum=checksum)
            unfinished = capture_file(records, blocks, index=False, checksum=checksum)
            seeds += [finished, unfinished, unfinished[:-7]]
    damaged = bytearray(capture_file(records, 3))
    damaged[len(damaged) // 2] ^= 0xFF
    seeds += [bytes(damaged), capture_file(back, 3, index=False), capture_file(records[:2], 1)]
    return seeds


def main():
    targets = {
        "websocket": websocket_seeds, "feed": feed_seeds, "http": http_seeds, "control": control_seeds,
        "answer": answer_seeds, "capture": capture_seeds,
    }
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in targets:
        sys.exit(__doc__)
    target, out = sys.argv[1], sys.argv[2]
    vectors = sys.argv[3] if len(sys.argv) == 4 else None
    seeds = targets[target](vectors)
    os.makedirs(out, exist_ok=True)
    written = set()
    for seed in seeds:
        name = hashlib.sha1(seed).hexdigest()
        if name not in written:
            with open(os.path.join(out, name), "wb") as f:
                f.write(seed)
            written.add(name)
    print(len(written))


if __name__ == "__main__":
    main()
