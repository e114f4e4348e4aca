#!/usr/bin/env python3
"""The cost of holding many silenced openings, for one or more argus builds
alternated in one invocation (issue 15, twenty-ninth round):

  python3 tools/bench/held_review.py [ARGUS...] [--held 100000]
      [--runs 2] [--idle 20] [--backend sqlite]

(`make bench` runs it once on this build's binary, about 2 minutes.)

Each run starts a fresh server (run.py's Server) with one manager whose
receiver is a closed port and a silence over everything it gets, and sends
HELD new groups in batches of 1,000: every opening is held by the silence.
Once the last opening is fanned out the server gets no more requests, and
two figures are taken:
  - idle CPU: the server's CPU time over IDLE seconds, as a share of one
    core. While openings are held, the delivery worker looks at them
    (reads every active alert of the manager) once per poll interval, or
    less often when a look is costly (since the twenty-ninth round);
  - release: the silence is expired, and the figure is the time until the
    first released opening is stored (a look has to see the silence gone).
    With `--end time` the silence is instead changed to end by itself
    3 s later (nothing tells the worker when that comes), and the figure
    is the time from that end to the first release: since the thirtieth
    round the worker looks at the end of the silences that hold openings.
    With `--end child` no silence holds them but an inhibit rule whose
    one source is a child alert; the figure is the time from the POST of
    the child's resolution to the first release. A child resolves without
    a notification: since the thirty-first round the repository tells the
    worker, before that the release waited for the paced look.
"""

import argparse
import datetime
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the Server of make bench)

CLOSED_PORT = "http://127.0.0.1:9/hook"  # discard: nothing is sent anyway
SILENCE = {"matchers": [{"name": "cluster", "value": "eu", "isRegex": False,
                         "isEqual": True}],
           "event_manager_id": "held", "endsAt": "2200-01-01T00:00:00Z",
           "createdBy": "bench", "comment": "held openings"}
TIMED_END_IN = 3.0  # seconds from the change to the silence's end
# `--end child`: the only source is a child (its own field `role`); every
# held opening is a target (`cluster` eu), and neither outage alert is one.
INHIBIT_RULES = [{
    "source_matchers": [{"name": "role", "value": "source", "isRegex": False,
                         "isEqual": True}],
    "target_matchers": [{"name": "cluster", "value": "eu", "isRegex": False,
                         "isEqual": True}],
    "equal": []}]


def outage_event(dedup_key, action="trigger", **extra):
    return dict({"event_manager_id": "held", "summary": "outage",
                 "severity": "high", "action": action, "class": "outage",
                 "dedupKey": dedup_key}, **extra)


def open_child_source(port):
    """Opens the outage group: a parent, then a child that is the source."""
    for event in (outage_event("outage-1"),
                  outage_event("outage-2", role="source")):
        status, body = run.http("POST", port, "/v1/events", event)
        assert status == 202, (status, body)


def stored_openings(port):
    """How many parent_opened notifications the server stored."""
    _, text = run.http("GET", port, "/metrics")
    m = re.search(r'argus_notifications_total\{[^}]*kind="parent_opened"'
                  r'[^}]*outcome="stored"[^}]*\} (\S+)', text) or re.search(
        r'argus_notifications_total\{[^}]*outcome="stored"[^}]*'
        r'kind="parent_opened"[^}]*\} (\S+)', text)
    return int(float(m.group(1))) if m else 0


def newest_notification(port):
    _, body = run.http("GET", port, "/v1/notifications?limit=1")
    return body["data"][0] if body["data"] else None


def hold(port, held):
    """Sends HELD groups; returns once every opening is stored and the
    newest one is fanned out (fan-out goes in outbox order)."""
    for first in range(0, held, 1000):
        events = [{"event_manager_id": "held", "summary": "held",
                   "severity": "low", "action": "trigger", "class": f"g-{i}",
                   "dedupKey": f"g-{i}", "cluster": "eu"}
                  for i in range(first, min(held, first + 1000))]
        status, body = run.http("POST", port, "/v1/events/batch", events,
                                timeout=120)
        assert status == 202 and body["data"]["accepted"] == len(events)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if stored_openings(port) >= held:
            newest = newest_notification(port)
            if newest and newest["deliveries"]:
                assert newest["deliveries"][0]["state"] == "suppressed"
                return
        time.sleep(0.2)
    raise RuntimeError(f"{held} openings were not fanned out in 900 s")


def end_silence(port, silence_id, end):
    """Ends the silence now (`delete`) or TIMED_END_IN from now (`time`),
    or resolves the child source now (`child`); returns the monotonic time
    at which it ends."""
    if end == "child":
        start = time.monotonic()
        status, body = run.http("POST", port, "/v1/events",
                                outage_event("outage-2", "resolve"))
        assert status == 202, (status, body)
        return start
    path = f"/v1/silences/{silence_id}"
    if end == "delete":
        start = time.monotonic()
        status, _ = run.http("DELETE", port, path)
        assert status in (200, 204), status
        return start
    ends = (datetime.datetime.now(datetime.timezone.utc) +
            datetime.timedelta(seconds=TIMED_END_IN))
    start = time.monotonic() + TIMED_END_IN
    ends_text = ends.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    status, body = run.http("PUT", port, path, dict(SILENCE, endsAt=ends_text))
    assert status == 200, (status, body)
    return start


def one_run(backend, held, idle, end):
    with run.Server("argus", backend) as srv:
        _, rule = run.http("POST", srv.port, "/v1/grouping-rules",
                           {"name": "held", "grouping_key": "class",
                            "time_window_minutes": 60})
        manager = {"id": "held", "name": "held",
                   "grouping_rule_id": rule["data"]["id"],
                   "notification_config": {
                       "receivers": [{"name": "ops", "url": CLOSED_PORT}]}}
        if end == "child":
            manager["inhibit_rules"] = INHIBIT_RULES
        status, _ = run.http("POST", srv.port, "/v1/event-managers", manager)
        assert status == 201, status
        silence_id = None  # `child`: no silence, the child source mutes
        if end == "child":
            open_child_source(srv.port)
        else:
            status, silence = run.http("POST", srv.port, "/v1/silences",
                                       SILENCE)
            assert status == 201, status
            silence_id = silence["data"]["id"]
        hold(srv.port, held)
        time.sleep(2)  # the last writes and checkpoints settle
        pid = srv.proc.pid
        ticks, start = run.proc_ticks(pid), time.monotonic()
        time.sleep(idle)
        cpu = (run.proc_ticks(pid) - ticks) / run.HZ / (time.monotonic() - start)
        start = end_silence(srv.port, silence_id, end)
        while time.monotonic() < start + 120:
            newest = newest_notification(srv.port)
            if newest and newest["id"].endswith("-released"):
                return cpu, time.monotonic() - start
            time.sleep(0.01)
        raise RuntimeError("no opening was released in 120 s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="*",
                    default=[os.path.join(run.BIN, "argus")])
    ap.add_argument("--held", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--idle", type=float, default=20)
    ap.add_argument("--backend", default="sqlite")
    ap.add_argument("--end", choices=["delete", "time", "child"],
                    default="delete",
                    help="how the mute ends: DELETE of the silence now, its "
                         "endsAt 3 s after a change, or (no silence) the "
                         "resolution of the child that inhibits them")
    args = ap.parse_args()
    results = {b: [] for b in args.binaries}
    with run.server_folders(args.binaries, "argus-held-review-") as folders:
        for i in range(args.runs):
            for binary, folder in zip(args.binaries, folders):
                run.BIN = folder
                cpu, release = one_run(args.backend, args.held, args.idle,
                                       args.end)
                results[binary].append((cpu, release))
                print(f"run {i + 1} {binary}: {args.held} held, idle CPU "
                      f"{cpu * 100:.1f}% of a core, first release "
                      f"{release:.2f} s after the silence ended",
                      flush=True)
    for binary, rows in results.items():
        print(f"{binary}: median idle CPU "
              f"{statistics.median(c for c, _ in rows) * 100:.1f}% of a core, "
              f"first release after the end "
              f"{statistics.median(r for _, r in rows):.2f} s")


if __name__ == "__main__":
    main()
