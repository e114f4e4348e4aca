// The alert lifecycle through real HTTP: grouping, windows, re-triggers,
// resolves and notifications. One server for the file; every test case uses
// its own event managers, so their alerts never meet.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

namespace {

using namespace argus::test;

server& lifecycle_server() {
  static server instance;
  return instance;
}

bool is_parent(const json& a) {
  return a["type"] == "parent";
}

bool is_child_of(const json& a, const std::string& parent) {
  return a["type"] == "child" && a["parent_dedupKey"] == parent;
}

bool is_active(const json& a) {
  return a["status"] == "active";
}

bool is_resolved(const json& a) {
  return a["status"] == "resolved";
}

} // namespace

TEST_CASE("quick start: two triggers of one class make a parent and a child",
          "[integration]") {
  auto& s = lifecycle_server();
  auto& http = s.http();
  auto rule = http.post("/v1/grouping-rules", {{"name", "by class"},
                                               {"grouping_key", "class"},
                                               {"time_window_minutes", 5}});
  INFO(rule.text);
  REQUIRE(rule.status == 201);
  auto rule_id = rule.data()["id"].get<std::string>();
  auto manager_id = unique_name("quick");
  auto manager =
      http.post("/v1/event-managers", {{"id", manager_id},
                                       {"name", "Production"},
                                       {"grouping_rule_id", rule_id}});
  INFO(manager.text);
  REQUIRE(manager.status == 201);
  CHECK(manager.data()["id"] == manager_id);
  auto first = trigger_event(manager_id, "db-1", "database down");
  first["class"] = "database";
  auto second = trigger_event(manager_id, "db-2", "database slow", "medium");
  second["class"] = "database";
  // Posted back to back: events of one group are applied in arrival order.
  auto r1 = s.post_event(first);
  auto r2 = s.post_event(second);
  CHECK(r1.status == 202);
  CHECK(r1.body["success"] == true);
  CHECK(r1.data() == json{{"status", "accepted"}, {"dedupKey", "db-1"}});
  CHECK(r2.status == 202);
  CHECK(r2.data()["dedupKey"] == "db-2");
  auto child = s.await_alert(
      manager_id, "db-2", [](const json& a) { return is_child_of(a, "db-1"); });
  CHECK(child["type"] == "child");
  CHECK(child["parent_dedupKey"] == "db-1");
  auto parent = s.await_alert(
      manager_id, "db-1", [](const json& a) { return a["child_count"] == 1; });
  CHECK(parent["child_count"] == 1);
  auto list = http.get("/v1/alerts?event_manager_id=" + manager_id);
  INFO(list.text);
  REQUIRE(list.status == 200);
  CHECK(list.body["success"] == true);
  REQUIRE(list.data().size() == 2);
  auto p = find_alert(list.data(), "db-1");
  auto c = find_alert(list.data(), "db-2");
  REQUIRE(p.is_object());
  REQUIRE(c.is_object());
  CHECK(p["type"] == "parent");
  CHECK(p["status"] == "active");
  CHECK(p["parent_dedupKey"].is_null());
  CHECK(p["child_count"] == 1);
  CHECK(p["class"] == "database");
  CHECK(p["grouping_value"] == "database");
  CHECK(p["summary"] == "database down");
  CHECK(p["severity"] == "high");
  CHECK(p["event_manager_id"] == manager_id);
  CHECK(p["event_count"] == 1);
  CHECK(p["resolve_requested"] == false);
  CHECK(p["resolved_at"].is_null());
  CHECK(p["id"].is_string());
  CHECK(p["created_at"].is_string());
  CHECK(p["updated_at"].is_string());
  CHECK(c["type"] == "child");
  CHECK(c["parent_dedupKey"] == "db-1");
  CHECK(c["child_count"] == 0);
  CHECK(c["severity"] == "medium");
  CHECK(c["grouping_value"] == "database");
  CHECK(c["status"] == "active");
  for (auto field :
       {"id", "dedupKey", "event_manager_id", "summary", "severity", "class",
        "type", "status", "grouping_value", "parent_dedupKey", "child_count",
        "resolve_requested", "event_count", "created_at", "updated_at",
        "resolved_at", "details"}) {
    INFO("field " << field);
    CHECK(p.contains(field));
    CHECK(c.contains(field));
  }
}

TEST_CASE("the grouping value may come from an extra field", "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  s.trigger(m, "a", {{"host", "web-1"}});
  s.trigger(m, "b", {{"host", "web-1"}, {"class", "cpu"}});
  s.trigger(m, "c", {{"host", "web-2"}});
  s.trigger(m, "d", {{"host", 7}});
  s.trigger(m, "e", {{"host", 7}});
  auto b =
      s.await_alert(m, "b", [](const json& a) { return is_child_of(a, "a"); });
  CHECK(is_child_of(b, "a"));
  CHECK(b["grouping_value"] == "web-1");
  auto a = s.await_alert(m, "a",
                         [](const json& a) { return a["child_count"] == 1; });
  CHECK(is_parent(a));
  CHECK(a["grouping_value"] == "web-1");
  CHECK(a["child_count"] == 1);
  auto c = s.await_alert(m, "c");
  CHECK(is_parent(c));
  CHECK(c["grouping_value"] == "web-2");
  CHECK(c["child_count"] == 0);
  auto e =
      s.await_alert(m, "e", [](const json& a) { return is_child_of(a, "d"); });
  CHECK(is_child_of(e, "d"));
  CHECK(is_parent(s.await_alert(m, "d")));
}

TEST_CASE("an event without the grouping field is a parent of its own",
          "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  s.trigger(m, "x");
  s.trigger(m, "y");
  s.trigger(m, "z", {{"host", nullptr}});
  s.trigger(m, "w", {{"host", "h"}});
  s.trigger(m, "v");
  for (auto key : {"x", "y", "z", "v"}) {
    INFO("dedupKey " << key);
    auto a = s.await_alert(m, key);
    CHECK(is_parent(a));
    CHECK(a["grouping_value"].is_null());
    CHECK(a["parent_dedupKey"].is_null());
    CHECK(a["child_count"] == 0);
  }
  auto w = s.await_alert(m, "w");
  CHECK(is_parent(w));
  CHECK(w["child_count"] == 0);
  REQUIRE(s.settle());
  auto all = s.alerts("event_manager_id=" + m);
  CHECK(all.size() == 5);
  CHECK(s.alerts("event_manager_id=" + m + "&type=child").empty());
}

TEST_CASE("tenants never group together", "[integration]") {
  auto& s = lifecycle_server();
  auto rule = s.create_rule("host", 300, "shared rule");
  auto rule_id = rule["id"].get<std::string>();
  auto m1 = s.create_manager(rule_id, unique_name("tenant-a"))["id"]
                .get<std::string>();
  auto m2 = s.create_manager(rule_id, unique_name("tenant-b"))["id"]
                .get<std::string>();
  s.trigger(m1, "one", {{"host", "h"}});
  s.trigger(m2, "two", {{"host", "h"}});
  s.trigger(m1, "same", {{"host", "h"}});
  s.trigger(m2, "same", {{"host", "h"}});
  auto same1 = s.await_alert(m1, "same");
  auto same2 = s.await_alert(m2, "same");
  CHECK(is_child_of(same1, "one"));
  CHECK(is_child_of(same2, "two"));
  CHECK(same1["id"] != same2["id"]);
  CHECK(same1["event_manager_id"] == m1);
  CHECK(same2["event_manager_id"] == m2);
  auto one = s.await_alert(m1, "one");
  auto two = s.await_alert(m2, "two");
  CHECK(is_parent(one));
  CHECK(is_parent(two));
  CHECK(one["child_count"] == 1);
  CHECK(two["child_count"] == 1);
}

TEST_CASE("a trigger after the window opens a new parent", "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host", 2);
  s.trigger(m, "p1", {{"host", "h"}});
  s.trigger(m, "c1", {{"host", "h"}});
  auto p1 = s.await_alert(m, "p1");
  REQUIRE(is_parent(p1));
  auto c1 = s.await_alert(m, "c1");
  CHECK(is_child_of(c1, "p1"));
  // The window is fixed from the parent's creation.
  auto window_end =
      parse_time(p1["created_at"].get<std::string>()) + 2s + 100ms;
  REQUIRE(wait_until(window_end));
  s.trigger(m, "p2", {{"host", "h"}});
  s.trigger(m, "c2", {{"host", "h"}});
  auto p2 = s.await_alert(m, "p2");
  CHECK(is_parent(p2));
  CHECK(p2["parent_dedupKey"].is_null());
  auto c2 = s.await_alert(m, "c2");
  CHECK(is_child_of(c2, "p2"));
  CHECK(s.await_alert(m, "p1")["child_count"] == 1);
}

TEST_CASE("a trigger for an active dedupKey only counts", "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  s.trigger(m, "p", {{"host", "h"}});
  s.trigger(m, "c", {{"host", "h"}});
  auto before = s.await_alert(m, "c");
  REQUIRE(is_child_of(before, "p"));
  auto parent_before = s.await_alert(m, "p");
  REQUIRE(before["event_count"] == 1);
  // updated_at has millisecond resolution: let the clock move past it.
  REQUIRE(
      wait_until(parse_time(before["updated_at"].get<std::string>()) + 5ms));
  s.trigger(m, "c", {{"host", "h"}});
  s.trigger(m, "p", {{"host", "h"}});
  auto after = s.await_alert(
      m, "c", [](const json& a) { return a["event_count"] == 2; });
  CHECK(after["event_count"] == 2);
  CHECK(after["id"] == before["id"]);
  CHECK(after["created_at"] == before["created_at"]);
  CHECK(parse_time(after["updated_at"].get<std::string>()) >
        parse_time(before["updated_at"].get<std::string>()));
  CHECK(is_child_of(after, "p"));
  CHECK(is_active(after));
  auto parent = s.await_alert(
      m, "p", [](const json& a) { return a["event_count"] == 2; });
  CHECK(parent["event_count"] == 2);
  CHECK(parent["id"] == parent_before["id"]);
  CHECK(parent["child_count"] == 1);
  CHECK(parse_time(parent["updated_at"].get<std::string>()) >
        parse_time(parent_before["updated_at"].get<std::string>()));
  // Another grouping value does not move an active alert to another group.
  s.trigger(m, "c", {{"host", "elsewhere"}});
  auto moved = s.await_alert(
      m, "c", [](const json& a) { return a["event_count"] == 3; });
  CHECK(moved["event_count"] == 3);
  CHECK(is_child_of(moved, "p"));
  REQUIRE(s.settle());
  CHECK(s.alerts("event_manager_id=" + m).size() == 2);
}

TEST_CASE("a trigger for a resolved dedupKey reactivates and regroups it",
          "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  s.trigger(m, "p", {{"host", "h"}});
  s.trigger(m, "c", {{"host", "h"}});
  auto c = s.await_alert(m, "c");
  REQUIRE(is_child_of(c, "p"));
  s.resolve(m, "c");
  auto resolved = s.await_alert(m, "c", is_resolved);
  REQUIRE(is_resolved(resolved));
  CHECK(resolved["resolved_at"].is_string());

  SECTION("inside an open group it joins the group again") {
    s.trigger(m, "c", {{"host", "h"}});
    auto again = s.await_alert(m, "c", is_active);
    CHECK(is_active(again));
    CHECK(again["id"] == c["id"]);
    CHECK(is_child_of(again, "p"));
    CHECK(again["resolved_at"].is_null());
    // Identity and history are kept.
    CHECK(again["created_at"] == c["created_at"]);
    CHECK(again["event_count"].get<int64_t>() >
          resolved["event_count"].get<int64_t>());
  }

  SECTION("after its group closed it opens a group of its own") {
    s.resolve(m, "p");
    REQUIRE(is_resolved(s.await_alert(m, "p", is_resolved)));
    s.trigger(m, "c", {{"host", "h"}});
    auto again = s.await_alert(m, "c", is_active);
    CHECK(is_active(again));
    CHECK(again["id"] == c["id"]);
    CHECK(is_parent(again));
    CHECK(again["parent_dedupKey"].is_null());
    CHECK(again["resolved_at"].is_null());
    CHECK(again["created_at"] == c["created_at"]);
    // The former parent, triggered again, now joins the new group.
    s.trigger(m, "p", {{"host", "h"}});
    auto p = s.await_alert(m, "p", is_active);
    CHECK(is_active(p));
    CHECK(is_child_of(p, "c"));
    CHECK(s.await_alert(m, "c", [](const json& a) {
      return a["child_count"] == 1;
    })["child_count"] == 1);
  }
}

TEST_CASE("a child resolves alone", "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  s.trigger(m, "p", {{"host", "h"}});
  s.trigger(m, "c1", {{"host", "h"}});
  s.trigger(m, "c2", {{"host", "h"}});
  REQUIRE(is_child_of(s.await_alert(m, "c2"), "p"));
  s.resolve(m, "c1");
  auto c1 = s.await_alert(m, "c1", is_resolved);
  CHECK(is_resolved(c1));
  CHECK(c1["resolved_at"].is_string());
  REQUIRE(s.settle());
  auto p = s.alert(m, "p");
  CHECK(is_active(p));
  CHECK(p["resolve_requested"] == false);
  CHECK(p["resolved_at"].is_null());
  CHECK(is_active(s.alert(m, "c2")));
}

TEST_CASE("a parent with active children resolves after its last child",
          "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  s.trigger(m, "p", {{"host", "h"}});
  s.trigger(m, "c1", {{"host", "h"}});
  s.trigger(m, "c2", {{"host", "h"}});
  REQUIRE(is_child_of(s.await_alert(m, "c2"), "p"));
  s.resolve(m, "p");
  auto p = s.await_alert(
      m, "p", [](const json& a) { return a["resolve_requested"] == true; });
  CHECK(p["resolve_requested"] == true);
  CHECK(is_active(p));
  CHECK(p["resolved_at"].is_null());
  s.resolve(m, "c1");
  REQUIRE(is_resolved(s.await_alert(m, "c1", is_resolved)));
  REQUIRE(s.settle());
  p = s.alert(m, "p");
  CHECK(is_active(p));
  CHECK(p["resolve_requested"] == true);
  s.resolve(m, "c2");
  p = s.await_alert(m, "p", is_resolved);
  CHECK(is_resolved(p));
  CHECK(p["resolved_at"].is_string());
  CHECK(is_resolved(s.alert(m, "c2")));
}

TEST_CASE("a resolved parent closes its group", "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host", 300);
  s.trigger(m, "p", {{"host", "h"}});
  REQUIRE(is_parent(s.await_alert(m, "p")));
  s.resolve(m, "p");
  REQUIRE(is_resolved(s.await_alert(m, "p", is_resolved)));
  // Well inside the window, yet a new parent.
  s.trigger(m, "q", {{"host", "h"}});
  s.trigger(m, "r", {{"host", "h"}});
  auto q = s.await_alert(m, "q");
  CHECK(is_parent(q));
  CHECK(is_child_of(s.await_alert(m, "r"), "q"));
  CHECK(s.alert(m, "p")["child_count"] == 0);
}

TEST_CASE("a resolve for an unknown dedupKey is accepted and ignored",
          "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  s.trigger(m, "known", {{"host", "h"}});
  auto known = s.await_alert(m, "known");
  REQUIRE(s.settle());
  auto ignored_before = s.health()["events"]["ignored"].get<uint64_t>();
  auto res = s.post_event({{"event_manager_id", m},
                           {"action", "resolve"},
                           {"dedupKey", "never-seen"}});
  CHECK(res.status == 202);
  CHECK(res.data()["dedupKey"] == "never-seen");
  CHECK(eventually([&] {
    return s.health()["events"]["ignored"].get<uint64_t>() > ignored_before;
  }));
  REQUIRE(s.settle());
  CHECK(s.http().get("/v1/alerts/never-seen?event_manager_id=" + m).status ==
        404);
  auto all = s.alerts("event_manager_id=" + m);
  REQUIRE(all.size() == 1);
  CHECK(all[0] == known);

  SECTION("a second resolve of a resolved alert changes nothing") {
    s.resolve(m, "known");
    auto resolved = s.await_alert(m, "known", is_resolved);
    REQUIRE(is_resolved(resolved));
    REQUIRE(s.settle());
    s.resolve(m, "known");
    REQUIRE(s.settle());
    CHECK(s.alert(m, "known") == resolved);
  }
}

TEST_CASE("parent opened and resolved notifications are readable",
          "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  s.trigger(m, "p", {{"host", "h"}});
  s.trigger(m, "c", {{"host", "h"}});
  REQUIRE(is_child_of(s.await_alert(m, "c"), "p"));
  json notes;
  CHECK(eventually([&] {
    notes = s.notifications_of(m);
    return notes.size() == 1;
  }));
  REQUIRE(notes.size() == 1);
  CHECK(notes[0]["kind"] == "parent_opened");
  CHECK(notes[0]["alert"]["dedupKey"] == "p");
  CHECK(notes[0]["at"].is_string());
  CHECK(notes[0]["seq"].is_number_integer());
  s.resolve(m, "c");
  s.resolve(m, "p");
  REQUIRE(is_resolved(s.await_alert(m, "p", is_resolved)));
  CHECK(eventually([&] {
    notes = s.notifications_of(m);
    return notes.size() == 2;
  }));
  REQUIRE(notes.size() == 2);
  // Newest first.
  CHECK(notes[0]["kind"] == "parent_resolved");
  CHECK(notes[0]["alert"]["dedupKey"] == "p");
  CHECK(notes[0]["alert"]["status"] == "resolved");
  CHECK(notes[1]["kind"] == "parent_opened");
  CHECK(notes[0]["seq"].get<uint64_t>() > notes[1]["seq"].get<uint64_t>());
  auto limited = s.http().get("/v1/notifications?limit=1");
  REQUIRE(limited.status == 200);
  CHECK(limited.data().size() == 1);
  CHECK(s.http().get("/v1/notifications?limit=0").status == 400);
  CHECK(s.http().get("/v1/notifications?limit=abc").status == 400);
}

TEST_CASE("extra event fields are kept under details", "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  json extra{{"host", "web-1"},
             {"region", "eu-west"},
             {"count", 3},
             {"tags", {"a", "b"}},
             {"nested", {{"k", "v"}, {"n", nullptr}}},
             {"class", "disk"}};
  s.trigger(m, "d", extra);
  auto a = s.await_alert(m, "d");
  REQUIRE(a.is_object());
  auto details = a["details"];
  CHECK(details["host"] == "web-1");
  CHECK(details["region"] == "eu-west");
  CHECK(details["count"] == 3);
  CHECK(details["tags"] == json{"a", "b"});
  CHECK(details["nested"] == json{{"k", "v"}, {"n", nullptr}});
  CHECK(a["class"] == "disk");
  for (auto standard : {"event_manager_id", "action", "dedupKey", "summary",
                        "severity", "class"}) {
    INFO("standard field " << standard);
    CHECK_FALSE(details.contains(standard));
  }
}

TEST_CASE("events of one group are applied in arrival order", "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  constexpr int n = 25;
  for (int i = 0; i < n; ++i)
    s.trigger(m, "k" + std::to_string(i), {{"host", "h"}});
  auto p = s.await_alert(
      m, "k0", [](const json& a) { return a["child_count"] == n - 1; });
  CHECK(is_parent(p));
  CHECK(p["child_count"] == n - 1);
  REQUIRE(s.settle());
  auto children = s.alerts("event_manager_id=" + m + "&type=child");
  CHECK(children.size() == n - 1);
  for (auto& c : children)
    CHECK(c["parent_dedupKey"] == "k0");
}

TEST_CASE("concurrent senders to one group make exactly one parent",
          "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  constexpr int senders = 4;
  constexpr int per_sender = 25;
  std::vector<std::thread> threads;
  std::vector<int> failures(senders, 0);
  for (int t = 0; t < senders; ++t)
    threads.emplace_back([&, t] {
      // One client per thread: httplib clients are not shared.
      client c{"127.0.0.1", s.port()};
      for (int i = 0; i < per_sender; ++i) {
        auto e =
            trigger_event(m, "t" + std::to_string(t) + "-" + std::to_string(i));
        e["host"] = "shared";
        if (c.post("/v1/events", e).status != 202)
          ++failures[t];
      }
    });
  for (auto& t : threads)
    t.join();
  for (auto f : failures)
    CHECK(f == 0);
  constexpr int total = senders * per_sender;
  REQUIRE(eventually([&] {
    return s.alerts("event_manager_id=" + m + "&limit=1000").size() == total;
  }));
  REQUIRE(s.settle());
  auto parents = s.alerts("event_manager_id=" + m + "&type=parent");
  REQUIRE(parents.size() == 1);
  auto parent_key = parents[0]["dedupKey"].get<std::string>();
  CHECK(s.await_alert(m, parent_key, [](const json& a) {
    return a["child_count"] == total - 1;
  })["child_count"] == total - 1);
  for (auto& c : s.alerts("event_manager_id=" + m + "&type=child&limit=1000"))
    CHECK(c["parent_dedupKey"] == parent_key);
}

TEST_CASE("grouping actors live while their group has open work",
          "[integration]") {
  auto& s = lifecycle_server();
  auto m = s.fresh_manager("host");
  REQUIRE(s.settle());
  auto live = [&] { return s.health()["groups_live"].get<int64_t>(); };
  // Other tests' groups may still be closing; wait for a stable count.
  int64_t before = live();
  REQUIRE(s.settle());
  before = live();
  constexpr int groups = 5;
  for (int i = 0; i < groups; ++i)
    s.trigger(m, "g" + std::to_string(i), {{"host", "h" + std::to_string(i)}});
  CHECK(eventually([&] { return live() == before + groups; }));
  for (int i = 0; i < groups; ++i)
    s.resolve(m, "g" + std::to_string(i));
  CHECK(eventually([&] { return live() == before; }));
  CHECK(s.alerts("event_manager_id=" + m + "&status=resolved").size() ==
        groups);
}

TEST_CASE("ignored resolves and notifications are logged", "[integration]") {
  server_options opts;
  opts.log_level = "info";
  server s{opts};
  auto m = s.fresh_manager("host");
  auto unknown = unique_name("unknown-key");
  s.resolve(m, unknown);
  s.trigger(m, "opened", {{"host", "h"}});
  s.resolve(m, "opened");
  CHECK(is_resolved(s.await_alert(m, "opened", is_resolved)));
  std::string log;
  CHECK(eventually([&] {
    log = s.log();
    return log.find(unknown) != std::string::npos &&
           log.find("parent_resolved") != std::string::npos;
  }));
  INFO(log);
  CHECK_THAT(log, Catch::Contains(unknown));
  CHECK_THAT(log, Catch::Contains("parent_opened"));
  CHECK_THAT(log, Catch::Contains("parent_resolved"));
  CHECK(s.stop() == 0);
}
