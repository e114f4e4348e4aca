#!/usr/bin/env python3
"""Instructions per event through the in-process pipeline, counted by
callgrind, for two or more pipeline_bench builds.

  python3 tools/bench/instructions_ab.py PIPELINE_BENCH [PIPELINE_BENCH...]
      [--events N] [--events-per-group K] [--repeat R] [--whole-run]
      [--manager-id ID] [--threads T]

Timing this pipeline on a shared 2-core VM moves by a third from run to
run, which hides any change under 10%. Instructions move far less with
the machine (see COUNTED). Each build
runs twice under callgrind, with N and 2N events (N/K and 2N/K groups,
no baseline); the difference is the work of N more events in the same
shape, with the node's start, setup and shutdown cancelled out. The
figure is that difference over N: the instructions one event costs
across every thread (router, grouping actors, repository, delivery
worker, CAF).

Only the timed window is counted: pipeline_bench calls
`timed_window_opens` before its first event and `timed_window_closes`
once their work is done, and callgrind zeroes its counts at the first
and dumps them at the second. Counting the whole run added the node's
shutdown, a third of the instructions with 20,000 groups (the routers'
drain, each group's end), which the timed figures never include.
`--whole-run` counts everything collected, as before: for builds older
than the marks, or to see the shutdown's share.

How events batch (per message, per flush, per store write) still
depends on how the threads take turns, so runs of one build spread:
within about 1% over the whole run, about +-4% over the window alone
(16,658-18,048 in 11 runs of one build; the shutdown's fixed share no
longer dilutes it). Compare medians of `--repeat 4`, builds alternated
as the tool runs them, and read each run's pair as well.

`--threads 1` runs the node on one scheduler thread: in 4 runs of one
build the window's spread fell from about +-2.8% to +-1.3%, and in the
25th round's comparisons from +-7% to about +-1%. One thread batches
differently from the server's two (more events per message), so its
figure is lower than the default's; use it to compare builds whose
change does not alter how threads hand work to each other, and say so.

Instructions are not time: a change that saves cache misses shows here
only as far as it saves instructions too. Read it beside the wall-clock
figures of pipeline_bench itself.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

COLLECTED = re.compile(r"Collected : (\d+)")

# Counted only inside these: the actors' message handling, the delivery
# worker's fan-out and the bench's main thread (which sends the events).
# An idle scheduler thread spins, and under valgrind, which runs one thread
# at a time, how long it spins depends on the moment; how threads take
# turns also sets how many events each message and fan-out carries.
# Counting everything moved the figure by a fifth between runs of one
# build; counting these, with valgrind's fair scheduling (threads take
# turns in order), by about 1% over the whole run (see the docstring for
# the window).
COUNTED = ["caf::scheduled_actor::resume*",
           "argus::actors::lean_actor::resume*",
           "argus::delivery::worker::fan_out*",
           "main"]


WINDOW = ["--zero-before=*timed_window_opens*",
          "--dump-before=*timed_window_closes*"]
TOTALS = re.compile(r"^totals: (\d+)", re.M)


def count(binary, events, per_group, whole_run, bench_args):
    """Instructions callgrind counted for one run of `binary`: in its timed
    window, or in all of it with `whole_run`."""
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run(
            ["valgrind", "--tool=callgrind",
             f"--callgrind-out-file={tmp}/cg.out", "--fair-sched=yes",
             "--collect-atstart=no"]
            + [f"--toggle-collect={f}" for f in COUNTED]
            + ([] if whole_run else WINDOW)
            + [binary,
             "--events", str(events), "--groups",
             str(max(1, events // per_group)), "--runs", "1",
             "--baseline-runs", "0"] + bench_args,
            capture_output=True, text=True, timeout=1800)
        found = COLLECTED.search(p.stderr)
        if p.returncode != 0 or not found:
            sys.exit(f"{binary} failed under callgrind:\n{p.stderr[-2000:]}")
        if whole_run:
            return int(found.group(1))
        # The dump at `timed_window_closes` is part 1; the rest of the run
        # goes to the final file.
        try:
            with open(f"{tmp}/cg.out.1") as window:
                return int(TOTALS.search(window.read()).group(1))
        except (OSError, AttributeError):
            sys.exit(f"{binary} has no timed-window marks (a build older "
                     "than them?): compare with --whole-run")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--events", type=int, default=40000)
    ap.add_argument("--events-per-group", type=int, default=2,
                    help="2: every other event opens a group, as "
                         "pipeline_bench --groups 100000 with 200,000 events")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--whole-run", action="store_true",
                    help="count the node's start and shutdown too")
    ap.add_argument("--manager-id",
                    help="pipeline_bench's event manager id (its default: "
                         "\"bench\"; the server's are 36-character uuids)")
    ap.add_argument("--threads", type=int,
                    help="pipeline_bench's scheduler threads (its default: "
                         "the machine's cores); 1 spreads less, see above")
    args = ap.parse_args()
    bench_args = ["--manager-id", args.manager_id] if args.manager_id else []
    if args.threads:
        bench_args += ["--threads", str(args.threads)]
    n = args.events
    per_event = {b: [] for b in args.binaries}
    for r in range(args.repeat):
        for b in args.binaries:
            small = count(b, n, args.events_per_group, args.whole_run,
                          bench_args)
            large = count(b, 2 * n, args.events_per_group, args.whole_run,
                          bench_args)
            per_event[b].append((large - small) / n)
            print(f"run {r + 1}: {b}: {per_event[b][-1]:,.0f} instructions "
                  "per event", file=sys.stderr, flush=True)
    first = statistics.median(per_event[args.binaries[0]])
    print(f"{'build':50} {'instr/event':>12} {'ratio':>7}")
    for b in args.binaries:
        m = statistics.median(per_event[b])
        print(f"{b[-50:]:50} {m:12,.0f} {m / first:7.3f}")


if __name__ == "__main__":
    main()
