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
    every alert of the storm; the worker reads the manager's inhibition
    sources (its active alerts that match a rule's source matchers; every
    active alert before the thirty-fifth round) to decide each opening.
The figure is the time from the first POST until every opening of the
storm is fanned out (has its delivery row, polled on /v1/notifications,
which lists at most 10,000: keep GROUPS at 9,000 or below;
each run also says how many of the inhibited storm's were suppressed: all
of them are the right answer), and the
inhibited storm's time over the silenced one's, same server, same run:
1.0x means inhibition costs the worker nothing more than a silence.
Then, with the storms' alerts still active, TRICKLE more groups go to each
manager one at a time: the median time from a POST to its opening's
delivery row, the steady state of a manager with a large active set (each
inhibited opening's fan-out reads the manager's sources, which the store
finds among its active alerts). A third
trickle sends the inhibited manager alerts its rule does not target (high,
not low): since the twenty-eighth round their fan-out reads nothing.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the Server of make bench)

CLOSED_PORT = "http://127.0.0.1:9/hook"  # discard: nothing is sent anyway
TRICKLE = 30  # groups sent one at a time after the storms


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


def trickle(port, manager, count, severity="low"):
    """Sends `count` new groups one at a time, each after the last one's
    opening is fanned out; returns the median seconds from a POST to its
    opening's delivery row. The inhibit rule targets `low` alerts only."""
    times = []
    for i in range(count):
        key = f"{manager}-{severity}-trickle-{i}"
        start = time.monotonic()
        status, _ = run.http("POST", port, "/v1/events", {
            "event_manager_id": manager, "summary": "trickle",
            "severity": severity, "action": "trigger", "class": key,
            "dedupKey": key, "cluster": "eu"})
        assert status == 202, status
        deadline = start + 60
        while time.monotonic() < deadline:
            _, body = run.http("GET", port, "/v1/notifications?limit=1")
            newest = body["data"][0] if body["data"] else None
            if (newest and newest["alert"]["dedupKey"] == key
                    and newest["deliveries"]):
                break
            time.sleep(0.001)
        else:
            raise RuntimeError(f"{key} was not fanned out in 60 s")
        times.append(time.monotonic() - start)
    return statistics.median(times)


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
        trickles = (trickle(srv.port, "silenced", TRICKLE),
                    trickle(srv.port, "inhibited", TRICKLE),
                    trickle(srv.port, "inhibited", TRICKLE, "high"))
        return silenced, inhibited, suppressed, trickles


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="*",
                    default=[os.path.join(run.BIN, "argus")])
    ap.add_argument("--groups", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--backend", default="sqlite")
    args = ap.parse_args()
    results = {b: [] for b in args.binaries}
    trickled = {b: [] for b in args.binaries}
    with run.server_folders(args.binaries, "argus-muted-storm-") as folders:
        for i in range(args.runs):
            for binary, folder in zip(args.binaries, folders):
                run.BIN = folder
                silenced, inhibited, suppressed, trickles = one_run(
                    args.backend, args.groups)
                results[binary].append((silenced, inhibited))
                trickled[binary].append(trickles)
                print(f"run {i + 1} {binary}: silenced {silenced:.2f} s, "
                      f"inhibited {inhibited:.2f} s "
                      f"({suppressed} of {args.groups} suppressed), "
                      f"ratio {inhibited / silenced:.2f}x; then one group "
                      f"at a time: silenced {trickles[0] * 1000:.1f} ms, "
                      f"inhibited {trickles[1] * 1000:.1f} ms, "
                      f"not a target {trickles[2] * 1000:.1f} ms", flush=True)
    for binary, rows in results.items():
        ratios = [inh / sil for sil, inh in rows]
        print(f"{binary}: median silenced "
              f"{statistics.median(s for s, _ in rows):.2f} s, inhibited "
              f"{statistics.median(i for _, i in rows):.2f} s, ratio "
              f"{statistics.median(ratios):.2f}x "
              f"({min(ratios):.2f}-{max(ratios):.2f}); one at a time: "
              f"silenced {statistics.median(t[0] for t in trickled[binary]) * 1000:.1f} ms, "
              f"inhibited {statistics.median(t[1] for t in trickled[binary]) * 1000:.1f} ms, "
              f"not a target {statistics.median(t[2] for t in trickled[binary]) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
