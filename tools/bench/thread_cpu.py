#!/usr/bin/env python3
"""CPU time and context switches per event, by thread name, of one argus
build under a paced load: what a change saves on a thread that the
node's total hides in the noise.

  python3 tools/bench/thread_cpu.py ARGUS [--variant sqlite/journal]
      [--rate 6000] [--probe-every 2] [--retrigger] [--seconds 3] [--each N]

The load is make bench's throughput workload at RATE events/s. A warm-up
opens its groups first, as latency_run's does, so that the measured
events join them as new children; with --retrigger the warm-up sends the
measured run's own dedupKeys, which the measured events then re-trigger.
With --probe-every K every Kth event opens a new group, and so stores a
notification, as the latency runs' probes do.
Counters come from /proc/PID/task/*/{stat,status} before and after the
measured run. The repository's thread is named caf.actor (a CAF private
thread), the scheduler's caf.multiplexer; the HTTP front, the journal's
writer, the delivery worker and the SQLite checkpointer are "argus".
"""

import argparse
import collections
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

def snapshot(pid):
    """Per thread id: (name, voluntary, involuntary switches, CPU ns)."""
    out = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            name = open(task + "/comm").read().strip()
            switches = {}
            for line in open(task + "/status"):
                key, _, value = line.partition(":")
                if key in ("voluntary_ctxt_switches",
                           "nonvoluntary_ctxt_switches"):
                    switches[key] = int(value)
            # Nanoseconds on a CPU, where stat's utime and stime count
            # 10 ms ticks: too coarse for 70 threads over 3 s.
            on_cpu_ns = int(open(task + "/schedstat").read().split()[0])
        except OSError:
            continue  # the thread ended meanwhile
        out[task.rsplit("/", 1)[1]] = (
            name, switches.get("voluntary_ctxt_switches", 0),
            switches.get("nonvoluntary_ctxt_switches", 0), on_cpu_ns)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--variant", default="sqlite/journal")
    ap.add_argument("--rate", type=int, default=6000,
                    help="events/s; 0 sends as fast as answers come back")
    ap.add_argument("--probe-every", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--retrigger", action="store_true",
                    help="measure events that re-trigger stored alerts")
    ap.add_argument("--each", type=int, default=0,
                    help="also list the N busiest threads one by one")
    args = ap.parse_args()
    with run.server_folders([args.binary], "argus-thread-cpu-") as folders:
        run.BIN = folders[0]
        with run.Server("argus", args.variant) as s:
            # The warm-up's own dedupKeys (latency_run's), or with
            # --retrigger the measured run's, which then re-trigger them.
            # --retrigger's warm-up lasts as long as the measured run, so
            # that it stores every key the measured run sends.
            warm_keys = {} if args.retrigger else {"key_base": 10**12}
            # Rate 0 is an unpaced closed loop (the durable runs' load).
            warm_s = max(1.0, 1.2 * run.GROUPS * run.CONNS / (args.rate or 6000),
                         args.seconds if args.retrigger else 0)
            run.loadgen(s.port, "/v1/events", 0, rate=args.rate,
                        duration=warm_s, server_pid=s.proc.pid, **warm_keys)
            probes = {}
            if args.probe_every:
                probes = {"probe_every": args.probe_every,
                          "probe_file": os.path.join(s.dir, "probes.txt")}
            before = snapshot(s.proc.pid)
            res = run.loadgen(s.port, "/v1/events", 0, rate=args.rate,
                              duration=args.seconds, server_pid=s.proc.pid,
                              **probes)
            after = snapshot(s.proc.pid)
    events = res["events_per_s"] * args.seconds
    totals = collections.defaultdict(lambda: [0, 0, 0.0, 0])
    for tid, (name, vol, invol, on_cpu_ns) in after.items():
        if tid not in before:
            continue
        t = totals[name]
        t[0] += vol - before[tid][1]
        t[1] += invol - before[tid][2]
        t[2] += (on_cpu_ns - before[tid][3]) / 1000
        t[3] += 1
    print(f"{res['events_per_s']:,.0f} events/s over {args.seconds:g} s")
    whole = 0.0
    for name, (vol, invol, cpu_us, threads) in sorted(
            totals.items(), key=lambda kv: -kv[1][2]):
        whole += cpu_us
        print(f"{name:16s} {threads:3d} threads  cpu {cpu_us / events:7.1f} "
              f"us/event  switches {vol / events:.3f} voluntary, "
              f"{invol / events:.3f} involuntary per event")
    print(f"{'all':16s}      cpu {whole / events:7.1f} us/event")
    if args.each:
        for tid, (name, vol, invol, on_cpu_ns) in sorted(
                after.items(), key=lambda kv: kv[1][3] - before.get(
                    kv[0], kv[1])[3], reverse=True)[:args.each]:
            if tid in before:
                print(f"  {tid} {name:16s} cpu "
                      f"{(on_cpu_ns - before[tid][3]) / 1000 / events:7.1f}"
                      f" us/event")


if __name__ == "__main__":
    main()
