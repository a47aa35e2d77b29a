"""What scripts/soak and scripts/chaos share: a `kistick sim` process, a `kistick live` engine pointed at it as a
user would point it at a KIS-compatible server, the engine's footprint from /proc, its journal, and the
simulator's own ledger.

Nothing here trades real money: the engine's kis_devlp.yaml holds made-up credentials of KIS's lengths, and
KIS_REST_URL / KIS_WS_URL send it to the simulator on loopback.
"""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The 20 largest catalogued KOSPI names (what scripts/sim-bench subscribes): 40 market-data registrations and the
# notices make KIS's 41.
CODES_20 = ("005930,000660,373220,207940,012450,105560,005380,005935,000270,034020,"
            "068270,329180,035420,055550,028260,012330,042660,005490,086790,032830").split(",")

# PaperMarket.eager (Tests/PaperMarket) and captures/sample-settings.yaml: settings that make the scalper trade
# within seconds of an accelerated market.
EAGER = {
    "entry_interval_seconds": "60", "no_entry_after_open_seconds": "0", "min_strength": "0",
    "min_imbalance": "-1", "max_spread_ticks": "5", "budget_krw": "300000", "cooldown_seconds": "30",
    "time_stop_seconds": "120",
}


def log(message):
    print(time.strftime("%H:%M:%S ") + message, file=sys.stderr, flush=True)


def kistick_binary():
    """$KISTICK if set, else a release build of this checkout (built when needed)."""
    if os.environ.get("KISTICK"):
        return os.path.abspath(os.environ["KISTICK"])
    subprocess.run(["swift", "build", "-c", "release", "--package-path", ROOT, "--product", "kistick"],
                   check=True, stdout=sys.stderr)
    path = subprocess.run(["swift", "build", "-c", "release", "--package-path", ROOT, "--show-bin-path"],
                          check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "kistick")


def machine_load():
    """The 1-, 5- and 15-minute load averages and the core count, to say what a run's figures are worth."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


class Sim:
    """`kistick sim` as its own process, and its /sim control surface."""

    def __init__(self, kistick, codes, speed, seed=1, paper=True, start=None, date=None, extra=()):
        args = [kistick, "sim", "--symbols", ",".join(codes), "--speed", str(speed), "--seed", str(seed)]
        if paper:
            args.append("--paper")
        if start is not None:
            args += ["--start", str(start)]
        if date is not None:
            args += ["--date", str(date)]
        args += list(extra)
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("{"):
            raise RuntimeError(f"kistick sim did not start: {line!r}")
        self.endpoints = json.loads(line)
        self.rest = self.endpoints["rest"]
        self.ws = self.endpoints["ws"]

    def request(self, method, path, body=None, timeout=10):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.rest + path, data=data, method=method,
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read() or b"{}")

    def fault(self, name, **arguments):
        return self.request("POST", "/sim/fault", dict(fault=name, **arguments))

    def state(self):
        return self.request("GET", "/sim/state")

    def ledger(self):
        return self.request("GET", "/sim/ledger")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Footprint:
    """One process's resident memory, threads and open descriptors, from /proc."""

    def __init__(self, pid):
        self.pid = pid

    def sample(self):
        try:
            status = open(f"/proc/{self.pid}/status").read()
            descriptors = len(os.listdir(f"/proc/{self.pid}/fd"))
            fields = open(f"/proc/{self.pid}/stat").read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            return None
        rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) * 1024
        threads = int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return {"rss": rss, "threads": threads, "fds": descriptors, "cpu": cpu}


class Engine:
    """`kistick live` in a home of its own (kis_devlp.yaml, token cache, journal), pointed at `sim`."""

    def __init__(self, kistick, sim, directory, codes=None, settings=None, environment="paper", journal=None,
                 report=None):
        self.kistick = kistick
        self.sim = sim
        self.home = os.path.join(directory, "home")
        self.environment = environment
        self.codes = codes
        self.journal = journal or os.path.join(directory, "journal.sqlite")
        self.report_path = report or os.path.join(directory, "report.json")
        self.settings_path = os.path.join(directory, "settings.yaml")
        self.output_path = os.path.join(directory, "engine.log")
        self.account = "50000001"
        os.makedirs(os.path.join(self.home, "KIS", "config"), exist_ok=True)
        with open(os.path.join(self.home, "KIS", "config", "kis_devlp.yaml"), "w") as file:
            file.write(self.config_text())
        self.cache_path = os.path.join(self.home, "daily-bars.sqlite")
        self.write_settings(settings or {})
        self.process = None
        self.status = {}
        self.last_line = ""
        self.starts = 0
        self.output = open(self.output_path, "a")

    def write_settings(self, settings):
        with open(self.settings_path, "w") as file:
            for key, value in settings.items():
                file.write(f"{key}: {value}\n")

    def config_text(self):
        # Made-up credentials of the lengths KIS issues; the simulator keeps the first secret it sees for a key.
        key, secret = "K" * 36, "S" * 180
        lines = {
            "my_app": key, "my_sec": secret, "paper_app": key, "paper_sec": secret, "my_htsid": "soakuser",
            "my_acct_stock": self.account, "my_acct_future": "00000000", "my_paper_stock": self.account,
            "my_paper_future": "00000000", "my_prod": "01", "prod": "http://127.0.0.1:1", "ops": "ws://127.0.0.1:1",
            "vps": "http://127.0.0.1:1", "vops": "ws://127.0.0.1:1", "my_token": "", "my_agent": "kistick-soak",
        }
        return "".join(f'{name}: "{value}"\n' for name, value in lines.items())

    def start(self, duration=None):
        args = [self.kistick, "live", "--env", self.environment, "--settings", self.settings_path,
                "--journal", self.journal, "--report", self.report_path]
        if self.environment == "real":
            args.append("--yes-real-money")
        if self.codes:
            args += ["--codes", ",".join(self.codes)]
        else:
            args += ["--cache", self.cache_path]
        if duration is not None:
            args += ["--duration", str(duration)]
        environment = dict(os.environ, HOME=self.home, KIS_REST_URL=self.sim.rest, KIS_WS_URL=self.sim.ws)
        if os.path.exists(self.report_path):
            os.remove(self.report_path)
        self.starts += 1
        self.output.write(f"=== start {self.starts} at {time.strftime('%H:%M:%S')}\n")
        self.output.flush()
        # Line-buffered stdout (the status lines come once a second, not in 4 KiB blocks).
        args = ["stdbuf", "-oL"] + args
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=environment, cwd=self.home, bufsize=1)
        self.footprint = Footprint(self.process.pid)
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()

    # The status lines `live` prints once a second when stdout is not a terminal (Sources/kistick/StatusDisplay).
    HEADLINE = re.compile(r"^market (\d{6}) KST\s+(\d+) records/s\s+(\d+) records\s+(\d+) codes\s+reconnects (\d+)")
    DROPS = re.compile(r"^books conflated (\d+)\s+spilled (\d+)\s+lost (\d+)\s+late trades (\d+)")
    ORDERS = re.compile(r"^orders sent (\d+)\s+accepted (\d+)\s+filled (\d+)")

    def _read(self, process):
        for line in process.stdout:
            self.output.write(line)
            self.last_line = line.rstrip()
            if match := self.HEADLINE.match(line):
                self.status.update(market=match[1], rate=int(match[2]), records=int(match[3]),
                                   codes=int(match[4]), reconnects=int(match[5]), seen=time.monotonic())
            elif match := self.DROPS.match(line):
                self.status.update(conflated=int(match[1]), spilled=int(match[2]), lost=int(match[3]),
                                   late=int(match[4]))
            elif match := self.ORDERS.match(line):
                self.status.update(sent=int(match[1]), accepted=int(match[2]), filled=int(match[3]))
        self.output.flush()

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def wait_until_trading(self, codes, timeout=60, stall=15):
        """Until the status line shows `codes` codes subscribed (the engine reconciled, started and registered).
        If that takes longer than `stall` seconds, every thread's stack is written beside the log (gdb), once."""
        began = time.monotonic()
        dumped = False
        while time.monotonic() < began + timeout:
            if not self.running:
                raise RuntimeError(f"the engine exited with {self.process.returncode} ({self.last_line})")
            if self.status.get("codes", 0) >= codes:
                return
            if not dumped and time.monotonic() > began + stall:
                dumped = True
                self.dump_stacks(f"not subscribed after {stall} s")
            time.sleep(0.2)
        raise RuntimeError(f"the engine did not subscribe {codes} codes within {timeout} s; see {self.output_path}")

    def dump_stacks(self, why):
        """Every thread's backtrace (gdb, when installed), into stacks-N.txt beside the engine log."""
        if not shutil.which("gdb"):
            return
        path = os.path.join(os.path.dirname(self.output_path), f"stacks-{self.starts}-{int(time.time())}.txt")
        with open(path, "w") as file:
            file.write(f"{why}\n")
            file.flush()
            subprocess.run(["gdb", "-p", str(self.process.pid), "-batch", "-ex", "thread apply all bt"],
                           stdout=file, stderr=subprocess.STDOUT, timeout=60)
        log(f"engine stacks written to {path} ({why})")

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.status = {}

    def stop(self, timeout=120):
        """SIGTERM (a clean stop: cancel nothing, reconcile, write the report) and the report."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise RuntimeError(f"the engine did not stop within {timeout} s; see {self.output_path}")
        return self.report()

    def report(self):
        try:
            with open(self.report_path) as file:
                return json.load(file)
        except FileNotFoundError:
            return None


class JournalView:
    """The engine's SQLite journal, read beside the running engine (WAL: readers never block its writers)."""

    # TickCore.OrderSide raw values, as the journal stores them.
    SIDES = {1: "sell", 2: "buy"}
    # Orders.OrderState raw values of an order sent, or about to be, whose answer has not come: new, sent, unknown.
    AWAITING = (0, 1, 2)
    # TickCore.OrderIntent.Action.new's raw value; modify and cancel rows name the order they amend in `target`.
    NEW = 0

    def __init__(self, path):
        self.path = path

    @staticmethod
    def code(packed):
        """A SymbolCode column (its six ASCII bytes, little-endian) as text."""
        return int(packed).to_bytes(8, "little").rstrip(b"\0").decode("ascii", "replace")

    def orders(self):
        if not os.path.exists(self.path):
            return []
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute("SELECT * FROM orders ORDER BY id")]
        finally:
            connection.close()


def account_orders(ledger, environment, account):
    """The account's orders in the simulator's ledger whose numbers KIS gave the client: a new order refused on entry
    (APBK0400, more than the account holds) is numbered in KIS's daily list, but its answer carries no number."""
    return [o for o in ledger["orders"] if o["env"] == environment and o["account"] == account
            and not (o["kind"] == "new" and o["rejected"] == o["quantity"] and o["filled"] == 0)]


def wait_for(condition, timeout, interval=0.2):
    """Polls `condition` until it returns something true or `timeout` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def percentile_line(line):
    """One latency line of the engine's report, in microseconds."""
    return {key: round(line[key] / 1000, 1) for key in ("p50", "p90", "p99", "p999", "max")} | {"count": line["count"]}


def scratch_directory(name):
    return tempfile.mkdtemp(prefix=f"kistick-{name}-")


def fetch_json(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return json.loads(answer.read())
    except (urllib.error.URLError, OSError):
        return None
