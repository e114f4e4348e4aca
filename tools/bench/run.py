#!/usr/bin/env python3
"""The benchmark suite driver behind `make bench` (standard library only).

It builds, then runs in one go and under one load generator
(build/bin/loadgen):
  1. HTTP: the generator's own capacity (a raw epoll sink), the httplib
     ceilings (no parse, parse = the baseline), Argus with the memory and the
     SQLite backend; single events and batches of 100 and 1,000.
  2. Ingest-to-notification latency at 50% of the measured maximum rate.
  3. The in-process pipeline benchmark (build/bin/pipeline_bench).
  4. Memory: RSS per open group and per alert.
  5. Alertmanager side by side, when prometheus-alertmanager is installed.
  6. Durable ingest (issue 5): SQLite and PostgreSQL, each with
     ingest.durability journal and none, single events and batches of 100;
     one throwaway PostgreSQL 15 (tools/pg.sh) serves the whole part and is
     destroyed at the end.
It prints a table and writes build/bench/results.json and results.md.

Every server gets a free port and its own temp dir, and is stopped at the
end even on failure or Ctrl-C. Knobs (environment variables):
  BENCH_QUICK=1          about 2 minutes: 1 s runs, 100k-item memory tests, no
                         no-parse rows and no wrk cross-check
  BENCH_RUNS=N           runs per figure (default 3)
  BENCH_DURATION=S       seconds per throughput run (default 3, quick 1)
  BENCH_CONNS=C          generator connections (default 8)
  BENCH_MEM_COUNT=N      groups and alerts for the memory test (1000000)
  BENCH_AM_MEM_COUNT=N   alerts for Alertmanager's memory test (BENCH_MEM_COUNT)
  BENCH_PARTS=1,2,3,4,5,6  which parts to run
  BENCH_MODES=batch1000  part 1's request shapes (single,batch100,batch1000)
  BENCH_TARGETS=parse,memory  part 1's rows by variant (raw, noparse, parse,
                         memory, sqlite/journal)
  BENCH_ARGUS_BEFORE=PATH  one more part 1 row: this argus binary, memory
                         backend, interleaved with the others (before/after)
  BENCH_QUIET_WAIT=S     wait up to S s for an idle machine before a run
                         (15; quick 0)
  BENCH_NOISE_LIMIT=C    repeat a run once if other processes used more than
                         C cores during it (0.2; quick: never)
  BUILD_DIR=build        where the binaries are
"""

import contextlib
import datetime
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, Postgres, log  # noqa: E402
BUILD = os.path.join(ROOT, os.environ.get("BUILD_DIR", "build"))
BIN = os.path.join(BUILD, "bin")
OUT_DIR = os.path.join(BUILD, "bench")

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
DURATION = float(os.environ.get("BENCH_DURATION", "1" if QUICK else "3"))
CONNS = int(os.environ.get("BENCH_CONNS", "8"))
MEM_COUNT = int(os.environ.get("BENCH_MEM_COUNT", "100000" if QUICK else "1000000"))
AM_MEM_COUNT = int(os.environ.get("BENCH_AM_MEM_COUNT", str(MEM_COUNT)))
PARTS = {p.strip() for p in os.environ.get("BENCH_PARTS", "1,2,3,4,5,6").split(",")}
MAX_BODY = 16 * 1024 * 1024
GROUPS = 1000  # grouping values the throughput runs cycle over
MODES = [("single", 0), ("batch100", 100), ("batch1000", 1000)]
if os.environ.get("BENCH_MODES"):  # e.g. BENCH_MODES=batch1000
    _wanted = {m.strip() for m in os.environ["BENCH_MODES"].split(",")}
    MODES = [m for m in MODES if m[0] in _wanted]
# Another argus binary to compare against in the same invocation (part 1,
# memory backend; runs interleaved with the others), e.g. one built from main.
ARGUS_BEFORE = os.environ.get("BENCH_ARGUS_BEFORE", "")
AM_BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


# --- processes ---------------------------------------------------------------

LIVE = []  # every process we started and have not reaped yet


def cleanup():
    for p in list(LIVE):
        stop(p, timeout=5)
    if PG:
        PG.destroy()


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def stop(p, timeout=30.0):
    """SIGTERM (an orderly shutdown), then SIGKILL; returns the seconds taken."""
    start = time.monotonic()
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in LIVE:
        LIVE.remove(p)
    for f in getattr(p, "owned_files", []):
        f.close()
    return time.monotonic() - start


def spawn(argv, logfile, **kw):
    out = open(logfile, "wb")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, **kw)
    p.owned_files = [out]
    LIVE.append(p)
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


HZ = os.sysconf("SC_CLK_TCK")
# Quick mode neither waits for a quiet machine nor repeats noisy runs (so it
# stays short on a shared machine); it still reports the noise per row.
NOISE_LIMIT = float(os.environ.get("BENCH_NOISE_LIMIT", "1e9" if QUICK else "0.2"))
QUIET_WAIT = float(os.environ.get("BENCH_QUIET_WAIT", "0" if QUICK else "15"))
# How long an orderly stop may take before the server is killed. A SQLite
# server flushes a backlog of many seconds after batch runs; quick mode does
# not wait for it (the stop time is still recorded).
STOP_TIMEOUT = 3.0 if QUICK else 30.0


def busy_ticks():
    """CPU ticks the whole machine spent busy (steal excluded)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:8]]
    return sum(v) - v[3] - v[4]


def proc_ticks(pid):
    """utime + stime of a live process, all threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


# --- the throwaway PostgreSQL of part 6 ------------------------------------------

PG = None  # a Postgres while part 6 runs


def ticks_of(pids):
    out = {}
    for pid in pids:
        try:
            out[pid] = proc_ticks(pid)
        except (OSError, IndexError, ValueError):
            pass
    return out


class Noise:
    """Measures the CPU that processes other than ours (the server under
    test, the load generator, this script) used during a measurement, in
    cores: the machine is shared, and a build next door skews the figures."""

    def __init__(self, server_pid=None):
        self.server_pid = server_pid
        self.cores = None
        self.server_cpu_s = None  # the server's own CPU during the run

    @staticmethod
    def _ours():
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime) * HZ

    def __enter__(self):
        self.t0 = time.monotonic()
        self.busy0 = busy_ticks()
        self.ours0 = self._ours()
        self.srv0 = proc_ticks(self.server_pid) if self.server_pid else 0
        # PostgreSQL's processes work for the server under test.
        self.pg0 = ticks_of(PG.pids()) if PG else {}
        return self

    def __exit__(self, *exc):
        wall = time.monotonic() - self.t0
        srv = proc_ticks(self.server_pid) - self.srv0 if self.server_pid else 0
        if PG:
            srv += sum(t - self.pg0.get(pid, 0)
                       for pid, t in ticks_of(PG.pids()).items())
        foreign = (busy_ticks() - self.busy0) - (self._ours() - self.ours0) - srv
        self.server_cpu_s = srv / HZ
        self.cores = max(0.0, foreign / HZ / max(wall, 1e-3))


def wait_quiet():
    """Waits (up to BENCH_QUIET_WAIT s) until the machine is nearly idle."""
    if QUIET_WAIT <= 0:
        return None
    end = time.monotonic() + QUIET_WAIT
    waited = False
    while True:
        b0 = busy_ticks()
        time.sleep(0.3)
        cores = (busy_ticks() - b0) / HZ / 0.3
        if cores < 0.15 or time.monotonic() > end:
            return cores
        if not waited:
            log(f"  machine busy ({cores:.2f} cores used by others): waiting "
                f"up to {QUIET_WAIT:.0f} s")
        waited = True
        time.sleep(1)


def measure(fn, label=""):
    """Runs fn() (which returns a dict with 'foreign_cores') after waiting for
    a quiet machine; repeats once if other processes took more than
    BENCH_NOISE_LIMIT cores meanwhile, and keeps the quieter attempt."""
    best = None
    for attempt in range(2):
        wait_quiet()
        res = fn()
        res["attempts"] = attempt + 1
        if best is None or res["foreign_cores"] < best["foreign_cores"]:
            best = res
        if res["foreign_cores"] <= NOISE_LIMIT:
            break
        log(f"  {label}: other processes used {res['foreign_cores']:.2f} "
            "cores during the run: repeating it")
    return best


def http(method, port, path, body=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        text = r.read()
        if "json" not in r.headers.get("Content-Type", ""):
            return r.status, text.decode(errors="replace")
        return r.status, json.loads(text) if text else None


def wait_ready(p, port, path, logfile, deadline_s=20.0):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if p.poll() is not None:
            raise RuntimeError(f"server exited with {p.returncode}: "
                               + open(logfile).read()[-2000:])
        try:
            status, _ = http("GET", port, path, timeout=1)
            if status == 200:
                return
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            pass
        time.sleep(0.02)
    raise RuntimeError(f"server on port {port} not ready in {deadline_s}s")


@contextlib.contextmanager
def server_folders(binaries, prefix):
    """A folder per server binary in `binaries`, each holding it as `argus`
    beside this build's loadgen: Server and loadgen start BIN/argus and
    BIN/loadgen, so setting BIN to a folder runs that binary (the A/B
    tools alternate builds this way). Removed on exit."""
    folders = []
    try:
        for binary in binaries:
            folder = tempfile.mkdtemp(prefix=prefix)
            folders.append(folder)
            os.symlink(os.path.abspath(binary), os.path.join(folder, "argus"))
            os.symlink(os.path.join(BIN, "loadgen"),
                       os.path.join(folder, "loadgen"))
        yield folders
    finally:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


class Server:
    """One server under test in its own temp dir, stopped on exit."""

    def __init__(self, kind, variant=""):
        self.kind, self.variant = kind, variant
        self.dir = tempfile.mkdtemp(prefix=f"argus-bench-{kind}-")
        self.port = free_port()
        self.logfile = os.path.join(self.dir, "server.log")
        self.stop_seconds = None
        self.stop_timeout = STOP_TIMEOUT
        self.proc = None
        self.pg_db = None
        try:
            self._start(kind, variant)
        except BaseException:
            if self.proc:
                self.close()
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
                if self.pg_db:
                    PG.drop_db(self.pg_db)
            raise

    def _start(self, kind, variant):
        if kind == "baseline":
            self.proc = spawn([os.path.join(BIN, "baseline_server"), "--port",
                               str(self.port), "--mode", variant,
                               "--max-body", str(MAX_BODY)], self.logfile)
            if variant == "raw":
                self._wait_port()
            else:
                wait_ready(self.proc, self.port, "/healthz", self.logfile)
        elif kind == "argus":
            self._start_argus(variant)
        elif kind == "alertmanager":
            self._start_alertmanager()
        else:
            raise ValueError(kind)

    def _wait_port(self):
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"{self.kind} not listening on {self.port}")

    def _start_argus(self, variant, window_minutes=1440):
        # variant: "memory", or "sqlite/journal", "postgres/none", ...;
        # "memory/before" runs the BENCH_ARGUS_BEFORE binary.
        backend, _, durability = variant.partition("/")
        binary = "argus"
        if durability == "before":
            binary, durability = "argus_before", ""
        cfg = os.path.join(self.dir, "config.yaml")
        storage = f"  path: {os.path.join(self.dir, 'argus.db')}\n"
        if backend == "postgres":
            if not PG:
                raise RuntimeError("no PostgreSQL started for the bench")
            self.pg_db = PG.create_db()
            storage = f"  dsn: '{PG.dsn(self.pg_db)}'\n"
        ingest = ""
        if durability:
            ingest = (f"ingest:\n  durability: {durability}\n"
                      f"  journal_path: {os.path.join(self.dir, 'journal')}\n")
        with open(cfg, "w") as f:
            f.write(f"""# written by tools/bench/run.py
server:
  host: 127.0.0.1
  port: {self.port}
  max_body_bytes: {MAX_BODY}   # so batches of 1,000 events fit
storage:
  backend: {backend}
{storage}{ingest}node:
  port: 0                     # no remoting
log:
  level: warning              # one INFO line per notification otherwise
notifications:
  keep: 20000                 # enough for the latency probes
""")
        self.proc = spawn([os.path.join(BIN, binary), "--config", cfg],
                          self.logfile)
        wait_ready(self.proc, self.port, "/healthz", self.logfile)
        _, rule = http("POST", self.port, "/v1/grouping-rules",
                       {"name": "bench", "grouping_key": "class",
                        "time_window_minutes": window_minutes})
        http("POST", self.port, "/v1/event-managers",
             {"id": "bench", "name": "bench",
              "grouping_rule_id": rule["data"]["id"]})

    def _start_alertmanager(self):
        cfg = os.path.join(self.dir, "alertmanager.yml")
        with open(cfg, "w") as f:
            # Grouped by the same label Argus groups by; nothing is sent.
            f.write("route:\n  receiver: 'null'\n  group_by: ['class']\n"
                    "receivers:\n  - name: 'null'\n")
        self.proc = spawn([AM_BINARY, f"--config.file={cfg}",
                           f"--storage.path={os.path.join(self.dir, 'data')}",
                           f"--web.listen-address=127.0.0.1:{self.port}",
                           "--cluster.listen-address=", "--log.level=warn"],
                          self.logfile)
        wait_ready(self.proc, self.port, "/-/ready", self.logfile)

    def rss(self):
        return rss_kib(self.proc.pid)

    def close(self):
        self.stop_seconds = stop(self.proc, self.stop_timeout)
        self.killed = self.proc.returncode == -signal.SIGKILL
        if self.killed:
            log(f"  {self.kind}/{self.variant} took longer than "
                f"{self.stop_timeout:.0f} s to stop: killed")
        elif self.proc.returncode not in (0, -signal.SIGTERM):
            log(f"  {self.kind}/{self.variant} exited {self.proc.returncode}: "
                + open(self.logfile, errors="replace").read()[-1500:])
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.pg_db:
            PG.drop_db(self.pg_db)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def loadgen(port, path, batch, kind="argus", duration=None, count=None,
            rate=None, groups=GROUPS, healthz=True, probe_every=0,
            probe_file=None, timeout=600, server_pid=None, conns=None,
            key_base=0, keys=0):
    argv = [os.path.join(BIN, "loadgen"), "--port", str(port), "--path", path,
            "--kind", kind, "--batch", str(batch), "--conns", str(conns or CONNS),
            "--groups", str(groups)]
    argv += ["--duration", str(duration)] if duration else ["--count", str(count)]
    if rate:
        argv += ["--rate", str(rate)]
    if key_base:
        argv += ["--key-base", str(key_base)]
    if keys:
        argv += ["--keys", str(keys)]
    if healthz:
        argv.append("--healthz")
    if probe_every:
        argv += ["--probe-every", str(probe_every), "--probe-file", probe_file]
    with Noise(server_pid) as noise:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        LIVE.append(p)
        try:
            out, err = p.communicate(timeout=timeout)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            LIVE.remove(p)
    if p.returncode not in (0, 3) or not out.strip():
        raise RuntimeError(f"loadgen failed ({p.returncode}): {err.strip()}")
    result = json.loads(out)
    result["foreign_cores"] = noise.cores
    # CPU per event: the server's utime + stime over the run (from
    # /proc/PID/stat) per event it processed (per event answered 2xx when
    # it has no processed counter). Steadier than rates on a shared machine.
    events = result.get("server_processed") or result.get("events_ok") or 0
    result["cpu_us_per_event"] = (noise.server_cpu_s * 1e6 / events
                                  if server_pid and events else None)
    if not result["caught_up"]:
        log(f"  warning: processed did not catch up with accepted "
            f"({result['server_processed']} of {result['server_accepted']})")
    return result


def path_for(batch):
    return "/v1/events" if batch == 0 else "/v1/events/batch"


def summary(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs),
            "runs": xs}


# --- part 1: HTTP throughput --------------------------------------------------

HTTP_TARGETS = [
    ("generator capacity (raw sink)", "baseline", "raw"),
    ("httplib, no parse", "baseline", "noparse"),
    ("httplib baseline (parse)", "baseline", "parse"),
    ("argus memory", "argus", "memory"),
    # journal is the sqlite default since issue 5; stated explicitly.
    ("argus sqlite (journal)", "argus", "sqlite/journal"),
]
if QUICK:  # quick mode keeps the rows the ratios need
    HTTP_TARGETS = [t for t in HTTP_TARGETS if t[2] != "noparse"]
if os.environ.get("BENCH_TARGETS"):  # e.g. BENCH_TARGETS=parse,memory
    _wanted = {t.strip() for t in os.environ["BENCH_TARGETS"].split(",")}
    HTTP_TARGETS = [t for t in HTTP_TARGETS if t[2] in _wanted]
if ARGUS_BEFORE:
    HTTP_TARGETS.append(("argus memory (BENCH_ARGUS_BEFORE)", "argus",
                         "memory/before"))


WRK = None if QUICK else shutil.which("wrk")  # the cross-check: full runs only
WRK_TARGETS = [
    ("wrk+Lua cross-check (raw sink)", "raw"),
    ("wrk+Lua cross-check (baseline)", "parse"),
]


def wrk_run(variant):
    """wrk with tools/bench/events.lua (fresh dedupKeys) against a baseline
    server: an independent check of build/bin/loadgen's figures."""
    with Server("baseline", variant) as s, Noise(s.proc.pid) as noise:
        p = subprocess.run([WRK, "-t2", f"-c{CONNS}", f"-d{max(1, round(DURATION))}s",
                            "-s", os.path.join(ROOT, "tools/bench/events.lua"),
                            f"http://127.0.0.1:{s.port}/v1/events"],
                           capture_output=True, text=True, timeout=120)
    line = next((x for x in p.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if p.returncode != 0 or not line:
        raise RuntimeError(f"wrk failed: {p.stdout[-500:]} {p.stderr[-500:]}")
    w = json.loads(line[len("WRKJSON "):])
    return {"events_per_s": w["requests"] / w["seconds"], "processed_per_s": 0,
            "latency_us": {"p50": w["p50_us"], "p99": w["p99_us"]},
            "busy_503": w["non2xx"], "caught_up": True, "rss_kib": 0,
            "stop_seconds": s.stop_seconds, "foreign_cores": noise.cores}


def http_once(kind, variant, batch):
    with Server(kind, variant) as s:
        res = loadgen(s.port, path_for(batch), batch, duration=DURATION,
                      healthz=variant != "raw", server_pid=s.proc.pid)
        res["rss_kib"] = s.rss()
    res["stop_seconds"] = s.stop_seconds
    return res


def http_run_order(targets, r):
    """The targets of run `r`: the baselines first, then Argus's binaries
    and backends, in reverse order on every other run. In one order the
    second Argus row measured 3-5% less CPU per event than the first,
    whichever binary it was (the thirty-eighth round), as part 5 found
    for the binary run first after Alertmanager."""
    others = [t for t in targets if t[1] != "argus"]
    argus = [t for t in targets if t[1] == "argus"]
    return others + (argus if r % 2 == 0 else argus[::-1])


def part_http():
    raw = {(name, mode): [] for name, _, _ in HTTP_TARGETS for mode, _ in MODES}
    wrk_raw = {name: [] for name, _ in WRK_TARGETS}
    # Runs are interleaved (run 1 of everything, then run 2...) so that the
    # machine's drift hits every target alike.
    for r in range(RUNS):
        for name, kind, variant in http_run_order(HTTP_TARGETS, r):
            for mode, batch in MODES:
                res = measure(lambda: http_once(kind, variant, batch),
                              f"{name} {mode}")
                raw[(name, mode)].append(res)
                log(f"  run {r + 1}/{RUNS} {name:30s} {mode:10s} "
                    f"accepted {res['events_per_s']:>11,.0f}/s  processed "
                    f"{res['processed_per_s']:>11,.0f}/s  p50 "
                    f"{res['latency_us']['p50'] / 1000:6.2f} ms  p99 "
                    f"{res['latency_us']['p99'] / 1000:6.2f} ms  503s "
                    f"{res['busy_503']}  cpu {res['cpu_us_per_event'] or 0:6.2f} us/event  "
                    f"others {res['foreign_cores']:.2f} cores")
        for name, variant in WRK_TARGETS if WRK else []:
            res = measure(lambda: wrk_run(variant), name)
            wrk_raw[name].append(res)
            log(f"  run {r + 1}/{RUNS} {name:30s} single     accepted "
                f"{res['events_per_s']:>11,.0f}/s  p50 "
                f"{res['latency_us']['p50'] / 1000:6.2f} ms  p99 "
                f"{res['latency_us']['p99'] / 1000:6.2f} ms")
    if not WRK and not QUICK:
        log("  wrk is not installed: no cross-check of the generator")
    rows = []
    for name, kind, variant in HTTP_TARGETS:
        for mode, batch in MODES:
            runs = raw[(name, mode)]
            rows.append({
                "target": name, "mode": mode, "batch": batch,
                "accepted_per_s": summary([x["events_per_s"] for x in runs]),
                "processed_per_s": summary(
                    [x["processed_per_s"] for x in runs]) if variant != "raw" else None,
                "p50_ms": summary([x["latency_us"]["p50"] / 1000 for x in runs]),
                "p99_ms": summary([x["latency_us"]["p99"] / 1000 for x in runs]),
                "busy_503": sum(x["busy_503"] for x in runs),
                "stop_seconds": summary([x["stop_seconds"] for x in runs]),
                "rss_after_mib": summary([x["rss_kib"] / 1024 for x in runs]),
                "caught_up": all(x["caught_up"] for x in runs),
                "foreign_cores_max": max(x["foreign_cores"] for x in runs),
                "cpu_us_per_event": summary(
                    [x.get("cpu_us_per_event") for x in runs]),
            })
    for name, _ in WRK_TARGETS:
        runs = wrk_raw[name]
        if runs:
            rows.append({
                "target": name, "mode": "single", "batch": 0,
                "accepted_per_s": summary([x["events_per_s"] for x in runs]),
                "processed_per_s": None,
                "p50_ms": summary([x["latency_us"]["p50"] / 1000 for x in runs]),
                "p99_ms": summary([x["latency_us"]["p99"] / 1000 for x in runs]),
                "busy_503": sum(x["busy_503"] for x in runs),
                "caught_up": True,
                "foreign_cores_max": max(x["foreign_cores"] for x in runs),
            })
    base = {r["mode"]: r for r in rows if r["target"] == "httplib baseline (parse)"}
    for r in rows:
        if r["mode"] not in base:  # BENCH_TARGETS left the baseline out
            continue
        b = base[r["mode"]]["accepted_per_s"]["median"]
        r["accepted_vs_baseline"] = r["accepted_per_s"]["median"] / b
        if r["processed_per_s"]:
            r["processed_vs_baseline"] = r["processed_per_s"]["median"] / b
    return rows


# --- part 2: ingest-to-notification latency -----------------------------------

def parse_rfc3339_ms(text):
    # "2024-05-01T12:34:56.789Z": Argus stamps whole milliseconds.
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    d = d.replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp() * 1000 + 0.5)


LAG_METRIC = "argus_notification_lag_seconds"


def histogram(port, name):
    """The cumulative buckets {le: count} of one unlabelled histogram on
    /metrics."""
    _, text = http("GET", port, "/metrics")
    out = {}
    for m in re.finditer(re.escape(name) + r'_bucket\{le="([^"]+)"\} (\S+)', text):
        le = math.inf if m.group(1) == "+Inf" else float(m.group(1))
        out[le] = float(m.group(2))
    return out


def histogram_quantile(before, after, q):
    """The q-quantile of what a histogram gained between two scrapes, by
    linear interpolation inside the bucket (as PromQL's histogram_quantile);
    None when it gained nothing."""
    les = sorted(after)
    counts = [after[le] - before.get(le, 0) for le in les]
    if not counts or counts[-1] <= 0:
        return None
    rank = q * counts[-1]
    prev_le, prev_count = 0.0, 0.0
    for le, count in zip(les, counts):
        if count >= rank:
            if math.isinf(le):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_count) / max(count - prev_count, 1e-12)
        prev_le, prev_count = le, count
    return prev_le


def settled_histogram(port, name, expect, wait_s=3.0):
    """Scrapes until the histogram holds `expect` observations or stops
    growing: the last notifications may still be on their way."""
    end = time.monotonic() + wait_s
    last = histogram(port, name)
    while time.monotonic() < end and last.get(math.inf, 0) < expect:
        time.sleep(0.2)
        now = histogram(port, name)
        if now.get(math.inf, 0) == last.get(math.inf, 0):
            break
        last = now
    return last


def latency_run(backend, rate, duration):
    """One paced run: the load is the throughput workload at `rate`; every
    Kth request is a probe, a trigger with a fresh grouping value, which
    opens a parent and so a notification. A warm-up at the same rate (at
    least a second) opens the workload's groups first, so only probes make
    notifications in the measured run.

    A probe's ingest-to-notification time has two parts, measured apart:
      - send -> acceptance: the notification's `at` (the event's acceptance,
        in whole milliseconds, so + 1 ms) minus the send time loadgen wrote
        down, or the time to the probe's 202 if that is less (the event was
        accepted before it);
      - acceptance -> notification stored in the outbox: the node's
        argus_notification_lag_seconds histogram over the run.
    The p99 of their sum is at most the sum of their 99.5th percentiles
    (P(X+Y > x+y) <= P(X > x) + P(Y > y)): that bound is the figure
    reported, so it never flatters Argus. (Until 2026-12-03 the suite
    reported the first part alone as the whole.)"""
    expected_probes = 6000
    probe_every = max(1, math.ceil(rate * duration / expected_probes))
    with Server("argus", backend) as s:
        # Each connection walks the groups in turn, so each must send one
        # event per group to open them all.
        loadgen(s.port, "/v1/events", 0, rate=rate, key_base=10**12,
                duration=max(1.0, 1.2 * GROUPS * CONNS / rate),
                server_pid=s.proc.pid)
        # The warm-up's own notifications must be in before the first scrape.
        lag_before = settled_histogram(s.port, LAG_METRIC, math.inf)
        probe_file = os.path.join(s.dir, "probes.txt")
        res = loadgen(s.port, "/v1/events", 0, duration=duration, rate=rate,
                      probe_every=probe_every, probe_file=probe_file,
                      server_pid=s.proc.pid)
        sent, answered_ms = {}, {}
        with open(probe_file) as f:
            for line in f:
                key, us, answered_us = line.split()
                sent[key] = int(us)
                answered_ms[key] = int(answered_us) / 1000
        lag_after = settled_histogram(s.port, LAG_METRIC,
                                      lag_before.get(math.inf, 0) + len(sent))
        _, notes = http("GET", s.port, "/v1/notifications?limit=10000")
        upper = []
        for n in notes["data"]:
            key = n["alert"]["dedupKey"]
            if n["kind"] != "parent_opened" or key not in sent:
                continue
            at_ms = parse_rfc3339_ms(n["at"])
            # The true instant lies in [at_ms, at_ms + 1), and before the
            # 202: report the lower of the two upper bounds, so the figure
            # never flatters Argus.
            upper.append(min((at_ms + 1) - sent[key] / 1000, answered_ms[key]))
    upper.sort()

    def pct(xs, p):
        return xs[min(len(xs) - 1, int(p * (len(xs) - 1) + 0.5))] if xs else None

    def lag_ms(q):
        v = histogram_quantile(lag_before, lag_after, q)
        return v * 1000 if v is not None else None

    accept_p50, accept_p995 = pct(upper, 0.5), pct(upper, 0.995)
    lag_p50, lag_p995 = lag_ms(0.5), lag_ms(0.995)
    both = lambda a, b: a + b if a is not None and b is not None else None  # noqa: E731
    return {"rate": rate, "achieved_per_s": res["events_per_s"],
            "probes_sent": len(sent), "probes_matched": len(upper),
            "lag_count": lag_after.get(math.inf, 0) - lag_before.get(math.inf, 0),
            "accept_p50_ms": accept_p50, "accept_p99_ms": pct(upper, 0.99),
            "accept_max_ms": upper[-1] if upper else None,
            "lag_p50_ms": lag_p50, "lag_p99_ms": lag_ms(0.99),
            "p50_ms": both(accept_p50, lag_p50),
            "p99_ms": both(accept_p995, lag_p995),
            "post_p50_ms": res["latency_us"]["p50"] / 1000,
            "post_p99_ms": res["latency_us"]["p99"] / 1000,
            "busy_503": res["busy_503"], "foreign_cores": res["foreign_cores"]}


def part_latency(http_rows):
    rows = []
    for name, backend in (("argus memory", "memory"),
                          ("argus sqlite (journal)", "sqlite/journal")):
        peak = next((r["processed_per_s"]["median"] for r in http_rows
                     if r["target"] == name and r["mode"] == "single"), None)
        if peak is None:
            # Part 1 was skipped: measure the peak here.
            with Server("argus", backend) as s:
                peak = loadgen(s.port, "/v1/events", 0,
                               duration=DURATION)["processed_per_s"]
        rate = round(peak / 2)
        runs = []
        for r in range(RUNS):
            res = measure(lambda: latency_run(backend, rate, max(DURATION, 2.0)),
                          f"latency {name}")
            runs.append(res)
            f = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
            log(f"  run {r + 1}/{RUNS} latency {name:13s} at {rate:,}/s: "
                f"p99 <= {f(res['p99_ms'])} ms (send -> acceptance p50 "
                f"{f(res['accept_p50_ms'])} p99 {f(res['accept_p99_ms'])}; "
                f"acceptance -> stored p50 {f(res['lag_p50_ms'])} p99 "
                f"{f(res['lag_p99_ms'])}; {res['probes_matched']} probes, "
                f"{res['lag_count']:.0f} timed)")
        rows.append({
            "target": name, "rate_per_s": rate, "peak_per_s": peak,
            "p50_ms": summary([x["p50_ms"] for x in runs]),
            "p99_ms": summary([x["p99_ms"] for x in runs]),
            "accept_p50_ms": summary([x["accept_p50_ms"] for x in runs]),
            "accept_p99_ms": summary([x["accept_p99_ms"] for x in runs]),
            "accept_max_ms": summary([x["accept_max_ms"] for x in runs]),
            "lag_p50_ms": summary([x["lag_p50_ms"] for x in runs]),
            "lag_p99_ms": summary([x["lag_p99_ms"] for x in runs]),
            "post_p50_ms": summary([x["post_p50_ms"] for x in runs]),
            "post_p99_ms": summary([x["post_p99_ms"] for x in runs]),
            "probes": sum(x["probes_matched"] for x in runs),
            "foreign_cores_max": max(x["foreign_cores"] for x in runs),
            "runs": runs,
        })
    return rows


# --- part 3: in-process pipeline ----------------------------------------------

def part_pipeline():
    out = os.path.join(OUT_DIR, "pipeline.json")
    argv = [os.path.join(BIN, "pipeline_bench"), "--json", out]
    if QUICK:
        argv += ["--events", "50000"]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    log(p.stdout.rstrip())
    if p.returncode != 0:
        raise RuntimeError(f"pipeline_bench failed ({p.returncode})")
    with open(out) as f:
        return {"output": p.stdout, "json": json.load(f)}


# --- part 4: memory ------------------------------------------------------------

def memory_case(label, groups, count):
    with Server("argus", "memory") as s:
        # An orderly stop with a million groups outlasts any sane wait; the
        # figure here is the RSS, so give it 5 s and then kill it.
        s.stop_timeout = 5.0
        time.sleep(0.3)  # let start-up allocations settle
        idle = s.rss()
        res = loadgen(s.port, "/v1/events/batch", 1000, count=count,
                      groups=groups)
        time.sleep(0.5)
        after = s.rss()
        _, health = http("GET", s.port, "/healthz")
    live = health["data"].get("groups_live")
    count = res["events_ok"]
    per = (after - idle) * 1024 / count
    log(f"  {label}: idle {idle / 1024:.1f} MiB, after {after / 1024:.1f} MiB, "
        f"{per:.0f} bytes each ({live} groups live, "
        f"{res['processed_per_s']:,.0f} events/s processed)")
    return {"case": label, "count": count, "groups_live": live,
            "idle_rss_mib": idle / 1024, "rss_mib": after / 1024,
            "bytes_per_item": per, "processed_per_s": res["processed_per_s"],
            "stop_seconds": s.stop_seconds, "stopped_in_time": not s.killed}


def part_memory():
    return [
        memory_case(f"argus: {MEM_COUNT:,} open groups", 0, MEM_COUNT),
        memory_case(f"argus: {MEM_COUNT:,} alerts in {MEM_COUNT // 100:,} groups",
                    MEM_COUNT // 100, MEM_COUNT),
    ]


# --- part 5: Alertmanager -----------------------------------------------------

def am_held_alerts(port):
    """The alerts Alertmanager holds, in any state, from its /metrics."""
    total = 0
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=180) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("alertmanager_alerts{"):
                total += int(float(line.split()[-1]))
    return total


def am_once(batch):
    with Server("alertmanager") as s:
        return loadgen(s.port, "/api/v2/alerts", batch, kind="am",
                       duration=DURATION, healthz=False, server_pid=s.proc.pid)


def make_am_manager(port):
    """The manager `am` of Argus's Alertmanager API runs: its rule groups
    the alerts by their `class` label, as Alertmanager's route does."""
    _, rule = http("POST", port, "/v1/grouping-rules",
                   {"name": "am", "grouping_key": "labels.class",
                    "time_window_minutes": 1440})
    http("POST", port, "/v1/event-managers",
         {"id": "am", "name": "am", "grouping_rule_id": rule["data"]["id"]})


def argus_am_once(batch, variant):
    """Argus's own Alertmanager API (`/am/{manager}/api/v2/alerts`, what
    Prometheus posts to) with the same alerts (`make_am_manager`)."""
    with Server("argus", variant) as s:
        make_am_manager(s.port)
        return loadgen(s.port, "/am/am/api/v2/alerts", batch, kind="am",
                       duration=DURATION, server_pid=s.proc.pid)


def part_alertmanager(http_rows):
    if not AM_BINARY:
        log("  prometheus-alertmanager is not installed: part 5 skipped "
            "(tools/bench/install.sh installs it)")
        return None
    version = subprocess.run([AM_BINARY, "--version"], capture_output=True,
                             text=True).stdout.splitlines()[:1]
    # Argus's Alertmanager API, and the BENCH_ARGUS_BEFORE binary's, run
    # alternated with Alertmanager itself.
    am_api = [("argus", "memory")]
    if ARGUS_BEFORE:
        am_api.append(("argus before", "memory/before"))
    raw = {1: [], 100: []}
    api_raw = {(name, batch): [] for name, _ in am_api for batch in (1, 100)}
    for r in range(RUNS):
        for batch in (1, 100):
            res = measure(lambda: am_once(batch), f"alertmanager {batch}")
            raw[batch].append(res)
            log(f"  run {r + 1}/{RUNS} alertmanager {batch:3d}/request: "
                f"{res['events_per_s']:>9,.0f} alerts/s  p50 "
                f"{res['latency_us']['p50'] / 1000:.2f} ms  p99 "
                f"{res['latency_us']['p99'] / 1000:.2f} ms")
            # The binary run first after Alertmanager measured about a
            # tenth slower, whichever it was: alternate the order per run.
            for name, variant in (am_api if r % 2 == 0 else am_api[::-1]):
                res = measure(lambda: argus_am_once(batch, variant),
                              f"{name} AM API {batch}")
                api_raw[(name, batch)].append(res)
                log(f"  run {r + 1}/{RUNS} {name} AM API {batch:3d}/request: "
                    f"processed {res['processed_per_s']:>9,.0f} alerts/s  cpu "
                    f"{res['cpu_us_per_event']:.2f} us/alert")
    rows = []
    for batch in (1, 100):
        mode = "single" if batch == 1 else "batch100"
        am = summary([x["events_per_s"] for x in raw[batch]])
        argus = {r["target"]: r for r in http_rows
                 if r["mode"] == mode and r["target"].startswith("argus")}

        def native_vs_am(target):
            row = argus.get(target)
            return row["processed_per_s"]["median"] / am["median"] if row else None

        api = {name: {"processed_per_s": summary([x["processed_per_s"] for x in runs]),
                      "cpu_us_per_alert": summary([x["cpu_us_per_event"] for x in runs])}
               for (name, b), runs in api_raw.items() if b == batch}
        rows.append({
            "alerts_per_request": batch, "alerts_per_s": am,
            "p50_ms": summary([x["latency_us"]["p50"] / 1000 for x in raw[batch]]),
            "p99_ms": summary([x["latency_us"]["p99"] / 1000 for x in raw[batch]]),
            "foreign_cores_max": max(x["foreign_cores"] for x in raw[batch]),
            "argus_memory_vs_am": native_vs_am("argus memory"),
            "argus_sqlite_vs_am": native_vs_am("argus sqlite (journal)"),
            "argus_am_api": api,
            "argus_am_api_vs_am": {name: a["processed_per_s"]["median"] / am["median"]
                                   for name, a in api.items()},
        })
    with Server("alertmanager") as s:
        time.sleep(1.0)
        idle = s.rss()
        # Like Argus's per-alert case: 100 alerts per grouping value.
        res = loadgen(s.port, "/api/v2/alerts", 100, kind="am",
                      count=AM_MEM_COUNT, groups=max(1, AM_MEM_COUNT // 100),
                      healthz=False)
        time.sleep(1.0)
        after = s.rss()
        try:
            count = am_held_alerts(s.port)
        except OSError as e:  # a busy machine: keep the figures we have
            log(f"  alertmanager /metrics failed ({e}): held count unknown")
            count = -1
    per = (after - idle) * 1024 / res["events_ok"]
    log(f"  alertmanager memory: idle {idle / 1024:.1f} MiB, after "
        f"{after / 1024:.1f} MiB for {AM_MEM_COUNT:,} alerts ({count:,} held): "
        f"{per:.0f} bytes each")
    return {"version": version[0] if version else "", "rows": rows,
            "memory": {"count": AM_MEM_COUNT, "held": count,
                       "idle_rss_mib": idle / 1024, "rss_mib": after / 1024,
                       "bytes_per_alert": per,
                       "accepted_per_s": res["events_per_s"]}}


# --- part 6: durable ingest (issue 5) ---------------------------------------------

DURABLE_TARGETS = [
    ("argus sqlite (journal)", "sqlite/journal"),
    ("argus sqlite (none)", "sqlite/none"),
    ("argus postgres (journal)", "postgres/journal"),
    ("argus postgres (none)", "postgres/none"),
]
# (name, events per request, connections). Closed loop: each connection
# waits for its 202, so one group commit can gather at most `conns`
# requests; the 64-connection row shows how the journal scales with
# concurrency (server.threads is 64).
DURABLE_MODES = [("single", 0, CONNS), ("batch100", 100, CONNS),
                 ("single, 64 conns", 0, 64)]


def fsync_probe(n=200):
    """The latency of one 4 KiB append + fdatasync in a temp dir (the file
    system the journals of part 6 live on), in ms."""
    d = tempfile.mkdtemp(prefix="argus-bench-fsync-")
    try:
        fd = os.open(os.path.join(d, "probe"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            os.write(fd, b"x" * 4096)
            os.fdatasync(fd)
            times.append((time.perf_counter() - t0) * 1000)
        os.close(fd)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    times.sort()
    return {"p50_ms": times[len(times) // 2], "p99_ms": times[int(len(times) * 0.99)],
            "count": n}


def durable_once(variant, batch, conns):
    with Server("argus", variant) as s:
        res = loadgen(s.port, path_for(batch), batch, duration=DURATION,
                      server_pid=s.proc.pid, conns=conns)
        res["rss_kib"] = s.rss()
        _, health = http("GET", s.port, "/healthz")
        res["store_backlog"] = health["data"].get("store_backlog")
    # The orderly stop writes the store backlog: how far "stored" lags.
    res["stop_seconds"] = s.stop_seconds
    return res


def part_durable():
    global PG
    targets = DURABLE_TARGETS
    pg_version = None
    try:
        PG = Postgres()
        pg_version = PG.version
        log(f"  PostgreSQL {pg_version} at {PG.base} (fsync on)")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        log(f"  no PostgreSQL ({e}): postgres rows skipped")
        targets = [t for t in targets if not t[1].startswith("postgres")]
    fsync = fsync_probe()
    log(f"  4 KiB append + fdatasync in {tempfile.gettempdir()}: p50 "
        f"{fsync['p50_ms']:.2f} ms, p99 {fsync['p99_ms']:.2f} ms")
    raw = {(name, mode): [] for name, _ in targets for mode, _, _ in DURABLE_MODES}
    try:
        for r in range(RUNS):
            for name, variant in targets:
                for mode, batch, conns in DURABLE_MODES:
                    res = measure(lambda: durable_once(variant, batch, conns),
                                  f"{name} {mode}")
                    raw[(name, mode)].append(res)
                    log(f"  run {r + 1}/{RUNS} {name:26s} {mode:16s} accepted "
                        f"{res['events_per_s']:>9,.0f}/s  processed "
                        f"{res['processed_per_s']:>9,.0f}/s  p50 "
                        f"{res['latency_us']['p50'] / 1000:6.2f} ms  p99 "
                        f"{res['latency_us']['p99'] / 1000:6.2f} ms  503s "
                        f"{res['busy_503']}  stop {res['stop_seconds']:.1f} s  "
                        f"others {res['foreign_cores']:.2f} cores")
    finally:
        if PG:
            PG.destroy()
            PG = None
    rows = []
    for name, variant in targets:
        for mode, batch, conns in DURABLE_MODES:
            runs = raw[(name, mode)]
            rows.append({
                "target": name, "variant": variant, "mode": mode, "batch": batch,
                "conns": conns,
                "accepted_per_s": summary([x["events_per_s"] for x in runs]),
                "processed_per_s": summary([x["processed_per_s"] for x in runs]),
                "p50_ms": summary([x["latency_us"]["p50"] / 1000 for x in runs]),
                "p99_ms": summary([x["latency_us"]["p99"] / 1000 for x in runs]),
                "busy_503": sum(x["busy_503"] for x in runs),
                "stop_seconds": summary([x["stop_seconds"] for x in runs]),
                "caught_up": all(x["caught_up"] for x in runs),
                "foreign_cores_max": max(x["foreign_cores"] for x in runs),
                "runs": runs,
            })
    ratios = []
    by = {(r["variant"], r["mode"]): r for r in rows}
    for backend in ("sqlite", "postgres"):
        for mode, _, _ in DURABLE_MODES:
            j, n = by.get((f"{backend}/journal", mode)), by.get((f"{backend}/none", mode))
            if not j or not n:
                continue
            ratios.append({
                "backend": backend, "mode": mode,
                "journal_processed_per_s": j["processed_per_s"]["median"],
                "none_processed_per_s": n["processed_per_s"]["median"],
                "ratio": j["processed_per_s"]["median"] / n["processed_per_s"]["median"],
                "journal_p99_ms": j["p99_ms"]["median"],
                "none_p99_ms": n["p99_ms"]["median"],
                "target": 0.5 if mode == "single" else None,
            })
    return {"postgres_version": pg_version, "fsync": fsync, "rows": rows,
            "ratios": ratios}


# --- report -----------------------------------------------------------------------

def fmt_rate(s):
    if not s:
        return "-"
    return f"{s['median']:,.0f} ({s['min']:,.0f}–{s['max']:,.0f})"


def fmt_ms(s, digits=2):
    if not s:
        return "-"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {"nproc": os.cpu_count(), "cpu": model,
            "ram_gib": round(mem_kib / 1024 / 1024, 1),
            "kernel": os.uname().release}


def report(results):
    lines = []
    m = results["machine"]
    lines.append(f"Machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gib']} GiB RAM, "
                 f"Linux {m['kernel']}. {results['settings']['runs']} runs per "
                 f"figure, {results['settings']['duration_s']} s each, "
                 f"{results['settings']['conns']} keep-alive connections; "
                 "median (min–max). \"others' CPU\": the most CPU (in cores) "
                 "that processes outside the benchmark used during a run of "
                 "that row"
                 + (f" (runs above {NOISE_LIMIT} are repeated once)."
                    if NOISE_LIMIT < 1e6 else "; no run was repeated"
                    + (" (quick mode)." if QUICK else " (BENCH_NOISE_LIMIT off).")))
    if results.get("http"):
        lines += ["", "### 1. HTTP ingest (events/s)", "",
                  "| target | request | accepted/s | processed/s | vs baseline (acc / proc) | server CPU µs/event | POST p50 ms | POST p99 ms | 503s | others' CPU |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in results["http"]:
            proc_ratio = f"{r['processed_vs_baseline']:.2f}" if r.get("processed_vs_baseline") else "-"
            acc_ratio = f"{r['accepted_vs_baseline']:.2f}" if r.get("accepted_vs_baseline") else "-"
            lines.append(f"| {r['target']} | {r['mode']} | {fmt_rate(r['accepted_per_s'])} | "
                         f"{fmt_rate(r['processed_per_s'])} | {acc_ratio} / {proc_ratio} | "
                         f"{fmt_ms(r.get('cpu_us_per_event'))} | {fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | {r['busy_503']} | "
                         f"{r['foreign_cores_max']:.2f} |")
    if results.get("latency"):
        lines += ["", "### 2. Ingest-to-notification latency at 50% of the peak (single events)", "",
                  "Send -> acceptance per probe (the notification's `at` rounded up to the "
                  "millisecond, or the probe's 202 if sooner) plus acceptance -> notification stored (the node's "
                  "`argus_notification_lag_seconds`); the p99 is bounded by the sum of the "
                  "parts' 99.5th percentiles.", "",
                  "| target | rate (peak/2) | p50 ms (sum of medians) | p99 ms (bound) | send -> acceptance p50 / p99 ms | acceptance -> stored p50 / p99 ms | POST p50 / p99 ms | probes | others' CPU |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in results["latency"]:
            lines.append(f"| {r['target']} | {r['rate_per_s']:,}/s | {fmt_ms(r['p50_ms'])} | "
                         f"{fmt_ms(r['p99_ms'])} | {fmt_ms(r['accept_p50_ms'])} / {fmt_ms(r['accept_p99_ms'])} | "
                         f"{fmt_ms(r['lag_p50_ms'])} / {fmt_ms(r['lag_p99_ms'])} | "
                         f"{r['post_p50_ms']['median']:.2f} / {r['post_p99_ms']['median']:.2f} | {r['probes']} | "
                         f"{r['foreign_cores_max']:.2f} |")
    if results.get("pipeline"):
        lines += ["", "### 3. In-process pipeline (tools/bench/pipeline_bench.cpp)", "", "```",
                  results["pipeline"]["output"].rstrip(), "```"]
    if results.get("memory"):
        lines += ["", "### 4. Memory (memory backend, VmRSS minus idle RSS)", "",
                  "| case | idle RSS MiB | RSS after MiB | bytes per item | processed/s |",
                  "| --- | --- | --- | --- | --- |"]
        for r in results["memory"]:
            lines.append(f"| {r['case']} | {r['idle_rss_mib']:.1f} | {r['rss_mib']:.1f} | "
                         f"{r['bytes_per_item']:,.0f} | {r['processed_per_s']:,.0f} |")
    am = results.get("alertmanager")
    if am:
        lines += ["", f"### 5. Alertmanager side by side ({am['version']})", "",
                  "| alerts per request | Alertmanager alerts/s | p50 ms | p99 ms | Argus memory processed / AM | Argus sqlite (journal) processed / AM | others' CPU |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in am["rows"]:
            ratio_m = f"{r['argus_memory_vs_am']:.1f}x" if r["argus_memory_vs_am"] else "-"
            ratio_s = f"{r['argus_sqlite_vs_am']:.1f}x" if r["argus_sqlite_vs_am"] else "-"
            lines.append(f"| {r['alerts_per_request']} | {fmt_rate(r['alerts_per_s'])} | "
                         f"{fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | {ratio_m} | {ratio_s} | "
                         f"{r['foreign_cores_max']:.2f} |")
        lines += ["", "Argus's own Alertmanager API (`/am/{manager}/api/v2/alerts`, memory "
                  "backend, a rule on `labels.class`), the same alerts:", "",
                  "| alerts per request | binary | processed alerts/s | vs Alertmanager | server CPU µs per alert |",
                  "| --- | --- | --- | --- | --- |"]
        for r in am["rows"]:
            for name, a in r["argus_am_api"].items():
                lines.append(f"| {r['alerts_per_request']} | {name} | {fmt_rate(a['processed_per_s'])} | "
                             f"{r['argus_am_api_vs_am'][name]:.1f}x | "
                             f"{a['cpu_us_per_alert']['median']:.2f} |")
        mem = am["memory"]
        lines += ["", f"Alertmanager memory: {mem['count']:,} alerts, idle "
                  f"{mem['idle_rss_mib']:.1f} MiB, after {mem['rss_mib']:.1f} MiB: "
                  f"{mem['bytes_per_alert']:,.0f} bytes per alert."]
        argus_alert = next((r for r in results.get("memory") or [] if "alerts in" in r["case"]), None)
        if argus_alert:
            lines.append(f"Argus per alert: {argus_alert['bytes_per_item']:,.0f} bytes "
                         f"= {argus_alert['bytes_per_item'] / mem['bytes_per_alert']:.2f}x Alertmanager's.")
    elif "5" in PARTS:
        lines += ["", "### 5. Alertmanager: skipped (prometheus-alertmanager not installed)"]
    dur = results.get("durable")
    if dur:
        pg = f", PostgreSQL {dur['postgres_version']} (tools/pg.sh, fsync on)" if dur["postgres_version"] else ""
        lines += ["", f"### 6. Durable ingest: ingest.durability journal vs none{pg}", "",
                  "| target | request | accepted/s | processed/s | POST p50 ms | POST p99 ms | 503s | stop s (store flush) | others' CPU |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in dur["rows"]:
            lines.append(f"| {r['target']} | {r['mode']} | {fmt_rate(r['accepted_per_s'])} | "
                         f"{fmt_rate(r['processed_per_s'])} | {fmt_ms(r['p50_ms'])} | "
                         f"{fmt_ms(r['p99_ms'])} | {r['busy_503']} | {fmt_ms(r['stop_seconds'], 1)} | "
                         f"{r['foreign_cores_max']:.2f} |")
        lines += ["", "| backend | request | journal processed/s | none processed/s | journal / none | POST p99 ms journal / none | target |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in dur["ratios"]:
            verdict = "-"
            if r["target"]:
                verdict = (f">= {r['target']}x: " + ("met" if r["ratio"] >= r["target"] else "missed"))
            lines.append(f"| {r['backend']} | {r['mode']} | {r['journal_processed_per_s']:,.0f} | "
                         f"{r['none_processed_per_s']:,.0f} | {r['ratio']:.2f}x | "
                         f"{r['journal_p99_ms']:.2f} / {r['none_p99_ms']:.2f} | {verdict} |")
        f = dur["fsync"]
        lines += ["", f"One 4 KiB append + fdatasync in {tempfile.gettempdir()} at the start "
                  f"of the part: p50 {f['p50_ms']:.2f} ms, p99 {f['p99_ms']:.2f} ms. With "
                  f"{CONNS} closed-loop connections a group commit carries at most {CONNS} "
                  "single events, so durable single events run at most at "
                  f"{CONNS} / (one commit round)."]
    return "\n".join(lines) + "\n"


def build():
    if not os.path.exists(os.path.join(BUILD, "CMakeCache.txt")):
        subprocess.run(["cmake", "-S", ROOT, "-B", BUILD,
                        "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True)
    subprocess.run(["cmake", "--build", BUILD, "-j2", "--target", "argus",
                    "baseline_server", "loadgen", "pipeline_bench"], check=True)


def snapshot_binaries():
    """Copies the binaries under test to a temp dir, so that a rebuild in
    the shared build tree during the run cannot swap them mid-run."""
    global BIN
    snap = tempfile.mkdtemp(prefix="argus-bench-bin-")
    for name in ("argus", "baseline_server", "loadgen", "pipeline_bench"):
        if name == "pipeline_bench" and "3" not in PARTS:
            continue  # --no-build runs may not have it
        shutil.copy2(os.path.join(BIN, name), os.path.join(snap, name))
    if ARGUS_BEFORE:
        shutil.copy2(ARGUS_BEFORE, os.path.join(snap, "argus_before"))
    BIN = snap
    return snap


def git_state():
    def git(*args):
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True,
                              text=True).stdout.strip()
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def main():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    started = time.monotonic()
    try:
        if "--no-build" not in sys.argv:
            build()
        snap = snapshot_binaries()
        os.makedirs(OUT_DIR, exist_ok=True)
        results = {"machine": machine(), "git": git_state(),
                   "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                   "settings": {"quick": QUICK, "runs": RUNS, "duration_s": DURATION,
                                "conns": CONNS, "groups": GROUPS,
                                "mem_count": MEM_COUNT, "am_mem_count": AM_MEM_COUNT}}
        parts = [
            ("1", "http", "HTTP ingest: generator, httplib baseline, Argus memory, Argus sqlite (journal)",
             lambda: part_http()),
            ("2", "latency", "ingest-to-notification latency at 50% of the peak",
             lambda: part_latency(results.get("http") or [])),
            ("3", "pipeline", "in-process pipeline", part_pipeline),
            ("4", "memory", "memory", part_memory),
            ("5", "alertmanager", "Alertmanager side by side",
             lambda: part_alertmanager(results.get("http") or [])),
            ("6", "durable", "durable ingest: journal vs none, SQLite and PostgreSQL",
             part_durable),
        ]
        results["part_seconds"] = {}
        for number, key, title, run in parts:
            if number not in PARTS:
                continue
            log(f"== {number}. {title}")
            t0 = time.monotonic()
            try:
                results[key] = run()
            except Exception as e:  # one failed part must not lose the others
                log(f"   part {number} failed: {e!r}")
                results.setdefault("errors", {})[key] = repr(e)
                results[key] = None
            results["part_seconds"][key] = round(time.monotonic() - t0, 1)
            log(f"   ({results['part_seconds'][key]} s)")
        results["elapsed_s"] = round(time.monotonic() - started, 1)
        text = report(results)
        with open(os.path.join(OUT_DIR, "results.json"), "w") as f:
            json.dump(results, f, indent=2)
        with open(os.path.join(OUT_DIR, "results.md"), "w") as f:
            f.write(text)
        print(text)
        log(f"wrote {os.path.join(OUT_DIR, 'results.json')} and results.md "
            f"in {results['elapsed_s']} s")
    finally:
        cleanup()
        if BIN.startswith(tempfile.gettempdir()):
            shutil.rmtree(BIN, ignore_errors=True)


if __name__ == "__main__":
    main()
