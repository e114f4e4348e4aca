#!/usr/bin/env python3
"""Single events over HTTP: Argus (memory backend) against the httplib
baseline (`baseline_server --mode parse`), run alternately, the way part 1
of tools/bench/run.py starts them. For the front stage (issue 15).

  python3 tools/bench/front_ab.py [--runs 3] [--duration 5] [--conns 8,32]
                                  [--argus BIN ...] [--bin DIR]

Every `--argus` binary (default: DIR/argus) is measured in turn with the
baseline in between, so two builds can be compared in one session. Prints
one line per run and, per connection count, the median events/s of each
target, its ratio to the baseline's median and the median server CPU per
event.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402
from benchlib import log  # noqa: E402


def once(kind, variant, binary, conns, duration):
    if binary:
        shutil.copy2(binary, os.path.join(run.BIN, "argus"))
    with run.Server(kind, variant) as s:
        res = run.loadgen(s.port, "/v1/events", 0, duration=duration,
                          conns=conns, server_pid=s.proc.pid)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--conns", default="8,32")
    ap.add_argument("--bin", default=run.BIN,
                    help="folder with baseline_server and loadgen")
    ap.add_argument("--argus", action="append",
                    help="an argus binary to measure (repeatable)")
    args = ap.parse_args()
    binaries = args.argus or [os.path.join(args.bin, "argus")]
    snap = tempfile.mkdtemp(prefix="argus-front-ab-")
    for name in ("baseline_server", "loadgen"):
        shutil.copy2(os.path.join(args.bin, name), os.path.join(snap, name))
    run.BIN = snap
    targets = [("baseline", "parse", None)] + [
        ("argus", "memory", b) for b in binaries]
    try:
        for conns in [int(c) for c in args.conns.split(",")]:
            rates = {i: [] for i in range(len(targets))}
            cpus = {i: [] for i in range(len(targets))}
            for r in range(args.runs):
                for i, (kind, variant, binary) in enumerate(targets):
                    res = once(kind, variant, binary, conns, args.duration)
                    rate = res["events_per_s"]
                    rates[i].append(rate)
                    cpu = res.get("cpu_us_per_event")
                    if cpu is not None:
                        cpus[i].append(cpu)
                    log(f"conns {conns} run {r + 1} {binary or kind}: "
                        f"{rate:,.0f} events/s, p99 "
                        f"{res['latency_us']['p99'] / 1000:.2f} ms, "
                        f"others {res['foreign_cores']:.2f} cores, "
                        f"server CPU {cpu or 0:.1f} us/event")
            base = statistics.median(rates[0])
            for i, (kind, _, binary) in enumerate(targets):
                med = statistics.median(rates[i])
                print(f"conns {conns}: {binary or kind}: median {med:,.0f} "
                      f"events/s ({', '.join(f'{x:,.0f}' for x in rates[i])})"
                      f" = {med / base:.2f}x the baseline"
                      + (f", server CPU {statistics.median(cpus[i]):.1f} "
                         f"us/event" if cpus[i] else ""))
    finally:
        run.cleanup()
        shutil.rmtree(snap, ignore_errors=True)


if __name__ == "__main__":
    main()
