// The alert lifecycle through the actors: router -> grouping actors ->
// repository and notifier, on the deterministic scheduler with a manual
// clock. Every check reads back through the repository or the notifier.

#include "fixture.hpp"

#include "actors/grouping.hpp"

#include <algorithm>
#include <set>

namespace {

using namespace std::chrono_literals;

using argus::atom::drain;
using argus::atom::ok;
using argus::atom::restore;
/// No replay guard: these restarts have no journal.
const std::vector<argus::domain::alert> no_alerts;
using argus::domain::alert_status;
using argus::domain::alert_type;
using argus::domain::no_time;
using argus::domain::notification_kind;
using fixture = argus::test::actor_fixture;
using argus::test::keys_of;

std::set<std::string> key_set(const std::vector<argus::domain::alert>& xs) {
  auto keys = keys_of(xs);
  return {keys.begin(), keys.end()};
}

/// "Restarts" the node: the router and its groups go away, and a new
/// router restores the open work the store holds.
void restart_and_restore(fixture& f) {
  caf::anon_send_exit(f.router, caf::exit_reason::user_shutdown);
  f.sched->run();
  f.flush();
  auto work = f.store->open_work();
  REQUIRE(work);
  f.router = f.spawn_router();
  f.sched->run();
  CHECK(f.ask<ok>(f.router, restore::value, *work, no_alerts) == ok::value);
}

} // namespace

TEST_CASE_METHOD(fixture, "two triggers of one value form a parent and a child",
                 "[actors]") {
  auto t0 = now();
  apply(trigger("p"));
  advance(1min);
  apply(trigger("c"));
  auto p = alert_of("p");
  CHECK(p.id == argus::domain::alert_id_for("m1", "p"));
  CHECK(p.type == alert_type::parent);
  CHECK(p.status == alert_status::active);
  CHECK(p.child_count == 1);
  CHECK(p.event_count == 1);
  CHECK(p.created_at == t0);
  CHECK(p.updated_at == t0 + 1min);
  CHECK(p.window_ends_at == t0 + 10min);
  auto c = alert_of("c");
  CHECK(c.type == alert_type::child);
  CHECK(c.parent_dedup_key == "p");
  CHECK(c.status == alert_status::active);
  CHECK(c.created_at == t0 + 1min);
  CHECK(keys_of(children_of("p")) == std::vector<std::string>{"c"});
  CHECK(keys_of(list()) == std::vector<std::string>{"c", "p"}); // newest first
  auto ns = notifications();
  REQUIRE(ns.size() == 1);
  CHECK(ns[0].kind == notification_kind::parent_opened);
  CHECK(ns[0].parent->dedup_key == "p");
  CHECK(ns[0].seq == 1);
  CHECK(ns[0].at == t0);
  CHECK(groups() == 1);
  CHECK(ctx->stats->events_applied == 2);
  CHECK(ctx->stats->groups_live == 1);
  CHECK(counts() == std::pair<int64_t, int64_t>{2, 0});
}

TEST_CASE_METHOD(fixture,
                 "a group's key texts are one block each, from the router to "
                 "its alerts",
                 "[actors]") {
  apply(trigger("p", "db", "m1"));
  apply(trigger("c", "db", "m1"));
  apply(trigger("q", "web", "m1"));
  auto& routed = routed_group("db");
  auto& st = group_state_of(group_actor("db"));
  CHECK(st.key == routed.key);
  CHECK(st.key.value.shares_with(routed.key.value));
  CHECK(st.group.grouping_value.shares_with(routed.key.value));
  CHECK(st.group.event_manager_id.shares_with(routed.key.event_manager_id));
  REQUIRE(st.group.active.size() == 2);
  for (auto& a : st.group.active) {
    CHECK(a->grouping_value.shares_with(routed.key.value));
    CHECK(a->event_manager_id.shares_with(routed.key.event_manager_id));
  }
  // The next group of the same manager shares its manager's block too.
  auto& other = routed_group("web");
  CHECK(other.key.event_manager_id.shares_with(routed.key.event_manager_id));
  // At rest a group holds no outbox.
  CHECK(st.outbox == nullptr);
}

TEST_CASE_METHOD(fixture,
                 "the router's index keeps its own copy of each dedupKey",
                 "[actors]") {
  // Deliberate: a block shared with the alert has its count touched by the
  // router's thread and the group's, which cost 3-7% more CPU per event.
  auto index_key = [&](const std::string& dedup) {
    auto* entry =
        state_of<argus::actors::router_state>(router).active.find("m1", dedup);
    REQUIRE(entry != nullptr);
    return entry->key;
  };
  auto group_alert = [&](const std::string& dedup) {
    auto* a = group_state_of(group_actor("db")).group.active.find(dedup);
    REQUIRE(a != nullptr);
    return *a;
  };
  apply(trigger("p"));
  apply(trigger("c"));
  for (auto dedup : {"p", "c"}) {
    CHECK(index_key(dedup) == dedup);
    CHECK_FALSE(group_alert(dedup)->dedup_key.shares_with(index_key(dedup)));
  }
  SECTION("also when a restore rebuilds the index from the alerts") {
    restart_and_restore(*this);
    for (auto dedup : {"p", "c"}) {
      CHECK(index_key(dedup) == dedup);
      CHECK_FALSE(group_alert(dedup)->dedup_key.shares_with(index_key(dedup)));
    }
  }
}

TEST_CASE_METHOD(fixture, "values and tenants never group together",
                 "[actors]") {
  apply(trigger("a", "db", "m1"));
  apply(trigger("b", "db", "m2"));
  apply(trigger("c", "web", "m1"));
  apply(trigger_without_value("d", "m1"));
  apply(trigger_without_value("e", "m1"));
  for (auto& [key, manager] : std::vector<std::pair<std::string, std::string>>{
           {"a", "m1"}, {"b", "m2"}, {"c", "m1"}, {"d", "m1"}, {"e", "m1"}}) {
    INFO(manager << "/" << key);
    auto x = alert_of(key, manager);
    CHECK(x.type == alert_type::parent);
    CHECK(x.child_count == 0);
  }
  CHECK(alert_of("d").window_ends_at == no_time);
  CHECK(notifications().size() == 5);
  // m1/db, m2/db, m1/web and m1 without a value.
  CHECK(groups() == 4);
}

TEST_CASE_METHOD(fixture, "events of one group are applied in arrival order",
                 "[actors]") {
  // All sent before anything runs: the router sees the resolve and the
  // re-trigger of "b" before the group told it "b" was resolved.
  send(trigger("a"));
  send(trigger("b"));
  send(trigger("c"));
  send(resolve("b"));
  send(trigger("b"));
  send(resolve("c"));
  sched->run();
  auto a = alert_of("a");
  CHECK(a.child_count == 2);
  CHECK(a.status == alert_status::active);
  auto b = alert_of("b");
  CHECK(b.status == alert_status::active);
  CHECK(b.type == alert_type::child);
  CHECK(b.parent_dedup_key == "a");
  CHECK(b.event_count == 3);
  CHECK(b.resolved_at == no_time);
  auto c = alert_of("c");
  CHECK(c.status == alert_status::resolved);
  CHECK(c.event_count == 2);
  CHECK(key_set(children_of("a")) == std::set<std::string>{"b", "c"});
  CHECK(ctx->stats->events_applied == 6);
  CHECK(groups() == 1);
  // The router's index followed: resolving "b" now reaches its group.
  apply(resolve("b"));
  CHECK(alert_of("b").status == alert_status::resolved);
  CHECK(counts() == std::pair<int64_t, int64_t>{1, 2});
}

TEST_CASE_METHOD(fixture, "the window's end closes the group", "[actors]") {
  auto t0 = now();
  apply(trigger("p"));
  advance(9min);
  apply(trigger("c1"));
  CHECK(alert_of("c1").type == alert_type::child);
  advance(1min); // the window ends at t0 + 10min
  // No timer of its own is pending: the window needs none.
  CHECK_FALSE(sched->has_pending_timeout());
  apply(trigger("q"));
  auto q = alert_of("q");
  CHECK(q.type == alert_type::parent);
  CHECK(q.parent_dedup_key.empty());
  CHECK(q.window_ends_at == t0 + 20min);
  CHECK(alert_of("p").child_count == 1);
  auto ns = notifications();
  REQUIRE(ns.size() == 2);
  CHECK(ns[0].parent->dedup_key == "q");
  CHECK(ns[0].kind == notification_kind::parent_opened);
  // "p" is still active, so both parents share the live group.
  CHECK(groups() == 1);
  // The new window takes the next trigger.
  advance(1min);
  apply(trigger("c2"));
  CHECK(alert_of("c2").parent_dedup_key == "q");
}

TEST_CASE_METHOD(fixture,
                 "a trigger accepted inside the window joins it however late "
                 "it is applied",
                 "[actors]") {
  // As after a restart that replays the journal, or under a queue: the
  // event was accepted at t0 + 9min and reaches its group after the
  // window's end on the wall clock. Decisions go by the acceptance time,
  // so it joins, as it did when first applied.
  auto t0 = now();
  apply(trigger("p"));
  auto late = trigger("c1");
  late.received_at = t0 + 9min;
  advance(11min);
  apply(late);
  CHECK(alert_of("c1").type == alert_type::child);
  CHECK(alert_of("c1").parent_dedup_key == "p");
  CHECK(alert_of("p").child_count == 1);
  // A trigger accepted after the window's end opens a new one.
  apply(trigger("q"));
  CHECK(alert_of("q").type == alert_type::parent);
}

TEST_CASE_METHOD(fixture, "a parent resolve waits for its children",
                 "[actors]") {
  apply(trigger("p"));
  advance(1min);
  apply(trigger("c1"));
  apply(trigger("c2"));
  advance(1min);
  apply(resolve("p"));
  auto p = alert_of("p");
  CHECK(p.status == alert_status::active);
  CHECK(p.resolve_requested);
  CHECK(p.event_count == 2);
  CHECK(p.resolved_at == no_time);
  CHECK(notifications().size() == 1);

  apply(resolve("c1"));
  CHECK(alert_of("c1").status == alert_status::resolved);
  CHECK(alert_of("p").status == alert_status::active);
  CHECK(notifications().size() == 1);

  advance(1min);
  apply(resolve("c2"));
  auto c2 = alert_of("c2");
  CHECK(c2.status == alert_status::resolved);
  CHECK(c2.resolved_at == now());
  p = alert_of("p");
  CHECK(p.status == alert_status::resolved);
  CHECK_FALSE(p.resolve_requested);
  CHECK(p.resolved_at == now());
  CHECK(p.child_count == 2);
  CHECK(p.event_count == 2);
  auto ns = notifications();
  REQUIRE(ns.size() == 2);
  CHECK(ns[0].kind == notification_kind::parent_resolved);
  CHECK(ns[0].parent->dedup_key == "p");
  CHECK(ns[0].seq == 2);
  CHECK(ns[1].kind == notification_kind::parent_opened);
  CHECK(ns[1].seq == 1);
  CHECK(counts() == std::pair<int64_t, int64_t>{0, 3});
  // Everything resolved: the group is gone even though the window was open.
  CHECK(groups() == 0);
  CHECK(ctx->stats->groups_live == 0);

  SECTION("a resolved parent closes its group inside the window") {
    apply(trigger("c3"));
    auto c3 = alert_of("c3");
    CHECK(c3.type == alert_type::parent);
    CHECK(notifications().size() == 3);
    CHECK(groups() == 1);
  }
}

TEST_CASE_METHOD(fixture, "a child resolves alone", "[actors]") {
  apply(trigger("p"));
  apply(trigger("c"));
  apply(resolve("c"));
  CHECK(alert_of("c").status == alert_status::resolved);
  CHECK(alert_of("c").event_count == 2);
  CHECK(alert_of("p").status == alert_status::active);
  CHECK(alert_of("p").child_count == 1);
  CHECK(notifications().size() == 1);
  CHECK(groups() == 1);
  CHECK(counts() == std::pair<int64_t, int64_t>{1, 1});
}

TEST_CASE_METHOD(fixture, "a resolve for an unknown key is ignored",
                 "[actors]") {
  apply(resolve("ghost"));
  CHECK(list().empty());
  CHECK(notifications().empty());
  CHECK(groups() == 0);
  CHECK(ctx->stats->events_ignored == 1);

  SECTION("also once the key was resolved") {
    apply(trigger("p"));
    apply(resolve("p"));
    apply(resolve("p"));
    CHECK(ctx->stats->events_ignored == 2);
    auto p = alert_of("p");
    CHECK(p.status == alert_status::resolved);
    CHECK(p.event_count == 2);
    CHECK(notifications().size() == 2);
    CHECK(groups() == 0);
  }
  SECTION("also for another manager's key") {
    apply(trigger("p", "db", "m1"));
    apply(resolve("p", "m2"));
    CHECK(ctx->stats->events_ignored == 2);
    CHECK(alert_of("p", "m1").status == alert_status::active);
    CHECK(alert_of("p", "m1").event_count == 1);
  }
}

TEST_CASE_METHOD(fixture, "idle groups are stopped", "[actors]") {
  apply(trigger("p"));
  apply(trigger_without_value("x"));
  CHECK(groups() == 2);
  advance(10min); // the window closes; "p" is still active
  CHECK(groups() == 2);
  apply(resolve("x"));
  CHECK(groups() == 1);
  apply(resolve("p"));
  CHECK(groups() == 0);
  CHECK(ctx->stats->groups_live == 0);
  CHECK(counts() == std::pair<int64_t, int64_t>{0, 2});
  // A stopped group's timer firing later harms nothing.
  advance(1h);
  apply(trigger("p"));
  CHECK(groups() == 1);
  CHECK(alert_of("p").status == alert_status::active);
}

TEST_CASE_METHOD(fixture,
                 "a group that ends unasked is forgotten and its keys route "
                 "afresh",
                 "[actors]") {
  apply(trigger("p"));
  apply(trigger("c"));
  auto first = group_actor("db");
  // Killed: no one told it to stop, so it tells the router it ended.
  caf::anon_send_exit(first, caf::exit_reason::kill);
  sched->run();
  CHECK(groups() == 0);
  CHECK(ctx->stats->groups_live == 0);
  // Its value opens a new group, and its dedupKeys reach that one.
  apply(trigger("n"));
  REQUIRE(groups() == 1);
  auto second = group_actor("db");
  CHECK(second != first);
  apply(trigger("p"));
  CHECK(group_state_of(second).group.active.count("p") == 1);
  // A report of an end from anyone but the group's own actor (an older
  // actor of the same key) leaves the group in place.
  (*self)->send(router, argus::atom::failed::value,
                argus::actors::group_key("m1", true, "db"),
                caf::make_error(caf::sec::runtime_error));
  sched->run();
  CHECK(groups() == 1);
  CHECK(ctx->stats->groups_live == 1);
}

TEST_CASE_METHOD(fixture, "a re-triggered resolved key is reactivated",
                 "[actors]") {
  auto t0 = now();
  apply(trigger("p"));
  apply(resolve("p"));
  auto before = alert_of("p");
  REQUIRE(before.status == alert_status::resolved);
  REQUIRE(groups() == 0);
  advance(1min);
  apply(trigger("p"));
  auto after = alert_of("p");
  CHECK(after.id == before.id);
  CHECK(after.status == alert_status::active);
  CHECK(after.resolved_at == no_time);
  CHECK(after.event_count == 3);
  CHECK(after.created_at == t0);
  CHECK(after.updated_at == t0 + 1min);
  CHECK(after.window_ends_at == t0 + 11min);
  CHECK(list().size() == 1);
  auto ns = notifications();
  REQUIRE(ns.size() == 3);
  CHECK(ns[0].kind == notification_kind::parent_opened);
  CHECK(groups() == 1);
  // Grouped afresh: it opened a new window.
  apply(trigger("c"));
  CHECK(alert_of("c").parent_dedup_key == "p");
}

TEST_CASE_METHOD(fixture, "a resolved child rejoins its open parent once",
                 "[actors]") {
  apply(trigger("p"));
  apply(trigger("c"));
  apply(resolve("c"));
  apply(trigger("c"));
  auto c = alert_of("c");
  CHECK(c.status == alert_status::active);
  CHECK(c.type == alert_type::child);
  CHECK(c.parent_dedup_key == "p");
  CHECK(c.event_count == 3);
  CHECK(alert_of("p").child_count == 1);
  CHECK(children_of("p").size() == 1);
}

TEST_CASE_METHOD(fixture,
                 "a resolved key returning with another value is "
                 "rerouted",
                 "[actors]") {
  // Sent at once: the router still maps "k" to the db group when the third
  // event arrives, so the group must send it back.
  send(trigger("k", "db"));
  send(resolve("k"));
  send(trigger("k", "web"));
  sched->run();
  auto k = alert_of("k");
  CHECK(k.status == alert_status::active);
  CHECK(k.grouping_value == "web");
  CHECK(k.type == alert_type::parent);
  CHECK(k.event_count == 3);
  CHECK(groups() == 1); // the db group went idle and was stopped
  apply(trigger("w", "web"));
  CHECK(alert_of("w").parent_dedup_key == "k");
  apply(trigger("d", "db"));
  CHECK(alert_of("d").type == alert_type::parent);
}

TEST_CASE_METHOD(fixture,
                 "a rerouted trigger keeps its place before later "
                 "events",
                 "[actors]") {
  apply(trigger("k", "db"));
  auto db = group_actor();
  auto first = trigger("k", "web");
  first.summary = "first";
  // The router still maps "k" to the db group: both go there, as two
  // messages (the router sends each burst as one).
  send(resolve("k"));
  CHECK(run_only(router) == 2); // the event and the router's flush
  send(first);
  CHECK(run_only(router) == 2);
  // The db group resolves "k" and tells the router, which forgets "k"...
  step(db);
  run_only(router);
  // ...before the group got to the re-trigger, which it must send back to
  // the router. Meanwhile a later event for "k" arrives at the router.
  SECTION("a later trigger") {
    auto second = trigger("k", "web");
    second.summary = "second";
    send(second);
    run_only(router);
    sched->run();
    // Arrival order at the router: resolve, first, second.
    auto k = alert_of("k");
    CHECK(k.status == alert_status::active);
    CHECK(k.grouping_value == "web");
    CHECK(k.event_count == 4);
    CHECK(k.summary == "second");
  }
  SECTION("a later resolve") {
    send(resolve("k"));
    run_only(router);
    sched->run();
    // Arrival order at the router: resolve, first, resolve.
    auto k = alert_of("k");
    CHECK(k.grouping_value == "web");
    CHECK(k.status == alert_status::resolved);
    CHECK(ctx->stats->events_ignored == 0);
  }
}

TEST_CASE_METHOD(fixture,
                 "a resolve right after a quick re-trigger is not "
                 "lost",
                 "[actors]") {
  // A flapping alert: trigger, resolve, trigger, resolve in quick order.
  apply(trigger("k"));
  auto g = group_actor();
  // Both go to the group that holds "k", as two messages (the router sends
  // each burst as one; each run here is the event and the router's flush).
  send(resolve("k"));
  CHECK(run_only(router) == 2);
  send(trigger("k"));
  CHECK(run_only(router) == 2);
  // The group applies the resolve and tells the router, which forgets "k";
  // the re-trigger is still queued at the group.
  step(g);
  run_only(router);
  // The last resolve reaches the router before the group re-activated "k".
  send(resolve("k"));
  run_only(router);
  sched->run();
  auto k = alert_of("k");
  CHECK(k.event_count == 4);
  CHECK(k.status == alert_status::resolved);
  CHECK(ctx->stats->events_ignored == 0);
}

TEST_CASE_METHOD(fixture, "restore rebuilds a group from persisted open work",
                 "[actors]") {
  auto t0 = now();
  apply(trigger("p"));
  advance(1min);
  apply(trigger("c1"));
  apply(trigger("c2"));
  apply(resolve("c2"));
  // "Restart": the old router and its groups go away; a new one restores.
  caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
  sched->run();
  flush();
  auto work = store->open_work();
  REQUIRE(work);
  CHECK(key_set(*work) == std::set<std::string>{"p", "c1", "c2"});
  router = spawn_router();
  sched->run();
  CHECK(groups() == 0);
  advance(1min);
  CHECK(ask<ok>(router, restore::value, *work, no_alerts) == ok::value);
  CHECK(groups() == 1);

  apply(trigger("c3"));
  auto c3 = alert_of("c3");
  CHECK(c3.type == alert_type::child);
  CHECK(c3.parent_dedup_key == "p");
  CHECK(alert_of("p").child_count == 3);
  // A returning resolved child is not counted twice.
  apply(trigger("c2"));
  CHECK(alert_of("c2").parent_dedup_key == "p");
  CHECK(alert_of("p").child_count == 3);
  // No new parent was opened.
  CHECK(notifications().size() == 1);

  SECTION("resolves reach the restored alerts") {
    apply(resolve("p"));
    CHECK(alert_of("p").resolve_requested);
    apply(resolve("c1"));
    apply(resolve("c2"));
    apply(resolve("c3"));
    CHECK(alert_of("p").status == alert_status::resolved);
    CHECK(groups() == 0);
  }
  SECTION("the restored window still closes on time") {
    advance(t0 + 10min - now());
    apply(trigger("q"));
    CHECK(alert_of("q").type == alert_type::parent);
    CHECK(notifications().size() == 2);
  }
}

TEST_CASE_METHOD(fixture, "restore skips groups with nothing open",
                 "[actors]") {
  apply(trigger("p"));
  apply(resolve("p"));
  flush();
  auto work = store->open_work();
  REQUIRE(work);
  CHECK(work->empty());
  CHECK(ask<ok>(router, restore::value, *work, no_alerts) == ok::value);
  CHECK(groups() == 0);
  // A resolved alert handed in anyway does not spawn a group either.
  CHECK(ask<ok>(router, restore::value,
                std::vector<argus::domain::alert>{alert_of("p")},
                no_alerts) == ok::value);
  CHECK(groups() == 0);
}

TEST_CASE_METHOD(fixture, "drain answers with and without live groups",
                 "[actors]") {
  CHECK(ask<ok>(router, drain::value) == ok::value);
  send(trigger("a", "db"));
  send(trigger("b", "web"));
  send(trigger("c", "db"));
  CHECK(ask<ok>(router, drain::value) == ok::value);
  CHECK(ctx->stats->events_applied == 3);
  CHECK(groups() == 2);
  CHECK(alert_of("c").parent_dedup_key == "a");
}

TEST_CASE_METHOD(fixture,
                 "a drain asks a bounded number of groups at once and "
                 "answers once it reached them all",
                 "[actors]") {
  const size_t n = argus::actors::drain_in_flight * 2 + 7;
  for (size_t i = 0; i < n; ++i)
    send(trigger("k" + std::to_string(i), "v" + std::to_string(i)));
  sched->run();
  REQUIRE(groups() == n);
  auto reply = (*self)->request(router, caf::infinite, drain::value);
  step(router);
  // Every job now ready is a group the drain asked; the rest wait their turn.
  CHECK(sched->jobs.size() == argus::actors::drain_in_flight);
  auto answered = [&] {
    bool ok_received = false;
    reply.receive([&](ok) { ok_received = true; },
                  [](caf::error& err) { FAIL(argus::message_of(err)); });
    return ok_received;
  };
  SECTION("all groups answer") {
    sched->run();
    CHECK(answered());
  }
  SECTION("groups that died before their turn count as drained") {
    // The drain asks groups in the map's order: the last ones wait.
    std::vector<argus::actors::grouping_actor> handles;
    for (auto& slot : state_of<argus::actors::router_state>(router).groups)
      handles.push_back(slot.value->handle);
    for (size_t i = handles.size() - 10; i < handles.size(); ++i)
      caf::anon_send_exit(handles[i], caf::exit_reason::kill);
    sched->run();
    CHECK(answered());
  }
}

namespace {

/// The same events given to two nodes: once as one burst (one router
/// flush, one group batch, one repository write), once one at a time.
struct burst_and_steps {
  fixture burst;
  fixture steps;

  template <class MakeEvents>
  explicit burst_and_steps(MakeEvents make_events) {
    for (auto& e : make_events(burst))
      burst.send(e);
    burst.sched->run();
    for (auto& e : make_events(steps))
      steps.apply(e);
  }

  /// Checks that both stored the alert of `key` alike.
  void check_same(const std::string& key) {
    auto fields = [](const argus::domain::alert& a) {
      return std::make_tuple(a.id, a.status, a.type, a.parent_dedup_key,
                             a.child_count, a.event_count, a.resolve_requested,
                             a.summary, a.updated_at, a.resolved_at);
    };
    INFO(key);
    CHECK(fields(burst.alert_of(key)) == fields(steps.alert_of(key)));
  }
};

} // namespace

TEST_CASE("a burst stores each alert once, as it stands after the burst",
          "[actors]") {
  burst_and_steps run{[](const fixture& f) {
    std::vector<argus::domain::event> xs{f.trigger("p"), f.trigger("c1"),
                                         f.trigger("c2"), f.trigger("c3")};
    xs.push_back(f.resolve("c1")); // resolved: leaves the group
    xs.push_back(f.trigger("c1")); // and back within the same burst
    xs.push_back(f.resolve("c2"));
    xs.push_back(f.trigger("p")); // a parent change after its children's
    return xs;
  }};
  for (auto key : {"p", "c1", "c2", "c3"})
    run.check_same(key);
  CHECK(run.burst.alert_of("c1").status == alert_status::active);
  CHECK(run.burst.alert_of("c2").status == alert_status::resolved);
  // One write per alert in the burst, against one per change one by one.
  CHECK(run.burst.ctx->stats->writes_queued <
        run.steps.ctx->stats->writes_queued);
}

TEST_CASE("a burst over several groups reaches each in arrival order",
          "[actors]") {
  // One router flush: "db" gets several events, gathered into one batch
  // around events for "web" and "cache", which get one each.
  burst_and_steps run{[](const fixture& f) {
    return std::vector<argus::domain::event>{
        f.trigger("p", "db"),    f.trigger("w", "web"), f.trigger("c1", "db"),
        f.trigger("x", "cache"), f.resolve("c1"),       f.trigger("c2", "db"),
        f.trigger("c1", "db")};
  }};
  for (auto key : {"p", "w", "x", "c1", "c2"})
    run.check_same(key);
  CHECK(run.burst.alert_of("c1").parent_dedup_key == "p");
  CHECK(run.burst.alert_of("c1").status == alert_status::active);
  CHECK(run.burst.alert_of("c2").parent_dedup_key == "p");
  CHECK(run.burst.alert_of("w").type == alert_type::parent);
  CHECK(run.burst.alert_of("x").type == alert_type::parent);
  CHECK(run.burst.groups() == 3);
}

TEST_CASE("a burst of many alerts stores each once, as it stands after the "
          "burst",
          "[actors]") {
  // As above, with thirty children: the outbox coalesces by alert however
  // many it holds (an outbox that scanned its first entries and indexed
  // the rest was tried; this caught a broken switch between the two).
  burst_and_steps run{[](const fixture& f) {
    std::vector<argus::domain::event> xs{f.trigger("p")};
    for (int i = 0; i < 30; ++i)
      xs.push_back(f.trigger("c" + std::to_string(i)));
    xs.push_back(f.resolve("c3"));
    xs.push_back(f.trigger("c3")); // back within the burst
    xs.push_back(f.resolve("c20"));
    xs.push_back(f.trigger("c25")); // a re-trigger late in the burst
    xs.push_back(f.trigger("p"));
    return xs;
  }};
  run.check_same("p");
  for (int i = 0; i < 30; ++i)
    run.check_same("c" + std::to_string(i));
  CHECK(run.burst.alert_of("c3").event_count == 3);
  CHECK(run.burst.alert_of("c20").status == alert_status::resolved);
  // One write per alert: the parent and its 30 children.
  CHECK(run.burst.ctx->stats->writes_queued == 31);
}

TEST_CASE_METHOD(fixture, "an alert resolves when its end passes",
                 "[actors][expiry]") {
  auto t0 = now();
  auto p = trigger("p");
  p.expires_at = t0 + 2min;
  apply(p);
  auto c = trigger("c");
  c.expires_at = t0 + 1min;
  apply(c);
  advance(30s);
  CHECK(alert_of("c").status == alert_status::active);
  advance(30s);
  auto child = alert_of("c");
  CHECK(child.status == alert_status::resolved);
  CHECK(child.resolved_at == t0 + 1min);
  CHECK(child.event_count == 1);
  SECTION("the parent follows at its own end") {
    advance(1min);
    auto parent = alert_of("p");
    CHECK(parent.status == alert_status::resolved);
    CHECK(parent.resolved_at == t0 + 2min);
    auto ns = notifications();
    REQUIRE(ns.size() == 2);
    CHECK(ns[0].kind == notification_kind::parent_resolved);
    CHECK(groups() == 0);
  }
  SECTION("a re-send moves it") {
    p.expires_at = t0 + 5min;
    apply(p);
    advance(2min);
    CHECK(alert_of("p").status == alert_status::active);
    advance(2min);
    CHECK(alert_of("p").status == alert_status::resolved);
    CHECK(alert_of("p").resolved_at == t0 + 5min);
  }
}

TEST_CASE_METHOD(fixture, "an idle alert auto-resolves, and a restore re-arms",
                 "[actors][auto_resolve]") {
  auto t0 = now();
  auto idle = [&](const std::string& key, argus::domain::duration after) {
    auto e = trigger(key);
    e.auto_resolve_after = after;
    return e;
  };
  apply(idle("p", 3min));
  apply(idle("c", 1min));
  advance(30s);
  // A re-trigger pushes the child's deadline past the timer already armed
  // for it: that timer finds nothing due and re-arms.
  apply(idle("c", 1min));
  advance(45s);
  CHECK(alert_of("c").status == alert_status::active);
  CHECK(alert_of("c").auto_resolve_at == t0 + 90s);
  SECTION("the child alone, then the parent, each at its deadline") {
    advance(20s);
    auto child = alert_of("c");
    CHECK(child.status == alert_status::resolved);
    CHECK(child.resolved_at == t0 + 90s);
    CHECK(child.resolved_by == argus::domain::resolution::automatic);
    CHECK(alert_of("p").status == alert_status::active);
    advance(90s);
    auto parent = alert_of("p");
    CHECK(parent.status == alert_status::resolved);
    CHECK(parent.resolved_at == t0 + 3min);
    CHECK(parent.resolved_by == argus::domain::resolution::automatic);
    auto ns = notifications();
    REQUIRE(ns.size() == 2);
    CHECK(ns[0].kind == notification_kind::parent_resolved);
    CHECK(groups() == 0);
  }
  SECTION("a restart rebuilds the timers from the store") {
    restart_and_restore(*this);
    CHECK(groups() == 1);
    advance(3min);
    CHECK(alert_of("c").status == alert_status::resolved);
    CHECK(alert_of("c").resolved_at == t0 + 90s);
    auto parent = alert_of("p");
    CHECK(parent.status == alert_status::resolved);
    CHECK(parent.resolved_at == t0 + 3min);
    CHECK(parent.resolved_by == argus::domain::resolution::automatic);
    CHECK(groups() == 0);
  }
}

TEST_CASE_METHOD(fixture,
                 "an event counts as processed only once its changes are on "
                 "their way to the repository",
                 "[actors]") {
  // Whoever sees "processed" catch up with "accepted" (settle(), a poller
  // of /healthz) and then reads must find the event's changes.
  apply(trigger("p"));
  auto g = group_actor();
  CHECK(ctx->stats->events_applied == 1);
  send(trigger("c"));
  CHECK(run_only(router) == 2); // the event and the router's flush
  step(g); // applies the batch; the writes wait in the group's outbox
  CHECK(ctx->stats->events_applied == 1);
  CHECK(run_only(repo) == 0); // nothing reached the repository yet
  step(g); // the flush hands the writes on, then counts the event
  CHECK(ctx->stats->events_applied == 2);
  CHECK(run_only(repo) > 0); // the writes, then its own write-behind tick
  sched->run();
  CHECK(alert_of("c").parent_dedup_key == "p");
}
