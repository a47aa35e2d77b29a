"""Summary of scripts/order-bench: latency percentiles per client and the ratios between clients.

Usage: python3 scripts/order_bench_summary.py RESULTS_DIR TRANSPORT

RESULTS_DIR holds round-<r>-<contender>.json files, each with one or more JSON objects carrying "client" and
"decision_to_written_ns" (python-kis adds call_ns, decision_to_first_send_ns and extra_requests_per_order).

Percentiles pool every round's orders. Ratios do not: the machine's speed drifts between rounds, so each ratio is
taken between the p50s of one round, where the clients ran minutes apart at most, and the rounds' ratios are
then given as their median and range.
"""

import json
import math
import pathlib
import re
import statistics
import sys

results_dir, transport = pathlib.Path(sys.argv[1]), sys.argv[2]

# rounds[r][client] = the client's JSON object of round r
rounds = {}
for path in sorted(pathlib.Path(results_dir).glob("round-*-*.json")):
    round_number = int(re.match(r"round-(\d+)-", path.name).group(1))
    text, position, decoder = path.read_text(), 0, json.JSONDecoder()
    # A contender may print several objects (order-speed prints kistick-warm and kistick-cold), on one line or many.
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            break
        result, position = decoder.raw_decode(text, position)
        rounds.setdefault(round_number, {})[result["client"]] = result
if not rounds:
    sys.exit("order_bench_summary: no results in " + str(results_dir))


def percentile(sorted_values, p):
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def p50(result, key="decision_to_written_ns"):
    return percentile(sorted(result[key]), 50)


def microseconds(ns):
    return f"{ns / 1000:.1f}"


def pooled(client, key):
    return sorted(v for results in rounds.values() if client in results for v in results[client].get(key, []))


known = ("kistick-warm", "kistick-cold", "python-kis")
others = sorted({client for results in rounds.values() for client in results} - set(known))
rows = [("kistick-warm", "decision_to_written_ns", "kistick-warm"),
        ("kistick-warm", "decision_to_send_started_ns", "  until the socket send"),
        ("kistick-cold", "decision_to_written_ns", "kistick-cold"),
        ("kistick-cold", "decision_to_send_started_ns", "  until the socket send"),
        ("python-kis", "decision_to_written_ns", "python-kis"),
        ("python-kis", "decision_to_send_started_ns", "  until the socket send"),
        ("python-kis", "decision_to_first_send_ns", "  first write (headers)"),
        ("python-kis", "call_ns", "  call (until it returns)")]
rows += [(client, "decision_to_written_ns", client) for client in others]

print(f"\nDecision -> order request bytes written, {transport}, {len(rounds)} round(s); microseconds, all rounds pooled")
print(f"{'client':<26}{'orders':>7}{'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}")
for client, key, label in rows:
    values = pooled(client, key)
    if values:
        print(f"{label:<26}{len(values):>7}" + "".join(f"{microseconds(percentile(values, p)):>10}" for p in (50, 90, 99))
              + f"{microseconds(values[-1]):>10}")

print("p50 per round, in round order:")
for client in [c for c in known if any(c in r for r in rounds.values())] + others:
    print(f"  {client:<24}" + " ".join(microseconds(p50(rounds[r][client])) for r in sorted(rounds) if client in rounds[r]))

python_kis = [results["python-kis"] for results in rounds.values() if "python-kis" in results]
if python_kis:
    extra = statistics.mean(r["extra_requests_per_order"] for r in python_kis)
    paths = sorted({path for r in python_kis for path in r.get("extra_request_paths", {})})
    print(f"python-kis extra requests per order (inside the call, besides the order): {extra:g}"
          + (f" ({', '.join(paths)})" if paths else ""))


def ratio(numerator, denominator, key="decision_to_written_ns"):
    per_round = [p50(r[numerator], key) / p50(r[denominator], key) for r in rounds.values()
                 if numerator in r and denominator in r and key in r[numerator] and key in r[denominator]]
    label = f"p50({numerator}) / p50({denominator})"
    if not per_round:
        print(f"{label}: no round has both")
        return
    print(f"{label:<40} median {statistics.median(per_round):.1f}x over {len(per_round)} round(s), "
          f"range {min(per_round):.1f}x-{max(per_round):.1f}x")


print("\nRatios, each from one round's side-by-side p50s, to the kernel having every byte:")
ratio("kistick-cold", "kistick-warm")
ratio("python-kis", "kistick-warm")
print("... and to the start of the socket send (the client's own code: on loopback the send itself also carries the")
print("    kernel's delivery into the simulator's socket and its wake-up, which a network card would do later):")
ratio("kistick-cold", "kistick-warm", "decision_to_send_started_ns")
ratio("python-kis", "kistick-warm", "decision_to_send_started_ns")
