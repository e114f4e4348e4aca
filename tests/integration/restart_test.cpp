// Durability: what a stopped (or killed) server finds again when it starts on
// the same data dir, and the memory backend.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace argus::test;

bool is_resolved(const json& a) {
  return a["status"] == "resolved";
}

} // namespace

TEST_CASE("a restart keeps rules, managers, alerts and open windows",
          "[integration]") {
  server s;
  auto& http = s.http();
  auto rule = s.create_rule("host", 300, "by host");
  auto rule_id = rule["id"].get<std::string>();
  auto created = http.post(
      "/v1/event-managers",
      {{"id", "durable"},
       {"name", "Durable"},
       {"description", "survives restarts"},
       {"grouping_rule_id", rule_id},
       {"notification_config", {{"webhook_url", "http://example.com/h"}}}});
  REQUIRE(created.status == 201);
  auto m = std::string{"durable"};
  // An open group with a child...
  s.trigger(m, "p", {{"host", "h"}, {"region", "eu"}});
  s.trigger(m, "c", {{"host", "h"}});
  // ...a parent waiting for its child to resolve...
  s.trigger(m, "q", {{"host", "g"}});
  s.trigger(m, "qc", {{"host", "g"}});
  s.resolve(m, "q");
  // ...a resolved parent...
  s.trigger(m, "r", {{"host", "r"}});
  s.resolve(m, "r");
  // ...and a parent without grouping value.
  s.trigger(m, "loner");
  REQUIRE(s.await_alert(m, "c")["parent_dedupKey"] == "p");
  REQUIRE(s.await_alert(m, "q", [](const json& a) {
    return a["resolve_requested"] == true;
  })["resolve_requested"] == true);
  REQUIRE(is_resolved(s.await_alert(m, "r", is_resolved)));
  REQUIRE(s.await_alert(m, "loner").is_object());
  REQUIRE(s.settle());
  auto rules_before = http.get("/v1/grouping-rules").data();
  auto manager_before = http.get("/v1/event-managers/" + m).data();
  auto alerts_before = s.alerts("event_manager_id=" + m);
  REQUIRE(alerts_before.size() == 6);

  REQUIRE(s.restart() == 0);

  CHECK(http.get("/v1/grouping-rules").data() == rules_before);
  CHECK(http.get("/v1/grouping-rules/" + rule_id).data() == rule);
  CHECK(http.get("/v1/event-managers/" + m).data() == manager_before);
  CHECK(s.alerts("event_manager_id=" + m) == alerts_before);
  CHECK(s.alert(m, "p")["details"]["region"] == "eu");

  // The open window survived: a trigger joins the persisted parent.
  s.trigger(m, "after", {{"host", "h"}});
  auto after = s.await_alert(m, "after");
  CHECK(after["type"] == "child");
  CHECK(after["parent_dedupKey"] == "p");
  CHECK(s.await_alert(m, "p", [](const json& a) {
    return a["child_count"] == 2;
  })["child_count"] == 2);
  // The pending resolve survived: the last child's resolve ends the parent.
  s.resolve(m, "qc");
  auto q = s.await_alert(m, "q", is_resolved);
  CHECK(is_resolved(q));
  // Active alerts are still known: a re-trigger only counts.
  s.trigger(m, "c", {{"host", "h"}});
  auto c = s.await_alert(m, "c",
                         [](const json& a) { return a["event_count"] == 2; });
  CHECK(c["event_count"] == 2);
  CHECK(c["parent_dedupKey"] == "p");
  // A resolved parent's group stays closed.
  s.trigger(m, "r2", {{"host", "r"}});
  CHECK(s.await_alert(m, "r2")["type"] == "parent");
  // And the catalog still takes changes.
  CHECK(http.del("/v1/grouping-rules/" + rule_id).status == 409);
  CHECK(s.stop() == 0);
}

TEST_CASE("a window that ended while the server was down stays closed",
          "[integration]") {
  server s;
  auto m = s.fresh_manager("host", 1);
  s.trigger(m, "p", {{"host", "h"}});
  auto p = s.await_alert(m, "p");
  REQUIRE(p["type"] == "parent");
  REQUIRE(s.settle());
  REQUIRE(s.stop() == 0);
  REQUIRE(
      wait_until(parse_time(p["created_at"].get<std::string>()) + 1s + 100ms));
  s.start();
  CHECK(s.alert(m, "p") == p);
  s.trigger(m, "q", {{"host", "h"}});
  auto q = s.await_alert(m, "q");
  CHECK(q["type"] == "parent");
  CHECK(q["parent_dedupKey"].is_null());
  // The old parent is still active and open for re-triggers.
  s.trigger(m, "p", {{"host", "h"}});
  CHECK(s.await_alert(m, "p", [](const json& a) {
    return a["event_count"] == 2;
  })["type"] == "parent");
  CHECK(s.stop() == 0);
}

TEST_CASE("data observed via GET survives kill -9", "[integration]") {
  server s;
  auto m = s.fresh_manager("host", 300);
  auto rule_id = s.http()
                     .get("/v1/event-managers/" + m)
                     .data()["grouping_rule_id"]
                     .get<std::string>();
  s.trigger(m, "p", {{"host", "h"}});
  s.trigger(m, "c", {{"host", "h"}});
  s.trigger(m, "gone", {{"host", "x"}});
  s.resolve(m, "gone");
  REQUIRE(s.await_alert(m, "c")["parent_dedupKey"] == "p");
  REQUIRE(s.await_alert(m, "p", [](const json& a) {
    return a["child_count"] == 1;
  })["child_count"] == 1);
  REQUIRE(is_resolved(s.await_alert(m, "gone", is_resolved)));
  auto observed = s.alerts("event_manager_id=" + m);
  REQUIRE(observed.size() == 3);

  s.kill9();
  s.start();

  CHECK(s.http().get("/v1/grouping-rules/" + rule_id).status == 200);
  CHECK(s.http().get("/v1/event-managers/" + m).status == 200);
  CHECK(s.alerts("event_manager_id=" + m) == observed);
  s.trigger(m, "after", {{"host", "h"}});
  auto after = s.await_alert(m, "after");
  CHECK(after["type"] == "child");
  CHECK(after["parent_dedupKey"] == "p");
  CHECK(s.stop() == 0);
}

TEST_CASE("SIGTERM drains accepted events before exiting", "[integration]") {
  server s;
  auto m = s.fresh_manager("host", 300);
  constexpr int n = 300;
  for (int i = 0; i < n; ++i)
    s.trigger(m, "k" + std::to_string(i),
              {{"host", "h" + std::to_string(i % 7)}});
  // Stop right after the last 202, without waiting for the events.
  REQUIRE(s.restart() == 0);
  auto all = s.alerts("event_manager_id=" + m + "&limit=1000");
  CHECK(all.size() == n);
  CHECK(s.alerts("event_manager_id=" + m + "&type=parent").size() == 7);
  for (int i = 0; i < 7; ++i) {
    INFO("parent k" << i);
    auto p = find_alert(all, "k" + std::to_string(i));
    REQUIRE(p.is_object());
    CHECK(p["type"] == "parent");
  }
  CHECK(s.stop() == 0);
}

TEST_CASE("the memory backend serves the whole API", "[integration]") {
  server_options opts;
  opts.backend = "memory";
  server s{opts};
  CHECK(s.health()["storage"] == "memory");
  auto m = s.fresh_manager("class");
  s.trigger(m, "a", {{"class", "db"}});
  s.trigger(m, "b", {{"class", "db"}});
  auto b = s.await_alert(m, "b");
  CHECK(b["type"] == "child");
  CHECK(b["parent_dedupKey"] == "a");
  s.resolve(m, "a");
  CHECK(s.await_alert(m, "a", [](const json& a) {
    return a["resolve_requested"] == true;
  })["resolve_requested"] == true);
  s.resolve(m, "b");
  CHECK(is_resolved(s.await_alert(m, "a", is_resolved)));
  CHECK(s.alerts("event_manager_id=" + m + "&status=resolved").size() == 2);
  CHECK(s.http()
            .get("/v1/alerts/a/children?event_manager_id=" + m)
            .data()
            .size() == 1);
  CHECK_FALSE(fs::exists(s.dir() / "argus.db"));
  CHECK(s.stop() == 0);
}
