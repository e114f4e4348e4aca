#!/usr/bin/env python3
"""The cost of the web console's list of open groups (`GET /v1/groups`,
polled while the console is open) with many open groups, for one or more
argus builds alternated in one invocation (issue 15, forty-third round):

  python3 tools/bench/groups_query.py [ARGUS...] [--groups 100000]
      [--backend memory] [--runs 3] [--queries 10]

(`--backend postgres` starts one PostgreSQL for the invocation with
tools/pg.sh, as run.py's part 6 does, and counts its processes' CPU as
the server's.)

Each run starts a fresh server (run.py's Server and its manager `bench`,
grouped by `class`), posts GROUPS triggers with a class each (GROUPS
parents) and GROUPS more of the same classes (a child each), in batches
of 1,000, then times QUERIES requests for the first page of 50 groups;
then, with a silence on the details field `host` (a regex, so each
parent's details are read), QUERIES more, and QUERIES of the first page
of the silenced groups (`state=silenced`: every parent is checked
against the silence). Each figure is the server's
CPU time per request (utime + stime of its process), a mean over a
run's requests (the CPU clock ticks in 10 ms), then the median over the
runs.
"""

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the Server of the benchmark driver)

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
PAGE = "/v1/groups?limit=50"
SILENCE = {"matchers": [{"name": "host", "value": "h1.*", "isRegex": True,
                         "isEqual": True}],
           "event_manager_id": "bench", "endsAt": "2200-01-01T00:00:00Z",
           "createdBy": "groups_query.py", "comment": "benchmark"}


def post_groups(port, groups):
    for kid in range(2):
        for start in range(0, groups, 1000):
            body = [{"event_manager_id": "bench", "summary": f"disk {i}",
                     "severity": "high", "action": "trigger",
                     "class": f"c{i}", "dedupKey": f"k{kid}-{i}",
                     "host": f"h{i}"}
                    for i in range(start, min(start + 1000, groups))]
            run.http("POST", port, "/v1/events/batch", body, timeout=120)


def page(port, path=PAGE):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                timeout=120) as r:
        return json.loads(r.read())["data"]


def postgres_pids():
    """The PostgreSQL's processes (none without the postgres backend): the
    queries run there, so their CPU is counted as the server's."""
    return run.PG.pids() if run.PG else set()


def timed(port, pid, queries, path=PAGE):
    """Server CPU seconds per request, a mean over QUERIES requests. Each
    process's CPU is counted by its own change (one that ends meanwhile is
    not counted)."""
    pids = {pid} | postgres_pids()
    before = run.ticks_of(pids)
    for _ in range(queries):
        page(port, path)
    after = run.ticks_of(pids)
    ticks = sum(after[p] - before[p] for p in before if p in after)
    return ticks * TICK_S / queries


def one_run(backend, groups, queries):
    with run.Server("argus", backend) as s:
        post_groups(s.port, groups)
        deadline = time.monotonic() + 300
        while True:
            first = page(s.port)
            children = sum(g["active_children"] for g in first["groups"])
            if first["total"] == groups and children == len(first["groups"]):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"fewer than {groups} groups listed")
            time.sleep(0.5)
        out = {"groups": timed(s.port, s.proc.pid, queries)}
        run.http("POST", s.port, "/v1/silences", SILENCE)
        out["groups, a silence"] = timed(s.port, s.proc.pid, queries)
        # A state filter decides on each group's silences: every parent
        # is checked against the silence.
        out["silenced groups"] = timed(s.port, s.proc.pid, queries,
                                       PAGE + "&state=silenced")
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="*",
                    default=[os.path.join(run.BIN, "argus")])
    ap.add_argument("--groups", type=int, default=100000)
    ap.add_argument("--backend", default="memory")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--queries", type=int, default=10)
    args = ap.parse_args()
    results = {b: {} for b in args.binaries}
    if args.backend.startswith("postgres"):
        run.PG = run.Postgres()
    try:
        measure(args, results)
    finally:
        if run.PG:
            run.PG.destroy()
    report(results)


def measure(args, results):
    with run.server_folders(args.binaries, "argus-groups-query-") as folders:
        for i in range(args.runs):
            for binary, folder in zip(args.binaries, folders):
                run.BIN = folder
                for kind, cpu in one_run(args.backend, args.groups,
                                         args.queries).items():
                    results[binary].setdefault(kind, []).append(cpu)
                    print(f"run {i + 1} {binary} {kind}: CPU ms per request "
                          f"{cpu * 1000:.1f}", flush=True)


def report(results):
    first = {}
    for binary, kinds in results.items():
        for kind, cpus in kinds.items():
            cpu = statistics.median(cpus) * 1000
            base = first.setdefault(kind, cpu)
            print(f"{binary} {kind}: median server CPU {cpu:.1f} ms per "
                  f"request ({cpu / base:.3f}x the first)")


if __name__ == "__main__":
    main()
