#!/usr/bin/env python3
"""Delivery benchmark (issue 11), part of `make bench`; alone:
`make bench-delivery` or `BUILD_DIR=build python3 tools/bench/delivery.py`.

Against a real Argus (SQLite backend, default durability) and a local
receiver (a threaded Python HTTP server in this process), in one invocation:
  1. Notifications delivered per second: N events each open a parent (one
     notification each); the time from the first POST to the N-th arrival.
     Baseline, same run: this script POSTing the same bodies to the same
     receiver directly, one after another over one keep-alive connection.
  2. Event-to-delivery latency at half of the rate measured in 1: single
     events paced at that rate; latency = arrival at the receiver minus the
     moment the POST was answered (p50, p99).
  3. A dead receiver does not slow ingestion: loadgen's accepted events/s
     with the manager's receiver on a closed port, against the same run with
     a healthy receiver (ratio; 1.0 is "unchanged").
Prints a table and writes build/bench/delivery.json.
"""

import http.client
import http.server
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the suite's server and load generator helpers)
from benchlib import log  # noqa: E402

N = int(os.environ.get("BENCH_DELIVERY_N", "2000"))
LATENCY_SECONDS = float(os.environ.get("BENCH_DELIVERY_SECONDS", "5"))


class Receiver:
    """Records (arrival time, dedupKey, notification id) of every POST."""

    def __init__(self):
        self.arrivals = []
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = time.monotonic()
                try:
                    key = json.loads(body)["alert"]["dedupKey"]
                except (ValueError, KeyError):
                    key = None
                with owner.lock:
                    owner.arrivals.append(
                        (now, key, self.headers.get("Idempotency-Key")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def count(self):
        with self.lock:
            return len(self.arrivals)

    def wait_for(self, n, deadline_s=120):
        end = time.monotonic() + deadline_s
        while self.count() < n and time.monotonic() < end:
            time.sleep(0.005)
        return self.count() >= n

    def close(self):
        self.server.shutdown()


def point_at(srv, url):
    """The bench manager's one receiver becomes `url`."""
    _, got = run.http("GET", srv.port, "/v1/event-managers/bench")
    m = got["data"]
    run.http("PUT", srv.port, "/v1/event-managers/bench",
             {"name": m["name"], "grouping_rule_id": m["grouping_rule_id"],
              "notification_config": {"receivers": [
                  {"name": "bench", "url": url, "timeout_ms": 2000}]}})


def event(key):
    return {"event_manager_id": "bench", "summary": "delivery bench",
            "severity": "high", "action": "trigger", "class": key,
            "dedupKey": key}


def direct_rate(rx, bodies):
    conn = http.client.HTTPConnection("127.0.0.1", rx.port)
    t0 = time.monotonic()
    for body in bodies:
        conn.request("POST", "/hook", body,
                     {"Content-Type": "application/json"})
        conn.getresponse().read()
    conn.close()
    return len(bodies) / (time.monotonic() - t0)


def throughput(srv, rx):
    keys = [f"t{i}" for i in range(N)]
    t0 = time.monotonic()
    for i in range(0, N, 1000):
        run.http("POST", srv.port, "/v1/events/batch",
                 [event(k) for k in keys[i:i + 1000]], timeout=60)
    if not rx.wait_for(N):
        raise RuntimeError(f"only {rx.count()} of {N} notifications arrived")
    with rx.lock:
        last = max(t for t, _, _ in rx.arrivals[:N])
    return N / (last - t0)


def latency(srv, rx, rate):
    before = rx.count()
    posted = {}
    interval = 1.0 / rate
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < LATENCY_SECONDS:
        due = start + i * interval
        if due > time.monotonic():
            time.sleep(due - time.monotonic())
        key = f"l{i}"
        run.http("POST", srv.port, "/v1/events", event(key))
        posted[key] = time.monotonic()
        i += 1
    rx.wait_for(before + len(posted), 60)
    with rx.lock:
        lat = [(t - posted[k]) * 1000 for t, k, _ in rx.arrivals[before:]
               if k in posted]
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))]  # noqa
    return {"events": len(posted), "delivered": len(lat),
            "p50_ms": round(pct(50), 2), "p99_ms": round(pct(99), 2)}


def ingest_rate(variant, url):
    with run.Server("argus", variant) as srv:
        point_at(srv, url)
        r = run.loadgen(srv.port, "/v1/events", 0, duration=run.DURATION,
                        server_pid=srv.proc.pid)
    return r["events_per_s"]


def main():
    results = {}
    rx = Receiver()
    try:
        with run.Server("argus", "sqlite") as srv:
            point_at(srv, rx.url())
            log("delivery: throughput")
            delivered = throughput(srv, rx)
            bodies = [json.dumps({"alert": {"dedupKey": f"d{i}"}})
                      for i in range(N)]
            direct = direct_rate(rx, bodies)
            results["throughput"] = {
                "notifications_per_s": round(delivered),
                "direct_posts_per_s": round(direct),
                "ratio": round(delivered / direct, 2)}
            log("delivery: latency at half load")
            results["latency"] = latency(srv, rx, max(1.0, delivered / 2))
            results["latency"]["rate_per_s"] = round(delivered / 2)
            ids = [i for _, _, i in rx.arrivals if i is not None]
            results["duplicates"] = len(ids) - len(set(ids))
        log("delivery: ingestion with a dead receiver vs a healthy one")
        dead = f"http://127.0.0.1:{run.free_port()}/hook"
        healthy = ingest_rate("sqlite", rx.url())
        with_dead = ingest_rate("sqlite", dead)
        results["dead_receiver"] = {
            "healthy_events_per_s": round(healthy),
            "dead_events_per_s": round(with_dead),
            "ratio": round(with_dead / healthy, 2)}
    finally:
        rx.close()
        run.cleanup()
    os.makedirs(run.OUT_DIR, exist_ok=True)
    with open(os.path.join(run.OUT_DIR, "delivery.json"), "w") as f:
        json.dump(results, f, indent=2)
    t, l, d = results["throughput"], results["latency"], results["dead_receiver"]
    print(f"""
| delivery figure | value | baseline, same run | ratio |
| --- | --- | --- | --- |
| notifications delivered/s (SQLite) | {t['notifications_per_s']} | direct POSTs {t['direct_posts_per_s']}/s | {t['ratio']}x |
| event-to-delivery at {l['rate_per_s']}/s | p50 {l['p50_ms']} ms, p99 {l['p99_ms']} ms | | |
| ingestion, dead receiver vs healthy | {d['dead_events_per_s']}/s | {d['healthy_events_per_s']}/s | {d['ratio']}x |
| duplicate deliveries | {results['duplicates']} | | |
""")


if __name__ == "__main__":
    main()
