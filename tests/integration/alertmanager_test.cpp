// Alertmanager's API v2 under /am/{manager}: the real Prometheus (2.42) and
// amtool (0.25) from Debian's packages send to Argus unchanged, and the
// answers are Alertmanager's.

#include "domain/labels.hpp"
#include "integration/harness.hpp"
#include "integration/senders.hpp"

#include <catch2/catch.hpp>

#include <ctime>

namespace {

using namespace argus::test;
using argus::domain::fingerprint;
using argus::domain::label_set;

server& am_server() {
  static server instance;
  return instance;
}

/// A manager whose rule groups by `keys` (a JSON string or array).
std::string manager_grouping_by(server& s, const json& keys,
                                const json& extra = json::object()) {
  json rule_body{{"name", unique_name("rule")}, {"time_window_seconds", 300}};
  rule_body[keys.is_array() ? "grouping_keys" : "grouping_key"] = keys;
  auto rule = s.http().post("/v1/grouping-rules", rule_body);
  INFO(rule.text);
  REQUIRE(rule.status == 201);
  json body{{"id", unique_name("am")},
            {"name", "am"},
            {"grouping_rule_id", rule.data()["id"]}};
  body.update(extra);
  auto manager = s.http().post("/v1/event-managers", body);
  INFO(manager.text);
  REQUIRE(manager.status == 201);
  return manager.data()["id"].get<std::string>();
}

std::string am_url(server& s, const std::string& manager) {
  return "http://127.0.0.1:" + std::to_string(s.port()) + "/am/" + manager;
}

bool resolved(const json& a) {
  return a.is_object() && a.value("status", "") == "resolved";
}

/// The alerts of `amtool alert query -o json <matchers>`.
json amtool_query(server& s, const std::string& manager,
                  std::vector<std::string> matchers = {}) {
  std::vector<std::string> args{"alert", "query", "-o", "json"};
  args.insert(args.end(), matchers.begin(), matchers.end());
  auto out = run_amtool(am_url(s, manager), args);
  INFO(out.err);
  REQUIRE(out.exit_code == 0);
  return out.json_out();
}

} // namespace

TEST_CASE("Prometheus alerts arrive as parents, group by label and resolve",
          "[integration][alertmanager][prometheus]") {
  auto& s = am_server();
  auto manager = manager_grouping_by(s, "labels.cluster");
  auto cluster = unique_name("cluster");
  scrape_target target;
  target.set("argus_it_firing", 1);
  prometheus_options opts;
  opts.alertmanager = "127.0.0.1:" + std::to_string(s.port());
  opts.path_prefix = "/am/" + manager;
  opts.scrape_jobs = {{"toggle", target.address()},
                      {"argus", "127.0.0.1:" + std::to_string(s.port())}};
  opts.rules_yaml = "  - alert: ArgusItDiskFull\n"
                    "    expr: argus_it_firing == 1\n"
                    "    labels: {cluster: '" +
                    cluster +
                    "', severity: critical}\n"
                    "    annotations: {summary: 'disk full'}\n"
                    "  - alert: ArgusItDiskSlow\n"
                    "    expr: argus_it_firing == 1\n"
                    "    labels: {cluster: '" +
                    cluster + "', severity: warning}\n";
  prometheus_server prom{opts};
  // Argus names each alert by its labels' fingerprint, as Alertmanager.
  label_set base{
      {"cluster", cluster}, {"instance", target.address()}, {"job", "toggle"}};
  auto full_labels = base;
  full_labels.insert(
      {{"alertname", "ArgusItDiskFull"}, {"severity", "critical"}});
  auto slow_labels = base;
  slow_labels.insert(
      {{"alertname", "ArgusItDiskSlow"}, {"severity", "warning"}});
  auto full_key = fingerprint(full_labels);
  auto slow_key = fingerprint(slow_labels);

  auto full = s.await_alert(
      manager, full_key, [](auto&) { return true; }, 30s);
  auto slow = s.await_alert(
      manager, slow_key, [](auto&) { return true; }, 10s);
  INFO("prometheus log:\n" << prom.log() << "\nargus log:\n" << s.log());
  REQUIRE_FALSE(full.is_null());
  REQUIRE_FALSE(slow.is_null());
  auto& parent = full["type"] == "parent" ? full : slow;
  auto& child = full["type"] == "parent" ? slow : full;
  CHECK(parent["type"] == "parent");
  CHECK(child["type"] == "child");
  CHECK(child["parent_dedupKey"] == parent["dedupKey"]);
  CHECK(parent["grouping_value"] == cluster);
  CHECK(full["severity"] == "high");
  CHECK(full["summary"] == "disk full");
  CHECK(slow["severity"] == "medium");
  CHECK(slow["summary"] == "ArgusItDiskSlow");
  CHECK(full["details"]["labels"]["job"] == "toggle");
  CHECK(full["details"]["generatorURL"].get<std::string>().find("/graph?") !=
        std::string::npos);

  // Prometheus's scrape of Argus's /metrics is up.
  CHECK(s.http().get("/metrics").status == 200);
  auto up = eventually(
      [&] {
        auto result = prom.query("up{job=\"argus\"}");
        return result.is_array() && result.size() == 1 &&
               result[0]["value"][1] == "1";
      },
      20s);
  INFO(prom.query("up{job=\"argus\"}").dump());
  CHECK(up);

  // The rule stops firing: both resolve.
  target.set("argus_it_firing", 0);
  auto parent_key = parent["dedupKey"].get<std::string>();
  auto child_key = child["dedupKey"].get<std::string>();
  CHECK(resolved(s.await_alert(manager, child_key, resolved, 20s)));
  CHECK(resolved(s.await_alert(manager, parent_key, resolved, 5s)));
  // Re-sends only counted: one group, opened and closed once.
  CHECK(all_alerts(s, manager).size() == 2);
  auto notes = s.notifications_of(manager);
  REQUIRE(notes.size() == 2);
  CHECK(notes[0]["kind"] == "parent_resolved");
  CHECK(notes[1]["kind"] == "parent_opened");
  CHECK(s.alert(manager, full_key)["event_count"].get<int>() >= 2);
}

TEST_CASE("a firing alert resolves when its endsAt passes without a re-send",
          "[integration][alertmanager][prometheus]") {
  auto& s = am_server();
  auto manager = manager_grouping_by(s, "labels.cluster");
  scrape_target target;
  target.set("argus_it_firing", 1);
  prometheus_options opts;
  opts.alertmanager = "127.0.0.1:" + std::to_string(s.port());
  opts.path_prefix = "/am/" + manager;
  opts.scrape_jobs = {{"toggle", target.address()}};
  opts.rules_yaml = "  - alert: ArgusItSenderDies\n"
                    "    expr: argus_it_firing == 1\n";
  // endsAt is 4 x 1 s ahead of each evaluation.
  opts.resend_delay = 1s;
  prometheus_server prom{opts};
  auto key = fingerprint({{"alertname", "ArgusItSenderDies"},
                          {"instance", target.address()},
                          {"job", "toggle"}});
  auto firing = s.await_alert(
      manager, key, [](auto&) { return true; }, 30s);
  REQUIRE_FALSE(firing.is_null());
  // The sender dies without resolving: the alert ends at its last endsAt.
  prom.kill9();
  auto gone = s.await_alert(manager, key, resolved, 15s);
  INFO(gone.dump());
  REQUIRE_FALSE(gone.is_null());
  CHECK(gone["resolved_by"] == "expired");
  CHECK(s.notifications_of(manager).size() == 2);
}

TEST_CASE("amtool adds and queries alerts", "[integration][alertmanager]") {
  auto& s = am_server();
  auto manager = manager_grouping_by(s, "labels.cluster");
  auto url = am_url(s, manager);
  auto cluster = unique_name("c");
  auto add = run_amtool(url, {"alert", "add", "alertname=AmtoolDown",
                              "cluster=" + cluster, "severity=warning",
                              "--annotation=summary=amtool says hi"});
  INFO(add.err);
  REQUIRE(add.exit_code == 0);
  auto down_key = fingerprint({{"alertname", "AmtoolDown"},
                               {"cluster", cluster},
                               {"severity", "warning"}});
  auto down = s.await_alert(manager, down_key);
  REQUIRE_FALSE(down.is_null());
  CHECK(down["type"] == "parent");
  CHECK(down["severity"] == "medium");
  CHECK(down["summary"] == "amtool says hi");
  add = run_amtool(url, {"alert", "add", "AmtoolSlow", "cluster=" + cluster});
  REQUIRE(add.exit_code == 0);
  auto slow_key =
      fingerprint({{"alertname", "AmtoolSlow"}, {"cluster", cluster}});
  auto slow = s.await_alert(manager, slow_key);
  REQUIRE_FALSE(slow.is_null());
  CHECK(slow["parent_dedupKey"] == down_key);
  CHECK(slow["severity"] == "low");

  auto all = amtool_query(s, manager);
  REQUIRE(all.size() == 2);
  auto& first = all[0]["fingerprint"] == down_key ? all[0] : all[1];
  CHECK(first["labels"]["alertname"] == "AmtoolDown");
  CHECK(first["annotations"]["summary"] == "amtool says hi");
  CHECK(first["status"]["state"] == "active");
  CHECK(first["receivers"][0]["name"] == manager);
  CHECK(amtool_query(s, manager, {"alertname=AmtoolDown"}).size() == 1);
  CHECK(amtool_query(s, manager, {"alertname=~Amtool.*"}).size() == 2);
  CHECK(amtool_query(s, manager, {"severity!=warning"}).size() == 1);
  CHECK(amtool_query(s, manager, {"cluster=nope"}).empty());
  auto simple = run_amtool(url, {"alert", "query"});
  CHECK(simple.exit_code == 0);
  CHECK(simple.out.find("AmtoolDown") != std::string::npos);
  CHECK(simple.out.find("amtool says hi") != std::string::npos);

  SECTION("an end in the past resolves") {
    auto past = rfc3339(std::chrono::system_clock::now() - 2s);
    add = run_amtool(url, {"alert", "add", "AmtoolSlow", "cluster=" + cluster,
                           "--end=" + past});
    REQUIRE(add.exit_code == 0);
    CHECK(resolved(s.await_alert(manager, slow_key, resolved)));
    auto left = amtool_query(s, manager);
    REQUIRE(left.size() == 1);
    CHECK(left[0]["fingerprint"] == down_key);
  }
  SECTION("an end in the future resolves then") {
    auto soon = std::chrono::system_clock::now() + 2s;
    add = run_amtool(url, {"alert", "add", "AmtoolSoon", "cluster=x",
                           "--end=" + rfc3339(soon)});
    REQUIRE(add.exit_code == 0);
    auto key = fingerprint({{"alertname", "AmtoolSoon"}, {"cluster", "x"}});
    auto a = s.await_alert(manager, key);
    REQUIRE_FALSE(a.is_null());
    CHECK(a["status"] == "active");
    // A restart in between: the end is kept with the alert.
    REQUIRE(s.restart() == 0);
    auto gone = s.await_alert(manager, key, resolved, 10s);
    REQUIRE_FALSE(gone.is_null());
    auto resolved_at = parse_time(gone["resolved_at"].get<std::string>());
    CHECK(resolved_at >=
          std::chrono::time_point_cast<std::chrono::seconds>(soon));
  }
}

TEST_CASE("the API answers as Alertmanager does",
          "[integration][alertmanager]") {
  auto& s = am_server();
  auto& http = s.http();
  auto manager = manager_grouping_by(s, "labels.cluster");
  auto path = "/am/" + manager + "/api/v2/alerts";
  json good{{"labels", {{"alertname", "Good"}, {"cluster", "c1"}}},
            {"annotations", {{"summary", "fine"}}}};
  auto key = fingerprint({{"alertname", "Good"}, {"cluster", "c1"}});

  SECTION("200 with an empty body; repeats only count") {
    for (int i = 0; i < 3; ++i) {
      auto res = http.post(path, json::array({good}));
      CHECK(res.status == 200);
      CHECK(res.text.empty());
    }
    auto a = s.await_alert(manager, key,
                           [](const json& x) { return x["event_count"] == 3; });
    REQUIRE_FALSE(a.is_null());
    CHECK(a["type"] == "parent");
    CHECK(a["status"] == "active");
    CHECK(s.notifications_of(manager).size() == 1);
  }
  SECTION("invalid alerts get one 400, valid ones are taken") {
    json bad_name{{"labels", {{"bad-name", "x"}}}};
    json no_labels{{"labels", json::object()}};
    json backwards{{"labels", {{"a", "b"}}},
                   {"startsAt", "2026-12-02T12:00:00Z"},
                   {"endsAt", "2026-12-02T11:00:00Z"}};
    auto res =
        http.post(path, json::array({no_labels, bad_name, backwards, good}));
    CHECK(res.status == 400);
    CHECK(res.body == "at least one label pair required; invalid label set: "
                      "invalid name \"bad-name\"; start time must be before "
                      "end time");
    CHECK_FALSE(s.await_alert(manager, key).is_null());
  }
  SECTION("bodies that are not alerts") {
    CHECK(http.post(path, good).status == 400);
    CHECK(http.post_raw(path, "[{").status == 400);
    auto res = http.post(path, json::array({{{"labels", {{"a", "b"}}},
                                             {"startsAt", "yesterday"}}}));
    CHECK(res.status == 400);
    CHECK(res.body.get<std::string>().find("startsAt") != std::string::npos);
    res = http.post("/am/no-such-manager/api/v2/alerts", json::array({good}));
    CHECK(res.status == 404);
    CHECK(res.body.is_string());
  }
  SECTION(
      "endsAt at or before now resolves; resolved re-sends change nothing") {
    REQUIRE(http.post(path, json::array({good})).status == 200);
    REQUIRE_FALSE(s.await_alert(manager, key).is_null());
    auto ended = good;
    ended["endsAt"] = rfc3339(std::chrono::system_clock::now() - 1s);
    for (int i = 0; i < 3; ++i)
      REQUIRE(http.post(path, json::array({ended})).status == 200);
    auto a = s.await_alert(manager, key, resolved);
    REQUIRE_FALSE(a.is_null());
    REQUIRE(s.settle());
    CHECK(s.alert(manager, key)["event_count"] == 2);
    CHECK(s.notifications_of(manager).size() == 2);
  }
  SECTION("GET lists active alerts with filters; status answers") {
    REQUIRE(http.post(path, json::array({good})).status == 200);
    REQUIRE_FALSE(s.await_alert(manager, key).is_null());
    auto list = http.get(path);
    REQUIRE(list.status == 200);
    REQUIRE(list.body.size() == 1);
    auto& a = list.body[0];
    CHECK(a["fingerprint"] == key);
    CHECK(a["labels"] == good["labels"]);
    CHECK(a["annotations"] == good["annotations"]);
    CHECK(a["status"] == json{{"state", "active"},
                              {"silencedBy", json::array()},
                              {"inhibitedBy", json::array()}});
    for (auto field : {"startsAt", "endsAt", "updatedAt"})
      CHECK_NOTHROW(parse_time(a[field].get<std::string>()));
    CHECK(http.get(path + "?active=false").body == json::array());
    CHECK(http.get(path + "?filter=" + url_encode("cluster=c2")).body ==
          json::array());
    CHECK(http.get(path + "?filter=" + url_encode("cluster=~c.")).body.size() ==
          1);
    CHECK(http.get(path + "?receiver=nobody").body == json::array());
    CHECK(http.get(path + "?filter=" + url_encode("a=~\"(\"")).status == 400);
    CHECK(http.get(path + "?active=maybe").status == 400);
    auto status = http.get("/am/" + manager + "/api/v2/status");
    REQUIRE(status.status == 200);
    CHECK(status.body["cluster"]["status"] == "disabled");
    CHECK(status.body["versionInfo"]["version"].is_string());
    CHECK(status.body["config"]["original"].get<std::string>().find(manager) !=
          std::string::npos);
    CHECK_NOTHROW(parse_time(status.body["uptime"].get<std::string>()));
  }
}

TEST_CASE("a manager maps severities its own way",
          "[integration][alertmanager]") {
  auto& s = am_server();
  auto manager = manager_grouping_by(
      s, "labels.cluster",
      {{"alertmanager",
        {{"severity_map", {{"page", "high"}, {"ticket", "low"}}},
         {"default_severity", "medium"}}}});
  auto got = s.http().get("/v1/event-managers/" + manager);
  CHECK(got.data()["alertmanager"]["severity_map"] ==
        json{{"page", "high"}, {"ticket", "low"}});
  auto path = "/am/" + manager + "/api/v2/alerts";
  auto post = [&](const std::string& severity) {
    json alert{{"labels", {{"alertname", "A"}, {"severity", severity}}}};
    REQUIRE(s.http().post(path, json::array({alert})).status == 200);
    auto a = s.await_alert(
        manager, fingerprint({{"alertname", "A"}, {"severity", severity}}));
    REQUIRE_FALSE(a.is_null());
    return a["severity"];
  };
  CHECK(post("PAGE") == "high");
  CHECK(post("ticket") == "low");
  CHECK(post("critical") == "medium");
  auto bad = s.http().put("/v1/event-managers/" + manager,
                          {{"alertmanager", {{"default_severity", "huge"}}}});
  CHECK(bad.status == 400);
}

TEST_CASE("rules group by dotted paths and key tuples, kept across restarts",
          "[integration][grouping]") {
  auto& s = am_server();
  auto& http = s.http();
  auto rule = http.post("/v1/grouping-rules",
                        {{"name", "by region and team"},
                         {"grouping_keys", {"region", "labels.team"}},
                         {"time_window_seconds", 300}});
  INFO(rule.text);
  REQUIRE(rule.status == 201);
  CHECK(rule.data()["grouping_key"].is_null());
  CHECK(rule.data()["grouping_keys"] == json{"region", "labels.team"});
  auto rule_id = rule.data()["id"].get<std::string>();
  auto manager =
      s.create_manager(rule_id, unique_name("tuple"))["id"].get<std::string>();
  s.trigger(manager, "a", {{"region", "eu"}, {"labels", {{"team", "db"}}}});
  s.trigger(manager, "b", {{"region", "eu"}, {"labels", {{"team", "db"}}}});
  s.trigger(manager, "c", {{"region", "eu"}});
  auto a = s.await_alert(manager, "a");
  auto b = s.await_alert(manager, "b");
  auto c = s.await_alert(manager, "c");
  CHECK(a["grouping_value"] == R"(["eu","db"])");
  CHECK(b["parent_dedupKey"] == "a");
  CHECK(c["grouping_value"] == R"(["eu",null])");
  CHECK(c["type"] == "parent");

  SECTION("rule errors") {
    auto both = http.post("/v1/grouping-rules", {{"name", "x"},
                                                 {"grouping_key", "a"},
                                                 {"grouping_keys", {"b", "c"}},
                                                 {"time_window_seconds", 60}});
    CHECK(both.status == 400);
    auto twice = http.post("/v1/grouping-rules", {{"name", "x"},
                                                  {"grouping_keys", {"b", "b"}},
                                                  {"time_window_seconds", 60}});
    CHECK(twice.status == 400);
    CHECK(twice.error_message() == "grouping_keys names 'b' twice");
    auto not_strings =
        http.post("/v1/grouping-rules", {{"name", "x"},
                                         {"grouping_keys", {"b", 1}},
                                         {"time_window_seconds", 60}});
    CHECK(not_strings.status == 400);
  }
  SECTION("one key in a list is that key; a single key again replaces it") {
    auto one = http.put("/v1/grouping-rules/" + rule_id,
                        {{"grouping_keys", {"region"}}});
    CHECK(one.data()["grouping_key"] == "region");
    CHECK(one.data()["grouping_keys"] == json{"region"});
    s.trigger(manager, "d", {{"region", "us"}});
    CHECK(s.await_alert(manager, "d")["grouping_value"] == "us");
  }
  SECTION("the rule and a manager's severity mapping survive a restart") {
    auto mapped = http.put("/v1/event-managers/" + manager,
                           {{"alertmanager", {{"default_severity", "high"}}}});
    REQUIRE(mapped.status == 200);
    REQUIRE(s.restart() == 0);
    auto again = http.get("/v1/grouping-rules/" + rule_id);
    CHECK(again.data()["grouping_keys"] == json{"region", "labels.team"});
    CHECK(http.get("/v1/event-managers/" + manager)
              .data()["alertmanager"]["default_severity"] == "high");
    s.trigger(manager, "e", {{"region", "eu"}, {"labels", {{"team", "db"}}}});
    CHECK(s.await_alert(manager, "e")["parent_dedupKey"] == "a");
  }
}
