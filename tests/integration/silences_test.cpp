// Silences end to end: the API (/v1 and Alertmanager's, through the real
// amtool and argusctl), alerts marked `silenced_by`, and notifications held
// back at fan-out and recorded as `suppressed`, with real receivers.

#include "delivery/receiver_server.hpp"
#include "integration/harness.hpp"
#include "integration/senders.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

namespace {

using namespace argus::test;

server_options silence_options() {
  server_options opts;
  opts.remoting = true;
  return opts;
}

server& silence_server() {
  static server instance{silence_options()};
  return instance;
}

/// A manager grouping on `class` whose one receiver is `url`.
std::string manager_with(server& s, const std::string& url) {
  auto rule = s.create_rule("class", 300, unique_name("rule"));
  json body{{"id", unique_name("sm")},
            {"name", "silences"},
            {"grouping_rule_id", rule["id"]},
            {"notification_config",
             {{"receivers", json::array({{{"name", "ops"}, {"url", url}}})}}}};
  auto res = s.http().post("/v1/event-managers", body);
  INFO(res.text);
  REQUIRE(res.status == 201);
  return res.data()["id"].get<std::string>();
}

json matcher(const std::string& name, const std::string& value,
             bool regex = false, bool equal = true) {
  return {
      {"name", name}, {"value", value}, {"isRegex", regex}, {"isEqual", equal}};
}

/// Creates a silence of `manager` lasting an hour; returns its `data`.
json silence(server& s, const std::string& manager, json matchers,
             const json& extra = json::object()) {
  json body{{"matchers", std::move(matchers)},
            {"event_manager_id", manager},
            {"endsAt", "2200-01-01T00:00:00Z"},
            {"createdBy", "alice"},
            {"comment", "deploy"}};
  body.update(extra);
  auto res = s.http().post("/v1/silences", body);
  INFO(res.text);
  REQUIRE(res.status == 201);
  return res.data();
}

std::string expire(server& s, const std::string& id) {
  auto res = s.http().del("/v1/silences/" + id);
  INFO(res.text);
  REQUIRE(res.status == 200);
  return res.data()["state"].get<std::string>();
}

/// The stored notifications of `manager` (newest first), with deliveries.
json notes_of(server& s, const std::string& manager,
              const std::string& query = "") {
  auto res = s.http().get("/v1/notifications?limit=1000&" + query);
  INFO(res.text);
  REQUIRE(res.status == 200);
  auto out = json::array();
  for (auto& n : res.data())
    if (n["alert"]["event_manager_id"] == manager)
      out.push_back(n);
  return out;
}

/// The one notification of `kind` for parent `dedup`, once fanned out.
json note(server& s, const std::string& manager, const std::string& dedup,
          const std::string& kind) {
  json found;
  eventually([&] {
    for (auto& n : notes_of(s, manager))
      if (n["alert"]["dedupKey"] == dedup && n["kind"] == kind &&
          !n["deliveries"].empty())
        found = n;
    return !found.is_null();
  });
  INFO(dedup << " " << kind);
  REQUIRE_FALSE(found.is_null());
  return found;
}

std::string delivery_state(const json& n) {
  return n["deliveries"][0]["state"].get<std::string>();
}

std::vector<std::string> bodies_of(receiver_server& rx) {
  std::vector<std::string> out;
  for (auto& req : rx.requests()) {
    auto body = json::parse(req.body);
    out.push_back(body["alert"]["dedupKey"].get<std::string>() + " " +
                  body["notification"]["type"].get<std::string>());
  }
  return out;
}

json sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

} // namespace

TEST_CASE("silences API: create, read, list with state, update, expire",
          "[integration][silences]") {
  auto& s = silence_server();
  auto m = s.fresh_manager();
  auto made = silence(s, m, {matcher("class", "db")});
  auto id = made["id"].get<std::string>();
  CHECK(made["state"] == "active");
  CHECK(made["createdBy"] == "alice");
  CHECK(made["matchers"][0] == matcher("class", "db"));
  auto got = s.http().get("/v1/silences/" + id);
  REQUIRE(got.status == 200);
  CHECK(got.data()["event_manager_id"] == m);

  auto later = silence(s, m, {matcher("class", "db")},
                       {{"startsAt", "2199-01-01T00:00:00Z"}});
  CHECK(later["state"] == "pending");

  auto put = s.http().put("/v1/silences/" + id, {{"comment", "longer deploy"}});
  INFO(put.text);
  REQUIRE(put.status == 200);
  CHECK(put.data()["comment"] == "longer deploy");
  CHECK(put.data()["matchers"] == made["matchers"]);

  CHECK(expire(s, id) == "expired");
  auto listed = s.http().get("/v1/silences");
  REQUIRE(listed.status == 200);
  json mine;
  for (auto& x : listed.data())
    if (x["id"] == id)
      mine = x;
  CHECK(mine["state"] == "expired"); // expired silences stay listed
  CHECK(s.http().get("/v1/silences/nope").status == 404);
  CHECK(s.http().del("/v1/silences/nope").status == 404);
}

TEST_CASE("silences API: invalid silences are 400s naming the field",
          "[integration][silences]") {
  auto& s = silence_server();
  auto m = s.fresh_manager();
  auto post = [&](json body) {
    json base{{"matchers", {matcher("class", "db")}},
              {"endsAt", "2200-01-01T00:00:00Z"},
              {"createdBy", "alice"},
              {"comment", "deploy"}};
    base.update(body);
    return s.http().post("/v1/silences", base);
  };
  auto bad_regex = post({{"matchers", {matcher("alertname", "Disk(", true)}}});
  CHECK(bad_regex.status == 400);
  CHECK(bad_regex.error_message() ==
        "field 'matchers[0].value': alertname=~\"Disk(\" is not a valid "
        "regular expression");
  CHECK(post({{"matchers", json::array()}}).error_message() ==
        "field 'matchers' needs at least one matcher");
  CHECK(post({{"matchers", {{{"name", "a"}}}}}).error_message() ==
        "field 'matchers[0].value' is required");
  CHECK(post({{"endsAt", "2000-01-01T00:00:00Z"}}).error_message() ==
        "field 'endsAt' must be after 'startsAt'");
  CHECK(post({{"endsAt", 5}}).error_message() ==
        "field 'endsAt' must be an RFC 3339 string");
  CHECK(post({{"comment", ""}}).error_message() ==
        "field 'comment' is required");
  CHECK(post({{"event_manager_id", "nobody"}}).error_message() ==
        "event_manager_id 'nobody' does not exist");
  CHECK(post({{"event_manager_id", m}}).status == 201);
}

TEST_CASE("a silence made before a group: grouped, stored, marked, and "
          "nothing delivered",
          "[integration][silences]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto& s = silence_server();
  auto m = manager_with(s, rx.url());
  auto id = silence(s, m, {matcher("class", "db")})["id"];
  s.trigger(m, "p", {{"class", "db"}});
  s.trigger(m, "c", {{"class", "db"}});
  s.trigger(m, "w", {{"class", "web"}});
  // Grouped as without the silence.
  auto c = s.await_alert(m, "c");
  CHECK(c["type"] == "child");
  CHECK(c["parent_dedupKey"] == "p");
  CHECK(c["silenced_by"] == json::array({id}));
  auto p = s.await_alert(m, "p", [](auto& a) { return a["child_count"] == 1; });
  CHECK(p["silenced_by"] == json::array({id}));
  // "w" is a group of its own: its write may land after "p"'s child.
  CHECK(s.await_alert(m, "w")["silenced_by"] == json::array());
  // The web parent is delivered, the silenced one recorded as suppressed.
  auto opened = note(s, m, "p", "parent_opened");
  CHECK(delivery_state(opened) == "suppressed");
  CHECK(opened["deliveries"][0]["last_error"] ==
        "silenced by " + id.get<std::string>());
  CHECK(delivery_state(note(s, m, "w", "parent_opened")) != "suppressed");
  s.resolve(m, "c");
  s.resolve(m, "p");
  CHECK(delivery_state(note(s, m, "p", "parent_resolved")) == "suppressed");
  REQUIRE(eventually([&] { return !rx.requests().empty(); }));
  REQUIRE(s.settle());
  CHECK(bodies_of(rx) == std::vector<std::string>{"w parent_opened"});
  auto listed = notes_of(s, m, "state=suppressed");
  CHECK(listed.size() == 2);
  // Every event is kept.
  CHECK(s.alert(m, "p")["status"] == "resolved");
  CHECK(s.alert(m, "c")["event_count"] == 2);
}

TEST_CASE("a silence made during a group, and one expired mid-group",
          "[integration][silences]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto& s = silence_server();
  auto m = manager_with(s, rx.url());
  s.trigger(m, "p", {{"class", "db"}});
  CHECK(delivery_state(note(s, m, "p", "parent_opened")) != "suppressed");
  auto id = silence(s, m, {matcher("class", "db")})["id"].get<std::string>();
  s.trigger(m, "c", {{"class", "db"}});
  CHECK(s.await_alert(m, "c")["parent_dedupKey"] == "p");
  CHECK(s.alert(m, "p")["silenced_by"] == json::array({id}));
  s.resolve(m, "c");
  s.resolve(m, "p");
  CHECK(delivery_state(note(s, m, "p", "parent_resolved")) == "suppressed");

  // Expiry mid-group: opened under the silence, resolved after it ended.
  s.trigger(m, "q", {{"class", "db"}});
  CHECK(delivery_state(note(s, m, "q", "parent_opened")) == "suppressed");
  CHECK(expire(s, id) == "expired");
  CHECK(s.alert(m, "q")["silenced_by"] == json::array());
  s.trigger(m, "q2", {{"class", "db"}});
  CHECK(s.await_alert(m, "q2")["parent_dedupKey"] == "q");
  s.resolve(m, "q2");
  s.resolve(m, "q");
  CHECK(delivery_state(note(s, m, "q", "parent_resolved")) != "suppressed");
  REQUIRE(eventually([&] {
    auto got = bodies_of(rx);
    return std::count(got.begin(), got.end(), "q parent_resolved") == 1;
  }));
}

TEST_CASE("overlapping silences, regex and negative matchers",
          "[integration][silences]") {
  auto& s = silence_server();
  auto m = s.fresh_manager();
  auto by_regex = silence(s, m, {matcher("severity", "hi.*", true)})["id"]
                      .get<std::string>();
  auto by_negation =
      silence(s, m, {matcher("class", "web", false, false)})["id"]
          .get<std::string>();
  // host is a detail of the event; a regex that must match it whole.
  auto by_detail =
      silence(s, m, {matcher("host", "db-.", true)})["id"].get<std::string>();
  s.trigger(m, "a", {{"class", "db"}, {"host", "db-a"}}, "high");
  s.trigger(m, "b", {{"class", "web"}, {"host", "db-ab"}}, "low");
  s.trigger(m, "c", {{"class", "web"}}, "high");
  CHECK(s.await_alert(m, "a")["silenced_by"] ==
        sorted({by_regex, by_negation, by_detail}));
  CHECK(s.await_alert(m, "b")["silenced_by"] == json::array());
  CHECK(s.await_alert(m, "c")["silenced_by"] == json::array({by_regex}));
  expire(s, by_regex);
  CHECK(s.alert(m, "a")["silenced_by"] == sorted({by_negation, by_detail}));
  CHECK(s.alert(m, "c")["silenced_by"] == json::array());
  // Another manager's alerts are not touched by these silences.
  auto other = s.fresh_manager();
  s.trigger(other, "a", {{"class", "db"}, {"host", "db-a"}}, "high");
  CHECK(s.await_alert(other, "a")["silenced_by"] == json::array());
}

TEST_CASE("silences survive a restart", "[integration][silences]") {
  server s;
  auto m = s.fresh_manager();
  auto id = silence(s, m, {matcher("class", "db")})["id"].get<std::string>();
  auto gone = silence(s, m, {matcher("class", "web")})["id"].get<std::string>();
  expire(s, gone);
  REQUIRE(s.restart() == 0);
  auto got = s.http().get("/v1/silences/" + id);
  INFO(got.text);
  REQUIRE(got.status == 200);
  CHECK(got.data()["state"] == "active");
  CHECK(got.data()["matchers"][0] == matcher("class", "db"));
  CHECK(s.http().get("/v1/silences/" + gone).data()["state"] == "expired");
  s.trigger(m, "p", {{"class", "db"}});
  CHECK(s.await_alert(m, "p")["silenced_by"] == json::array({id}));
}

TEST_CASE("amtool adds, queries and expires silences",
          "[integration][silences][alertmanager]") {
  auto& s = silence_server();
  auto m = s.fresh_manager("labels.cluster");
  auto url = "http://127.0.0.1:" + std::to_string(s.port()) + "/am/" + m;
  auto add =
      run_amtool(url, {"silence", "add", "alertname=DiskFull", "cluster=~eu-.*",
                       "--comment=deploy", "--author=alice", "--duration=1h"});
  INFO(add.err);
  REQUIRE(add.exit_code == 0);
  auto id = add.out.substr(0, add.out.find('\n'));
  REQUIRE_FALSE(id.empty());

  auto query = run_amtool(url, {"silence", "query", "-o", "json"});
  INFO(query.err);
  REQUIRE(query.exit_code == 0);
  auto listed = query.json_out();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["id"] == id);
  CHECK(listed[0]["status"]["state"] == "active");
  CHECK(listed[0]["createdBy"] == "alice");
  CHECK(listed[0]["comment"] == "deploy");
  auto filtered =
      run_amtool(url, {"silence", "query", "-o", "json", "alertname=Other"});
  CHECK(filtered.json_out().empty());

  // An Alertmanager alert it matches is marked, through its labels.
  auto post = s.http().post(
      "/am/" + m + "/api/v2/alerts",
      json::array(
          {{{"labels", {{"alertname", "DiskFull"}, {"cluster", "eu-1"}}}}}));
  REQUIRE(post.status == 200);
  json marked;
  REQUIRE(eventually([&] {
    auto all = s.alerts("event_manager_id=" + m);
    if (all.empty())
      return false;
    marked = all[0];
    return true;
  }));
  CHECK(marked["silenced_by"] == json::array({id}));
  // amtool hides silenced alerts unless asked (-s), as with Alertmanager.
  auto hidden = run_amtool(url, {"alert", "query", "-o", "json"});
  INFO(hidden.err);
  CHECK(hidden.json_out().empty());
  auto shown = run_amtool(url, {"alert", "query", "-s", "-o", "json"});
  REQUIRE(shown.json_out().size() == 1);
  CHECK(shown.json_out()[0]["status"]["state"] == "suppressed");
  CHECK(shown.json_out()[0]["status"]["silencedBy"] == json::array({id}));

  auto expired = run_amtool(url, {"silence", "expire", id});
  INFO(expired.err);
  REQUIRE(expired.exit_code == 0);
  CHECK(run_amtool(url, {"silence", "query", "-o", "json"}).json_out().empty());
  auto all = run_amtool(url, {"silence", "query", "--expired", "-o", "json"});
  INFO(all.out);
  REQUIRE(all.json_out().size() == 1);
  CHECK(all.json_out()[0]["status"]["state"] == "expired");
  auto one = s.http().get("/am/" + m + "/api/v2/silence/" + id);
  CHECK(one.status == 200);
  CHECK(one.body["status"]["state"] == "expired");
}

TEST_CASE("argusctl lists, adds and expires silences",
          "[integration][silences]") {
  auto& s = silence_server();
  auto m = s.fresh_manager();
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--node", s.node_address()});
    auto r = run_argusctl(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  };
  auto made = ctl({"--json", "silences", "add", "--matcher", "class=db",
                   "--matcher", "severity=~\"hi.*\"", "--comment", "deploy",
                   "--by", "bob", "--manager", m, "--duration", "2h"})
                  .json_out();
  auto id = made["id"].get<std::string>();
  CHECK(made["state"] == "active");
  CHECK(made["createdBy"] == "bob");
  CHECK(made["matchers"][1] == matcher("severity", "hi.*", true));
  auto table = ctl({"silences", "list"}).out;
  CHECK(table.find(id) != std::string::npos);
  CHECK(ctl({"--json", "silences", "expire", id}).json_out()["state"] ==
        "expired");
  CHECK(s.http().get("/v1/silences/" + id).data()["state"] == "expired");
  auto bad = run_argusctl({"--node", s.node_address(), "silences", "add",
                           "--matcher", "a=~\"(\"", "--comment", "x"});
  // The regex is checked before the node is asked: a usage error.
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--matcher") != std::string::npos);
}

TEST_CASE("argusctl adds maintenance windows", "[integration][silences]") {
  auto& s = silence_server();
  auto m = s.fresh_manager();
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--node", s.node_address()});
    return run_argusctl(args);
  };
  auto weekly =
      ctl({"--json", "silences", "add", "--matcher", "class=db", "--comment",
           "weekly", "--manager", m, "--time-zone", "Europe/Berlin", "--days",
           "sat,sun", "--start", "02:00", "--window", "2h"});
  INFO(weekly.err);
  REQUIRE(weekly.exit_code == 0);
  auto made = weekly.json_out();
  CHECK(made["schedule"]["days"] == json::array({"sat", "sun"}));
  CHECK(made["schedule"]["duration_seconds"] == 7200);
  CHECK(made["endsAt"].is_null()); // no --duration: for ever
  CHECK(made["next_occurrences"].size() == 3);
  auto cron =
      ctl({"--json", "silences", "add", "--matcher", "class=db", "--comment",
           "nightly", "--manager", m, "--time-zone", "UTC", "--cron",
           "30 1 * * *", "--window", "30m", "--duration", "7d"});
  INFO(cron.err);
  REQUIRE(cron.exit_code == 0);
  CHECK(cron.json_out()["schedule"]["cron"] == "30 1 * * *");
  CHECK_FALSE(cron.json_out()["endsAt"].is_null());
  // The node names what is wrong; flags without a zone are usage errors.
  auto bad = ctl({"silences", "add", "--matcher", "class=db", "--comment", "x",
                  "--time-zone", "Nowhere/Town", "--days", "sun", "--start",
                  "02:00", "--window", "1h"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("schedule.time_zone") != std::string::npos);
  auto usage = ctl({"silences", "add", "--matcher", "class=db", "--comment",
                    "x", "--days", "sun"});
  CHECK(usage.exit_code == 2);
}
