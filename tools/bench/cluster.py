#!/usr/bin/env python3
"""Cluster benchmark: 1, 2 and 3 Argus nodes clustered on this machine,
sharing one PostgreSQL (Python 3, standard library only).

Usage, from the repository root:

  python3 tools/bench/cluster.py --build-dir build                 # about 5 minutes
  BENCH_QUICK=1 python3 tools/bench/cluster.py --build-dir build   # about 1 minute

  --build-dir DIR   the CMake build tree (relative to the current folder).
                    `cmake --build DIR --target argus argusctl loadgen` runs
                    first (a missing tree is configured RelWithDebInfo, as
                    tools/bench/run.py does); the binaries are copied to a
                    temp dir so that a rebuild cannot swap them mid-run
  --no-build        use the binaries as they are
  --json FILE       also write every run's figures to FILE

The report (markdown) goes to stdout, progress to stderr. One throwaway
PostgreSQL 15 (tools/pg.sh start/destroy, fsync on) serves the whole
benchmark; every run gets a fresh database and a fresh cluster: N nodes on
127.0.0.1, each with cluster.node_id and every node's node.port as seeds
(a 1-node cluster is clustered too, so its events take the same ownership
path), `storage.backend: postgres`, `ingest.durability: journal` (the
postgres default) and `ingest.max_pending_events` raised (see below). A run
starts once every node sees all members up (`argusctl cluster --json`),
every node sees the event manager made on node 1, and every node has
answered 202 to a warm-up batch over 30 classes (a node answers 503 while it
takes over groups). The load is build/bin/loadgen, one process per loaded
node (distinct --key-base, so every dedupKey is fresh), 12 closed-loop
connections in all, split evenly; the rule groups by `class`.

 1. Scaling: 1,000 classes, load spread evenly over the N nodes' HTTP ports,
    N = 1, 2, 3. Reported: events/s accepted (2xx) and processed (the sum of
    the nodes' /healthz events.processed over the time from the first send
    until they caught up), and processed / the 1-node cluster's, same
    invocation. The machine has 2 cores for all nodes, PostgreSQL and the
    generator: more nodes add no CPU, so this shows what clustering costs on
    one machine, not what it would gain on several. Since the generator
    sends every class to every node, (N-1)/N of the events are forwarded
    to their owner (computed from Argus's rendezvous hash, re-implemented
    here, and checked against each node's accepted counter).
 2. Forwarding overhead, 3-node cluster. The node ids are chosen (searched
    offline) so that one node owns all 16 classes c0..c15. The same load
    goes (a) all to that owner: nothing is forwarded; (b) all to another
    node: every event is forwarded over CAF remoting. Same processes,
    groups, owner, journal and store, so (b) - (a) in CPU per event is the
    cost of forwarding one event (both sides), and (b)/(a) in events/s what
    it costs in rate. Full runs add (d): the 1,000-class load all to node 1,
    next to (c) = the spread 3-node run of part 1; both forward about 2/3,
    so (d) vs (c) is the cost of one HTTP front, not of forwarding.

CPU per event: utime + stime (from /proc) of all Argus nodes, and
separately of all PostgreSQL processes, from the first send until the
nodes caught up, over the events accepted. Argus's CPU is the figure for
forwarding (which does not touch PostgreSQL); PostgreSQL's also contains
however much of the store's write-behind happened in the window.

Two things seen at 6243501 shape the method: (1) a clustered node writes
its store backlog slowly once its journal holds many records (each store
transaction deletes its completed records with `DELETE FROM journal WHERE
node_id = $1 AND seq = ANY($2)`, planned while the table was small as a scan
of all the node's records with the array as a filter), so an orderly stop
after a run can take tens of seconds: runs end at "processed", the report shows
the store backlog left, and nodes are stopped with SIGKILL (their database
is dropped). (2) Back-pressure (ingest.max_pending_events, which counts the
store backlog) is checked only on the node that receives a request, so a
node that forwards everything never answers 503 while the owner's backlog
grows without bound; with the default bound, the no-forwarding case would be
throttled and the forwarding one not. So the bound is raised for all runs.
(3) `argusctl cluster` counts open groups through the repository, so a node
writing a large store backlog does not answer it for seconds; membership
during a run is therefore read from the node logs (info level: "member ...
is down" / "left"), which the report summarizes with any warnings.

Runs are interleaved: round 1 runs every case once, round 2 in reverse
order, and so on; figures are medians over the rounds (min-max). Before
each run the driver waits briefly for an idle machine and measures the CPU
other processes used meanwhile ("others"). Every process started (nodes,
generators, PostgreSQL) is stopped at the end, also on failure and Ctrl-C.

Knobs (environment variables):
  BENCH_QUICK=1                about 1 minute: 1 round of 2 s runs, no (d)
  BENCH_RUNS=N                 rounds (default 3, quick 1)
  BENCH_DURATION=S             seconds of load per run (default 5, quick 2)
  BENCH_CONNS=C                generator connections in all (12)
  BENCH_CLUSTER_SHAPES=...     request shapes, in order (batch100,single)
  BENCH_CLUSTER_DURABILITY=D   ingest.durability: journal (default) or none
  BENCH_CLUSTER_NODES=1,2,3    cluster sizes (1 is the ratios' baseline;
                               part 2 needs 3)
  BENCH_CLUSTER_MAX_PENDING=N  ingest.max_pending_events (100000000)
  BENCH_QUIET_WAIT=S           wait up to S s for an idle machine before each
                               run (2; quick 0)
"""

import argparse
import datetime
import json
import os
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

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
RUNS = int(os.environ.get("BENCH_RUNS", "1" if QUICK else "3"))
DURATION = float(os.environ.get("BENCH_DURATION", "2" if QUICK else "5"))
CONNS = int(os.environ.get("BENCH_CONNS", "12"))
SHAPES_ALL = {"batch100": 100, "single": 0}
SHAPES = [s.strip() for s in
          os.environ.get("BENCH_CLUSTER_SHAPES", "batch100,single").split(",")
          if s.strip()]
DURABILITY = os.environ.get("BENCH_CLUSTER_DURABILITY", "journal")
SIZES = [int(x) for x in os.environ.get("BENCH_CLUSTER_NODES", "1,2,3").split(",")]
CLASSES = 1000          # grouping values of the scaling runs
FWD_CLASSES = 16        # grouping values of the forwarding runs
MAX_BODY = 16 * 1024 * 1024
MANAGER = "bench"
# ingest.max_pending_events of the nodes: high, so that no run is throttled
# by back-pressure (it counts the store backlog, which grows fast in a
# cluster, and only on the node that receives the request: a forwarding
# node never refuses, the owner would). Every case measures the same thing.
MAX_PENDING = int(os.environ.get("BENCH_CLUSTER_MAX_PENDING", "100000000"))
# Node ids of the 3-node cluster. Searched offline (a brute force over the
# suffix) so that one node owns every class c0..c15 of manager "bench":
# checked at start with the same hash as domain/cluster.cpp.
FWD_IDS = ["n1-10693059", "n2-10693059", "n3-10693059"]
# How long the nodes may take to apply what they accepted.
CATCHUP_TIMEOUT = 60.0
# Wait up to this long for an idle machine before each run (quick: not).
QUIET_WAIT = float(os.environ.get("BENCH_QUIET_WAIT", "0" if QUICK else "2"))

HZ = os.sysconf("SC_CLK_TCK")
BIN = None
ARGUSCTL = None


# --- ownership: domain/cluster.cpp in Python -----------------------------------

_M64 = (1 << 64) - 1
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211


def _mix(h, text):
    data = text.encode()
    n = len(data)
    for i in range(8):  # the length first, as domain/cluster.cpp does
        h ^= (n >> (8 * i)) & 0xFF
        h = (h * _FNV_PRIME) & _M64
    for c in data:
        h ^= c
        h = (h * _FNV_PRIME) & _M64
    return h


def _finalize(h):
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _M64
    h ^= h >> 33
    return h


def owner_of(members, manager, value):
    """domain::group_owner for an event with a grouping value."""
    best, best_score = None, 0
    for m in members:
        h = _mix(_mix(_mix(_FNV_OFFSET, m), manager), "=" + value)
        s = _finalize(h)
        if best is None or s > best_score or (s == best_score and m < best):
            best, best_score = m, s
    return best


def class_value(i):
    """The grouping value loadgen sends for class i ('c' + 16 digits)."""
    return f"c{i:016d}"


def owners(members, classes):
    """{member: number of classes 0..classes-1 it owns}."""
    out = {m: 0 for m in members}
    for i in range(classes):
        out[owner_of(members, MANAGER, class_value(i))] += 1
    return out


# --- processes -------------------------------------------------------------------

LIVE = []   # processes we started and have not reaped
PG = None   # the throwaway PostgreSQL


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def stop_all(procs, timeout):
    """SIGTERM to all at once (a clustered node leaves on SIGTERM; stopping
    them one by one would make the others take over its groups), then
    SIGKILL after `timeout`. Returns the pids that had to be killed."""
    for p in procs:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except OSError:
                pass
    end = time.monotonic() + timeout
    killed = []
    for p in procs:
        try:
            p.wait(max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            killed.append(p.pid)
        if p in LIVE:
            LIVE.remove(p)
        for f in getattr(p, "owned_files", []):
            f.close()
    return killed


def spawn(argv, logfile):
    out = open(logfile, "wb")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    p.owned_files = [out]
    LIVE.append(p)
    return p


def free_port(taken):
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port


def proc_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def ticks_of(pids):
    out = {}
    for pid in pids:
        try:
            out[pid] = proc_ticks(pid)
        except (OSError, IndexError, ValueError):
            pass
    return out


def busy_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:8]]
    return sum(v) - v[3] - v[4]


def own_ticks():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime) * HZ


# --- HTTP and argusctl -------------------------------------------------------------

def http(method, port, path, body=None, timeout=10):
    """(status, parsed JSON or text); HTTP errors are returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, text, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, text, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
    if "json" in ctype and text:
        return status, json.loads(text)
    return status, text.decode(errors="replace")


def members_seen(node_port, timeout=3):
    """`argusctl cluster --json` of one node: {node_id: member}, {} on failure."""
    try:
        p = subprocess.run([ARGUSCTL, "--node", f"127.0.0.1:{node_port}",
                            "--timeout", str(timeout), "cluster", "--json"],
                           capture_output=True, text=True, timeout=timeout + 10)
    except subprocess.TimeoutExpired:
        return {}
    if p.returncode != 0:
        return {}
    try:
        data = json.loads(p.stdout)
    except ValueError:
        return {}
    if isinstance(data, dict):
        data = data.get("data", [])
    return {m["node_id"]: m for m in data}


def eventually(fn, deadline_s, what, pause=0.1):
    end = time.monotonic() + deadline_s
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > end:
            raise RuntimeError(f"timed out after {deadline_s:.0f} s waiting for {what}")
        time.sleep(pause)


# --- a cluster --------------------------------------------------------------------

class Node:
    def __init__(self, node_id, http_port, node_port, seeds, dsn, dir_):
        self.id = node_id
        self.port = http_port
        self.node_port = node_port
        self.dir = dir_
        self.logfile = os.path.join(dir_, f"{node_id}.log")
        cfg = os.path.join(dir_, f"{node_id}.yaml")
        seed_list = ", ".join(f"'127.0.0.1:{p}'" for p in seeds)
        with open(cfg, "w") as f:
            f.write(f"""# written by tools/bench/cluster.py
server:
  host: 127.0.0.1
  port: {http_port}
  max_body_bytes: {MAX_BODY}
storage:
  backend: postgres
  dsn: '{dsn}'
ingest:
  durability: {DURABILITY}
  max_pending_events: {MAX_PENDING}   # no run throttled by the store's lag
node:
  host: 127.0.0.1
  port: {node_port}
log:
  level: info                 # membership changes; one line per new group too
cluster:
  node_id: {node_id}
  seeds: [{seed_list}]
""")
        self.proc = spawn([os.path.join(BIN, "argus"), "--config", cfg], self.logfile)

    def check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"node {self.id} exited with {self.proc.returncode}: "
                               + self.log_tail())

    def log_tail(self, n=1500):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def log_lines(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return [l.rstrip("\n") for l in f if l.strip()]
        except OSError:
            return []

    def health(self):
        status, body = http("GET", self.port, "/healthz", timeout=5)
        if status != 200:
            raise RuntimeError(f"node {self.id}: /healthz answered {status}")
        d = body["data"]
        return {"accepted": d["events"]["accepted"],
                "processed": d["events"]["processed"],
                "backlog": d.get("store_backlog") or 0}


class ClusterStartError(RuntimeError):
    pass


class Cluster:
    """N nodes on 127.0.0.1 sharing a fresh database; every node lists every
    node's node.port as a seed."""

    def __init__(self, ids):
        self.ids = ids
        self.dir = tempfile.mkdtemp(prefix=f"argus-cluster-{len(ids)}-")
        self.db = PG.create_db()
        self.nodes = []
        self.key_round = 0
        self.log_issues = []   # warnings and errors of the node logs
        self.last_lines = []   # the last lines of each log
        self.start_lines = {}  # log lines per node when the cluster had formed
        self.membership_changes = []
        try:
            self._start()
        except BaseException as e:
            self.close()
            if isinstance(e, RuntimeError):
                tails = "\n".join(self.last_lines)
                raise ClusterStartError(f"{e}\nnode logs:\n{tails}") from None
            raise

    def _start(self):
        t0 = time.monotonic()
        taken = set()
        ports = [(free_port(taken), free_port(taken)) for _ in self.ids]
        seeds = [node_port for _, node_port in ports]
        for node_id, (http_port, node_port) in zip(self.ids, ports):
            self.nodes.append(Node(node_id, http_port, node_port, seeds,
                                   PG.dsn(self.db), self.dir))
        n = len(self.ids)

        def all_up(node):
            node.check_alive()
            ms = members_seen(node.node_port)
            return (len(ms) == n and all(ms.get(i, {}).get("state") == "up"
                                         for i in self.ids))
        for node in self.nodes:
            eventually(lambda: all_up(node), 60, f"{node.id} to see {n} members up")
        # A rule and a manager made on one node, seen by every node.
        status, rule = http("POST", self.nodes[0].port, "/v1/grouping-rules",
                            {"name": "bench", "grouping_key": "class",
                             "time_window_minutes": 1440})
        if status not in (200, 201):
            raise RuntimeError(f"POST /v1/grouping-rules: {status} {rule}")
        status, body = http("POST", self.nodes[0].port, "/v1/event-managers",
                            {"id": MANAGER, "name": "bench",
                             "grouping_rule_id": rule["data"]["id"]})
        if status not in (200, 201):
            raise RuntimeError(f"POST /v1/event-managers: {status} {body}")
        for node in self.nodes:
            eventually(lambda: http("GET", node.port,
                                    f"/v1/event-managers/{MANAGER}")[0] == 200,
                       30, f"{node.id} to see the manager")
        # Each node must accept events (it answers 503 while it takes over
        # groups after a membership change): a batch over 30 classes, so
        # that every node also forwards to every other one.
        self.warm_503 = 0
        self.last_503 = None
        for node in self.nodes:
            batch = [{"event_manager_id": MANAGER, "summary": "warm-up",
                      "severity": "low", "action": "trigger",
                      "class": f"warm{c}", "dedupKey": f"warm-{node.id}-{c}"}
                     for c in range(30)]

            def accepted():
                status, body = http("POST", node.port, "/v1/events/batch", batch)
                if status == 503:
                    self.warm_503 += 1
                    self.last_503 = body
                    return False
                if status != 202:
                    raise RuntimeError(f"{node.id}: warm-up batch answered {status}")
                return True
            try:
                eventually(accepted, 30, f"{node.id} to accept events", pause=0.2)
            except RuntimeError as e:
                raise RuntimeError(f"{e}; its last 503: {self.last_503}") from None
        if not self.settle(20):
            log("    warning: the warm-up events were not applied and stored in 20 s")
        self.start_lines = {n.id: len(n.log_lines()) for n in self.nodes}
        self.start_seconds = time.monotonic() - t0

    def settle(self, timeout=CATCHUP_TIMEOUT):
        """Waits until every node applied what it accepted and wrote its
        store backlog; True if it did in time."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            hs = [n.health() for n in self.nodes]
            if all(h["processed"] >= h["accepted"] and h["backlog"] == 0 for h in hs):
                return True
            time.sleep(0.05)
        return False

    def argus_pids(self):
        return [n.proc.pid for n in self.nodes]

    def next_key_base(self):
        # loadgen keys are key_base + thread * 10^13 + seq (16 digits): one
        # 2 * 10^14 block per generator keeps every dedupKey fresh.
        self.key_round += 1
        if self.key_round >= 49:
            raise RuntimeError("too many generator runs on one cluster")
        return self.key_round * 2 * 10**14

    def close(self):
        """SIGKILL: an orderly stop would first write the store backlog,
        which takes minutes here (see the report's notes); the database is
        dropped anyway."""
        # SIGSTOP first, so that no node logs the others' deaths.
        for node in self.nodes:
            if node.proc.poll() is None:
                node.proc.send_signal(signal.SIGSTOP)
            elif node.proc.returncode != 0:
                self.log_issues.append(f"{node.id}: exited {node.proc.returncode} "
                                       "during the run")
        for node in self.nodes:
            if node.proc.poll() is None:
                node.proc.kill()
        for node in self.nodes:
            node.proc.wait()
            if node.proc in LIVE:
                LIVE.remove(node.proc)
            for f in getattr(node.proc, "owned_files", []):
                f.close()
            lines = node.log_lines()
            # "member X is down" / "left" after the cluster formed.
            self.membership_changes += [
                f"{node.id}: {l}" for l in lines[self.start_lines.get(node.id, 0):]
                if "cluster: member" in l and ("is down" in l or " left" in l)]
            self.last_lines += [f"{node.id}: {l}" for l in lines[-15:]]
            self.log_issues += [f"{node.id}: {l}" for l in lines
                                if " WARN " in l or " ERROR " in l]
        if self.db:
            PG.drop_db(self.db)
            self.db = None
        shutil.rmtree(self.dir, ignore_errors=True)


# --- one measurement ---------------------------------------------------------------

def wait_quiet():
    """Waits (up to BENCH_QUIET_WAIT s) until the machine is nearly idle;
    returns the cores others used at the last look."""
    end = time.monotonic() + QUIET_WAIT
    warned = False
    while True:
        b0 = busy_ticks()
        time.sleep(0.3)
        cores = (busy_ticks() - b0) / HZ / 0.3
        if cores < 0.15 or time.monotonic() > end:
            return cores
        if not warned:
            log(f"    machine busy ({cores:.2f} cores used by others): waiting up to "
                f"{QUIET_WAIT:.0f} s")
            warned = True
        time.sleep(0.7)


def run_load(cluster, targets, batch, classes, label):
    """One loadgen per entry of `targets` (node indexes) at the same time,
    CONNS connections split between them, for DURATION s; then waits until
    every node has applied the events it accepted. Returns the figures."""
    conns = [CONNS // len(targets) + (1 if i < CONNS % len(targets) else 0)
             for i in range(len(targets))]
    path = "/v1/events/batch" if batch else "/v1/events"
    before = [n.health() for n in cluster.nodes]
    argus_pids = cluster.argus_pids()
    pg_pids = PG.pids()
    a0, p0 = ticks_of(argus_pids), ticks_of(pg_pids)
    busy0, own0 = busy_ticks(), own_ticks()
    t0 = time.monotonic()
    gens = []
    for idx, c in zip(targets, conns):
        argv = [os.path.join(BIN, "loadgen"), "--port", str(cluster.nodes[idx].port),
                "--path", path, "--batch", str(batch), "--conns", str(c),
                "--groups", str(classes), "--duration", str(DURATION),
                "--key-base", str(cluster.next_key_base())]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        LIVE.append(p)
        gens.append(p)
    outs = []
    try:
        for p in gens:
            out, err = p.communicate(timeout=DURATION + 120)
            if p.returncode != 0 or not out.strip():
                raise RuntimeError(f"loadgen failed ({p.returncode}): {err.strip()[-800:]}")
            outs.append(json.loads(out))
    finally:
        for p in gens:
            if p.poll() is None:
                p.kill()
                p.wait()
            if p in LIVE:
                LIVE.remove(p)
    events_ok = sum(o["events_ok"] for o in outs)
    # Processed: until the nodes' counters caught up with the 202s. A node
    # counts an event as accepted when it journaled it as its owner, so the
    # sums over the nodes are compared.
    caught_up, hs = False, None
    end = time.monotonic() + CATCHUP_TIMEOUT
    while True:
        hs = [n.health() for n in cluster.nodes]
        acc = sum(h["accepted"] - b["accepted"] for h, b in zip(hs, before))
        proc = sum(h["processed"] - b["processed"] for h, b in zip(hs, before))
        if acc >= events_ok and proc >= acc:
            caught_up = True
            break
        if time.monotonic() > end:
            log(f"    warning: {label}: processed did not catch up in "
                f"{CATCHUP_TIMEOUT:.0f} s ({proc} of {acc}; {events_ok} accepted by HTTP)")
            break
        time.sleep(0.01)
    t_proc = time.monotonic()
    a1 = ticks_of(argus_pids)
    p1 = ticks_of(pg_pids | PG.pids())
    busy1, own1 = busy_ticks(), own_ticks()
    wall = t_proc - t0
    argus_ticks = [a1.get(pid, a0.get(pid, 0)) - a0.get(pid, 0) for pid in argus_pids]
    pg_ticks = sum(t - p0.get(pid, 0) for pid, t in p1.items())
    argus_total = sum(argus_ticks)
    foreign = (busy1 - busy0) - (own1 - own0) - argus_total - pg_ticks
    accepted_by_node = [h["accepted"] - b["accepted"] for h, b in zip(hs, before)]
    processed_total = sum(h["processed"] - b["processed"] for h, b in zip(hs, before))
    # The share of events whose owner is not the node that received them,
    # and each node's expected share as owner, from the rendezvous hash.
    own = owners(sorted(cluster.ids), classes)
    forwarded = sum(o["events_ok"] * (1 - own[cluster.ids[t]] / classes)
                    for o, t in zip(outs, targets)) / max(events_ok, 1)
    acc_sum = max(sum(accepted_by_node), 1)
    share_error = max(abs(a / acc_sum - own[i] / classes)
                      for a, i in zip(accepted_by_node, cluster.ids))
    send_s = max(o["send_seconds"] for o in outs)
    events = max(events_ok, 1)
    return {
        "label": label, "targets": targets, "conns": conns, "batch": batch,
        "classes": classes, "ids": cluster.ids,
        "events_ok": events_ok,
        "accepted_per_s": events_ok / send_s,
        "processed_per_s": processed_total / wall,
        "caught_up": caught_up,
        "catchup_s": wall - send_s,
        "accepted_by_node": accepted_by_node,
        "forwarded_share": forwarded,
        "owner_share_error": share_error,
        "store_backlog_by_node": [h["backlog"] for h in hs],
        "busy_503": sum(o["busy_503"] for o in outs),
        "other_non2xx": sum(o["other_non2xx"] for o in outs),
        "errors": sum(o["errors"] + o["reconnects"] for o in outs),
        # Each generator's median and p99; the report shows their mean and worst.
        "p50_ms": statistics.mean(o["latency_us"]["p50"] / 1000 for o in outs),
        "p99_ms": max(o["latency_us"]["p99"] / 1000 for o in outs),
        "cpu_us_argus": argus_total / HZ * 1e6 / events,
        "cpu_us_pg": pg_ticks / HZ * 1e6 / events,
        "cpu_us": (argus_total + pg_ticks) / HZ * 1e6 / events,
        "cores_argus": argus_total / HZ / wall,
        "cores_pg": pg_ticks / HZ / wall,
        "cores_by_node": [t / HZ / wall for t in argus_ticks],
        "foreign_cores": max(0.0, foreign / HZ / wall),
        "generator_cores": (own1 - own0) / HZ / wall,
        "machine_cores": (busy1 - busy0) / HZ / wall,
        "wall_s": wall,
    }


def show(r):
    log(f"    {r['label']:38s} acc {r['accepted_per_s']:>8,.0f}/s  proc "
        f"{r['processed_per_s']:>8,.0f}/s  fwd {r['forwarded_share'] * 100:3.0f}%  "
        f"CPU/ev argus {r['cpu_us_argus']:6.1f} pg {r['cpu_us_pg']:6.1f} us  "
        f"cores {r['cores_argus']:.2f}+{r['cores_pg']:.2f}  p50/p99 {r['p50_ms']:.1f}/"
        f"{r['p99_ms']:.1f} ms  503s {r['busy_503']}  backlog "
        f"{sum(r['store_backlog_by_node']):,}  others {r['foreign_cores']:.2f}")


# --- the benchmark -----------------------------------------------------------------

def cluster_ids(n):
    return FWD_IDS[:n] if n <= len(FWD_IDS) else [f"n{i + 1}" for i in range(n)]


def check_ids():
    own = owners(FWD_IDS, FWD_CLASSES)
    owner = [m for m, k in own.items() if k == FWD_CLASSES]
    if not owner:
        raise RuntimeError(f"FWD_IDS do not give one owner of c0..c{FWD_CLASSES - 1}: {own}")
    return FWD_IDS.index(owner[0])


def cases(fwd_owner):
    """(case, nodes, target node indexes, classes) in run order."""
    out = [("spread", n, list(range(n)), CLASSES) for n in SIZES]
    if 3 in SIZES:
        out += [("fwd-local", 3, [fwd_owner], FWD_CLASSES),
                ("fwd-forwarded", 3, [(fwd_owner + 1) % 3], FWD_CLASSES)]
        if not QUICK:
            out.append(("one-entry", 3, [0], CLASSES))
    return out


def one_round(rnd, results, fwd_owner):
    for shape in SHAPES:
        batch = SHAPES_ALL[shape]
        todo = cases(fwd_owner)
        if rnd % 2 == 1:  # interleaved: odd rounds run the cases backwards
            todo = todo[::-1]
        for case, n, targets, classes in todo:
            label = f"{n} nodes {shape} {case}"
            wait_quiet()
            try:
                c = Cluster(cluster_ids(n))
            except ClusterStartError as e:
                # Seen once in a busy full run: a node answered 503 to every
                # warm-up batch for 60 s. Keep the evidence, try once more.
                log(f"    {label}: the cluster did not start: {e}")
                results["notes"].append(f"{label}, round {rnd + 1}: a fresh cluster "
                                        f"did not start, retried: {str(e)[:2000]}".replace("\n", " ⏎ "))
                c = Cluster(cluster_ids(n))
            try:
                results["starts"].append({"nodes": n, "seconds": c.start_seconds,
                                          "warm_503": c.warm_503})
                r = run_load(c, targets, batch, classes, label)
            finally:
                c.close()
                results["node_logs"].extend(f"{label}, round {rnd + 1}: {l}"
                                            for l in c.log_issues)
            r.update({"nodes": n, "shape": shape, "case": case, "round": rnd,
                      "start_s": c.start_seconds, "warm_503": c.warm_503,
                      "membership_changes": c.membership_changes})
            if c.membership_changes:
                log(f"    warning: membership changed after the start: "
                    f"{c.membership_changes}")
            results["runs"].append(r)
            show(r)
            if r["busy_503"] or r["other_non2xx"] or r["errors"]:
                log(f"      note: {r['busy_503']} x 503, {r['other_non2xx']} other "
                    f"non-2xx, {r['errors']} connection errors/reconnects")


def med(xs):
    xs = [x for x in xs if x is not None]
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)} if xs else None


def fmt_rate(s):
    if not s:
        return "-"
    if RUNS == 1:
        return f"{s['median']:,.0f}"
    return f"{s['median']:,.0f} ({s['min']:,.0f}–{s['max']:,.0f})"


def fmt_num(s, digits=1):
    if not s:
        return "-"
    if RUNS == 1:
        return f"{s['median']:.{digits}f}"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def rows_of(results, **match):
    return [r for r in results["runs"]
            if all(r.get(k) == v for k, v in match.items())]


def mid(rs, key):
    return statistics.median(r[key] for r in rs)


def table_row(first, rs, extra_ratio):
    return (f"| {first} | {rs[0]['forwarded_share'] * 100:.0f}% | "
            f"{fmt_rate(med([r['accepted_per_s'] for r in rs]))} | "
            f"{fmt_rate(med([r['processed_per_s'] for r in rs]))} | {extra_ratio} | "
            f"{fmt_num(med([r['cpu_us_argus'] for r in rs]))} | "
            f"{fmt_num(med([r['cpu_us_pg'] for r in rs]))} | "
            f"{mid(rs, 'cores_argus'):.2f} + {mid(rs, 'cores_pg'):.2f} | "
            f"{mid(rs, 'p50_ms'):.1f} / {mid(rs, 'p99_ms'):.1f} | "
            f"{sum(r['busy_503'] for r in rs)} | "
            f"{statistics.median(sum(r['store_backlog_by_node']) for r in rs):,.0f} | "
            f"{max(r['foreign_cores'] for r in rs):.2f} |")


HEADER = ("forwarded | accepted/s | processed/s | {ratio} | Argus CPU µs/event | "
          "PG CPU µs/event | cores Argus + PG | POST p50 / p99 ms | 503s | "
          "store backlog at end | others |")


def report(results):
    m = results["machine"]
    rng = "median (min–max) of the rounds" if RUNS > 1 else "one round"
    lines = [
        "## Cluster benchmark (tools/bench/cluster.py)", "",
        f"Argus `{results['git']['commit']}`{' (dirty tree)' if results['git']['dirty'] else ''}, "
        f"{results['when']}; {m['nproc']} cores ({m['cpu']}), Linux {m['kernel']}; "
        f"PostgreSQL {results['postgres_version']} (tools/pg.sh, fsync on). Every run "
        f"starts a fresh cluster on a fresh database. `ingest.durability: {DURABILITY}`, "
        f"`ingest.max_pending_events: {MAX_PENDING:,}` (no back-pressure from the store's "
        f"lag), other settings default. {RUNS} round(s), runs of {DURATION:g} s, {CONNS} "
        f"closed-loop connections in all (split evenly over the loaded nodes); {rng}. "
        f"Took {results['elapsed_s']:.0f} s. Command: `{results['command']}`", "",
        "processed/s: events applied by the grouping actors (sum of the nodes' "
        "`/healthz` events.processed) / time from the first send until they caught up "
        "with the 202s. CPU µs/event: utime + stime of all Argus nodes, and of all "
        "PostgreSQL processes, over that same window / events accepted (the "
        "generator's CPU is not counted). cores: that CPU / the window (2 cores in "
        "all, shared with the generator). forwarded: share of the events whose group "
        "another node owns than the one that received them (rendezvous hash, checked "
        "against the nodes' accepted counters). store backlog: alert changes the nodes "
        "had not yet written to PostgreSQL when processing caught up. others: cores "
        "used by processes outside the benchmark (a shared machine).", ""]
    base = {}
    for shape in SHAPES:
        one = rows_of(results, nodes=1, shape=shape, case="spread")
        if one:
            base[shape] = mid(one, "processed_per_s")
    lines += [f"### 1. Scaling: {CLASSES:,} classes, load spread evenly over the nodes' "
              "HTTP ports", "",
              "| request | nodes | " + HEADER.format(ratio="processed vs 1 node"),
              delimiter(HEADER.count("|") + 2)]
    for shape in SHAPES:
        for n in SIZES:
            rs = rows_of(results, nodes=n, shape=shape, case="spread")
            if rs:
                ratio = (f"{mid(rs, 'processed_per_s') / base[shape]:.2f}x"
                         if shape in base else "-")
                lines.append(table_row(f"{shape} | {n}", rs, ratio))
    fwd_cost = {}
    for shape in SHAPES:
        local = rows_of(results, nodes=3, shape=shape, case="fwd-local")
        fwd = rows_of(results, nodes=3, shape=shape, case="fwd-forwarded")
        if local and fwd:
            fwd_cost[shape] = mid(fwd, "cpu_us_argus") - mid(local, "cpu_us_argus")
    explain = []
    for shape in SHAPES:
        one = rows_of(results, nodes=1, shape=shape, case="spread")
        three = rows_of(results, nodes=3, shape=shape, case="spread")
        if not (one and three):
            continue
        d_argus = mid(three, "cpu_us_argus") - mid(one, "cpu_us_argus")
        d_pg = mid(three, "cpu_us_pg") - mid(one, "cpu_us_pg")
        text = (f"- **{shape}**: 3 nodes vs 1: processed "
                f"{mid(three, 'processed_per_s') / mid(one, 'processed_per_s'):.2f}x; "
                f"Argus CPU {d_argus:+.1f} µs/event, PostgreSQL {d_pg:+.1f} µs/event")
        if shape in fwd_cost:
            text += (f"; forwarding 2/3 of the events accounts for about "
                     f"{fwd_cost[shape] * 2 / 3:+.1f} µs of the Argus part (part 2), the "
                     "rest is three processes instead of one on the same cores (three "
                     "HTTP servers, schedulers, journal writers and store writers; "
                     "smaller journal commits)")
        cores = mid(one, "cores_argus") + mid(one, "cores_pg")
        busy = mid(one, "machine_cores")
        text += (f". The 1-node run: Argus + PostgreSQL {cores:.2f} cores, the generator "
                 f"{mid(one, 'generator_cores'):.2f}, others {mid(one, 'foreign_cores'):.2f}: "
                 f"the machine was {busy:.2f} of {os.cpu_count()} cores busy")
        if busy < 0.8 * os.cpu_count():
            text += (f", so it was bound by latency, not CPU: each 202 waits for the "
                     f"journal's PostgreSQL COMMIT (POST p50 {mid(one, 'p50_ms'):.1f} ms "
                     f"with {CONNS} connections)")
        else:
            text += ", so CPU-bound"
        explain.append(text + ".")
    if explain:
        lines += [""] + explain
    lines += ["", "Every node has its own HTTP server, CAF scheduler (2 threads), journal "
              "writer and store writer, and they all share the same 2 cores with "
              "PostgreSQL and the generator: a node adds no CPU here, so these rows show "
              "what clustering costs on one machine, not what it gains on several. The "
              "generator sends every class to every node, so with N nodes (N-1)/N of the "
              "events are forwarded to their owner."]
    if 3 in SIZES and rows_of(results, case="fwd-local"):
        lines += ["", "### 2. Forwarding overhead (3-node cluster)", "",
                  f"(a) and (b): {FWD_CLASSES} classes (c0..c{FWD_CLASSES - 1}), all owned "
                  f"by node `{results['fwd_owner']}` (the node ids are chosen for that); "
                  "the whole load goes to one node: (a) to the owner, nothing is forwarded; "
                  "(b) to another node, every event is forwarded to the owner over CAF "
                  "remoting, and the owner journals it before the receiving node answers "
                  "202. Same processes, groups, owner, journal and store work, so (b) − (a) "
                  "is the cost of forwarding (receiving node: split by owner, serialize, "
                  "send, wait for the reply; owner: deserialize, check ownership, reply).", "",
                  "| request | case | " + HEADER.format(ratio="processed vs (a)") +
                  " Argus CPU by node (cores) |",
                  delimiter(HEADER.count("|") + 3)]
        names = {"fwd-local": "(a) all to the owner",
                 "fwd-forwarded": "(b) all to another node",
                 "spread": f"(c) {CLASSES:,} classes, spread over 3 nodes",
                 "one-entry": f"(d) {CLASSES:,} classes, all to node 1"}
        summary = []
        for shape in SHAPES:
            local = rows_of(results, nodes=3, shape=shape, case="fwd-local")
            fwd = rows_of(results, nodes=3, shape=shape, case="fwd-forwarded")
            spread = rows_of(results, nodes=3, shape=shape, case="spread")
            if not local:
                continue
            for case in ("fwd-local", "fwd-forwarded", "spread", "one-entry"):
                rs = rows_of(results, nodes=3, shape=shape, case=case)
                if not rs:
                    continue
                if case.startswith("fwd"):
                    vs = f"{mid(rs, 'processed_per_s') / mid(local, 'processed_per_s'):.2f}x"
                elif case == "one-entry" and spread:
                    vs = f"{mid(rs, 'processed_per_s') / mid(spread, 'processed_per_s'):.2f}x of (c)"
                else:
                    vs = "-"
                by_node = " / ".join(
                    f"{statistics.median(r['cores_by_node'][i] for r in rs):.2f}"
                    for i in range(3))
                lines.append(table_row(f"{shape} | {names[case]}", rs, vs) + f" {by_node} |")
            if fwd:
                pairs = [(b, a) for b in fwd for a in local if a["round"] == b["round"]]
                d_argus = mid(fwd, "cpu_us_argus") - mid(local, "cpu_us_argus")
                d_total = mid(fwd, "cpu_us") - mid(local, "cpu_us")
                rate = mid(fwd, "processed_per_s") / mid(local, "processed_per_s")
                per_round = ", ".join(f"{b['cpu_us_argus'] - a['cpu_us_argus']:+.1f}"
                                      for b, a in pairs)
                per_req = d_argus * (batch_of(shape) or 1)
                summary.append(
                    f"- **{shape}**: forwarding costs **{d_argus:+.1f} µs of Argus CPU per "
                    f"forwarded event** ((b) {mid(fwd, 'cpu_us_argus'):.1f} − (a) "
                    f"{mid(local, 'cpu_us_argus'):.1f} µs, medians; per round "
                    f"{per_round}), {d_argus / mid(local, 'cpu_us_argus') * 100:+.0f}% of "
                    f"the local Argus cost"
                    + (f", about {per_req:,.0f} µs per forwarded request of "
                       f"{batch_of(shape)} events" if batch_of(shape) else "")
                    + f"; with PostgreSQL's CPU {d_total:+.1f} µs. Throughput (b)/(a) = "
                    f"**{rate:.2f}x**; POST p50 {mid(local, 'p50_ms'):.1f} → "
                    f"{mid(fwd, 'p50_ms'):.1f} ms. A spread 3-node cluster forwards 2/3 of "
                    f"its events: about {d_argus * 2 / 3:+.1f} µs of Argus CPU per event.")
        per_msg = {}
        for shape in SHAPES:
            local = rows_of(results, nodes=3, shape=shape, case="fwd-local")
            fwd = rows_of(results, nodes=3, shape=shape, case="fwd-forwarded")
            if local and fwd:
                per_msg[batch_of(shape) or 1] = (mid(fwd, "cpu_us_argus")
                                                 - mid(local, "cpu_us_argus")) * (batch_of(shape) or 1)
        if 1 in per_msg and 100 in per_msg:
            summary.append(
                f"- Split into a cost per forwarded request and one per event (a single "
                f"event is one forward message, a batch of 100 one message of up to 100): "
                f"about {per_msg[1]:,.0f} µs per message plus "
                f"{(per_msg[100] - per_msg[1]) / 99:,.1f} µs per event in it.")
        lines += [""] + summary
        if QUICK:
            lines += ["", "(c) is the 3-node spread row of part 1 (about 2/3 forwarded)."]
        else:
            lines += ["", "(c) is the 3-node spread row of part 1; (d) sends that same "
                      f"{CLASSES:,}-class load all to node 1. Both forward about 2/3 of the "
                      "events (the generator sends every class to whichever node it talks "
                      "to), so (d) vs (c) shows the cost of one HTTP front for the whole "
                      "load, not the cost of forwarding."]
    err = max((r["owner_share_error"] for r in results["runs"]), default=0)
    lines += ["", f"Ownership check: each node's share of the accepted events matched "
              f"the share of classes the hash gives it within {err * 100:.1f} points in "
              "every run."]
    starts = results.get("starts") or []
    if starts:
        lines.append("Cluster start (members up on every node, manager seen by every "
                     "node, a warm-up batch accepted by every node): median "
                     + ", ".join(f"{n} node{'s' if n > 1 else ''} "
                                 f"{statistics.median(s['seconds'] for s in starts if s['nodes'] == n):.1f} s"
                                 for n in SIZES if any(s['nodes'] == n for s in starts))
                     + f"; {sum(s['warm_503'] for s in starts)} warm-up 503s.")
    notes = list(results.get("notes") or [])
    changes = [x for r in results["runs"] for x in r.get("membership_changes", [])]
    if changes:
        notes.append(f"{len(changes)} membership change(s) logged after a cluster had "
                     "formed: " + "; ".join(f"`{x[:200]}`" for x in changes[:5]))
    else:
        notes.append("No node logged a membership change (a member down or left) "
                     "during any run.")
    total_503 = sum(r["busy_503"] for r in results["runs"])
    if total_503:
        notes.append(f"{total_503} requests were answered 503 and resent by the generator.")
    bad = [r for r in results["runs"] if not r["caught_up"]]
    if bad:
        notes.append(f"{len(bad)} run(s) did not catch up within {CATCHUP_TIMEOUT:.0f} s: "
                     + ", ".join(r["label"] for r in bad))
    logs = results.get("node_logs") or []
    if logs:
        notes.append(f"{len(logs)} warning(s) or error(s) in the node logs; the "
                     "first ones:")
        notes += [f"  `{l[:300]}`" for l in logs[:10]]
    else:
        notes.append("No warning or error in the node logs.")
    lines += ["", "Notes:"] + [x if x.startswith("  ") else f"- {x}" for x in notes]
    return "\n".join(lines) + "\n"


def delimiter(columns):
    return "|" + " --- |" * columns


def batch_of(shape):
    return SHAPES_ALL[shape]


def build(build_dir):
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        subprocess.run(["cmake", "-S", ROOT, "-B", build_dir,
                        "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True,
                       stdout=sys.stderr)
    subprocess.run(["cmake", "--build", build_dir, "-j2", "--target", "argus",
                    "argusctl", "loadgen"], check=True, stdout=sys.stderr)


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": os.uname().release}


def git_state():
    def git(*args):
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True,
                              text=True).stdout.strip()
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def main():
    global BIN, ARGUSCTL, PG
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--json", help="write every run's figures to this file")
    args = ap.parse_args()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    if 1 not in SIZES:
        sys.exit("BENCH_CLUSTER_NODES must include 1 (the ratios' baseline)")
    unknown = [s for s in SHAPES if s not in SHAPES_ALL]
    if unknown:
        sys.exit(f"unknown BENCH_CLUSTER_SHAPES {unknown} (batch100, single)")
    build_dir = os.path.abspath(args.build_dir)
    started = time.monotonic()
    snap = None
    try:
        if not args.no_build:
            build(build_dir)
        # Copies, so that a rebuild of the tree cannot swap them mid-run.
        snap = tempfile.mkdtemp(prefix="argus-cluster-bin-")
        for name in ("argus", "argusctl", "loadgen"):
            shutil.copy2(os.path.join(build_dir, "bin", name), os.path.join(snap, name))
        BIN, ARGUSCTL = snap, os.path.join(snap, "argusctl")
        fwd_owner = check_ids()
        PG = Postgres(prefix="argus_cluster")
        log(f"PostgreSQL {PG.version} at {PG.base}")
        cmd = "python3 tools/bench/cluster.py --build-dir " + os.path.relpath(build_dir)
        env = " ".join(f"{k}={os.environ[k]}" for k in sorted(os.environ)
                       if k.startswith("BENCH_"))
        results = {"machine": machine(), "git": git_state(),
                   "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                   "command": (env + " " if env else "") + cmd,
                   "postgres_version": PG.version,
                   "settings": {"quick": QUICK, "runs": RUNS, "duration_s": DURATION,
                                "conns": CONNS, "shapes": SHAPES, "durability": DURABILITY,
                                "sizes": SIZES, "classes": CLASSES,
                                "fwd_classes": FWD_CLASSES},
                   "fwd_owner": FWD_IDS[fwd_owner],
                   "runs": [], "starts": [], "ownership": [], "notes": [], "node_logs": []}
        for rnd in range(RUNS):
            one_round(rnd, results, fwd_owner)
        results["elapsed_s"] = round(time.monotonic() - started, 1)
        text = report(results)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
        print(text)
        log(f"done in {results['elapsed_s']} s")
    finally:
        live = list(LIVE)
        if live:
            stop_all(live, 10)
        if PG:
            PG.destroy()
        if snap:
            shutil.rmtree(snap, ignore_errors=True)


if __name__ == "__main__":
    main()
