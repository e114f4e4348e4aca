#!/usr/bin/env python3
"""Profiles Argus's batch path and draws it as a flame graph (`make
flamegraph`): starts Argus (memory backend, the settings of run.py's part
1), drives it with build/bin/loadgen (batches of 1,000 events, 8
connections) and records it with `perf record -g` meanwhile, then folds
`perf script` with tools/bench/flamegraph.py.

  python3 tools/bench/profile_batch.py [--out docs/flamegraph-batch.svg]
      [--seconds 5] [--call-graph fp|dwarf] [--batch 1000] [--am]

With --am it drives Argus's Alertmanager API instead (`/am/am/api/v2/alerts`,
the alerts and manager of run.py's part 5), the path Prometheus posts to.

Needs linux-perf (Debian: `apt-get install linux-perf`).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the Server and loadgen of the benchmark driver)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(run.ROOT, "docs", "flamegraph-batch.svg"))
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--call-graph", default="dwarf,16384",
                    help="perf's --call-graph (fp is cheaper, dwarf sees "
                         "through code built without frame pointers)")
    ap.add_argument("--freq", type=int, default=499)
    ap.add_argument("--am", action="store_true",
                    help="profile the Alertmanager API (run.py's part 5 alerts)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="argus-profile-")
    data = os.path.join(tmp, "perf.data")
    with run.Server("argus", "memory") as s:
        path, kind = "/v1/events/batch", "argus"
        if args.am:
            path, kind = "/am/am/api/v2/alerts", "am"
            run.make_am_manager(s.port)
        perf = subprocess.Popen(
            ["perf", "record", "-F", str(args.freq), "--call-graph", args.call_graph,
             "-p", str(s.proc.pid), "-o", data, "--", "sleep", str(args.seconds)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        result = {}
        gen = threading.Thread(target=lambda: result.update(run.loadgen(
            s.port, path, args.batch, duration=args.seconds,
            server_pid=s.proc.pid, kind=kind)))
        gen.start()
        gen.join()
        _, err = perf.communicate()
        if perf.returncode != 0:
            sys.exit(f"perf record failed: {err.strip()}")
    unit = "alert" if args.am else "event"
    run.log(f"processed {result.get('processed_per_s', 0):,.0f} {unit}s/s, "
            f"{result.get('cpu_us_per_event') or 0:.2f} us CPU per {unit}")
    script = subprocess.run(["perf", "script", "-i", data], capture_output=True,
                            text=True, errors="replace")
    title = (f"Argus batch path: POST {path}, {args.batch} {unit}s per "
             f"request, memory backend ({result.get('processed_per_s', 0):,.0f} "
             f"{unit}s/s, {result.get('cpu_us_per_event') or 0:.1f} us CPU/{unit})")
    svg = subprocess.run([sys.executable, os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "flamegraph.py"), "--title", title,
        "--folded", os.path.join(tmp, "folded.txt")],
        input=script.stdout, capture_output=True, text=True)
    if svg.returncode != 0:
        sys.exit(svg.stderr)
    with open(args.out, "w") as f:
        f.write(svg.stdout)
    run.log(f"wrote {args.out} (folded stacks in {tmp}/folded.txt)")


if __name__ == "__main__":
    main()
