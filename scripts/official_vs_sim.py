"""Calls the official KIS samples against `kistick sim`, and runs the samples' WebSocket parsing over the real frames
in Tests/Fixtures/kis. Run through scripts/official-vs-sim, which sets HOME to a folder holding the only file that
differs from a KIS user's setup: ~/KIS/config/kis_devlp.yaml, the samples' own template with the simulator's hosts
and made-up keys. Nothing of the samples is changed or copied; they are imported from the checkout.
"""

import asyncio
import contextlib
import io
import json
import logging
import os
import sys
import threading
import time
import urllib.request

import pandas as pd

MODE = os.environ["MODE"]  # real | paper
SIM = json.loads(os.environ["SIM"])
FIXTURES = os.environ["FIXTURES"]
sys.path[:0] = [os.getcwd(), os.path.dirname(os.getcwd())]

import kis_auth as ka  # noqa: E402  (the samples' own module, from the checkout)
from domestic_stock_functions import (  # noqa: E402
    inquire_asking_price_exp_ccn,
    inquire_balance,
    inquire_ccnl,
    inquire_daily_ccld,
    inquire_daily_itemchartprice,
    inquire_daily_price,
    inquire_member,
    inquire_price,
    inquire_psbl_order,
    inquire_psbl_sell,
    inquire_time_dailychartprice,
    order_cash,
    order_rvsecncl,
    search_stock_info,
)
from domestic_stock_functions_ws import asking_price_krx, ccnl_krx, ccnl_notice  # noqa: E402

# The samples' modules set the root logger up to print INFO and their errors; this script reports what matters.
for handler in logging.getLogger().handlers:
    handler.setLevel(logging.CRITICAL + 1)

SERVER = "prod" if MODE == "real" else "vps"
ENV = "real" if MODE == "real" else "demo"
CODE = "005930"
results = []


# The samples print as they go (error bodies, PINGPONGs); that goes to a buffer, shown only when something fails,
# and this script's own lines go to the real stdout.
chatter = io.StringIO()
sys.stdout = chatter


def say(line):
    print(line, file=sys.__stdout__, flush=True)


def check(name, ok, detail):
    results.append((name, ok))
    say(("PASS " if ok else "FAIL ") + name + ": " + detail)


def paced(call):
    """Calls `call` no sooner than KIS's per-second budget allows after the previous call: the samples do not pace
    their callers, and paper allows 2 calls a second (real 20), so back-to-back calls would draw EGW00201."""
    global last_call
    gap = 0.55 if MODE == "paper" else 0.06
    time.sleep(max(0.0, last_call + gap - time.monotonic()))
    try:
        return call()
    finally:
        last_call = time.monotonic()


last_call = 0.0


def quietly(call):
    """Runs `call`, returning its value and what it printed (the samples print KIS's error bodies)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        value = call()
    return value, out.getvalue()


def tick(price):
    for bound, step in ((2_000, 1), (5_000, 5), (20_000, 10), (50_000, 50), (200_000, 100), (500_000, 500)):
        if price < bound:
            return step
    return 1_000


def refused_as_kis_refuses(name, call, code="MCA00124"):
    """A real-host-only API on the paper host: KIS answers HTTP 500 with `code`, the sample returns nothing."""
    value, printed = quietly(lambda: paced(call))
    empty = all(getattr(v, "empty", True) for v in (value if isinstance(value, tuple) else (value,)))
    check(
        name,
        empty and code in printed,
        f"refused on the paper host: {printed.strip().splitlines()[0][:110] if printed.strip() else 'nothing printed'}",
    )


# --- REST ---------------------------------------------------------------------------------------------------------

state = json.load(urllib.request.urlopen(SIM["rest"] + "/sim/state"))
today = state["market_time"][:8]

_, printed = quietly(lambda: ka.auth(svr=SERVER))
check(
    "token (tokenP, kis_auth.auth)",
    "authorization" in ka._base_headers,
    (
        f"Bearer token of {len(ka._base_headers.get('authorization', '')) - 7} characters"
        if "authorization" in ka._base_headers
        else printed.strip()
    ),
)
env = ka.getTREnv()

price = paced(lambda: inquire_price(env_dv=ENV, fid_cond_mrkt_div_code="J", fid_input_iscd=CODE))
last = int(price["stck_prpr"][0]) if not price.empty else 0
check("price (inquire_price)", last > 0, f"{CODE} at {last}, tick {price['aspr_unit'][0] if not price.empty else '?'}")

start = str(int(today[:4]) - 1) + today[4:]
header, bars = paced(
    lambda: inquire_daily_itemchartprice(
        env_dv=ENV,
        fid_cond_mrkt_div_code="J",
        fid_input_iscd=CODE,
        fid_input_date_1=start,
        fid_input_date_2=today,
        fid_period_div_code="D",
        fid_org_adj_prc="1",
    )
)
check(
    "daily bars (inquire_daily_itemchartprice)",
    len(bars) > 0,
    f"{len(bars)} rows, newest {bars['stck_bsop_date'][0] if len(bars) else '?'}",
)

holdings, summary = paced(
    lambda: inquire_balance(
        env_dv=ENV,
        cano=env.my_acct,
        acnt_prdt_cd=env.my_prod,
        afhr_flpr_yn="N",
        inqr_dvsn="01",
        unpr_dvsn="01",
        fund_sttl_icld_yn="N",
        fncg_amt_auto_rdpt_yn="N",
        prcs_dvsn="00",
    )
)
cash = int(summary["dnca_tot_amt"][0]) if not summary.empty else 0
check("balance (inquire_balance)", cash > 0, f"deposit {cash:,} KRW, {len(holdings)} holdings")

buyable = paced(
    lambda: inquire_psbl_order(
        env_dv=ENV,
        cano=env.my_acct,
        acnt_prdt_cd=env.my_prod,
        pdno=CODE,
        ord_unpr=str(last),
        ord_dvsn="01",
        cma_evlu_amt_icld_yn="N",
        ovrs_icld_yn="N",
    )
)
check(
    "buyable amount (inquire_psbl_order)",
    not buyable.empty and int(buyable["nrcvb_buy_qty"][0]) > 0,
    (f"{buyable['nrcvb_buy_qty'][0]} shares for {buyable['ord_psbl_cash'][0]} KRW" if not buyable.empty else "empty"),
)

resting = (last * 97 // 100) // tick(last) * tick(last)
order = paced(
    lambda: order_cash(
        env_dv=ENV,
        ord_dv="buy",
        cano=env.my_acct,
        acnt_prdt_cd=env.my_prod,
        pdno=CODE,
        ord_dvsn="00",
        ord_qty="1",
        ord_unpr=str(resting),
        excg_id_dvsn_cd="KRX",
    )
)
number = order["ODNO"][0] if not order.empty else ""
check("resting limit order (order_cash)", bool(number), f"order {number} for 1 share at {resting}")

cancel = (
    pd.DataFrame()
    if order.empty
    else paced(
        lambda: order_rvsecncl(
            env_dv=ENV,
            cano=env.my_acct,
            acnt_prdt_cd=env.my_prod,
            krx_fwdg_ord_orgno=order["KRX_FWDG_ORD_ORGNO"][0] if not order.empty else "",
            orgn_odno=number,
            ord_dvsn="00",
            rvse_cncl_dvsn_cd="02",
            ord_qty="1",
            ord_unpr="0",
            qty_all_ord_yn="Y",
            excg_id_dvsn_cd="KRX",
        )
    )
)
check("its cancel (order_rvsecncl)", not cancel.empty, f"cancel order {cancel['ODNO'][0] if not cancel.empty else '?'}")

orders, totals = paced(
    lambda: inquire_daily_ccld(
        env_dv=ENV,
        pd_dv="inner",
        cano=env.my_acct,
        acnt_prdt_cd=env.my_prod,
        inqr_strt_dt=today,
        inqr_end_dt=today,
        sll_buy_dvsn_cd="00",
        ccld_dvsn="00",
        inqr_dvsn="00",
        inqr_dvsn_3="00",
    )
)
listed = set(orders["odno"]) if not orders.empty else set()
check(
    "today's orders (inquire_daily_ccld)",
    number in listed and len(listed) >= 2,
    f"{len(orders)} rows: the order and its cancel" if number in listed else f"{len(orders)} rows",
)

book, outlook = paced(lambda: inquire_asking_price_exp_ccn(env_dv=ENV, fid_cond_mrkt_div_code="J", fid_input_iscd=CODE))
check(
    "REST book (inquire_asking_price_exp_ccn)",
    not book.empty and int(book["askp1"][0]) > int(book["bidp1"][0]) > 0,
    (
        f"{book['bidp1'][0]} / {book['askp1'][0]}, expected-call code {outlook['antc_mkop_cls_code'][0]}"
        if not book.empty
        else "empty"
    ),
)

tape = paced(lambda: inquire_ccnl(env_dv=ENV, fid_cond_mrkt_div_code="J", fid_input_iscd=CODE))
check(
    "latest prints (inquire_ccnl)",
    len(tape) > 0,
    (
        f"{len(tape)} prints, newest {tape['stck_cntg_hour'][0]} {tape['stck_prpr'][0]} strength {tape['tday_rltv'][0]}"
        if len(tape)
        else "none"
    ),
)

days = paced(
    lambda: inquire_daily_price(
        env_dv=ENV, fid_cond_mrkt_div_code="J", fid_input_iscd=CODE, fid_period_div_code="D", fid_org_adj_prc="1"
    )
)
check(
    "daily prices (inquire_daily_price)",
    len(days) == 30,
    f"{len(days)} rows, newest {days['stck_bsop_date'][0] if len(days) else '?'}",
)

members = paced(lambda: inquire_member(env_dv=ENV, fid_cond_mrkt_div_code="J", fid_input_iscd=CODE))
check(
    "members (inquire_member)",
    not members.empty and members["seln_mbcr_name1"][0] != "",
    f"top seller {members['seln_mbcr_name1'][0]} {members['seln_mbcr_rlim1'][0]} %" if not members.empty else "empty",
)

yesterday = bars["stck_bsop_date"][1] if len(bars) > 1 else today
if MODE == "real":
    head, minutes = paced(
        lambda: inquire_time_dailychartprice(
            fid_cond_mrkt_div_code="J", fid_input_iscd=CODE, fid_input_hour_1="130000", fid_input_date_1=yesterday
        )
    )
    check(
        "earlier day's minute bars (inquire_time_dailychartprice)",
        len(minutes) > 0,
        (
            f"{len(minutes)} bars of {yesterday}, "
            f"{minutes['stck_cntg_hour'].iloc[-1]}–{minutes['stck_cntg_hour'].iloc[0]}"
            if len(minutes)
            else "none"
        ),
    )
    info = paced(lambda: search_stock_info(prdt_type_cd="300", pdno=CODE))
    check(
        "listing (search_stock_info)",
        info is not None and not info.empty,
        f"{info['prdt_abrv_name'][0]} {info['std_pdno'][0]}" if info is not None and not info.empty else "empty",
    )
else:
    refused_as_kis_refuses(
        "earlier day's minute bars (inquire_time_dailychartprice)",
        lambda: inquire_time_dailychartprice(
            fid_cond_mrkt_div_code="J", fid_input_iscd=CODE, fid_input_hour_1="130000", fid_input_date_1=yesterday
        ),
    )
    refused_as_kis_refuses("listing (search_stock_info)", lambda: search_stock_info(prdt_type_cd="300", pdno=CODE))

# --- WebSocket ----------------------------------------------------------------------------------------------------


def symptoms(frames):
    """What the samples' `KISWebSocket` makes of data frames, by TR: (frames, multi-record frames read as one row
    holding the last record, book frames whose MKSC_SHRN_ISCD column holds ASKP1)."""
    seen = {"H0STCNT0": [0, 0, 0], "H0STASP0": [0, 0, 0]}
    for raw, frame in frames:
        _, tr, count, payload = raw.split("|", 3)
        if tr not in seen:
            continue
        fields = payload.split("^")
        seen[tr][0] += 1
        n = int(count)
        if tr == "H0STCNT0" and n > 1:
            last = fields[-46:]
            seen[tr][1] += (
                len(frame) == 1
                and frame["MKSC_SHRN_ISCD"].iloc[0] == last[0]
                and frame["STCK_CNTG_HOUR"].iloc[0] == last[1]
                and str(frame["VI_STND_PRC"].iloc[0]) == last[45]
            )
        if tr == "H0STASP0":
            seen[tr][2] += str(frame["MKSC_SHRN_ISCD"].iloc[0]) == fields[3]
    return seen


class Replay:
    """The frames of a recording, served to the samples' subscriber as a websocket that delivers them."""

    def __init__(self, lines):
        self.lines = iter(lines)

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return next(self.lines)
        except StopIteration:
            raise StopAsyncIteration

    async def pong(self, data):
        pass


def through_samples(lines):
    """Runs recorded frames through the samples' own KISWebSocket subscriber; returns (raw, DataFrame) pairs."""
    ka.add_data_map(tr_id="H0STCNT0", columns=ccnl_krx("1", CODE)[1])
    ka.add_data_map(tr_id="H0STASP0", columns=asking_price_krx("1", CODE)[1])
    parsed = []
    replay = ka.KISWebSocket(api_url="/tryitout")
    replay.on_result = lambda ws, tr, df, dm: parsed.append(df)
    replay.result_all_data = False
    asyncio.run(replay._KISWebSocket__subscriber(Replay(lines)))
    return list(zip(lines, parsed))


_, printed = quietly(lambda: paced(lambda: ka.auth_ws(svr=SERVER)))
approval = ka._base_headers_ws.get("approval_key", "")
check("approval key (kis_auth.auth_ws)", bool(approval), f"{len(approval)} characters" if approval else printed.strip())

live = []  # (raw frame, DataFrame) as the samples' KISWebSocket delivered them
notices = []
raw_frames = []
lock = threading.Lock()


def on_result(ws, tr_id, df, data_map):
    with lock:
        if tr_id in ("H0STCNI0", "H0STCNI9"):
            notices.append(df)
        else:
            live.append((tr_id, df))


# The samples log each received message at INFO; keep the raw frames to compare with what on_result got.
class Keep(logging.Handler):
    def emit(self, record):
        message = record.getMessage()
        if message.startswith("received message >> 0|"):
            with lock:
                raw_frames.append(message[len("received message >> ") :])


logging.getLogger().addHandler(Keep())
logging.getLogger().setLevel(logging.INFO)
kws = ka.KISWebSocket(api_url="/tryitout")
kws.subscribe(request=ccnl_krx, data=[CODE, "000660"], kwargs={"env_dv": ENV})
kws.subscribe(request=asking_price_krx, data=[CODE, "000660"], kwargs={"env_dv": ENV})
kws.subscribe(request=ccnl_notice, data=[env.my_htsid], kwargs={"env_dv": ENV})
threading.Thread(target=lambda: kws.start(on_result=on_result), daemon=True).start()
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    with lock:
        trades = [df for tr, df in live if tr == "H0STCNT0"]
        books = [df for tr, df in live if tr == "H0STASP0"]
        multi = sum(1 for raw in raw_frames if raw.startswith("0|H0STCNT0|") and int(raw.split("|")[2]) > 1)
    if trades and books and multi >= 1:
        break
    time.sleep(0.2)

filled = paced(
    lambda: order_cash(
        env_dv=ENV,
        ord_dv="buy",
        cano=env.my_acct,
        acnt_prdt_cd=env.my_prod,
        pdno=CODE,
        ord_dvsn="01",
        ord_qty="1",
        ord_unpr="0",
        excg_id_dvsn_cd="KRX",
    )
)
fill_number = filled["ODNO"][0] if not filled.empty else ""
deadline = time.monotonic() + 20
fill = None
while time.monotonic() < deadline and fill is None:
    with lock:
        for df in notices:
            if df["CNTG_YN"].iloc[0] == "2" and df["ODER_NO"].iloc[0] == fill_number:
                fill = df
    time.sleep(0.1)
check(
    "fill notice decrypted by aes_cbc_base64_dec (ccnl_notice)",
    fill is not None,
    (
        f"order {fill_number}: {fill['CNTG_QTY'].iloc[0]} shares at {fill['CNTG_UNPR'].iloc[0]}, "
        f"{len(notices)} notices in all"
        if fill is not None
        else f"{len(notices)} notices, no fill of order {fill_number}"
    ),
)

# The share just bought is what there is to sell.
if MODE == "real":
    sellable = paced(lambda: inquire_psbl_sell(cano=env.my_acct, acnt_prdt_cd=env.my_prod, pdno=CODE))
    held = (
        sellable is not None
        and not sellable.empty
        and sellable["cblc_qty"][0] == "1"
        and sellable["ord_psbl_qty"][0] == "1"
    )
    check(
        "sellable quantity (inquire_psbl_sell)",
        held,
        (
            f"held {sellable['cblc_qty'][0]}, sellable {sellable['ord_psbl_qty'][0]}"
            if sellable is not None and not sellable.empty
            else "empty"
        ),
    )
else:
    refused_as_kis_refuses(
        "sellable quantity (inquire_psbl_sell)",
        lambda: inquire_psbl_sell(cano=env.my_acct, acnt_prdt_cd=env.my_prod, pdno=CODE),
    )

with lock:
    delivered = [raw for raw in raw_frames if raw.startswith("0|H0STCNT0|") or raw.startswith("0|H0STASP0|")]
    frames = list(zip(delivered, [df for _, df in live]))
sim = symptoms(frames)
real_lines = []
for name in ("hoga-ops_h0stcnt0_20260608_first4frames.txt", "hoga-ops_h0stasp0_20260608_first5frames.txt"):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        real_lines += [line.strip() for line in f if line.startswith("0|")]
real = symptoms(through_samples(real_lines))
sim_multi = sum(1 for raw, _ in frames if raw.startswith("0|H0STCNT0|") and int(raw.split("|")[2]) > 1)
real_multi = sum(1 for raw in real_lines if raw.startswith("0|H0STCNT0|") and int(raw.split("|")[2]) > 1)
say(
    "SAMPLE BUG trades over the WebSocket (ccnl_krx): multi-record H0STCNT0 frames read as one row holding the last "
    "record: "
    f"simulator {sim['H0STCNT0'][1]} of {sim_multi}, real vectors {real['H0STCNT0'][1]} of {real_multi} "
    f"({sim['H0STCNT0'][0]} trade frames reached on_result)"
)
say(
    "SAMPLE BUG books over the WebSocket (asking_price_krx): 59 column names for 62 fields, so MKSC_SHRN_ISCD holds "
    "ASKP1: "
    f"simulator {sim['H0STASP0'][2]} of {sim['H0STASP0'][0]} frames, "
    f"real vectors {real['H0STASP0'][2]} of {real['H0STASP0'][0]}"
)
same = (
    sim_multi > 0
    and sim["H0STCNT0"][1] == sim_multi
    and real["H0STCNT0"][1] == real_multi > 0
    and sim["H0STASP0"][0] > 0
    and sim["H0STASP0"][2] == sim["H0STASP0"][0]
    and real["H0STASP0"][2] == real["H0STASP0"][0] > 0
)
check(
    "the samples' two WebSocket bugs show identically on the simulator and the real vectors",
    same,
    "every multi-record trade frame and every book frame, on both" if same else "they differ",
)

passed = sum(1 for _, ok in results if ok)
if passed < len(results):
    say("-- what the samples printed (last 30 lines):\n" + "\n".join(chatter.getvalue().splitlines()[-30:]))
say(f"== {MODE}: {passed} of {len(results)} pass")
os._exit(0 if passed == len(results) else 1)
