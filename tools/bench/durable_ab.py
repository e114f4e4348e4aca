#!/usr/bin/env python3
"""Durable single events (make bench's part 6 run) for two or more argus
builds, alternated in one invocation, so that the machine's moment weighs
on each alike.

  python3 tools/bench/durable_ab.py ARGUS [ARGUS...] [--pairs N]
      [--variants sqlite/journal,sqlite/none] [--conns 8]

A postgres variant (postgres/journal, say) starts one PostgreSQL for the
invocation with tools/pg.sh.

Each ARGUS is a server binary (build/bin/argus for the current build; an
older commit's, built elsewhere, for the comparison); the load generator
is build/bin/loadgen for all. Each run is run.py's `durable_once` (3 s,
or BENCH_DURATION); each line gives the processed rate, the server's CPU
per event and the request p50. With both variants, the journal's rate
over `none`'s (per backend) is the figure issue 15's target reads
(>= 0.5x).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the Server, loadgen and durable run of make bench)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--variants", default="sqlite/journal,sqlite/none")
    ap.add_argument("--conns", type=int, default=8)
    args = ap.parse_args()
    # A postgres variant gets one PostgreSQL (tools/pg.sh, fsync on) for the
    # invocation, each server a fresh database of it, as in make bench.
    if any(v.startswith("postgres") for v in args.variants.split(",")):
        run.PG = run.Postgres()
    try:
        with run.server_folders(args.binaries, "argus-durable-ab-") as folders:
            alternate(args, folders)
    finally:
        if run.PG:
            run.PG.destroy()
            run.PG = None


def alternate(args, folders):
    """Runs every variant of each build in turn, `args.pairs` times."""
    for i in range(args.pairs):
        for binary, folder in zip(args.binaries, folders):
            run.BIN = folder
            rates = {}
            for variant in args.variants.split(","):
                r = run.durable_once(variant, 0, args.conns)
                rates[variant] = r["processed_per_s"]
                print(f"run {i + 1} {binary} {variant}: processed "
                      f"{r['processed_per_s']:,.0f}/s, cpu "
                      f"{r.get('cpu_us_per_event', 0):.0f} us/event, "
                      f"p50 {r['latency_us']['p50'] / 1000:.2f} ms",
                      flush=True)
            for backend in ("sqlite", "postgres"):
                journal = rates.get(f"{backend}/journal")
                none = rates.get(f"{backend}/none")
                if journal and none:
                    print(f"run {i + 1} {binary}: {backend} journal / none "
                          f"{journal / none:.2f}x", flush=True)


if __name__ == "__main__":
    main()
