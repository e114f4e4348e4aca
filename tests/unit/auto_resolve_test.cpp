// Auto-resolve (issue 13): an alert with no new trigger for the limit in
// force when its last trigger was accepted resolves by itself, through the
// parent/child rules, with `resolved_by` "auto"; decided from event times so
// a replay decides alike. Also where the limit comes from (admission) and
// its validation.

#include "domain/admission.hpp"
#include "domain/catalog.hpp"
#include "domain/error.hpp"
#include "domain/grouping.hpp"
#include "support/grouping_events.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <optional>
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
using argus::domain::resolution;
using argus::domain::severity;
using argus::domain::time_point;

const time_point t0 = from_millis(1'700'000'000'000);

/// A trigger of group "db" whose alert resolves after `after` without a
/// new trigger (0: never).
event trigger(const std::string& key, duration after = 5min) {
  auto e = argus::test::trigger(key);
  e.auto_resolve_after = after;
  return e;
}

using argus::test::group_of;
using argus::test::resolve;

/// One group and one reused decision, as the grouping actor keeps them,
/// plus the rows the writes leave in a store.
struct lifecycle {
  group_state g = group_of();
  decision d;
  std::map<std::string, alert> stored;

  void keep_writes() {
    for (auto& w : d.writes) {
      auto [it, added] =
          stored.try_emplace(w.snapshot->dedup_key.str(), *w.snapshot);
      if (!added)
        argus::domain::merge_into(it->second, w);
      else
        it->second.event_count = w.event_count_delta;
    }
  }

  const decision& at(time_point now, const event& e, bool fresh = true) {
    argus::domain::apply(g, e, fresh, now, d);
    CHECK(argus::test::writes_match_group(g, d));
    keep_writes();
    return d;
  }

  bool lapse(time_point now) {
    auto any = argus::domain::expire(g, now, d);
    keep_writes();
    return any;
  }

  const alert& active(const std::string& key) {
    auto* found = g.active.find(key);
    REQUIRE(found != nullptr);
    return **found;
  }
};

} // namespace

TEST_CASE_METHOD(
    lifecycle,
    "auto-resolve: an alert without a new trigger resolves by itself",
    "[unit][auto_resolve]") {
  at(t0, trigger("p"));
  CHECK(active("p").auto_resolve_at == t0 + 5min);
  CHECK(active("p").resolved_by == resolution::none);
  CHECK(argus::domain::next_expiry(g) == t0 + 5min);
  CHECK_FALSE(lapse(t0 + 5min - 1ms));
  REQUIRE(lapse(t0 + 5min + 20ms));
  REQUIRE(d.writes.size() == 1);
  auto& p = *d.writes[0].snapshot;
  CHECK(p.status == alert_status::resolved);
  CHECK(p.resolved_by == resolution::automatic);
  // At its deadline, not when the timer happened to fire.
  CHECK(p.resolved_at == t0 + 5min);
  // A deadline is not an event.
  CHECK(d.writes[0].event_count_delta == 0);
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].kind == notification_kind::parent_resolved);
  CHECK(d.notify[0].parent->resolved_by == resolution::automatic);
  CHECK(argus::domain::is_idle(g));
  CHECK(argus::domain::next_expiry(g) == no_time);
}

TEST_CASE_METHOD(lifecycle, "auto-resolve: a limit of 0 turns it off",
                 "[unit][auto_resolve]") {
  at(t0, trigger("p", 0s));
  CHECK(active("p").auto_resolve_at == no_time);
  CHECK(argus::domain::next_expiry(g) == no_time);
  CHECK_FALSE(lapse(t0 + 24h * 400));
}

TEST_CASE_METHOD(lifecycle,
                 "auto-resolve: a re-trigger pushes the auto-resolve out",
                 "[unit][auto_resolve]") {
  at(t0, trigger("p"));
  at(t0 + 4min, trigger("p"));
  CHECK(active("p").auto_resolve_at == t0 + 9min);
  CHECK_FALSE(lapse(t0 + 6min));
  CHECK(argus::domain::next_expiry(g) == t0 + 9min);
  SECTION("the limit of the latest trigger counts") {
    at(t0 + 5min, trigger("p", 1min));
    CHECK(active("p").auto_resolve_at == t0 + 6min);
    at(t0 + 5min + 30s, trigger("p", 0s));
    CHECK(active("p").auto_resolve_at == no_time);
    CHECK_FALSE(lapse(t0 + 1h));
  }
  SECTION("a resolve event says so") {
    at(t0 + 5min, resolve("p"));
    REQUIRE(d.writes.size() == 1);
    CHECK(d.writes[0].snapshot->resolved_by == resolution::event);
    CHECK(d.writes[0].snapshot->resolved_at == t0 + 5min);
  }
}

TEST_CASE_METHOD(lifecycle, "auto-resolve: a child auto-resolves alone",
                 "[unit][auto_resolve]") {
  at(t0, trigger("p", 10min));
  at(t0 + 1min, trigger("c", 2min));
  REQUIRE(active("c").type == alert_type::child);
  CHECK(argus::domain::next_expiry(g) == t0 + 3min);
  REQUIRE(lapse(t0 + 3min));
  REQUIRE(d.writes.size() == 1);
  CHECK(d.writes[0].snapshot->dedup_key == "c");
  CHECK(d.writes[0].snapshot->resolved_by == resolution::automatic);
  CHECK(d.deactivated == std::vector<std::string>{"c"});
  CHECK(d.notify.empty());
  CHECK(g.links.at("p").active_children == 0);
  CHECK(active("p").status == alert_status::active);
  SECTION("the parent follows at its own deadline, at once") {
    REQUIRE(lapse(t0 + 10min));
    REQUIRE(d.notify.size() == 1);
    CHECK(d.notify[0].parent->resolved_by == resolution::automatic);
    CHECK(d.notify[0].parent->resolved_at == t0 + 10min);
  }
}

TEST_CASE_METHOD(lifecycle,
                 "auto-resolve: a parent with active children waits for them",
                 "[unit][auto_resolve]") {
  at(t0, trigger("p", 2min));
  at(t0 + 1min, trigger("c1", 5min));
  at(t0 + 1min, trigger("c2", 5min));
  REQUIRE(lapse(t0 + 2min));
  auto& p = active("p");
  CHECK(p.resolve_requested);
  // Why it was asked to resolve, kept until it does.
  CHECK(p.resolved_by == resolution::automatic);
  CHECK(p.auto_resolve_at == no_time);
  CHECK(d.notify.empty());
  CHECK(stored.at("p").resolve_requested);
  SECTION("the last child's auto-resolve resolves the parent") {
    at(t0 + 3min, trigger("c2", 5min));
    REQUIRE(lapse(t0 + 6min));
    CHECK(d.deactivated == std::vector<std::string>{"c1"});
    CHECK(active("p").resolve_requested);
    REQUIRE(lapse(t0 + 8min));
    REQUIRE(d.notify.size() == 1);
    CHECK(d.notify[0].kind == notification_kind::parent_resolved);
    CHECK(d.notify[0].parent->resolved_by == resolution::automatic);
    CHECK(d.notify[0].parent->resolved_at == t0 + 8min);
    CHECK(stored.at("c2").resolved_by == resolution::automatic);
    CHECK(stored.at("p").status == alert_status::resolved);
    CHECK(argus::domain::is_idle(g));
  }
  SECTION("children resolved by events still resolve it as auto") {
    at(t0 + 3min, resolve("c1"));
    at(t0 + 4min, resolve("c2"));
    REQUIRE(d.notify.size() == 1);
    CHECK(d.notify[0].parent->resolved_by == resolution::automatic);
    CHECK(stored.at("c2").resolved_by == resolution::event);
  }
  SECTION("a re-trigger of the parent withdraws the request") {
    at(t0 + 3min, trigger("p", 2min));
    CHECK_FALSE(active("p").resolve_requested);
    CHECK(active("p").resolved_by == resolution::none);
    CHECK(active("p").auto_resolve_at == t0 + 5min);
  }
}

TEST_CASE_METHOD(lifecycle,
                 "auto-resolve: a parent resolved by event, children by auto",
                 "[unit][auto_resolve]") {
  at(t0, trigger("p", 0s));
  at(t0 + 1min, trigger("c", 2min));
  at(t0 + 2min, resolve("p"));
  CHECK(active("p").resolved_by == resolution::event);
  REQUIRE(lapse(t0 + 3min));
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].parent->resolved_by == resolution::event);
  CHECK(stored.at("c").resolved_by == resolution::automatic);
}

TEST_CASE_METHOD(lifecycle,
                 "auto-resolve: the earlier of end and auto-resolve counts",
                 "[unit][auto_resolve]") {
  auto e = trigger("p", 5min);
  SECTION("the sender's end first") {
    e.expires_at = t0 + 2min;
    at(t0, e);
    REQUIRE(lapse(t0 + 10min));
    CHECK(d.writes[0].snapshot->resolved_by == resolution::expired);
    CHECK(d.writes[0].snapshot->resolved_at == t0 + 2min);
  }
  SECTION("auto-resolve first") {
    e.expires_at = t0 + 7min;
    at(t0, e);
    CHECK(argus::domain::next_expiry(g) == t0 + 5min);
    REQUIRE(lapse(t0 + 10min));
    CHECK(d.writes[0].snapshot->resolved_by == resolution::automatic);
    CHECK(d.writes[0].snapshot->resolved_at == t0 + 5min);
  }
  SECTION("a tie goes to the sender's end") {
    e.expires_at = t0 + 5min;
    at(t0, e);
    REQUIRE(lapse(t0 + 5min));
    CHECK(d.writes[0].snapshot->resolved_by == resolution::expired);
  }
}

TEST_CASE("auto-resolve: a replay without timers decides as the live run did",
          "[unit][auto_resolve]") {
  // The live run: timers fire (late) between events. The replay after a
  // crash: the same events, no timers at all.
  std::vector<std::pair<time_point, event>> events = {
      {t0, trigger("p", 2min)},         {t0 + 1min, trigger("c1", 3min)},
      {t0 + 90s, trigger("c2", 1min)},  {t0 + 2min, trigger("c1", 3min)},
      {t0 + 6min, trigger("c2", 1min)}, {t0 + 9min, trigger("p", 2min)},
  };
  lifecycle live;
  lifecycle replay;
  std::vector<time_point> timers = {t0 + 2min + 40ms, t0 + 3min,
                                    t0 + 5min + 300ms, t0 + 8min};
  size_t next_timer = 0;
  for (auto& [now, e] : events) {
    while (next_timer < timers.size() && timers[next_timer] < now)
      live.lapse(timers[next_timer++]);
    live.at(now, e, !live.g.active.count(e.dedup_key));
    replay.at(now, e, !replay.g.active.count(e.dedup_key));
  }
  live.lapse(t0 + 1h);
  replay.lapse(t0 + 1h);
  REQUIRE(live.stored.size() == replay.stored.size());
  for (auto& [key, a] : live.stored) {
    INFO(key);
    auto& b = replay.stored.at(key);
    CHECK(a.status == b.status);
    CHECK(a.type == b.type);
    CHECK(a.parent_dedup_key == b.parent_dedup_key);
    CHECK(a.resolved_at == b.resolved_at);
    CHECK(a.resolved_by == b.resolved_by);
    CHECK(a.event_count == b.event_count);
    CHECK(a.resolve_requested == b.resolve_requested);
  }
  // The story itself: p asked at 2min and waited; c1 (re-triggered at 2min)
  // ended at 5min, c2 at 2min30s, so p resolved at 5min; its trigger at
  // 9min opened a new life that auto-resolved at 11min.
  CHECK(live.stored.at("c2").resolved_by == resolution::automatic);
  CHECK(live.stored.at("p").resolved_at == t0 + 11min);
  CHECK(live.stored.at("p").resolved_by == resolution::automatic);
  CHECK(live.stored.at("p").event_count == 2);
}

TEST_CASE("auto-resolve: deadlines survive a restore", "[unit][auto_resolve]") {
  lifecycle live;
  live.at(t0, trigger("p", 4min));
  live.at(t0 + 1min, trigger("c", 2min));
  std::vector<alert> rows;
  for (auto& [key, a] : live.stored)
    rows.push_back(a);
  auto g = argus::domain::restore_group("m1", true, "db", rows);
  CHECK(argus::domain::next_expiry(g) == t0 + 3min);
  decision d;
  REQUIRE(argus::domain::expire(g, t0 + 4min, d));
  REQUIRE(d.writes.size() == 2);
  CHECK(d.writes[0].snapshot->dedup_key == "c");
  CHECK(d.writes[0].snapshot->resolved_by == resolution::automatic);
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].parent->resolved_by == resolution::automatic);
  CHECK(d.notify[0].parent->resolved_at == t0 + 4min);
}

TEST_CASE("auto-resolve: admission stamps the limit in force: the manager's, "
          "else the "
          "rule's",
          "[unit][auto_resolve]") {
  argus::domain::catalog c;
  argus::domain::grouping_rule rule;
  rule.id = "r";
  rule.name = "by host";
  rule.grouping_key = "host";
  rule.time_window_seconds = 300;
  rule.auto_resolve_after_seconds = 600;
  c.rules["r"] = rule;
  argus::domain::event_manager m;
  m.id = "m";
  m.name = "M";
  m.grouping_rule_id = "r";
  c.managers["m"] = m;
  event e;
  e.event_manager_id = "m";
  e.dedup_key = "k";
  e.summary = "s";
  auto no_fields = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  auto admitted = argus::domain::admit(e, c, no_fields, t0);
  REQUIRE(admitted);
  CHECK(admitted->auto_resolve_after == 600s);
  c.managers["m"].auto_resolve_after_seconds = 30;
  admitted = argus::domain::admit(e, c, no_fields, t0);
  REQUIRE(admitted);
  CHECK(admitted->auto_resolve_after == 30s);
  c.rules["r"].auto_resolve_after_seconds = 0;
  c.managers["m"].auto_resolve_after_seconds = 0;
  admitted = argus::domain::admit(e, c, no_fields, t0);
  REQUIRE(admitted);
  CHECK(admitted->auto_resolve_after == 0s);
}

TEST_CASE("auto-resolve: auto_resolve_after is validated on rules and managers",
          "[unit][auto_resolve]") {
  argus::domain::grouping_rule rule;
  rule.name = "r";
  rule.grouping_key = "host";
  rule.time_window_seconds = 60;
  argus::domain::event_manager m;
  m.id = "m";
  m.name = "M";
  m.grouping_rule_id = "r";
  for (int64_t ok : {int64_t{0}, int64_t{1}, int64_t{366} * 24 * 3600}) {
    rule.auto_resolve_after_seconds = ok;
    m.auto_resolve_after_seconds = ok;
    CHECK_FALSE(argus::domain::validate(rule));
    CHECK_FALSE(argus::domain::validate(m));
  }
  for (int64_t bad : {int64_t{-1}, int64_t{366} * 24 * 3600 + 1}) {
    rule.auto_resolve_after_seconds = bad;
    m.auto_resolve_after_seconds = bad;
    auto err = argus::domain::validate(rule);
    REQUIRE(err);
    CHECK(argus::code_of(err) == argus::ec::validation_failed);
    CHECK_THAT(argus::message_of(err),
               Catch::Contains("'auto_resolve_after' must be 0"));
    CHECK(argus::domain::validate(m));
  }
}
