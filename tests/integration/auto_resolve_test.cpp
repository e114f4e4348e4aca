// Auto-resolve over HTTP (issue 13): the limit on rules and managers, alerts
// that resolve by themselves with `resolved_by: "auto"` through the parent
// and child rules, after a kill -9 and a deadline that passed while the
// server was down; and the argusctl flags.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace argus::test;

bool is_resolved(const json& a) {
  return a["status"] == "resolved";
}

/// A rule grouping by "host" over 5 minutes with this auto-resolve limit.
json rule_with(server& s, const json& auto_resolve_after) {
  auto res = s.http().post("/v1/grouping-rules",
                           {{"name", unique_name("rule")},
                            {"grouping_key", "host"},
                            {"time_window_seconds", 300},
                            {"auto_resolve_after", auto_resolve_after}});
  INFO(res.text);
  REQUIRE(res.status == 201);
  return res.data();
}

/// A manager of rule `rule_id` with its own limit (0: the rule's).
std::string manager_with(server& s, const std::string& rule_id,
                         int64_t auto_resolve_after) {
  auto res = s.http().post("/v1/event-managers",
                           {{"id", unique_name("em")},
                            {"name", "auto"},
                            {"grouping_rule_id", rule_id},
                            {"auto_resolve_after", auto_resolve_after}});
  INFO(res.text);
  REQUIRE(res.status == 201);
  CHECK(res.data()["auto_resolve_after"] == auto_resolve_after);
  return res.data()["id"].get<std::string>();
}

std::chrono::system_clock::time_point time_of(const json& a, const char* f) {
  return parse_time(a[f].get<std::string>());
}

} // namespace

TEST_CASE("auto_resolve_after is validated and shown on rules and managers",
          "[integration][auto_resolve]") {
  server s;
  auto& http = s.http();
  for (auto bad :
       {json(-1), json(366LL * 24 * 3600 + 1), json("60"), json(1.5)}) {
    INFO(bad.dump());
    auto res = http.post("/v1/grouping-rules", {{"name", "r"},
                                                {"grouping_key", "host"},
                                                {"time_window_seconds", 60},
                                                {"auto_resolve_after", bad}});
    CHECK(res.status == 400);
    CHECK_THAT(res.error_message(), Catch::Contains("auto_resolve_after"));
  }
  auto rule = rule_with(s, 3600);
  CHECK(rule["auto_resolve_after"] == 3600);
  auto id = rule["id"].get<std::string>();
  auto plain = s.create_rule("host", 60);
  CHECK(plain["auto_resolve_after"] == 0);
  auto updated =
      http.put("/v1/grouping-rules/" + id, {{"auto_resolve_after", 0}});
  REQUIRE(updated.status == 200);
  CHECK(updated.data()["auto_resolve_after"] == 0);
  CHECK(updated.data()["time_window_seconds"] == 300);
  auto m = manager_with(s, id, 120);
  auto bad = http.put("/v1/event-managers/" + m, {{"auto_resolve_after", -5}});
  CHECK(bad.status == 400);
  CHECK_THAT(bad.error_message(), Catch::Contains("auto_resolve_after"));
  auto off = http.put("/v1/event-managers/" + m, {{"auto_resolve_after", 0}});
  REQUIRE(off.status == 200);
  CHECK(off.data()["auto_resolve_after"] == 0);
  CHECK(http.get("/v1/event-managers/" + m).data()["auto_resolve_after"] == 0);
}

TEST_CASE("idle alerts auto-resolve through the parent and child rules",
          "[integration][auto_resolve]") {
  server s;
  auto rule = rule_with(s, 1);
  auto m = manager_with(s, rule["id"].get<std::string>(), 0);
  s.trigger(m, "p", {{"host", "h"}});
  REQUIRE(s.await_alert(m, "p")["type"] == "parent");
  s.trigger(m, "c", {{"host", "h"}});
  REQUIRE(s.await_alert(m, "c")["parent_dedupKey"] == "p");
  // A sender that never resolves: the child ends after its limit, and the
  // parent (asked first, waiting for its child) right with it.
  auto c = s.await_alert(m, "c", is_resolved);
  REQUIRE(is_resolved(c));
  CHECK(c["resolved_by"] == "auto");
  CHECK(c["event_count"] == 1);
  auto p = s.await_alert(m, "p", is_resolved);
  REQUIRE(is_resolved(p));
  CHECK(p["resolved_by"] == "auto");
  CHECK(p["auto_resolve_at"].is_null());
  CHECK(time_of(p, "resolved_at") >= time_of(p, "created_at") + 1s);
  // A resolve event says so, and an alert with a re-trigger lives on.
  s.trigger(m, "q", {{"host", "q"}});
  s.resolve(m, "q");
  CHECK(s.await_alert(m, "q", is_resolved)["resolved_by"] == "event");
  auto notes = s.notifications_of(m);
  size_t resolved_notes = 0;
  for (auto& n : notes)
    if (n["kind"] == "parent_resolved" && n["alert"]["dedupKey"] == "p") {
      ++resolved_notes;
      CHECK(n["alert"]["resolved_by"] == "auto");
    }
  CHECK(resolved_notes == 1);
}

TEST_CASE("auto-resolve survives kill -9 and a deadline passed while down",
          "[integration][auto_resolve]") {
  server s;
  // The rule says 300 s; the manager's 2 s wins.
  auto rule = rule_with(s, 300);
  auto m = manager_with(s, rule["id"].get<std::string>(), 2);
  s.trigger(m, "live", {{"host", "a"}});
  s.trigger(m, "down", {{"host", "b"}});
  auto live = s.await_alert(m, "live");
  auto down = s.await_alert(m, "down");
  REQUIRE(live["status"] == "active");
  REQUIRE_FALSE(live["auto_resolve_at"].is_null());
  CHECK(time_of(live, "auto_resolve_at") == time_of(live, "created_at") + 2s);
  REQUIRE(s.settle());

  SECTION("killed and started again at once: the timer is rebuilt") {
    s.kill9();
    s.start();
    auto after = s.await_alert(m, "live", is_resolved, 10s);
    REQUIRE(is_resolved(after));
    CHECK(after["resolved_by"] == "auto");
    CHECK(time_of(after, "resolved_at") == time_of(live, "auto_resolve_at"));
  }
  SECTION("down past the deadline: it resolves at its deadline on start") {
    s.kill9();
    REQUIRE(wait_until(time_of(down, "auto_resolve_at") + 500ms));
    s.start();
    auto after = s.await_alert(m, "down", is_resolved);
    REQUIRE(is_resolved(after));
    CHECK(after["resolved_by"] == "auto");
    CHECK(time_of(after, "resolved_at") == time_of(down, "auto_resolve_at"));
  }
  CHECK(s.stop() == 0);
}

TEST_CASE("argusctl sets auto-resolve on rules and managers",
          "[integration][auto_resolve][argusctl]") {
  server_options opts;
  opts.remoting = true;
  server s{opts};
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--node", s.node_address()});
    return run_argusctl(args);
  };
  auto made =
      ctl({"rules", "create", "--name", unique_name("r"), "--key", "host",
           "--window-seconds", "60", "--auto-resolve-after", "90", "--json"});
  INFO(made.out << made.err);
  REQUIRE(made.exit_code == 0);
  auto rule = made.json_out();
  CHECK(rule["auto_resolve_after"] == 90);
  auto rule_id = rule["id"].get<std::string>();
  auto manager = ctl({"managers", "create", "--name", "m", "--rule", rule_id,
                      "--auto-resolve-after", "30", "--json"});
  INFO(manager.out << manager.err);
  REQUIRE(manager.exit_code == 0);
  auto id = manager.json_out()["id"].get<std::string>();
  CHECK(manager.json_out()["auto_resolve_after"] == 30);
  auto updated =
      ctl({"managers", "update", id, "--auto-resolve-after", "0", "--json"});
  REQUIRE(updated.exit_code == 0);
  CHECK(updated.json_out()["auto_resolve_after"] == 0);
  CHECK(s.http().get("/v1/event-managers/" + id).data()["auto_resolve_after"] ==
        0);
  auto shown = ctl({"rules", "get", rule_id});
  CHECK_THAT(shown.out, Catch::Contains("auto_resolve_after"));
  // Over a year: the node refuses it, naming the field.
  auto bad =
      ctl({"rules", "update", rule_id, "--auto-resolve-after", "99999999999"});
  CHECK(bad.exit_code != 0);
  CHECK_THAT(bad.err, Catch::Contains("auto_resolve_after"));
}
