"""The simulated market's statistics beside the same statistics of the real KIS frames in Tests/Fixtures/kis.

Both columns come from the same functions over the same fields, so the calibration can be judged: the real side
parses the recorded H0STCNT0/H0STASP0 frames and answers, the simulated side the frames `kistick sim` pushes to a
WebSocket client subscribed to trades and books of the largest catalogued codes. Run through scripts/market-stats.
"""

import json
import math
import os
import statistics
import sys
import time

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "kis")


def tick(price):
    """The KRX ladder's step at `price` (KOSPI and KOSDAQ share it since 2023-01-25)."""
    for bound, step in ((2_000, 1), (5_000, 5), (20_000, 10), (50_000, 50), (200_000, 100), (500_000, 500)):
        if price < bound:
            return step
    return 1_000


def records(message):
    """(tr, [fields of each record]) of a plaintext data frame `0|TR|NNN|payload`."""
    _, tr, count, payload = message.split("|", 3)
    fields = payload.split("^")
    n = int(count)
    width = len(fields) // n
    return tr, [fields[i * width : (i + 1) * width] for i in range(n)]


# Samsung Electronics' listed shares (the ranking answer's lstn_stcn), to state its sizes in parts per million of
# its market capitalisation: the real frames are from 2026 at 314,000 won, the simulator starts from 2025's price.
SAMSUNG = "005930"
SAMSUNG_SHARES = 5_919_637_922


class Market:
    """What the statistics need from a stream of frames."""

    def __init__(self):
        self.samsung_frames = []
        self.samsung_prints = []  # (HHMMSS, value in ppm of the market cap)
        self.samsung_levels = []  # level values in ppm of the market cap
        self.frame_sizes = []
        self.spreads = []
        self.touch = []  # each continuous book's best-level quantities ÷ the median of its 20 levels
        self.deep = []  # the same for levels 2–10
        self.level_values = []  # KRW at each level
        self.sizes = []  # (shares, KRW) of continuous prints
        self.strength = {}  # code -> last CTTR
        self.minute_close = {}  # code -> {HHMM: last price}
        self.first_time = None
        self.last_time = None
        self.interrupted = set()  # codes whose book showed HOUR_CLS_CODE C
        self.sides = {"1": 0, "5": 0}

    def add(self, message):
        tr, rows = records(message)
        if tr == "H0STCNT0":
            self.frame_sizes.append(len(rows))
            if rows[0][0] == SAMSUNG:
                self.samsung_frames.append(len(rows))
            for f in rows:
                if f[0] == SAMSUNG and f[21] in ("1", "5"):
                    self.samsung_prints.append((f[1], 1e6 * int(f[12]) / SAMSUNG_SHARES))
                code, hhmmss, price, volume = f[0], f[1], int(f[2]), int(f[12])
                self.first_time = min(self.first_time or hhmmss, hhmmss)
                self.last_time = max(self.last_time or hhmmss, hhmmss)
                if f[21] in ("1", "5"):
                    self.sizes.append((volume, volume * price))
                    self.sides[f[21]] += volume
                    self.strength[code] = float(f[18])
                self.minute_close.setdefault(code, {})[hhmmss[:4]] = price
        elif tr == "H0STASP0":
            for f in rows:
                if f[2] == "C":
                    self.interrupted.add(f[0])
                if f[2] != "0":
                    continue
                ask, bid = int(f[3]), int(f[13])
                if ask > 0 and bid > 0:
                    self.spreads.append(round((ask - bid) / tick(ask)))
                levels = [(i, int(f[3 + i]), int(f[23 + i])) for i in range(10)]
                levels += [(i, int(f[13 + i]), int(f[33 + i])) for i in range(10)]
                levels = [level for level in levels if level[1] > 0]
                if not levels:
                    continue
                median = statistics.median(q for _, _, q in levels)
                for i, price, quantity in levels:
                    (self.touch if i == 0 else self.deep).append(quantity / median)
                    self.level_values.append(quantity * price)
                    if f[0] == SAMSUNG:
                        self.samsung_levels.append(1e6 * quantity / SAMSUNG_SHARES)

    def minute_returns(self):
        """Log returns, in %, between the last prints of consecutive minutes of each code."""
        returns = []
        for closes in self.minute_close.values():
            minutes = sorted(closes)
            for a, b in zip(minutes, minutes[1:]):
                returns.append(100 * math.log(closes[b] / closes[a]))
        return returns


def quantiles(values, points):
    if not values:
        return None
    ordered = sorted(values)
    return [ordered[min(len(ordered) - 1, int(p * len(ordered)))] for p in points]


def fmt(values, points, digits=0):
    q = quantiles(values, points)
    if q is None:
        return "n/a"
    return " / ".join(f"{v:,.{digits}f}" for v in q)


def share(values, predicate):
    return f"{100 * sum(1 for v in values if predicate(v)) / len(values):.0f} %" if values else "n/a"


def rows(real, sim, real_daily, sim_daily):
    """(statistic, real, simulated) rows."""
    out = []
    out.append(
        ("span of the frames (HHMMSS)", f"{real.first_time}–{real.last_time}", f"{sim.first_time}–{sim.last_time}")
    )
    out.append(
        (
            "trade frames / trade records",
            f"{len(real.frame_sizes)} / {sum(real.frame_sizes)}",
            f"{len(sim.frame_sizes)} / {sum(sim.frame_sizes)}",
        )
    )
    p = (0.5, 0.9, 1.0)
    out.append(("records per trade frame p50 / p90 / max", fmt(real.frame_sizes, p), fmt(sim.frame_sizes, p)))
    out.append(
        (
            "records per trade frame, mean",
            f"{statistics.mean(real.frame_sizes):.2f}",
            f"{statistics.mean(sim.frame_sizes):.2f}",
        )
    )
    out.append(
        (
            "005930: records per trade frame, mean",
            f"{statistics.mean(real.samsung_frames):.2f}",
            f"{statistics.mean(sim.samsung_frames):.2f}" if sim.samsung_frames else "n/a",
        )
    )
    out.append(("005930: prints a second", per_second(real.samsung_prints), per_second(sim.samsung_prints)))
    out.append(
        (
            "005930: print value, ppm of market cap p50 / p90 / p99",
            fmt([v for _, v in real.samsung_prints], (0.5, 0.9, 0.99), 3),
            fmt([v for _, v in sim.samsung_prints], (0.5, 0.9, 0.99), 3),
        )
    )
    out.append(
        (
            "005930: level value, ppm of market cap p10 / p50 / p90",
            fmt(real.samsung_levels, (0.1, 0.5, 0.9), 2),
            fmt(sim.samsung_levels, (0.1, 0.5, 0.9), 2),
        )
    )
    out.append(
        (
            "book spread = 1 tick / 2 / 3+",
            " / ".join(share(real.spreads, f) for f in (lambda s: s == 1, lambda s: s == 2, lambda s: s >= 3)),
            " / ".join(share(sim.spreads, f) for f in (lambda s: s == 1, lambda s: s == 2, lambda s: s >= 3)),
        )
    )
    q = (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
    out.append(
        (
            "print size, shares p10/p25/p50/p75/p90/p99",
            fmt([s for s, _ in real.sizes], q),
            fmt([s for s, _ in sim.sizes], q),
        )
    )
    out.append(
        (
            "print size, KRW thousands p10/p50/p90/p99",
            fmt([v / 1e3 for _, v in real.sizes], (0.1, 0.5, 0.9, 0.99)),
            fmt([v / 1e3 for _, v in sim.sizes], (0.1, 0.5, 0.9, 0.99)),
        )
    )
    out.append(("print size mean ÷ median", ratio([s for s, _ in real.sizes]), ratio([s for s, _ in sim.sizes])))
    out.append(
        (
            "best level ÷ its book's median level, p25 / p75",
            fmt(real.touch, (0.25, 0.75), 2),
            fmt(sim.touch, (0.25, 0.75), 2),
        )
    )
    out.append(("levels 2–10 ÷ book median, p10 / p90", fmt(real.deep, (0.1, 0.9), 2), fmt(sim.deep, (0.1, 0.9), 2)))
    out.append(
        (
            "level value, KRW millions p10 / p50 / p90",
            fmt([v / 1e6 for v in real.level_values], (0.1, 0.5, 0.9)),
            fmt([v / 1e6 for v in sim.level_values], (0.1, 0.5, 0.9)),
        )
    )
    out.append(
        (
            "trade strength across codes min / median / max",
            fmt(list(real.strength.values()), (0, 0.5, 1.0), 1) + f" ({len(real.strength)} code)",
            fmt(list(sim.strength.values()), (0, 0.5, 1.0), 1) + f" ({len(sim.strength)} codes)",
        )
    )
    rr, sr = real.minute_returns(), sim.minute_returns()
    q = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
    out.append(
        (
            "1-minute returns % p1/p5/p25/p50/p75/p95/p99",
            fmt(rr, q, 3) if len(rr) >= 20 else f"n/a ({len(rr)} returns: the frames span {span(real)})",
            fmt(sr, q, 3) + f" ({len(sr)} returns)",
        )
    )
    out.append(
        (
            "1-minute |return| mean, %",
            f"{statistics.mean(abs(r) for r in rr):.3f}" if len(rr) >= 20 else "n/a",
            f"{statistics.mean(abs(r) for r in sr):.3f}",
        )
    )
    out.append(("codes with a volatility interruption", "n/a", str(len(sim.interrupted))))
    out.append(("daily change across codes % min / median / max (30 codes)", real_daily[0], sim_daily[0]))
    out.append(("high − low ÷ previous close, %, 005930", real_daily[1], sim_daily[1]))
    return out


def per_second(prints):
    """Prints a second between the first and the last print's second (inclusive)."""
    if not prints:
        return "n/a"
    seconds = lambda t: int(t[:2]) * 3600 + int(t[2:4]) * 60 + int(t[4:])
    return f"{len(prints) / (seconds(prints[-1][0]) - seconds(prints[0][0]) + 1):.1f}"


def ratio(values):
    return f"{statistics.mean(values) / statistics.median(values):.1f}" if values else "n/a"


def span(market):
    a, b = market.first_time, market.last_time
    seconds = lambda t: int(t[:2]) * 3600 + int(t[2:4]) * 60 + int(t[4:])
    return f"{seconds(b) - seconds(a)} s"


def real_market():
    market = Market()
    for name in ("hoga-ops_h0stcnt0_20260608_first4frames.txt", "hoga-ops_h0stasp0_20260608_first5frames.txt"):
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
            for line in f:
                if line.startswith("0|"):
                    market.add(line.strip())
    ranking = json.load(open(os.path.join(FIXTURES, "real_ranking_market_cap_FHPST01740000_20250725.json")))
    changes = [float(r["prdy_ctrt"]) for r in ranking["output"]]
    price = json.load(open(os.path.join(FIXTURES, "real_inquire_price_005930_20250725.json")))["output"]
    day_range = 100 * (int(price["stck_hgpr"]) - int(price["stck_lwpr"])) / int(price["stck_sdpr"])
    return market, (
        fmt(changes, (0, 0.5, 1.0), 2) + " (2025-07-25, mid-session)",
        f"{day_range:.2f} (2025-07-25, mid-session)",
    )


def simulated_market(sim, minutes, speed):
    import requests
    import websocket

    appkey, secret = "M" * 36, "m" * 180
    token = requests.post(
        sim["rest"] + "/oauth2/tokenP", json={"grant_type": "client_credentials", "appkey": appkey, "appsecret": secret}
    ).json()["access_token"]
    headers = {"authorization": "Bearer " + token, "appkey": appkey, "appsecret": secret, "custtype": "P"}
    ranking = requests.get(
        sim["rest"] + "/uapi/domestic-stock/v1/ranking/market-cap",
        headers={**headers, "tr_id": "FHPST01740000"},
        params={
            "FID_COND_MRKT_DIV_CODE": "J",
            "FID_COND_SCR_DIV_CODE": "20174",
            "FID_DIV_CLS_CODE": "0",
            "FID_INPUT_ISCD": "0000",
            "FID_TRGT_CLS_CODE": "0",
            "FID_TRGT_EXLS_CLS_CODE": "0",
            "FID_INPUT_PRICE_1": "",
            "FID_INPUT_PRICE_2": "",
            "FID_VOL_CNT": "",
        },
    ).json()["output"]
    every = [row["mksc_shrn_iscd"] for row in ranking]
    # 20 codes × 2 TRs: 40 of KIS's 41 registrations.
    codes = every[:20]
    approval = requests.post(
        sim["rest"] + "/oauth2/Approval",
        json={"grant_type": "client_credentials", "appkey": appkey, "secretkey": secret},
    ).json()["approval_key"]
    ws = websocket.create_connection(sim["ws"] + "/tryitout", skip_utf8_validation=True)
    for tr in ("H0STCNT0", "H0STASP0"):
        for code in codes:
            ws.send(
                json.dumps(
                    {
                        "header": {"approval_key": approval, "custtype": "P", "tr_type": "1", "content-type": "utf-8"},
                        "body": {"input": {"tr_id": tr, "tr_key": code}},
                    }
                )
            )
    market = Market()
    end = time.monotonic() + minutes * 60 / speed
    while time.monotonic() < end:
        message = ws.recv()
        if message.startswith("{"):
            if "PINGPONG" in message:
                ws.send(message)
            continue
        market.add(message)
    ws.close()
    changes, day_range = [], "n/a"
    for code in every:
        time.sleep(0.06)  # 20 calls a second on the real host
        output = requests.get(
            sim["rest"] + "/uapi/domestic-stock/v1/quotations/inquire-price",
            headers={**headers, "tr_id": "FHKST01010100"},
            params={"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": code},
        ).json()["output"]
        changes.append(float(output["prdy_ctrt"]))
        if code == "005930":
            day_range = f"{100 * (int(output['stck_hgpr']) - int(output['stck_lwpr'])) / int(output['stck_sdpr']):.2f}"
    return market, (
        fmt(changes, (0, 0.5, 1.0), 2) + f" (at {market.last_time})",
        day_range + f" (at {market.last_time})",
    )


def main():
    sim = json.loads(os.environ["SIM"])
    minutes, speed = float(os.environ["MINUTES"]), float(os.environ["SPEED"])
    real, real_daily = real_market()
    simulated, sim_daily = simulated_market(sim, minutes, speed)
    table = rows(real, simulated, real_daily, sim_daily)
    width = max(len(r[0]) for r in table)
    real_width = max(len(r[1]) for r in table)
    print(
        f"{'statistic':<{width}}  {'real (Tests/Fixtures/kis)':<{real_width}}  simulated (seed {os.environ['SEED']}, "
        f"{minutes:g} min from {os.environ['START']}, 20 largest codes)"
    )
    for name, r, s in table:
        print(f"{name:<{width}}  {r:<{real_width}}  {s}")


if __name__ == "__main__":
    sys.exit(main())
