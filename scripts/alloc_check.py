#!/usr/bin/env python3
"""Checks the hot paths' allocation counts against the committed thresholds (`scripts/bench check` calls this).

    alloc_check.py BUILD_DIR THRESHOLDS_DIR TARGET...

Runs each benchmark executable BUILD_DIR/TARGET on its own (package-benchmark's runner then runs every benchmark
once and prints its histograms) with KISTICK_BENCH_CI=1, reads each benchmark's "Malloc (total)" maximum, and
compares it with THRESHOLDS_DIR/TARGET.NAME.p90.json's mallocCountTotal. Fails when a count exceeds its threshold,
when a benchmark has no threshold file or a threshold file no benchmark, or when the canary (a benchmark that
allocates on purpose) reads 0, which would mean that no allocation was counted and every 0 proves nothing.
"""
import glob
import json
import os
import re
import subprocess
import sys

CANARY = "allocation-canary"


def counts(executable):
    """{benchmark name: largest malloc count of any sample} from one run of a benchmark executable."""
    env = dict(os.environ, KISTICK_BENCH_CI="1")
    run = subprocess.run([executable, "--quiet", "true"], env=env, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"alloc_check: {executable} exited with {run.returncode}:\n{run.stdout}{run.stderr}")
    found, name, in_malloc = {}, None, False
    for line in run.stdout.splitlines():
        if m := re.match(r"Debug results for (.+):$", line):
            name, in_malloc = m.group(1), False
        elif line.startswith("Malloc (total):"):
            in_malloc = True
        elif in_malloc and (m := re.match(r"#\[Max\s*=\s*([0-9.]+)", line)):
            found[name] = float(m.group(1))
            in_malloc = False
    if not found:
        sys.exit(f"alloc_check: {executable} printed no malloc counts:\n{run.stdout[-2000:]}")
    return found


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    build, thresholds, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
    failures, rows = [], []
    for target in targets:
        measured = counts(os.path.join(build, target))
        files = {os.path.basename(p)[len(target) + 1 : -len(".p90.json")]: p
                 for p in glob.glob(os.path.join(thresholds, f"{target}.*.p90.json"))}
        for name in sorted(set(measured) | set(files)):
            if name not in files:
                failures.append(f"{target}.{name}: no threshold file (scripts/bench update writes one)")
                continue
            if name not in measured:
                failures.append(f"{target}.{name}: a threshold file but no such benchmark")
                continue
            limit = json.load(open(files[name]))["mallocCountTotal"]
            count = measured[name]
            ok = count <= limit and (count > 0 if name.startswith(CANARY) else True)
            rows.append((f"{target}.{name}", count, limit, ok))
            if not ok:
                why = "no allocation counted: the counter is not working" if count == 0 else "over its threshold"
                failures.append(f"{target}.{name}: {count:.0f} mallocs, threshold {limit} ({why})")
    width = max(len(r[0]) for r in rows)
    for name, count, limit, ok in rows:
        print(f"  {name:<{width}}  mallocs {count:>6.0f}  threshold {limit:>6}  {'ok' if ok else 'FAIL'}")
    if not any(r[0].split(".", 1)[1].startswith(CANARY) for r in rows):
        failures.append(f"no {CANARY} benchmark ran: nothing shows that allocations are counted")
    if failures:
        print("\n".join(["alloc_check: FAILED"] + failures), file=sys.stderr)
        sys.exit(1)
    print(f"alloc_check: {len(rows)} benchmarks within their allocation thresholds")


main()
