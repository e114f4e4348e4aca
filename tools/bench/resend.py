#!/usr/bin/env python3
"""Prometheus's steady state: alerts that keep firing, re-sent (issue 15,
forty-eighth round). Prometheus sends every firing alert again each
`resend_delay` (1 minute) and each evaluation that changes it, so most of
what a busy Alertmanager API receives is alerts it already holds.

  python3 tools/bench/resend.py [ARGUS...] [--backends memory,sqlite/journal]
      [--keys 2500] [--runs 3] [--seconds 3] [--no-alertmanager]

(A postgres backend, postgres/journal say, starts one PostgreSQL for the
invocation with tools/pg.sh; its processes' CPU is not counted.)

Each run starts a fresh server, posts CONNS x KEYS distinct Alertmanager
alerts to `/am/am/api/v2/alerts` (run.py's part 5 alerts and manager: 100
per request, grouped by `class`), then re-sends the same alerts for SECONDS
(each connection cycling over its KEYS), and reports the re-sends processed
per second and the server's CPU per re-sent alert. Alertmanager itself
(`/api/v2/alerts`, the same alerts) runs in the same invocation when it is
installed, alternated with the Argus builds; ratios are against it and
against the first build.
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the Server and loadgen of the benchmark driver)

BATCH = 100


def one_run(kind, variant, keys, seconds):
    """(re-sends processed per second, server CPU µs per re-send)."""
    with run.Server(kind, variant) as s:
        path, healthz = "/api/v2/alerts", False
        if kind == "argus":
            run.make_am_manager(s.port)
            path, healthz = "/am/am/api/v2/alerts", True
        # First pass: every alert once (the alerts the re-sends find).
        run.loadgen(s.port, path, BATCH, kind="am", count=run.CONNS * keys,
                    keys=keys, healthz=healthz)
        res = run.loadgen(s.port, path, BATCH, kind="am", duration=seconds,
                          keys=keys, healthz=healthz, server_pid=s.proc.pid)
        rate = res.get("processed_per_s") or res["events_per_s"]
        return rate, res["cpu_us_per_event"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="*",
                    default=[os.path.join(run.BIN, "argus")])
    ap.add_argument("--backends", default="memory,sqlite/journal")
    ap.add_argument("--keys", type=int, default=2500,
                    help="distinct alerts per connection (8 connections)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--no-alertmanager", action="store_true")
    args = ap.parse_args()
    if args.keys <= 0 or args.keys % BATCH != 0:
        # loadgen splits a count in whole requests per connection: with
        # another K, some connections would send fewer than K in the first
        # pass, and open alerts while "re-sending".
        ap.error(f"--keys must be a positive multiple of {BATCH}")
    if any(b.startswith("postgres") for b in args.backends.split(",")):
        run.PG = run.Postgres()
    try:
        results = measure(args)
    finally:
        if run.PG:
            run.PG.destroy()
    report(results)


def measure(args):
    targets = [(b, backend) for backend in args.backends.split(",")
               for b in args.binaries]
    with_am = run.AM_BINARY and not args.no_alertmanager
    results = {}
    with run.server_folders(args.binaries, "argus-resend-") as folders:
        folder_of = dict(zip(args.binaries, folders))
        for r in range(args.runs):
            order = targets if r % 2 == 0 else targets[::-1]
            if with_am:
                rate, cpu = one_run("alertmanager", "", args.keys, args.seconds)
                results.setdefault("alertmanager", []).append((rate, cpu))
                print(f"run {r + 1} alertmanager: {rate:,.0f} re-sends/s, "
                      f"{cpu:.2f} us CPU each", flush=True)
            for binary, backend in order:
                run.BIN = folder_of[binary]
                rate, cpu = one_run("argus", backend, args.keys, args.seconds)
                results.setdefault((binary, backend), []).append((rate, cpu))
                print(f"run {r + 1} {binary} {backend}: {rate:,.0f} "
                      f"re-sends/s, {cpu:.2f} us CPU each", flush=True)
    return results


def report(results):
    medians = {k: (statistics.median(x[0] for x in v),
                   statistics.median(x[1] for x in v))
               for k, v in results.items()}
    am = medians.get("alertmanager")
    first = {}
    for key, (rate, cpu) in medians.items():
        if key == "alertmanager":
            print(f"alertmanager: median {rate:,.0f} re-sends/s, {cpu:.2f} us "
                  f"CPU each")
            continue
        binary, backend = key
        base = first.setdefault(backend, cpu)
        vs_am = f", {rate / am[0]:.2f}x Alertmanager" if am else ""
        print(f"{binary} {backend}: median {rate:,.0f} re-sends/s{vs_am}, "
              f"{cpu:.2f} us CPU each ({cpu / base:.3f}x the first build's)")


if __name__ == "__main__":
    main()
