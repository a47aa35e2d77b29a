"""Decision → order-request-bytes-written latency of python-kis 2.1.6 against `kistick sim` (real environment).

Usage: SIM='<the simulator's JSON line>' .build-pykis/venv/bin/python scripts/pykis_order_latency.py N

Places 3 unmeasured warm-up orders, then N measured ones: limit BUY, 1 share of 005930, about 3 % under the quote
so that they rest, one every ORDER_GAP_MS (default 100) milliseconds. All of them are cancelled afterwards. Prints
one JSON object on stdout; nanoseconds throughout:

  decision_to_written_ns      from just before `stock.buy(...)` to the return of the last write of the order-cash
                              request (its body): the whole request is in the kernel
  decision_to_first_send_ns   ... to the return of its first write (request line and headers; urllib3 writes the
                              headers and the body with two separate writes)
  call_ns                     from just before `stock.buy(...)` to its return (the answer read and parsed)
  extra_requests_per_order    HTTP requests python-kis made inside `stock.buy` besides the order itself (mean);
                              `extra_request_paths` names them. They count in the two latencies above.

python-kis gets one patch, its host constants (docs/kis-protocol.md §10 item 1), exactly as scripts/python-kis-vs-sim
does. The other permitted patch, the 26-field notice layout, is not applied: this script never opens a WebSocket,
so no notice is parsed. REST_URL overrides the simulator's REST URL (the TLS front of scripts/order-bench); Python
then verifies the server against REQUESTS_CA_BUNDLE, which requests reads itself.

Nothing of python-kis is in this file: it is only imported, from the git-ignored venv.
"""

import http.client
import json
import os
import secrets
import sys
import time
from decimal import Decimal

from pykis import KisAuth, PyKis

sim = json.loads(os.environ["SIM"])
if sim["env"] != "real":
    sys.exit("pykis_order_latency: the simulator must serve the real environment (start it without --paper)")
count = int(sys.argv[1])
gap_seconds = int(os.environ.get("ORDER_GAP_MS", "100")) / 1000
rest_url = os.environ.get("REST_URL", sim["rest"])

# The patch: python-kis imports its host constants by value, so every module holding a copy gets the simulator's.
# Importing PyKis has loaded them all: pykis.__env__ defines REAL_DOMAIN, and pykis.kis, the only user, reads its
# copy on every request, so replacing it now is enough.
for module in list(sys.modules.values()):
    if getattr(module, "__name__", "").startswith("pykis") and hasattr(module, "REAL_DOMAIN"):
        module.REAL_DOMAIN = rest_url

# --- Where the bytes go -------------------------------------------------------------------------------------------
# python-kis → requests → urllib3, whose HTTPConnection inherits `send` from http.client unchanged; `send` hands the
# bytes to `self.sock.sendall`, a plain socket or an ssl.SSLSocket (checked once by also wrapping both sendall
# methods: the same writes, the same sizes, in the same order). When `send` returns, every byte of that write is in
# the kernel (for TLS: encrypted, as TLS records). Wrapping `send` at the class level therefore catches each write
# of each request over both transports with one wrapper.

class Writes:
    """Every request written since the last `clear()`: its request line and the return times of its writes."""

    def __init__(self):
        self.requests = []

    def clear(self):
        self.requests = []

    def record(self, data, started_ns, returned_ns):
        # urllib3 writes the request line and headers in one write, then the body in another; a write that starts
        # with a method therefore starts a new request. (Bodies here are JSON and start with "{".)
        if data.startswith((b"GET ", b"POST ")):
            self.requests.append({"line": bytes(data[: data.index(b"\r\n")]), "writes_ns": [], "started_ns": started_ns})
        self.requests[-1]["writes_ns"].append(returned_ns)


writes = Writes()
original_send = http.client.HTTPConnection.send


def timed_send(self, data):
    # When python-kis's own work ends and the socket's begins (for TLS, encryption is on the socket's side).
    started_ns = time.perf_counter_ns()
    original_send(self, data)
    # Taken before anything else of ours runs, so our bookkeeping is not part of the measurement.
    returned_ns = time.perf_counter_ns()
    writes.record(data, started_ns, returned_ns)


http.client.HTTPConnection.send = timed_send

# --- The account --------------------------------------------------------------------------------------------------
# A fresh app key and account per run: the simulator issues one token per app key a minute (EGW00133), and
# `--rounds` starts this script again within seconds; a fresh account also starts from the same cash every round.
# The simulator accepts any key of 36 characters with a secret of 180; neither is ever printed.
auth = KisAuth(
    id="bench",
    account=f"{secrets.randbelow(10**8):08d}-01",
    appkey=secrets.token_hex(18),
    secretkey=secrets.token_hex(90),
    virtual=False,
)
kis = PyKis(auth, keep_token=False, use_websocket=False)

# python-kis waits inside its own rate limiter (19 requests a second) and calls this before it sleeps. A wait inside
# a measured call would put a sleep into the numbers, so it is counted and refused below.
limiter_waits = 0
limiter_callback = kis._rate_limit_exceeded


def counting_limiter_callback():
    global limiter_waits
    limiter_waits += 1
    limiter_callback()


kis._rate_limit_exceeded = counting_limiter_callback

# kis.stock() fetches search-info (CTPF1604R) once; the stock object keeps it, so a strategy that holds the object
# does not pay for it per order. The quote sets the resting price: 3 % under, on the KRX tick of 100 won (005930
# trades between 50,000 and 200,000 won).
stock = kis.stock("005930")
quote_price = Decimal(stock.quote().price)
tick = 100
price = int(quote_price * Decimal("0.97")) // tick * tick

ORDER_LINE = b"POST /uapi/domestic-stock/v1/trading/order-cash "


def place_one():
    """One order; returns (order, decision→written, decision→first write, call duration, other request lines)."""
    writes.clear()
    waits_before = limiter_waits
    decision_ns = time.perf_counter_ns()
    order = stock.buy(price=price, qty=1)
    returned_ns = time.perf_counter_ns()
    orders = [r for r in writes.requests if r["line"].startswith(ORDER_LINE)]
    # A second order-cash request means python-kis retried (EGW00201): a server round trip would be in the numbers.
    if len(orders) != 1 or limiter_waits != waits_before:
        sys.exit(f"pykis_order_latency: {len(orders)} order requests and {limiter_waits - waits_before} rate-limiter "
                 "waits in one call; raise ORDER_GAP_MS")
    order_writes = orders[0]["writes_ns"]
    others = [r["line"].decode() for r in writes.requests if not r["line"].startswith(ORDER_LINE)]
    return (order, order_writes[-1] - decision_ns, order_writes[0] - decision_ns, returned_ns - decision_ns, others,
            orders[0]["started_ns"] - decision_ns)


placed = []
for _ in range(3):
    placed.append(place_one()[0])
    time.sleep(gap_seconds)

written, first_send, calls, extra_paths, send_started = [], [], [], {}, []
for _ in range(count):
    order, to_written, to_first, call, others, to_started = place_one()
    send_started.append(to_started)
    placed.append(order)
    written.append(to_written)
    first_send.append(to_first)
    calls.append(call)
    for line in others:
        path = line.split(" ")[1].split("?")[0]
        extra_paths[path] = extra_paths.get(path, 0) + 1
    time.sleep(gap_seconds)

# Untimed: leave no resting orders behind for the next contender on the same simulator. Paced like the orders, so
# that python-kis's limiter does not wait (and log a warning for each wait).
for order in placed:
    order.cancel()
    time.sleep(gap_seconds)

print(json.dumps({
    "client": "python-kis",
    "n": count,
    "transport": "https" if rest_url.startswith("https:") else "http",
    "decision_to_written_ns": written,
    "decision_to_first_send_ns": first_send,
    "decision_to_send_started_ns": send_started,
    "call_ns": calls,
    "extra_requests_per_order": sum(extra_paths.values()) / count,
    "extra_request_paths": extra_paths,
}))
