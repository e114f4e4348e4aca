#!/usr/bin/env python3
"""The cost of listing alerts through Argus's Alertmanager API (`amtool
alert query`, `GET /am/{manager}/api/v2/alerts`), for one or more argus
builds alternated in one invocation (issue 15, forty-second round):

  python3 tools/bench/am_query.py [ARGUS...] [--alerts 10000] [--runs 3]
      [--queries 5]

Each run starts a fresh server (run.py's Server, memory backend) with
run.py's Alertmanager manager (`make_am_manager`: a rule on
`labels.class`), posts ALERTS alerts in batches of 1,000 (100 classes,
five labels and two annotations each, as Prometheus sends them), waits
until a listing shows them all, then times QUERIES listings of every
alert and QUERIES listings filtered to one class (`filter=class="7"`,
amtool's `alert query class=7`), then, with a silence on the `instance`
label, QUERIES listings of every alert again. Each figure is the server's CPU time per
listing (utime + stime of its process, stable across noisy machines)
and the wall time, each a mean over a run's listings (the CPU clock
ticks in 10 ms), then the median over the runs.
"""

import argparse
import json
import os
import statistics
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the Server of the benchmark driver)

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def post_alerts(port, count):
    for start in range(0, count, 1000):
        body = [{"labels": {"alertname": "QueryBench", "class": str(i % 100),
                            "instance": f"host-{i:06d}:9100",
                            "job": "node", "severity": "warning"},
                 "annotations": {"summary": f"disk {i} is filling up",
                                 "runbook": "https://runbooks.example/disk"},
                 "generatorURL": "http://prometheus.example/graph"}
                for i in range(start, min(start + 1000, count))]
        run.http("POST", port, "/am/am/api/v2/alerts", body, timeout=60)


# Matches the ten alerts of instances host-000000 to host-000009.
SILENCE = {"matchers": [{"name": "instance", "value": "host-00000.*",
                         "isRegex": True, "isEqual": True}],
           "startsAt": "2026-01-01T00:00:00Z",
           "endsAt": "2099-01-01T00:00:00Z",
           "createdBy": "am_query.py", "comment": "benchmark"}


def listing(port, query=""):
    url = f"http://127.0.0.1:{port}/am/am/api/v2/alerts{query}"
    with urllib.request.urlopen(url, timeout=120) as r:
        return json.loads(r.read())


def timed(port, pid, query, queries):
    """(server CPU seconds, wall seconds, alerts listed) per listing, as
    means over QUERIES listings: the CPU clock ticks in 10 ms, about a
    listing's cost, so one listing's own figure is mostly rounding."""
    cpu_before, wall_before = run.proc_ticks(pid), time.monotonic()
    listed = [len(listing(port, query)) for _ in range(queries)]
    wall = (time.monotonic() - wall_before) / queries
    cpu = (run.proc_ticks(pid) - cpu_before) * TICK_S / queries
    return [(cpu, wall, listed[-1])]


def one_run(alerts, queries):
    with run.Server("argus", "memory") as s:
        run.make_am_manager(s.port)
        post_alerts(s.port, alerts)
        deadline = time.monotonic() + 120
        while len(listing(s.port)) < alerts:
            if time.monotonic() > deadline:
                raise RuntimeError(f"fewer than {alerts} alerts listed")
            time.sleep(0.2)
        one_class = "?" + urllib.parse.urlencode({"filter": 'class="7"'})
        out = {"all": timed(s.port, s.proc.pid, "", queries),
               "class=7": timed(s.port, s.proc.pid, one_class, queries)}
        # A silence on a label: each alert's labels are matched against it.
        run.http("POST", s.port, "/am/am/api/v2/silences", SILENCE)
        out["all, a silence"] = timed(s.port, s.proc.pid, "", queries)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="*",
                    default=[os.path.join(run.BIN, "argus")])
    ap.add_argument("--alerts", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--queries", type=int, default=5)
    args = ap.parse_args()
    results = {b: {"all": [], "class=7": [], "all, a silence": []}
               for b in args.binaries}
    with run.server_folders(args.binaries, "argus-am-query-") as folders:
        for i in range(args.runs):
            for binary, folder in zip(args.binaries, folders):
                run.BIN = folder
                for kind, rows in one_run(args.alerts, args.queries).items():
                    results[binary][kind] += rows
                    print(f"run {i + 1} {binary} {kind}: {rows[0][2]} listed, "
                          f"CPU ms per listing "
                          f"{rows[0][0] * 1000:.1f}",
                          flush=True)
    first = None
    for binary, kinds in results.items():
        for kind, rows in kinds.items():
            cpu = statistics.median(c for c, _, _ in rows) * 1000
            wall = statistics.median(w for _, w, _ in rows) * 1000
            first = first or {}
            base = first.setdefault(kind, cpu)
            print(f"{binary} {kind}: median server CPU {cpu:.1f} ms per "
                  f"listing ({cpu / base:.3f}x the first), wall {wall:.1f} ms")


if __name__ == "__main__":
    main()
