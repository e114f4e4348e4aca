// Acknowledgement in the alert lifecycle: who works on an alert, how it
// spreads over a group, what it keeps quiet, and how it runs out. Pure
// functions driven with explicit times, like grouping_test.cpp.

#include "domain/acknowledge.hpp"
#include "support/grouping_events.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono_literals;

using argus::domain::action;
using argus::domain::alert;
using argus::domain::decision;
using argus::domain::duration;
using argus::domain::event;
using argus::domain::from_millis;
using argus::domain::group_state;
using argus::domain::no_time;
using argus::domain::notification_kind;
using argus::domain::severity;
using argus::domain::time_point;

const time_point t0 = from_millis(1'700'000'000'000);
constexpr duration window = 10min;

event make(action act, const std::string& key) {
  event e;
  e.event_manager_id = "m1";
  e.dedup_key = key;
  e.act = act;
  if (act == action::trigger) {
    e.summary = "summary of " + key;
    e.sev = severity::high;
    e.has_grouping_value = true;
    e.grouping_value = "db";
    e.window = window;
  }
  return e;
}

event ack(const std::string& key, const std::string& by = "alice",
          duration timeout = duration{0}) {
  auto e = make(action::acknowledge, key);
  e.actor = by;
  e.ack_timeout = timeout;
  return e;
}

/// One group and one reused decision, as the grouping actor keeps them.
struct group {
  group_state g;
  decision d;

  group() {
    g.event_manager_id = "m1";
    g.has_value = true;
    g.grouping_value = "db";
  }

  const decision& at(time_point now, const event& e) {
    argus::domain::apply(g, e, true, now, d);
    CHECK(argus::test::writes_match_group(g, d));
    return d;
  }

  const alert& active(const std::string& key) {
    auto* found = g.active.find(key);
    REQUIRE(found != nullptr);
    return **found;
  }

  /// The write for `key` in the last decision.
  const argus::domain::alert_write& written(const std::string& key) {
    for (auto& w : d.writes)
      if (w.snapshot->dedup_key == key)
        return w;
    FAIL("no write for " << key);
    return d.writes.front();
  }
};

} // namespace

TEST_CASE("acknowledge and unacknowledge are actions", "[unit]") {
  using argus::domain::parse_action;
  CHECK(parse_action("acknowledge") == action::acknowledge);
  CHECK(parse_action("unacknowledge") == action::unacknowledge);
  CHECK(to_string(action::acknowledge) == "acknowledge");
  CHECK(to_string(action::unacknowledge) == "unacknowledge");
  CHECK_FALSE(parse_action("ack").has_value());
  CHECK(to_string(notification_kind::parent_acknowledged) ==
        "parent_acknowledged");
}

TEST_CASE_METHOD(group,
                 "acknowledging a parent acknowledges its group and "
                 "notifies once",
                 "[unit]") {
  at(t0, make(action::trigger, "p"));
  at(t0 + 1s, make(action::trigger, "c1"));
  at(t0 + 2s, make(action::trigger, "c2"));
  at(t0 + 3s, make(action::resolve, "c2"));
  at(t0 + 5s, ack("p"));
  CHECK_FALSE(d.ignored);
  CHECK_FALSE(d.arm_ack);        // no ack_timeout
  REQUIRE(d.writes.size() == 2); // the parent and its one active child
  auto& p = written("p");
  CHECK(p.event_count_delta == 1);
  CHECK(p.snapshot->acknowledged);
  CHECK(p.snapshot->acknowledged_at == t0 + 5s);
  CHECK(p.snapshot->acknowledged_by == "alice");
  CHECK(p.snapshot->acknowledged_until == no_time);
  CHECK(p.snapshot->event_count == 2);
  CHECK(p.snapshot->updated_at == t0 + 5s);
  auto& c1 = written("c1");
  CHECK(c1.event_count_delta == 0); // the event was for the parent
  CHECK(c1.snapshot->acknowledged);
  CHECK(c1.snapshot->acknowledged_by == "alice");
  CHECK(c1.snapshot->acknowledged_at == t0 + 5s);
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::parent_acknowledged);
  CHECK(d.notify[0].parent->dedup_key == "p");
  CHECK(d.notify[0].parent->acknowledged_by == "alice");
  CHECK(d.notify[0].at == t0 + 5s);
  CHECK(active("p").acknowledged);
  CHECK(active("c1").acknowledged);
  CHECK(d.deactivated.empty());
}

TEST_CASE_METHOD(group,
                 "acknowledging again keeps who and when and does not "
                 "notify",
                 "[unit]") {
  at(t0, make(action::trigger, "p"));
  at(t0 + 1s, ack("p", "alice"));
  at(t0 + 2s, ack("p", "bob"));
  CHECK(d.notify.empty());
  REQUIRE(d.writes.size() == 1);
  CHECK(d.writes[0].event_count_delta == 1);
  CHECK(active("p").acknowledged_by == "alice");
  CHECK(active("p").acknowledged_at == t0 + 1s);
  CHECK(active("p").event_count == 3);
}

TEST_CASE_METHOD(group,
                 "a child joining an acknowledged group is acknowledged "
                 "and notifies nobody",
                 "[unit]") {
  at(t0, make(action::trigger, "p"));
  at(t0 + 1s, ack("p", "alice"));
  g.child_notices = true; // even when a receiver asks for child_added
  at(t0 + 2s, make(action::trigger, "c"));
  CHECK(d.notify.empty());
  auto& c = written("c");
  CHECK(c.snapshot->parent_dedup_key == "p");
  CHECK(c.snapshot->acknowledged);
  CHECK(c.snapshot->acknowledged_by == "alice");
  CHECK(c.snapshot->acknowledged_at == t0 + 1s);
  CHECK(written("p").snapshot->child_count == 1);
}

TEST_CASE_METHOD(group, "acknowledging a child acknowledges only that child",
                 "[unit]") {
  at(t0, make(action::trigger, "p"));
  at(t0 + 1s, make(action::trigger, "c1"));
  at(t0 + 2s, make(action::trigger, "c2"));
  at(t0 + 3s, ack("c1", "bob"));
  CHECK(d.notify.empty());
  REQUIRE(d.writes.size() == 1);
  CHECK(d.writes[0].snapshot->dedup_key == "c1");
  CHECK(d.writes[0].snapshot->acknowledged_by == "bob");
  CHECK_FALSE(active("p").acknowledged);
  CHECK_FALSE(active("c2").acknowledged);
}

TEST_CASE_METHOD(group,
                 "unacknowledging a parent clears its group without "
                 "notifying",
                 "[unit]") {
  at(t0, make(action::trigger, "p"));
  at(t0 + 1s, make(action::trigger, "c"));
  at(t0 + 2s, ack("p", "alice"));
  at(t0 + 3s, make(action::unacknowledge, "p"));
  CHECK(d.notify.empty());
  REQUIRE(d.writes.size() == 2);
  for (auto& w : d.writes) {
    CHECK_FALSE(w.snapshot->acknowledged);
    CHECK(w.snapshot->acknowledged_at == no_time);
    CHECK(w.snapshot->acknowledged_by.empty());
    CHECK(w.snapshot->updated_at == t0 + 3s);
  }
  CHECK(written("p").event_count_delta == 1);
  // A later acknowledge counts as new again.
  at(t0 + 4s, ack("p", "bob"));
  REQUIRE(d.notify.size() == 1);
  CHECK(active("c").acknowledged_by == "bob");
}

TEST_CASE_METHOD(group,
                 "an acknowledge for an unknown or resolved dedupKey is "
                 "ignored",
                 "[unit]") {
  at(t0, ack("nope"));
  CHECK(d.ignored);
  CHECK(d.writes.empty());
  CHECK(d.notify.empty());
  at(t0 + 1s, make(action::trigger, "p"));
  at(t0 + 2s, make(action::resolve, "p"));
  at(t0 + 3s, ack("p"));
  CHECK(d.ignored);
  CHECK(d.writes.empty());
  at(t0 + 4s, make(action::unacknowledge, "p"));
  CHECK(d.ignored);
}

TEST_CASE_METHOD(group,
                 "a re-trigger keeps an acknowledgement, a re-trigger "
                 "after resolve clears it",
                 "[unit]") {
  at(t0, make(action::trigger, "p"));
  at(t0 + 1s, ack("p"));
  at(t0 + 2s, make(action::trigger, "p"));
  CHECK(d.notify.empty()); // someone works on it: no page
  CHECK(written("p").snapshot->acknowledged);
  at(t0 + 3s, make(action::resolve, "p"));
  // Kept on the resolved alert as history.
  CHECK(written("p").snapshot->acknowledged);
  CHECK(written("p").snapshot->acknowledged_by == "alice");
  at(t0 + 4s, make(action::trigger, "p"));
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::parent_opened);
  auto& p = written("p");
  CHECK_FALSE(p.snapshot->acknowledged);
  CHECK(p.snapshot->acknowledged_at == no_time);
  CHECK(p.snapshot->acknowledged_by.empty());
  // What the store keeps after merging the reopened alert into the old row.
  alert stored;
  stored.acknowledged = true;
  stored.acknowledged_by = "alice";
  argus::domain::merge_into(stored, p);
  CHECK_FALSE(stored.acknowledged);
  CHECK(stored.acknowledged_by.empty());
}

TEST_CASE_METHOD(group,
                 "resolving an acknowledged group follows the parent and "
                 "child rules",
                 "[unit]") {
  at(t0, make(action::trigger, "p"));
  at(t0 + 1s, make(action::trigger, "c"));
  at(t0 + 2s, ack("p"));
  at(t0 + 3s, make(action::resolve, "p"));
  CHECK(written("p").snapshot->resolve_requested);
  CHECK(d.notify.empty());
  at(t0 + 4s, make(action::resolve, "c"));
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::parent_resolved);
  CHECK(d.notify[0].parent->acknowledged);
  CHECK(g.active.empty());
}

TEST_CASE_METHOD(group,
                 "ack_timeout returns an acknowledged group to "
                 "unacknowledged",
                 "[unit]") {
  using argus::domain::expire_acknowledgements;
  using argus::domain::next_ack_deadline;
  at(t0, make(action::trigger, "p"));
  at(t0 + 1s, make(action::trigger, "c"));
  CHECK(next_ack_deadline(g) == no_time);
  at(t0 + 2s, ack("p", "alice", 30min));
  CHECK(d.arm_ack);
  CHECK(d.ack_until == t0 + 2s + 30min);
  CHECK(written("c").snapshot->acknowledged_until == t0 + 2s + 30min);
  CHECK(next_ack_deadline(g) == t0 + 2s + 30min);
  // A timer that fires early changes nothing and re-arms.
  expire_acknowledgements(g, t0 + 2s + 29min, d);
  CHECK(d.writes.empty());
  CHECK(d.arm_ack);
  CHECK(d.ack_until == t0 + 2s + 30min);
  // Acknowledging again renews the deadline.
  at(t0 + 10min, ack("p", "bob", 30min));
  CHECK(d.ack_until == t0 + 40min);
  CHECK(active("p").acknowledged_by == "alice");
  expire_acknowledgements(g, t0 + 35min, d);
  CHECK(d.writes.empty());
  expire_acknowledgements(g, t0 + 40min, d);
  REQUIRE(d.writes.size() == 2);
  for (auto& w : d.writes) {
    CHECK_FALSE(w.snapshot->acknowledged);
    CHECK(w.event_count_delta == 0);
    CHECK(w.snapshot->updated_at == t0 + 40min);
  }
  CHECK_FALSE(d.arm_ack);
  CHECK(d.notify.empty());
  CHECK(next_ack_deadline(g) == no_time);
  CHECK_FALSE(active("p").acknowledged);
}

TEST_CASE_METHOD(group,
                 "a restored group knows its next acknowledgement "
                 "deadline",
                 "[unit]") {
  at(t0, make(action::trigger, "p"));
  at(t0 + 1s, make(action::trigger, "c"));
  at(t0 + 2s, ack("c", "bob", 5min));
  std::vector<alert> stored;
  for (auto& a : g.active)
    stored.push_back(*a);
  auto r = argus::domain::restore_group("m1", true, "db", stored);
  CHECK(argus::domain::next_ack_deadline(r) == t0 + 2s + 5min);
  CHECK(r.active.at("c")->acknowledged_by == "bob");
}
