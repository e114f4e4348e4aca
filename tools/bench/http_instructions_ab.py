#!/usr/bin/env python3
"""Instructions per alert (or event) that the real server spends on posts
over HTTP, counted by callgrind, for two or more argus builds.

  python3 tools/bench/http_instructions_ab.py ARGUS [ARGUS...]
      [--api am|native] [--n N] [--batch B] [--repeat R] [--front-only]

Each build serves run.py's requests (memory backend, 8 connections,
batches of B, 100 alerts per group; `--api am` posts run.py part 5's
alerts to `/am/am/api/v2/alerts`, `--api native` its events to
`/v1/events/batch`, with the managers and rules run.py makes) under
valgrind's callgrind, twice: with N and with 2N posted. The difference over N is the
work of one more alert in the same shape, with start-up (the dynamic
linker alone is millions of instructions), setup and shutdown cancelled
out. `--front-only` counts only inside the HTTP front's handling of a
request on its thread (`argus::http::front::run`): reading the body,
admission, the hand-off to the actors and writing the reply, but not
httplib's parsing of the request's head, nor the actors behind it.

Server CPU per alert moves by about 7% from run to run on this 2-core VM
(most of it first touches of the memory the kept alerts take), which hides
a change of a few percent. Instructions move by about 2% (whole server)
between runs of one build: compare medians of `--repeat 2` or more,
builds alternated as the tool runs them. Instructions are not time: a
change that saves allocations or cache misses shows here only as far as
it saves instructions too; read it beside run.py's CPU figures.
"""

import argparse
import functools
import glob
import os
import shlex
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the Server, requests and loadgen of run.py)


def total_instructions(out_prefix):
    """The instructions callgrind counted, over every thread's file."""
    n = 0
    for name in glob.glob(out_prefix + "*"):
        with open(name) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    n += int(line.split()[1])
                    break
    if n == 0:
        sys.exit(f"callgrind wrote no counts ({out_prefix}*): did the server "
                 "stop in time?")
    return n


def install_under_valgrind(bin_dir, binary, options):
    """Makes BIN_DIR/argus a script that runs `binary` under valgrind with
    `options` in the same process: run.Server starts BIN/argus."""
    wrapper = os.path.join(bin_dir, "argus")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec valgrind "
                + " ".join(shlex.quote(o) for o in options)
                + f" {shlex.quote(binary)} \"$@\"\n")
    os.chmod(wrapper, 0o755)


def count(binary, posted, args, bin_dir):
    """Instructions of one server run of `binary` that takes `posted`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        options = ["--tool=callgrind", "--fair-sched=yes",
                   f"--callgrind-out-file={out}"]
        if args.front_only:
            # Anchored at the parameter list: callgrind toggles on every
            # function the pattern matches, so a nested match would
            # switch the count off.
            options += ["--collect-atstart=no",
                        "--toggle-collect=argus::http::front::run(*"]
        install_under_valgrind(bin_dir, binary, options)
        with run.Server("argus", "memory") as s:
            s.stop_timeout = 300
            # Server makes the native events' manager and rule ("bench").
            path, kind = "/v1/events/batch", "argus"
            if args.api == "am":
                run.make_am_manager(s.port)
                path, kind = "/am/am/api/v2/alerts", "am"
            run.loadgen(s.port, path, args.batch, kind=kind, count=posted,
                        groups=max(1, posted // 100), timeout=3600)
        return total_instructions(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--api", choices=["am", "native"], default="am")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--front-only", action="store_true")
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("needs valgrind (Debian: apt-get install valgrind)")
    binaries = [os.path.abspath(b) for b in args.binaries]
    # A server under valgrind takes seconds to answer its first request.
    run.wait_ready = functools.partial(run.wait_ready, deadline_s=180.0)
    bin_dir = tempfile.mkdtemp(prefix="argus-callgrind-bin-")
    os.symlink(os.path.join(run.BIN, "loadgen"),
               os.path.join(bin_dir, "loadgen"))
    run.BIN = bin_dir
    unit = "alert" if args.api == "am" else "event"
    per = {b: [] for b in binaries}
    try:
        for r in range(args.repeat):
            order = binaries if r % 2 == 0 else binaries[::-1]
            for b in order:
                once = count(b, args.n, args, bin_dir)
                twice = count(b, 2 * args.n, args, bin_dir)
                per[b].append((twice - once) / args.n)
                run.log(f"run {r + 1} {b}: {per[b][-1]:,.0f} instructions per "
                        f"{unit} ({once:,} with {args.n:,}, {twice:,} with "
                        f"{2 * args.n:,})")
    finally:
        shutil.rmtree(bin_dir, ignore_errors=True)
    first = statistics.median(per[binaries[0]])
    for b, xs in per.items():
        m = statistics.median(xs)
        run.log(f"{b}: median {m:,.0f} instructions per {unit} "
                f"({min(xs):,.0f}-{max(xs):,.0f}), {m / first:.3f}x the first")


if __name__ == "__main__":
    main()
