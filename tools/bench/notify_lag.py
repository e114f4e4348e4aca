#!/usr/bin/env python3
"""How far notifications trail a burst of new groups, and what it costs in
RSS: one memory-backend server per case, COUNT triggers in batches of 1,000
with a fresh grouping value each, then VmRSS and the notifier's count
(argus_notification_lag_seconds_count in /metrics) 0.5 s and 10 s after
the last answer.

usage: BUILD_DIR=build [BENCH_ARGUS_BEFORE=OLD/argus] \\
           python3 tools/bench/notify_lag.py [COUNT [PAIRS]]
With BENCH_ARGUS_BEFORE, each pair runs that binary first, then this build's
(alternated: the machines here are noisy)."""
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def lag(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read()
    out = {}
    for line in text.decode().splitlines():
        for name in ("sum", "count"):
            if line.startswith(f"argus_notification_lag_seconds_{name} "):
                out[name] = float(line.split()[1])
    return out.get("count", 0), out.get("sum", 0)


def case(variant, count):
    with run.Server("argus", variant) as s:
        time.sleep(0.5)
        idle = rss(s.proc.pid)
        res = run.loadgen(s.port, "/v1/events/batch", 1000, count=count,
                          groups=0, server_pid=s.proc.pid, timeout=1200)
        end = time.time()
        time.sleep(0.5)
        rss_soon, (told_soon, _) = rss(s.proc.pid), lag(s.port)
        time.sleep(max(0, end + 10 - time.time()))
        rss_late, (told, lag_sum) = rss(s.proc.pid), lag(s.port)
    print(f"{variant:14s} RSS per group +0.5 s {(rss_soon - idle) / count:,.0f}"
          f" B, +10 s {(rss_late - idle) / count:,.0f} B; CPU per event "
          f"{res.get('cpu_us_per_event') or 0:.1f} us; "
          f"{res.get('processed_per_s', 0):,.0f} events/s; notified +0.5 s "
          f"{told_soon:,.0f}, +10 s {told:,.0f} of {count:,}; mean lag "
          f"{lag_sum / max(told, 1):.2f} s", flush=True)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    variants = ["memory"]
    if run.ARGUS_BEFORE:
        run.snapshot_binaries()
        variants = ["memory/before", "memory"]
    for _ in range(pairs):
        for variant in variants:
            case(variant, count)


if __name__ == "__main__":
    main()
