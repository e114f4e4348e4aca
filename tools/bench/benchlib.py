"""What the benchmark scripts share (tools/bench/run.py and cluster.py):
logging, the process tree of a pid, and a throwaway PostgreSQL."""

import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def children_of(root):
    """root and every process below it (from /proc)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, todo = {root}, [root]
    while todo:
        p = todo.pop()
        for c, pp in parent.items():
            if pp == p and c not in found:
                found.add(c)
                todo.append(c)
    return found


class Postgres:
    """One PostgreSQL 15 started with tools/pg.sh (initdb in a temp folder,
    a free port, fsync on) for a whole benchmark; each Argus server or
    cluster gets a fresh database of it, named `<prefix>_<n>`. destroy()
    stops it and removes the cluster."""

    def __init__(self, prefix="argus_bench"):
        self.prefix = prefix
        self.state = tempfile.mkdtemp(prefix=prefix.replace("_", "-") + "-pg-")
        self.script = os.path.join(ROOT, "tools", "pg.sh")
        self.count = 0
        self.alive = True
        p = subprocess.run([self.script, "start", self.state],
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0 or not p.stdout.strip():
            self.destroy()
            raise RuntimeError(f"tools/pg.sh start failed: {p.stderr[-1500:]}")
        self.base = p.stdout.strip().splitlines()[-1]
        with open(os.path.join(self.state, "home")) as f:
            self.home = f.read().strip()
        self.version = self.psql("SHOW server_version").strip()

    def dsn(self, db):
        return self.base.replace("dbname=argus", f"dbname={db}")

    def psql(self, sql):
        p = subprocess.run(["psql", self.dsn("postgres"), "-qAtX", "-c", sql],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {p.stderr.strip()}")
        return p.stdout

    def create_db(self):
        self.count += 1
        name = f"{self.prefix}_{self.count}"
        self.psql(f"CREATE DATABASE {name}")
        return name

    def drop_db(self, name):
        try:
            self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            log(f"  could not drop {name}: {e}")

    def pids(self):
        """The postmaster and its children (their CPU is not noise)."""
        try:
            with open(os.path.join(self.home, "data", "postmaster.pid")) as f:
                return children_of(int(f.readline()))
        except (OSError, ValueError):
            return set()

    def destroy(self):
        if not self.alive:
            return
        self.alive = False
        p = subprocess.run([self.script, "destroy", self.state],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            log(f"  tools/pg.sh destroy failed: {p.stderr[-500:]}")
        shutil.rmtree(self.state, ignore_errors=True)
