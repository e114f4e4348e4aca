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

  python3 tools/bench/am_query.py ARGUS [ARGUS...] --instructions
      [--alerts 2000] [--runs 2]

counts instead, with valgrind's callgrind, the instructions one listing
of every alert, one filtered to a class, and one of every alert with the
silence on a label spend in the HTTP handler
(`get_alerts`: reading the details, filtering, writing the reply; the
repository's copy of the alerts is not counted). Each figure is the
difference between a server that listed 1 + 3 times and one that listed
once, over 3, so start-up and posting cancel out. Counts of one build
agree within a fraction of a percent from run to run, where its CPU time
moves by 10% on this VM: use them to compare builds whose difference is
a few percent.
"""

import argparse
import functools
import json
import os
import shutil
import statistics
import sys
import time
import tempfile
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the Server of the benchmark driver)
import http_instructions_ab  # noqa: E402  (callgrind's wrapper and totals)

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


# amtool's `alert query class=7`: the listing of one class of 100.
ONE_CLASS = "?" + urllib.parse.urlencode({"filter": 'class="7"'})

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
        out = {"all": timed(s.port, s.proc.pid, "", queries),
               "class=7": timed(s.port, s.proc.pid, ONE_CLASS, queries)}
        # A silence on a label: each alert's labels are matched against it.
        run.http("POST", s.port, "/am/am/api/v2/silences", SILENCE)
        out["all, a silence"] = timed(s.port, s.proc.pid, "", queries)
        return out


def processed(port):
    """Events the server processed, from its /metrics."""
    _, text = run.http("GET", port, "/metrics")
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("argus_events_processed_total"))


def listing_instructions(binary, bin_dir, alerts, query, silence, listings):
    """Instructions `get_alerts` spent in a server of `binary` that took
    ALERTS alerts (and SILENCE if `silence`), listed them all once and
    then ran `listings` listings of `query`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        # Anchored at the parameter list, as http_instructions_ab.py does.
        options = ["--tool=callgrind", "--fair-sched=yes",
                   f"--callgrind-out-file={out}", "--collect-atstart=no",
                   "--toggle-collect=argus::http::(anonymous namespace)"
                   "::get_alerts(*"]
        http_instructions_ab.install_under_valgrind(bin_dir, binary, options)
        with run.Server("argus", "memory") as s:
            s.stop_timeout = 300
            run.make_am_manager(s.port)
            post_alerts(s.port, alerts)
            if silence:
                run.http("POST", s.port, "/am/am/api/v2/silences", SILENCE)
            # Waited for outside the handler counted, so every server
            # lists the same alerts as often.
            deadline = time.monotonic() + 300
            while processed(s.port) < alerts:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"fewer than {alerts} alerts processed")
                time.sleep(0.5)
            # amtool's default hides the silenced ones.
            shown = len(listing(s.port, "?silenced=true"))
            if shown != alerts:
                raise RuntimeError(f"a listing showed {shown} alerts, not "
                                   f"{alerts}")
            for _ in range(listings):
                listing(s.port, query)
        return http_instructions_ab.total_instructions(out)


def count_instructions(args):
    if not shutil.which("valgrind"):
        sys.exit("needs valgrind (Debian: apt-get install valgrind)")
    binaries = [os.path.abspath(b) for b in args.binaries]
    # A server under valgrind takes seconds to answer its first request.
    run.wait_ready = functools.partial(run.wait_ready, deadline_s=180.0)
    bin_dir = tempfile.mkdtemp(prefix="argus-callgrind-bin-")
    run.BIN = bin_dir
    kinds = (("all", "", False), ("class=7", ONE_CLASS, False),
             ("all, a silence", "", True))
    per = {(b, kind): [] for b in binaries for kind, _, _ in kinds}
    try:
        for r in range(args.runs):
            for b in binaries if r % 2 == 0 else binaries[::-1]:
                for kind, query, silence in kinds:
                    once = listing_instructions(b, bin_dir, args.alerts,
                                                query, silence, 0)
                    more = listing_instructions(b, bin_dir, args.alerts,
                                                query, silence, 3)
                    per[b, kind].append((more - once) / 3)
                    run.log(f"run {r + 1} {b} {kind}: "
                            f"{per[b, kind][-1]:,.0f} instructions per "
                            f"listing")
    finally:
        shutil.rmtree(bin_dir, ignore_errors=True)
    for kind, _, _ in kinds:
        first = statistics.median(per[binaries[0], kind])
        for b in binaries:
            xs = per[b, kind]
            m = statistics.median(xs)
            run.log(f"{b} {kind}: median {m:,.0f} instructions per listing "
                    f"of {args.alerts:,} alerts ({m / args.alerts:,.0f} per "
                    f"alert), {m / first:.3f}x the first")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="*",
                    default=[os.path.join(run.BIN, "argus")])
    ap.add_argument("--alerts", type=int,
                    help="alerts posted (10,000; 2,000 with --instructions)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--queries", type=int, default=5)
    ap.add_argument("--instructions", action="store_true",
                    help="count instructions with callgrind instead")
    args = ap.parse_args()
    if args.alerts is None:
        args.alerts = 2000 if args.instructions else 10000
    if args.instructions:
        return count_instructions(args)
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
