#!/usr/bin/env python3
"""A muted storm's fan-out, for one or more argus builds alternated in one
invocation (issue 15, twenty-seventh round):

  python3 tools/bench/muted_storm.py [ARGUS...] [--groups 3000]
      [--runs 3] [--backend sqlite]

(`make bench` runs it on this build's binary, the default.)

Each run starts a fresh server (run.py's Server) with two managers whose
receiver is a closed port, and sends each a storm of GROUPS new groups in
batches of 1,000:
  - silenced: a silence matches every alert of the storm;
  - inhibited: an inhibit rule's source (an older active alert) matches
    every alert of the storm; the worker reads the manager's active alerts
    to decide each opening.
The figure is the time from the first POST until every opening of the
storm is fanned out (has its delivery row, polled on /v1/notifications;
each run also says how many of the inhibited storm's were suppressed: all
of them are the right answer), and the
inhibited storm's time over the silenced one's, same server, same run:
1.0x means inhibition costs the worker nothing more than a silence.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the Server of make bench)

CLOSED_PORT = "http://127.0.0.1:9/hook"  # discard: nothing is sent anyway


def matcher(name, value):
    return {"name": name, "value": value, "isRegex": False, "isEqual": True}


def make_manager(port, rule_id, name, extra):
    body = {"id": name, "name": name, "grouping_rule_id": rule_id,
            "notification_config": {
                "receivers": [{"name": "ops", "url": CLOSED_PORT}]}}
    body.update(extra)
    status, _ = run.http("POST", port, "/v1/event-managers", body)
    assert status == 201, status


def storm(port, manager, groups):
    """Sends the storm; returns the seconds until every opening of it is
    fanned out (has its delivery row) and how many of them are
    suppressed."""
    start = time.monotonic()
    for first in range(0, groups, 1000):
        events = [{"event_manager_id": manager, "summary": "storm",
                   "severity": "low", "action": "trigger",
                   "class": f"{manager}-{i}", "dedupKey": f"{manager}-{i}",
                   "cluster": "eu"}
                  for i in range(first, min(groups, first + 1000))]
        status, body = run.http("POST", port, "/v1/events/batch", events,
                                timeout=60)
        assert status == 202 and body["data"]["accepted"] == len(events)
    deadline = start + 600
    while time.monotonic() < deadline:
        _, body = run.http("GET", port, "/v1/notifications?limit=10000",
                           timeout=60)
        openings = [n for n in body["data"]
                    if n["alert"]["event_manager_id"] == manager
                    and n["alert"]["dedupKey"] != "outage"
                    and n["kind"] == "parent_opened" and n["deliveries"]]
        if len(openings) >= groups:
            seconds = time.monotonic() - start
            return seconds, sum(1 for n in openings
                                if n["deliveries"][0]["state"] == "suppressed")
        time.sleep(0.05)
    raise RuntimeError(f"{manager}: the storm was not fanned out in 600 s")


def one_run(backend, groups):
    with run.Server("argus", backend) as srv:
        _, rule = run.http("POST", srv.port, "/v1/grouping-rules",
                           {"name": "storm", "grouping_key": "class",
                            "time_window_minutes": 60})
        rule_id = rule["data"]["id"]
        make_manager(srv.port, rule_id, "silenced", {})
        status, _ = run.http("POST", srv.port, "/v1/silences", {
            "matchers": [matcher("cluster", "eu")],
            "event_manager_id": "silenced", "endsAt": "2200-01-01T00:00:00Z",
            "createdBy": "bench", "comment": "muted storm"})
        assert status == 201, status
        make_manager(srv.port, rule_id, "inhibited", {"inhibit_rules": [{
            "source_matchers": [matcher("class", "outage")],
            "target_matchers": [matcher("severity", "low")],
            "equal": ["cluster"]}]})
        status, _ = run.http("POST", srv.port, "/v1/events", {
            "event_manager_id": "inhibited", "summary": "outage",
            "severity": "high", "action": "trigger", "class": "outage",
            "dedupKey": "outage", "cluster": "eu"})
        assert status == 202, status
        silenced, _ = storm(srv.port, "silenced", groups)
        inhibited, suppressed = storm(srv.port, "inhibited", groups)
        return silenced, inhibited, suppressed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="*",
                    default=[os.path.join(run.BIN, "argus")])
    ap.add_argument("--groups", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--backend", default="sqlite")
    args = ap.parse_args()
    results = {b: [] for b in args.binaries}
    with run.server_folders(args.binaries, "argus-muted-storm-") as folders:
        for i in range(args.runs):
            for binary, folder in zip(args.binaries, folders):
                run.BIN = folder
                silenced, inhibited, suppressed = one_run(args.backend,
                                                          args.groups)
                results[binary].append((silenced, inhibited))
                print(f"run {i + 1} {binary}: silenced {silenced:.2f} s, "
                      f"inhibited {inhibited:.2f} s "
                      f"({suppressed} of {args.groups} suppressed), "
                      f"ratio {inhibited / silenced:.2f}x", flush=True)
    for binary, rows in results.items():
        ratios = [inh / sil for sil, inh in rows]
        print(f"{binary}: median silenced "
              f"{statistics.median(s for s, _ in rows):.2f} s, inhibited "
              f"{statistics.median(i for _, i in rows):.2f} s, ratio "
              f"{statistics.median(ratios):.2f}x "
              f"({min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
