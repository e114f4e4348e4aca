#!/usr/bin/env python3
"""Ingest-to-notification latency of two or more argus builds, alternated
in one invocation, with the node's own histograms over each measured run.

  python3 tools/bench/latency_ab.py BACKEND RATE ARGUS [ARGUS...] [--pairs N]

BACKEND is a run.py variant (memory, sqlite/journal, ...), RATE the paced
events per second (make bench's part 2 uses half the measured peak), each
ARGUS a server binary (build/bin/argus for the current build; an older
commit's, built elsewhere, for the comparison). The load generator is
build/bin/loadgen for all.
Each run is run.py's `latency_run`, the function part 2 of `make bench`
runs; on top it reports, from /metrics over the same measured run, the p50
and p99 of the journal's appends and the store's write-behind
transactions, which split the acceptance -> stored part.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the Server, loadgen and latency run of make bench)

HISTOGRAMS = (("journal append ms", "argus_journal_append_seconds", 1000),
              ("store write ms", "argus_store_write_seconds", 1000),
              ("changes per write", "argus_store_write_changes", 1))


def measured_run(backend, rate):
    """One latency_run, with the histograms scraped where it scrapes its
    own: after the warm-up and after the measured run."""
    scrapes = []
    settle = run.settled_histogram

    def settle_and_scrape(port, name, expect, wait_s=3.0):
        result = settle(port, name, expect, wait_s)
        scrapes.append({h: run.histogram(port, h) for _, h, _ in HISTOGRAMS})
        return result

    run.settled_histogram = settle_and_scrape
    try:
        res = run.latency_run(backend, rate, max(run.DURATION, 2.0))
    finally:
        run.settled_histogram = settle
    before, after = scrapes[0], scrapes[-1]
    for label, name, scale in HISTOGRAMS:
        for q in (0.5, 0.99):
            v = run.histogram_quantile(before[name], after[name], q)
            res[f"{label} p{int(q * 100)}"] = None if v is None else v * scale
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("backend")
    ap.add_argument("rate", type=int)
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    keys = ["p99_ms", "p50_ms", "accept_p99_ms", "lag_p50_ms", "lag_p99_ms"]
    keys += [f"{label} p{q}" for label, _, _ in HISTOGRAMS for q in (50, 99)]
    with run.server_folders(args.binaries, "argus-latency-ab-") as folders:
        for i in range(args.pairs):
            for binary, folder in zip(args.binaries, folders):
                run.BIN = folder
                res = measured_run(args.backend, args.rate)
                shown = ", ".join(f"{k} {'-' if res[k] is None else f'{res[k]:.2f}'}"
                                  for k in keys)
                print(f"run {i + 1} {binary}: {shown}", flush=True)


if __name__ == "__main__":
    main()
