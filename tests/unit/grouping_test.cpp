// The alert lifecycle as pure functions of (group state, event, now): every
// rule of the "Lifecycle" section, driven through domain::apply with explicit
// times, no actors and no clocks.

#include "domain/grouping.hpp"

#include "storage/store.hpp"
#include "support/grouping_events.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

using argus::domain::action;
using argus::domain::alert;
using argus::domain::alert_status;
using argus::domain::alert_type;
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

using argus::test::group_of;
using argus::test::resolve;
using argus::test::trigger;

/// A trigger that lacks the rule's grouping field.
event trigger_without_value(const std::string& key,
                            const std::string& manager = "m1") {
  auto e = trigger(key, "", manager);
  e.has_grouping_value = false;
  return e;
}

/// The children of `parent`'s current life, active or resolved: the group
/// keeps the active ones in `active` and the resolved ones in its links.
std::unordered_set<std::string> children_of(const group_state& g,
                                            const std::string& parent) {
  std::unordered_set<std::string> result;
  for (auto& a : g.active)
    if (!a->is_parent() && a->parent_dedup_key == parent)
      result.insert(a->dedup_key.str());
  if (auto* links = g.links.find(parent))
    for (auto& child : links->resolved_children)
      result.insert(child.str());
  return result;
}

std::set<std::string> keys_of(const group_state& g) {
  std::set<std::string> result;
  for (auto& a : g.active)
    result.insert(a->dedup_key.str());
  return result;
}

/// One group and one reused decision, as the grouping actor keeps them.
struct lifecycle {
  group_state g = group_of();
  decision d;

  const decision& at(time_point now, const event& e, bool fresh = true) {
    argus::domain::apply(g, e, fresh, now, d);
    CHECK(argus::test::writes_match_group(g, d));
    return d;
  }

  const alert& active(const std::string& key) {
    auto* found = g.active.find(key);
    REQUIRE(found != nullptr);
    return **found;
  }
};

} // namespace

TEST_CASE_METHOD(lifecycle,
                 "the first trigger opens a parent and arms the "
                 "window",
                 "[unit]") {
  at(t0, trigger("p"));
  REQUIRE(d.writes.size() == 1);
  auto& w = d.writes[0];
  CHECK(w.event_count_delta == 1);
  auto& a = *w.snapshot;
  CHECK(a.id == argus::domain::alert_id_for("m1", "p"));
  CHECK(a.dedup_key == "p");
  CHECK(a.event_manager_id == "m1");
  CHECK(a.summary == "summary of p");
  CHECK(a.sev == severity::high);
  CHECK(a.class_name == "disk");
  CHECK(a.details == R"({"host":"h1"})");
  CHECK(a.type == alert_type::parent);
  CHECK(a.status == alert_status::active);
  CHECK(a.has_grouping_value);
  CHECK(a.grouping_value == "db");
  CHECK(a.parent_dedup_key.empty());
  CHECK(a.child_count == 0);
  CHECK_FALSE(a.resolve_requested);
  CHECK(a.event_count == 1);
  CHECK(a.created_at == t0);
  CHECK(a.updated_at == t0);
  CHECK(a.resolved_at == no_time);
  CHECK(a.window_ends_at == t0 + window);
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::parent_opened);
  CHECK(d.notify[0].parent->dedup_key == "p");
  CHECK(d.notify[0].at == t0);
  CHECK(d.notify[0].seq == 0);
  CHECK(d.deactivated.empty());
  CHECK_FALSE(d.reroute);
  CHECK_FALSE(d.reactivated);
  CHECK_FALSE(d.ignored);
  CHECK(g.open_parent == "p");
  CHECK(g.window_ends_at == t0 + window);
  CHECK(keys_of(g) == std::set<std::string>{"p"});
  // A parent without children costs no links entry.
  CHECK(g.links.empty());
  CHECK(children_of(g, "p").empty());
}

TEST_CASE_METHOD(lifecycle, "triggers inside the window become children",
                 "[unit]") {
  at(t0, trigger("p"));
  g.child_notices = true; // a receiver asks for child_added
  at(t0 + 5min, trigger("c1"));
  // The decision is reused: nothing of the first call may linger (the
  // child's write and its parent's).
  CHECK(d.writes.size() == 2);
  // No parent notification; a child_added one, for receivers that ask.
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::child_added);
  CHECK(d.notify[0].parent->dedup_key == "p");
  CHECK(d.notify[0].child->dedup_key == "c1");
  CHECK(d.notify[0].active_children == 1);
  REQUIRE(d.writes.size() == 2);
  auto& child = *d.writes[0].snapshot;
  CHECK(d.writes[0].event_count_delta == 1);
  CHECK(child.dedup_key == "c1");
  CHECK(child.type == alert_type::child);
  CHECK(child.parent_dedup_key == "p");
  CHECK(child.status == alert_status::active);
  CHECK(child.event_count == 1);
  CHECK(child.created_at == t0 + 5min);
  CHECK(child.window_ends_at == no_time);
  auto& parent = *d.writes[1].snapshot;
  CHECK(d.writes[1].event_count_delta == 0);
  CHECK(parent.dedup_key == "p");
  CHECK(parent.child_count == 1);
  CHECK(parent.event_count == 1);
  CHECK(parent.updated_at == t0 + 5min);
  CHECK(parent.created_at == t0);
  CHECK(children_of(g, "p") == std::unordered_set<std::string>{"c1"});
  CHECK(g.links["p"].active_children == 1);

  SECTION("up to the last instant of the window") {
    at(t0 + window - 1ns, trigger("c2"));
    REQUIRE(d.writes.size() == 2);
    CHECK(d.writes[0].snapshot->type == alert_type::child);
    CHECK(d.writes[0].snapshot->parent_dedup_key == "p");
    CHECK(d.writes[1].snapshot->child_count == 2);
    CHECK(active("p").child_count == 2);
    CHECK(g.links["p"].active_children == 2);
    CHECK(keys_of(g) == std::set<std::string>{"p", "c1", "c2"});
  }
}

TEST_CASE_METHOD(lifecycle, "the window is fixed when the parent opens",
                 "[unit]") {
  at(t0, trigger("p"));
  // The rule was changed to a one-minute window after the group opened: the
  // open group keeps its ten minutes.
  auto late = trigger("c");
  late.window = 1min;
  at(t0 + 9min, late);
  REQUIRE(d.writes.size() == 2);
  CHECK(d.writes[0].snapshot->type == alert_type::child);
  CHECK(g.window_ends_at == t0 + window);
  // The next group opens with the new window.
  auto next = trigger("q");
  next.window = 1min;
  at(t0 + window, next);
  REQUIRE(d.writes.size() == 1);
  CHECK(d.writes[0].snapshot->type == alert_type::parent);
  CHECK(g.window_ends_at == t0 + window + 1min);
  CHECK(d.writes[0].snapshot->window_ends_at == t0 + window + 1min);
}

TEST_CASE_METHOD(lifecycle,
                 "a trigger at or after the window end opens a new "
                 "parent",
                 "[unit]") {
  at(t0, trigger("p"));
  auto when = GENERATE(t0 + window, t0 + window + 1ns, t0 + 1h);
  at(when, trigger("q"));
  REQUIRE(d.writes.size() == 1);
  auto& q = *d.writes[0].snapshot;
  CHECK(q.type == alert_type::parent);
  CHECK(q.parent_dedup_key.empty());
  CHECK(q.window_ends_at == when + window);
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::parent_opened);
  CHECK(d.notify[0].parent->dedup_key == "q");
  CHECK(g.open_parent == "q");
  CHECK(g.window_ends_at == when + window);
  CHECK(active("p").child_count == 0);
  CHECK(children_of(g, "p").empty());
  // Later triggers join the new parent.
  at(when + 1min, trigger("c"));
  REQUIRE(d.writes.size() == 2);
  CHECK(d.writes[0].snapshot->parent_dedup_key == "q");
  CHECK(active("q").child_count == 1);
}

TEST_CASE_METHOD(lifecycle,
                 "a window ends by the acceptance time of the events, "
                 "whenever they are applied",
                 "[unit]") {
  CHECK_FALSE(argus::domain::window_open(g, t0)); // nothing open
  at(t0, trigger("p"));
  CHECK(argus::domain::window_open(g, t0 + window - 1ns));
  CHECK_FALSE(argus::domain::window_open(g, t0 + window));
  // Applied now, or an hour late behind a queue or a replay: `at` hands
  // `apply` the time the event was accepted.
  at(t0 + window - 1ns, trigger("c"));
  REQUIRE(d.writes.size() == 2);
  CHECK(d.writes[0].snapshot->parent_dedup_key == "p");
  at(t0 + window, trigger("q"));
  REQUIRE(d.writes.size() == 1);
  CHECK(d.writes[0].snapshot->type == alert_type::parent);
  CHECK(g.open_parent == "q");
  CHECK(g.window_ends_at == t0 + 2 * window);
  // The parent itself stays active; only grouping ended.
  CHECK(active("p").status == alert_status::active);
  CHECK(active("p").child_count == 1);
}

TEST_CASE_METHOD(lifecycle, "a trigger for an active dedupKey only counts",
                 "[unit]") {
  at(t0, trigger("p"));
  at(t0 + 1min, trigger("c"));

  SECTION("parent") {
    auto again = trigger("p");
    again.summary = "worse";
    again.sev = severity::medium;
    at(t0 + 2min, again);
    REQUIRE(d.writes.size() == 1);
    CHECK(d.writes[0].event_count_delta == 1);
    auto& p = *d.writes[0].snapshot;
    CHECK(p.type == alert_type::parent);
    CHECK(p.event_count == 2);
    CHECK(p.updated_at == t0 + 2min);
    CHECK(p.created_at == t0);
    CHECK(p.summary == "worse");
    CHECK(p.sev == severity::medium);
    CHECK(p.child_count == 1);
    CHECK(g.window_ends_at == t0 + window); // a re-trigger moves no window
    CHECK(d.notify.empty());
    CHECK(d.deactivated.empty());
    CHECK(keys_of(g) == std::set<std::string>{"p", "c"});
  }
  SECTION("child") {
    at(t0 + 2min, trigger("c"));
    REQUIRE(d.writes.size() == 1);
    auto& c = *d.writes[0].snapshot;
    CHECK(c.type == alert_type::child);
    CHECK(c.parent_dedup_key == "p");
    CHECK(c.event_count == 2);
    CHECK(c.updated_at == t0 + 2min);
    CHECK(active("p").child_count == 1);
    CHECK(g.links["p"].active_children == 1);
  }
  SECTION("after the window ended") {
    at(t0 + 20min, trigger("p"));
    REQUIRE(d.writes.size() == 1);
    CHECK(d.writes[0].snapshot->event_count == 2);
    CHECK(d.writes[0].snapshot->type == alert_type::parent);
    CHECK(g.window_ends_at == t0 + window);
    CHECK(d.notify.empty());
    // A new dedupKey opens a new window.
    at(t0 + 21min, trigger("n"));
    CHECK(d.writes[0].snapshot->type == alert_type::parent);
    CHECK(g.open_parent == "n");
  }
  SECTION("even with another grouping value") {
    // The dedupKey is active here, so it stays here.
    at(t0 + 2min, trigger("c", "web"), false);
    CHECK_FALSE(d.reroute);
    REQUIRE(d.writes.size() == 1);
    CHECK(d.writes[0].snapshot->event_count == 2);
  }
}

TEST_CASE_METHOD(lifecycle, "a re-trigger clears a pending parent resolve",
                 "[unit]") {
  at(t0, trigger("p"));
  at(t0 + 1min, trigger("c"));
  at(t0 + 2min, resolve("p"));
  CHECK(active("p").resolve_requested);
  at(t0 + 3min, trigger("p"));
  REQUIRE(d.writes.size() == 1);
  CHECK_FALSE(d.writes[0].snapshot->resolve_requested);
  CHECK(d.writes[0].snapshot->event_count == 3);
  CHECK_FALSE(active("p").resolve_requested);
  // The last child resolving no longer takes the parent with it.
  at(t0 + 4min, resolve("c"));
  CHECK(d.deactivated == std::vector<std::string>{"c"});
  CHECK(d.notify.empty());
  REQUIRE(d.writes.size() == 1);
  CHECK(active("p").status == alert_status::active);
}

TEST_CASE_METHOD(lifecycle, "a child resolves alone", "[unit]") {
  at(t0, trigger("p"));
  at(t0 + 1min, trigger("c1"));
  at(t0 + 2min, trigger("c2"));
  at(t0 + 3min, resolve("c1"));
  REQUIRE(d.writes.size() == 1);
  CHECK(d.writes[0].event_count_delta == 1);
  auto& c1 = *d.writes[0].snapshot;
  CHECK(c1.dedup_key == "c1");
  CHECK(c1.status == alert_status::resolved);
  CHECK(c1.resolved_at == t0 + 3min);
  CHECK(c1.updated_at == t0 + 3min);
  CHECK(c1.event_count == 2);
  CHECK(c1.type == alert_type::child);
  CHECK(c1.parent_dedup_key == "p");
  CHECK(d.deactivated == std::vector<std::string>{"c1"});
  CHECK(d.notify.empty());
  CHECK_FALSE(d.ignored);
  CHECK(keys_of(g) == std::set<std::string>{"p", "c2"});
  CHECK(active("p").status == alert_status::active);
  CHECK(active("p").child_count == 2);
  CHECK(g.links["p"].active_children == 1);
  CHECK(children_of(g, "p") == std::unordered_set<std::string>{"c1", "c2"});
  CHECK(g.open_parent == "p"); // the window stays open
}

TEST_CASE_METHOD(lifecycle, "a parent with active children waits for them",
                 "[unit]") {
  at(t0, trigger("p"));
  at(t0 + 1min, trigger("c1"));
  at(t0 + 2min, trigger("c2"));
  at(t0 + 3min, resolve("p"));
  REQUIRE(d.writes.size() == 1);
  CHECK(d.writes[0].event_count_delta == 1);
  auto& p = *d.writes[0].snapshot;
  CHECK(p.status == alert_status::active);
  CHECK(p.resolve_requested);
  CHECK(p.event_count == 2);
  CHECK(p.updated_at == t0 + 3min);
  CHECK(p.resolved_at == no_time);
  CHECK(d.deactivated.empty());
  CHECK(d.notify.empty());
  CHECK(keys_of(g) == std::set<std::string>{"p", "c1", "c2"});

  at(t0 + 4min, resolve("c1"));
  REQUIRE(d.writes.size() == 1);
  CHECK(d.deactivated == std::vector<std::string>{"c1"});
  CHECK(d.notify.empty());
  CHECK(active("p").status == alert_status::active);
  CHECK(active("p").resolve_requested);

  at(t0 + 5min, resolve("c2"));
  REQUIRE(d.writes.size() == 2);
  CHECK(d.writes[0].snapshot->dedup_key == "c2");
  CHECK(d.writes[0].snapshot->status == alert_status::resolved);
  auto& parent = *d.writes[1].snapshot;
  CHECK(d.writes[1].event_count_delta == 0);
  CHECK(parent.dedup_key == "p");
  CHECK(parent.status == alert_status::resolved);
  CHECK_FALSE(parent.resolve_requested);
  CHECK(parent.resolved_at == t0 + 5min);
  CHECK(parent.updated_at == t0 + 5min);
  CHECK(parent.child_count == 2);
  CHECK(parent.event_count == 2);
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::parent_resolved);
  CHECK(d.notify[0].parent->dedup_key == "p");
  CHECK(d.notify[0].parent->status == alert_status::resolved);
  CHECK(d.notify[0].at == t0 + 5min);
  CHECK(d.deactivated == std::vector<std::string>{"c2", "p"});
  CHECK(g.active.empty());
  CHECK(g.links.empty());
  CHECK(g.open_parent.empty());
  CHECK(argus::domain::is_idle(g));
}

TEST_CASE_METHOD(lifecycle, "a parent without children resolves at once",
                 "[unit]") {
  at(t0, trigger("p"));
  at(t0 + 1min, resolve("p"));
  REQUIRE(d.writes.size() == 1);
  CHECK(d.writes[0].event_count_delta == 1);
  auto& p = *d.writes[0].snapshot;
  CHECK(p.status == alert_status::resolved);
  CHECK_FALSE(p.resolve_requested);
  CHECK(p.resolved_at == t0 + 1min);
  CHECK(p.event_count == 2);
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::parent_resolved);
  CHECK(d.deactivated == std::vector<std::string>{"p"});
  CHECK(g.active.empty());
  CHECK(g.open_parent.empty());

  SECTION("and closes its group even inside the window") {
    at(t0 + 2min, trigger("c"));
    REQUIRE(d.writes.size() == 1);
    CHECK(d.writes[0].snapshot->type == alert_type::parent);
    CHECK(g.window_ends_at == t0 + 2min + window);
    REQUIRE(d.notify.size() == 1);
    CHECK(d.notify[0].kind == notification_kind::parent_opened);
    CHECK(g.open_parent == "c");
  }
}

TEST_CASE_METHOD(lifecycle,
                 "resolving an older parent keeps a newer window "
                 "open",
                 "[unit]") {
  at(t0, trigger("p"));
  at(t0 + window, trigger("q"));
  REQUIRE(g.open_parent == "q");
  at(t0 + 11min, resolve("p"));
  CHECK(d.deactivated == std::vector<std::string>{"p"});
  CHECK(g.open_parent == "q");
  at(t0 + 12min, trigger("c"));
  REQUIRE(d.writes.size() == 2);
  CHECK(d.writes[0].snapshot->parent_dedup_key == "q");
}

TEST_CASE_METHOD(lifecycle, "a resolve for an unknown dedupKey is ignored",
                 "[unit]") {
  at(t0, trigger("p"));
  auto before = keys_of(g);
  at(t0 + 1min, resolve("ghost"));
  CHECK(d.ignored);
  CHECK(d.writes.empty());
  CHECK(d.notify.empty());
  CHECK(d.deactivated.empty());
  CHECK_FALSE(d.reroute);
  CHECK(keys_of(g) == before);
  CHECK(active("p").event_count == 1);

  SECTION("so is a second resolve") {
    at(t0 + 2min, resolve("p"));
    CHECK_FALSE(d.ignored);
    at(t0 + 3min, resolve("p"));
    CHECK(d.ignored);
    CHECK(d.writes.empty());
    CHECK(d.notify.empty());
  }
}

TEST_CASE("an event without the grouping field is a parent of its own",
          "[unit]") {
  group_state g;
  g.event_manager_id = "m1";
  g.has_value = false;
  decision d;
  argus::domain::apply(g, trigger_without_value("a"), true, t0, d);
  REQUIRE(d.writes.size() == 1);
  auto& a = *d.writes[0].snapshot;
  CHECK(a.type == alert_type::parent);
  CHECK_FALSE(a.has_grouping_value);
  CHECK(a.window_ends_at == no_time);
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::parent_opened);
  CHECK(g.open_parent.empty());

  argus::domain::apply(g, trigger_without_value("b"), true, t0 + 1s, d);
  REQUIRE(d.writes.size() == 1);
  CHECK(d.writes[0].snapshot->type == alert_type::parent);
  CHECK(d.writes[0].snapshot->parent_dedup_key.empty());
  REQUIRE(d.notify.size() == 1);
  CHECK(g.active.size() == 2);
  CHECK(g.active.at("a")->child_count == 0);
  CHECK(g.open_parent.empty());
  CHECK(g.window_ends_at == time_point{});

  argus::domain::apply(g, resolve("a"), false, t0 + 2s, d);
  CHECK(d.deactivated == std::vector<std::string>{"a"});
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::parent_resolved);
  CHECK(g.active.size() == 1);
}

TEST_CASE_METHOD(lifecycle, "belongs_to compares manager and grouping value",
                 "[unit]") {
  using argus::domain::belongs_to;
  CHECK(belongs_to(g, trigger("x")));
  CHECK_FALSE(belongs_to(g, trigger("x", "web")));
  CHECK_FALSE(belongs_to(g, trigger("x", "db", "m2")));
  CHECK_FALSE(belongs_to(g, trigger_without_value("x")));
  group_state none;
  none.event_manager_id = "m1";
  CHECK(belongs_to(none, trigger_without_value("x")));
  CHECK_FALSE(belongs_to(none, trigger("x")));
  // Without a value the (empty) value text does not matter.
  auto odd = trigger_without_value("x");
  odd.grouping_value = "leftover";
  CHECK(belongs_to(none, odd));
}

TEST_CASE_METHOD(lifecycle,
                 "a trigger of another group is sent back for "
                 "rerouting",
                 "[unit]") {
  at(t0, trigger("p"));
  at(t0 + 1min, resolve("p"));
  auto check_rerouted = [this] {
    CHECK(d.reroute);
    CHECK_FALSE(d.reactivated);
    CHECK(d.writes.empty());
    CHECK(d.notify.empty());
    CHECK(d.deactivated.empty());
    CHECK(g.active.empty());
    CHECK(g.links.empty());
    CHECK(g.open_parent.empty());
  };
  SECTION("another value") {
    at(t0 + 2min, trigger("p", "web"), false);
    check_rerouted();
  }
  SECTION("no value") {
    at(t0 + 2min, trigger_without_value("p"), false);
    check_rerouted();
  }
  SECTION("another manager") {
    at(t0 + 2min, trigger("p", "db", "m2"), true);
    check_rerouted();
  }
}

TEST_CASE_METHOD(lifecycle, "a trigger for a resolved dedupKey reactivates it",
                 "[unit]") {
  at(t0, trigger("p"));
  at(t0 + 1min, resolve("p"));

  SECTION("routed by its active dedupKey: reactivated") {
    at(t0 + 2min, trigger("p"), false);
    CHECK(d.reactivated);
    CHECK_FALSE(d.reroute);
  }
  SECTION("routed by value: a fresh alert") {
    at(t0 + 2min, trigger("p"), true);
    CHECK_FALSE(d.reactivated);
  }
  REQUIRE(d.writes.size() == 1);
  auto& p = *d.writes[0].snapshot;
  CHECK(d.writes[0].event_count_delta == 1);
  CHECK(p.id == argus::domain::alert_id_for("m1", "p"));
  CHECK(p.status == alert_status::active);
  CHECK(p.type == alert_type::parent);
  CHECK(p.resolved_at == no_time);
  CHECK(p.window_ends_at == t0 + 2min + window);
  // Grouped afresh: its old group was closed by the resolve.
  CHECK(g.window_ends_at == t0 + 2min + window);
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::parent_opened);
  CHECK(g.open_parent == "p");
}

TEST_CASE_METHOD(lifecycle,
                 "a resolved child that returns is not counted "
                 "twice",
                 "[unit]") {
  at(t0, trigger("p"));
  at(t0 + 1min, trigger("c"));
  at(t0 + 2min, resolve("c"));
  REQUIRE(g.links["p"].active_children == 0);
  at(t0 + 3min, trigger("c"), true);
  REQUIRE(d.writes.size() == 2);
  auto& c = *d.writes[0].snapshot;
  CHECK(c.type == alert_type::child);
  CHECK(c.parent_dedup_key == "p");
  CHECK(c.status == alert_status::active);
  CHECK(d.writes[1].snapshot->child_count == 1);
  CHECK(active("p").child_count == 1);
  CHECK(children_of(g, "p").size() == 1);
  CHECK(g.links["p"].active_children == 1);
  // The parent waits for it again.
  at(t0 + 4min, resolve("p"));
  CHECK(active("p").resolve_requested);
  at(t0 + 5min, resolve("c"));
  CHECK(d.deactivated == std::vector<std::string>{"c", "p"});
}

TEST_CASE_METHOD(lifecycle, "is_idle follows the active alerts", "[unit]") {
  CHECK(argus::domain::is_idle(g));
  at(t0, trigger("p"));
  CHECK_FALSE(argus::domain::is_idle(g));
  at(t0 + 1min, trigger("c"));
  at(t0 + 2min, resolve("c"));
  CHECK_FALSE(argus::domain::is_idle(g));
  at(t0 + window, trigger("q")); // a new window; "p" is still active
  at(t0 + window, resolve("q"));
  CHECK_FALSE(argus::domain::is_idle(g));
  at(t0 + 11min, resolve("p"));
  CHECK(argus::domain::is_idle(g));
}

namespace {

alert stored(const std::string& key, alert_type type, alert_status status,
             const std::string& parent = {}, time_point window_end = {}) {
  alert a;
  a.id = argus::domain::alert_id_for("m1", key);
  a.dedup_key = key;
  a.event_manager_id = "m1";
  a.type = type;
  a.status = status;
  a.has_grouping_value = true;
  a.grouping_value = "db";
  a.parent_dedup_key = parent;
  a.event_count = 4;
  a.created_at = t0;
  a.updated_at = t0;
  a.window_ends_at = window_end;
  return a;
}

} // namespace

TEST_CASE("restore_group rebuilds a group from persisted alerts", "[unit]") {
  using argus::domain::restore_group;
  auto p =
      stored("p", alert_type::parent, alert_status::active, {}, t0 + window);
  p.child_count = 2;
  auto c1 = stored("c1", alert_type::child, alert_status::active, "p");
  auto c2 = stored("c2", alert_type::child, alert_status::resolved, "p");
  // An older parent whose window has passed, with an active child.
  auto q = stored("q", alert_type::parent, alert_status::active, {}, t0 - 1min);
  q.child_count = 1;
  auto c3 = stored("c3", alert_type::child, alert_status::active, "q");
  // Resolved parents are not open work.
  auto r =
      stored("r", alert_type::parent, alert_status::resolved, {}, t0 + window);
  std::vector<alert> alerts{c1, c2, c3, p, q, r}; // children first on purpose
  auto g = restore_group("m1", true, "db", alerts);
  CHECK(g.event_manager_id == "m1");
  CHECK(g.has_value);
  CHECK(g.grouping_value == "db");
  CHECK(keys_of(g) == std::set<std::string>{"p", "c1", "q", "c3"});
  CHECK(g.active.at("p")->event_count == 4);
  REQUIRE(g.links.size() == 2);
  CHECK(children_of(g, "p") == std::unordered_set<std::string>{"c1", "c2"});
  CHECK(g.links.at("p").active_children == 1);
  CHECK(children_of(g, "q") == std::unordered_set<std::string>{"c3"});
  CHECK(g.links.at("q").active_children == 1);
  CHECK(g.open_parent == "p");
  CHECK(g.window_ends_at == t0 + window);

  decision d;
  SECTION("a later trigger joins the restored parent") {
    g.child_notices = true;
    argus::domain::apply(g, trigger("c4"), true, t0 + 2min, d);
    REQUIRE(d.writes.size() == 2);
    CHECK(d.writes[0].snapshot->parent_dedup_key == "p");
    CHECK(d.writes[1].snapshot->child_count == 3);
    REQUIRE(d.notify.size() == 1);
    CHECK(d.notify[0].kind == notification_kind::child_added);
    CHECK(d.notify[0].child->dedup_key == "c4");
  }
  SECTION("a returning resolved child is not counted twice") {
    argus::domain::apply(g, trigger("c2"), true, t0 + 2min, d);
    REQUIRE(d.writes.size() == 2);
    CHECK(d.writes[0].snapshot->parent_dedup_key == "p");
    CHECK(d.writes[1].snapshot->child_count == 2);
    CHECK(g.links.at("p").active_children == 2);
  }
  SECTION("the restored parent resolves with its last child") {
    argus::domain::apply(g, resolve("p"), false, t0 + 2min, d);
    CHECK(g.active.at("p")->resolve_requested);
    argus::domain::apply(g, resolve("c1"), false, t0 + 3min, d);
    CHECK(d.deactivated == std::vector<std::string>{"c1", "p"});
    REQUIRE(d.notify.size() == 1);
    CHECK(d.notify[0].kind == notification_kind::parent_resolved);
    CHECK(g.open_parent.empty());
  }
  SECTION("the restored window ends on time") {
    argus::domain::apply(g, trigger("c4"), true, t0 + window - 1ns, d);
    CHECK(d.writes[0].snapshot->parent_dedup_key == "p");
    argus::domain::apply(g, trigger("n"), true, t0 + window, d);
    CHECK(d.writes[0].snapshot->type == alert_type::parent);
    CHECK(g.open_parent == "n");
  }
}

TEST_CASE("restore_group picks the latest open window", "[unit]") {
  using argus::domain::restore_group;
  auto a = stored("a", alert_type::parent, alert_status::active, {}, t0 + 5min);
  auto b = stored("b", alert_type::parent, alert_status::active, {}, t0 + 8min);
  auto c = stored("c", alert_type::parent, alert_status::active, {}, t0 + 2min);
  auto g = restore_group("m1", true, "db", {a, b, c});
  CHECK(g.open_parent == "b");
  CHECK(g.window_ends_at == t0 + 8min);

  SECTION("a window that ended before the restart still takes what was "
          "accepted before its end") {
    // The restart came at t0 + 6min; a replayed trigger was accepted at
    // t0 + 4min, inside "a"'s window.
    auto g2 = restore_group("m1", true, "db", {a});
    CHECK(g2.open_parent == "a");
    CHECK(keys_of(g2) == std::set<std::string>{"a"});
    decision d;
    argus::domain::apply(g2, trigger("c"), true, t0 + 4min, d);
    CHECK(d.writes[0].snapshot->parent_dedup_key == "a");
    argus::domain::apply(g2, trigger("n"), true, t0 + 6min, d);
    CHECK(d.writes[0].snapshot->type == alert_type::parent);
  }
  SECTION("groups without a value never have a window") {
    auto x = a;
    x.has_grouping_value = false;
    auto g3 = restore_group("m1", false, "", {x});
    CHECK(g3.open_parent.empty());
    CHECK(keys_of(g3) == std::set<std::string>{"a"});
  }
  SECTION("nothing active means nothing to restore") {
    auto r = stored("r", alert_type::parent, alert_status::resolved, {},
                    t0 + window);
    auto g4 = restore_group("m1", true, "db", {r});
    CHECK(argus::domain::is_idle(g4));
    CHECK(g4.links.empty());
    CHECK(g4.open_parent.empty());
  }
}

TEST_CASE("a restart does not change how a reopened parent counts children",
          "[unit]") {
  // Live: "p" gathers "c", both resolve, "p" fires again (a new life with a
  // new window and child_count 0) and then "c" fires again and joins it.
  lifecycle live;
  auto store = argus::storage::make_memory_store();
  auto step = [&](time_point now, const event& e) {
    live.at(now, e);
    REQUIRE_FALSE(store->write(live.d.writes));
  };
  step(t0, trigger("p"));
  step(t0 + 1min, trigger("c"));
  step(t0 + 2min, resolve("c"));
  step(t0 + 3min, resolve("p"));
  step(t0 + 4min, trigger("p"));
  REQUIRE(live.g.open_parent == "p");
  REQUIRE(live.g.active.at("p")->child_count == 0);
  // Restarted at this point: the group comes back from the store's open work.
  auto work = store->open_work();
  REQUIRE(work);
  auto restored = argus::domain::restore_group("m1", true, "db", *work);
  REQUIRE(restored.open_parent == "p");
  REQUIRE(restored.active.at("p")->child_count == 0);
  // The same event must have the same effect with or without the restart.
  decision d;
  live.at(t0 + 5min, trigger("c"));
  argus::domain::apply(restored, trigger("c"), true, t0 + 5min, d);
  REQUIRE(live.d.writes.size() == 2);
  REQUIRE(d.writes.size() == 2);
  CHECK(live.d.writes[1].snapshot->child_count == 1);
  CHECK(d.writes[1].snapshot->child_count ==
        live.d.writes[1].snapshot->child_count);
  CHECK(children_of(restored, "p") == children_of(live.g, "p"));
}

namespace {

/// A trigger that ends by itself at `ends` unless sent again.
event expiring(const std::string& key, time_point ends) {
  auto e = trigger(key);
  e.expires_at = ends;
  return e;
}

} // namespace

TEST_CASE_METHOD(lifecycle, "a trigger whose end passes resolves then",
                 "[unit][expiry]") {
  at(t0, expiring("p", t0 + 4min));
  at(t0 + 1min, expiring("c", t0 + 2min));
  CHECK(argus::domain::next_expiry(g) == t0 + 2min);
  SECTION("nothing is due early") {
    CHECK_FALSE(argus::domain::expire(g, t0 + 2min - 1ms, d));
    CHECK(d.writes.empty());
  }
  SECTION("the child ends first, then the parent, each at its end") {
    REQUIRE(argus::domain::expire(g, t0 + 3min, d));
    REQUIRE(d.writes.size() == 1);
    auto& child = *d.writes[0].snapshot;
    CHECK(child.dedup_key == "c");
    CHECK(child.status == alert_status::resolved);
    CHECK(child.resolved_at == t0 + 2min);
    // An end is not an event.
    CHECK(d.writes[0].event_count_delta == 0);
    CHECK(d.deactivated == std::vector<std::string>{"c"});
    CHECK(argus::domain::next_expiry(g) == t0 + 4min);
    REQUIRE(argus::domain::expire(g, t0 + 5min, d));
    REQUIRE(d.notify.size() == 1);
    CHECK(d.notify[0].kind == notification_kind::parent_resolved);
    CHECK(d.notify[0].parent->resolved_at == t0 + 4min);
    CHECK(argus::domain::is_idle(g));
    CHECK(argus::domain::next_expiry(g) == no_time);
  }
  SECTION("a parent that ends first waits for its child") {
    at(t0 + 1min, expiring("p", t0 + 90s));
    REQUIRE(argus::domain::expire(g, t0 + 100s, d));
    CHECK(active("p").resolve_requested);
    CHECK(argus::domain::next_expiry(g) == t0 + 2min);
    REQUIRE(argus::domain::expire(g, t0 + 2min, d));
    REQUIRE(d.writes.size() == 2);
    REQUIRE(d.notify.size() == 1);
    CHECK(d.notify[0].parent->resolved_at == t0 + 2min);
  }
  SECTION("a re-send moves the end") {
    at(t0 + 110s, expiring("c", t0 + 10min));
    CHECK_FALSE(argus::domain::expire(g, t0 + 3min, d));
    CHECK(argus::domain::next_expiry(g) == t0 + 4min);
  }
  SECTION("a trigger without an end clears it") {
    at(t0 + 110s, trigger("c"));
    at(t0 + 110s, trigger("p"));
    CHECK_FALSE(argus::domain::expire(g, t0 + 1h, d));
    CHECK(argus::domain::next_expiry(g) == no_time);
  }
  SECTION("events apply ends that passed first, timer or not") {
    // The child's end passed; its re-send after that opens it afresh.
    at(t0 + 3min, expiring("c", t0 + 5min), false);
    REQUIRE(d.writes.size() == 3);
    CHECK(d.writes[0].snapshot->status == alert_status::resolved);
    CHECK(d.writes[0].snapshot->resolved_at == t0 + 2min);
    CHECK(d.writes[1].snapshot->status == alert_status::active);
    CHECK(d.writes[1].snapshot->type == alert_type::child);
    CHECK(d.writes[2].snapshot->dedup_key == "p");
    CHECK(d.writes[2].snapshot->child_count == 1);
    CHECK(d.reactivated);
    CHECK(d.deactivated == std::vector<std::string>{"c"});
    SECTION("and a resolve after the end is ignored") {
      at(t0 + 6min, resolve("c"), false);
      CHECK(d.ignored);
    }
  }
}

TEST_CASE("a notification's id is a function of the change that caused it",
          "[unit]") {
  auto opened = [](uint64_t seq, time_point at) {
    group_state g;
    g.event_manager_id = "m1";
    g.has_value = true;
    g.grouping_value = "db";
    auto e = trigger("p");
    e.seq = seq;
    decision d;
    argus::domain::apply(g, e, true, at, d);
    REQUIRE(d.notify.size() == 1);
    return d.notify[0].id;
  };
  // A replay of journaled event 7 names its notification as the first run
  // did, so the outbox stores it once.
  CHECK(opened(7, t0) == opened(7, t0));
  CHECK(opened(7, t0) != opened(8, t0));
  CHECK(opened(7, t0) != opened(7, t0 + 1s));
  // Without a journal position, two made at the same instant differ.
  group_state g;
  g.event_manager_id = "m1";
  g.has_value = true;
  g.grouping_value = "db";
  decision d;
  argus::domain::apply(g, trigger("p"), true, t0, d);
  auto first = d.notify.at(0).id;
  argus::domain::apply(g, resolve("p"), false, t0, d);
  argus::domain::apply(g, trigger("p"), false, t0, d);
  CHECK(d.notify.at(0).id != first);
}

TEST_CASE_METHOD(lifecycle,
                 "a child joining makes no notification unless a receiver "
                 "asks for child_added",
                 "[unit]") {
  at(t0, trigger("p"));
  at(t0 + 5min, trigger("c1"));
  CHECK(d.notify.empty());
  REQUIRE(d.writes.size() == 2);
}

TEST_CASE("taking an event's texts decides as copying them does",
          "[unit][grouping]") {
  // The grouping actor hands its events over (apply_taking_texts); tests
  // and replays may keep theirs (apply). Both must make the same alerts.
  auto t0 = time_point{} + std::chrono::hours{1000};
  auto copying = group_of();
  auto taking = group_of();
  decision by_copy;
  decision by_taking;
  std::vector<event> events;
  events.push_back(trigger("p"));
  events.push_back(trigger("c"));
  auto again = trigger("c");
  again.summary = "the disk is full again";
  again.details = R"({"host":"h2","mount":"/var"})";
  events.push_back(again);
  events.push_back(trigger("elsewhere", "web")); // goes back to the router
  events.push_back(resolve("c"));
  for (size_t i = 0; i < events.size(); ++i) {
    auto now = t0 + std::chrono::seconds{i};
    auto spent = events[i];
    argus::domain::apply(copying, events[i], true, now, by_copy);
    argus::domain::apply_taking_texts(taking, spent, true, now, by_taking);
    CHECK(by_taking.reroute == by_copy.reroute);
    REQUIRE(by_taking.writes.size() == by_copy.writes.size());
    for (size_t w = 0; w < by_copy.writes.size(); ++w)
      CHECK(caf::deep_to_string(*by_taking.writes[w].snapshot) ==
            caf::deep_to_string(*by_copy.writes[w].snapshot));
    // What the owner reads after applying stays: keys, times and numbers.
    CHECK(spent.dedup_key == events[i].dedup_key);
    CHECK(spent.event_manager_id == events[i].event_manager_id);
    CHECK(spent.seq == events[i].seq);
  }
  CHECK(taking.active.at("p")->summary == "summary of p");
  CHECK(taking.active.at("p")->details == R"({"host":"h1"})");
  CHECK(taking.active.at("p")->grouping_value == "db");
  CHECK(keys_of(taking) == keys_of(copying));
  // A rerouted trigger keeps its texts: it goes back whole.
  auto rerouted = trigger("p", "web");
  argus::domain::apply_taking_texts(taking, rerouted, true, t0, by_taking);
  CHECK_FALSE(by_taking.reroute); // "p" is active here: a re-trigger
  auto stranger = trigger("stranger", "web");
  argus::domain::apply_taking_texts(taking, stranger, true, t0, by_taking);
  REQUIRE(by_taking.reroute);
  CHECK(stranger.summary == "summary of stranger");
  CHECK(stranger.grouping_value == "web");
}

TEST_CASE_METHOD(lifecycle,
                 "events carrying their router's dedupKey hash find their "
                 "alerts as events without it do",
                 "[unit]") {
  // The router hashes each dedupKey once and the group's set of alerts
  // looks the key up by that hash (issue 15).
  auto hashed = [](event e) {
    e.dedup_hash = argus::domain::text_hash(e.dedup_key);
    return e;
  };
  at(t0, hashed(trigger("p")));
  at(t0 + 1s, hashed(trigger("c")));
  CHECK(active("c").parent_dedup_key == "p");
  at(t0 + 2s, hashed(trigger("c")), false);
  CHECK(active("c").event_count == 2);
  at(t0 + 3s, trigger("c"), false); // and one without: the same alert
  CHECK(active("c").event_count == 3);
  at(t0 + 4s, hashed(resolve("p")));
  CHECK(active("p").resolve_requested);
  at(t0 + 5s, hashed(resolve("c")));
  CHECK(keys_of(g).empty());
  CHECK_FALSE(d.ignored);
  at(t0 + 6s, hashed(resolve("c")));
  CHECK(d.ignored); // resolved already: nothing found by its hash
}
