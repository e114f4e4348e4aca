// Issue 13's rest, end to end with real receivers: a parent opened under a
// silence notifies its opening once when the silence ends; maintenance
// windows (schedules) on and off around the real time, with their next
// occurrences listed; inhibition on while its source is active and off
// when it resolves. Daylight saving in full is tested on the domain level
// (tests/unit/schedule_test.cpp), where time is a parameter; here one
// server runs with its clock shifted into a spring-forward night.

#include "delivery/receiver_server.hpp"
#include "integration/harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <set>
#include <thread>

namespace {

using namespace argus::test;
using namespace std::chrono_literals;

server& maintenance_server() {
  static server instance{server_options{}};
  return instance;
}

json matcher(const std::string& name, const std::string& value) {
  return {
      {"name", name}, {"value", value}, {"isRegex", false}, {"isEqual", true}};
}

/// A manager grouping on `class` whose one receiver is `url`, with `extra`
/// fields (e.g. inhibit_rules).
std::string manager_with(server& s, const std::string& url,
                         const json& extra = json::object()) {
  auto rule = s.create_rule("class", 300, unique_name("rule"));
  json body{{"id", unique_name("mm")},
            {"name", "maintenance"},
            {"grouping_rule_id", rule["id"]},
            {"notification_config",
             {{"receivers", json::array({{{"name", "ops"}, {"url", url}}})}}}};
  body.update(extra);
  auto res = s.http().post("/v1/event-managers", body);
  INFO(res.text);
  REQUIRE(res.status == 201);
  return res.data()["id"].get<std::string>();
}

json silence(server& s, const std::string& manager, const std::string& cls,
             const json& extra = json::object()) {
  json body{{"matchers", {matcher("class", cls)}},
            {"event_manager_id", manager},
            {"endsAt", "2200-01-01T00:00:00Z"},
            {"createdBy", "alice"},
            {"comment", "maintenance"}};
  body.update(extra);
  auto res = s.http().post("/v1/silences", body);
  INFO(res.text);
  REQUIRE(res.status == 201);
  return res.data();
}

/// Inhibit rules: an outage (class) mutes the low alerts of its cluster.
json outage_mutes_low_alerts() {
  return json::array({{{"source_matchers", {matcher("class", "outage")}},
                       {"target_matchers", {matcher("severity", "low")}},
                       {"equal", {"cluster"}}}});
}

/// "dedupKey type" of every body the receiver got, in order.
std::vector<std::string> bodies_of(receiver_server& rx) {
  std::vector<std::string> out;
  for (auto& req : rx.requests()) {
    auto body = json::parse(req.body);
    out.push_back(body["alert"]["dedupKey"].get<std::string>() + " " +
                  body["notification"]["type"].get<std::string>());
  }
  return out;
}

size_t count_of(receiver_server& rx, const std::string& what) {
  auto got = bodies_of(rx);
  return static_cast<size_t>(std::count(got.begin(), got.end(), what));
}

/// The delivery state of the (first) opening of `dedup`, once fanned out
/// and settled (not pending).
std::string opening_state(server& s, const std::string& m,
                          const std::string& dedup) {
  std::string state;
  eventually([&] {
    for (auto& n : s.notifications_of(m))
      if (n["alert"]["dedupKey"] == dedup && n["kind"] == "parent_opened" &&
          !n["deliveries"].empty())
        state = n["deliveries"][0]["state"].get<std::string>();
    return !state.empty() && state != "pending";
  });
  return state;
}

/// Long enough for the worker's reviews (once a second) to have run twice.
void let_reviews_run(server& s) {
  REQUIRE(s.settle());
  std::this_thread::sleep_for(2500ms);
}

/// Sets the test clock offset for the servers started while it lives.
struct clock_shift {
  explicit clock_shift(std::chrono::seconds offset) {
    ::setenv("ARGUS_TEST_CLOCK_OFFSET_SECONDS",
             std::to_string(offset.count()).c_str(), 1);
  }
  ~clock_shift() { ::unsetenv("ARGUS_TEST_CLOCK_OFFSET_SECONDS"); }
};

/// A server whose clock reads 2027-03-28T02:59:00Z when it starts: 04:59
/// CEST on the night Europe/Berlin springs forward (02:00 CET -> 03:00
/// CEST at 01:00 UTC).
struct spring_forward_server {
  static std::chrono::seconds offset() {
    auto target = std::chrono::system_clock::time_point{
        std::chrono::seconds{1806202740}}; // 2027-03-28T02:59:00Z
    return std::chrono::duration_cast<std::chrono::seconds>(
        target - std::chrono::system_clock::now());
  }
  clock_shift shift{offset()};
  server instance{server_options{}};
};

/// A weekly window in UTC on the day three days from now: not in force now.
json window_in_three_days(std::string& day_start) {
  auto t = std::time(nullptr) + 3 * 24 * 3600;
  std::tm utc{};
  gmtime_r(&t, &utc);
  static const char* names[] = {"sun", "mon", "tue", "wed",
                                "thu", "fri", "sat"};
  char date[16];
  std::strftime(date, sizeof date, "%Y-%m-%d", &utc);
  day_start = std::string{date} + "T00:00:00.000Z";
  return {{"time_zone", "UTC"},
          {"days", {names[utc.tm_wday]}},
          {"start", "00:00"},
          {"duration_seconds", 3600}};
}

/// `n` triggers in one batch, each a group of its own (class and dedupKey
/// `<prefix><i>`), with `fields` merged into each.
void trigger_groups(server& s, const std::string& m, const std::string& prefix,
                    int n, const json& fields,
                    const std::string& severity = "high") {
  auto events = json::array();
  for (int i = 0; i < n; ++i) {
    json e{{"event_manager_id", m},
           {"summary", "storm"},
           {"severity", severity},
           {"action", "trigger"},
           {"class", prefix + std::to_string(i)},
           {"dedupKey", prefix + std::to_string(i)}};
    e.update(fields);
    events.push_back(std::move(e));
  }
  auto res = s.http().post("/v1/events/batch", events);
  INFO(res.text);
  REQUIRE(res.status == 202);
  REQUIRE(res.data()["accepted"] == n);
}

/// The number of `m`'s parent openings whose first delivery is `state`.
size_t openings_in(server& s, const std::string& m, const std::string& state) {
  size_t n = 0;
  for (auto& note : s.notifications_of(m, "state=" + state))
    if (note["kind"] == "parent_opened")
      ++n;
  return n;
}

/// The distinct dedupKeys of the openings the receiver got.
std::set<std::string> opened_keys(receiver_server& rx) {
  std::set<std::string> out;
  for (auto& body : bodies_of(rx))
    if (body.size() > 14 && body.substr(body.size() - 14) == " parent_opened")
      out.insert(body.substr(0, body.size() - 14));
  return out;
}

/// A window in force now: one starting every minute, lasting an hour.
json window_now() {
  return {{"time_zone", "Europe/Berlin"},
          {"cron", "* * * * *"},
          {"duration_seconds", 3600}};
}

/// A silence on `cluster=storm` in `m`, then `groups` new groups of that
/// cluster (`held-<i>`), all fanned out with their openings suppressed;
/// returns the silence's id.
std::string silenced_storm(server& s, const std::string& m, int groups) {
  auto id =
      silence(s, m, "", {{"matchers", {matcher("cluster", "storm")}}})["id"]
          .get<std::string>();
  trigger_groups(s, m, "held-", groups, {{"cluster", "storm"}});
  REQUIRE(s.settle());
  REQUIRE(eventually(
      [&] {
        return openings_in(s, m, "suppressed") == static_cast<size_t>(groups);
      },
      20s));
  return id;
}

} // namespace

TEST_CASE("when a silence ends, a still-active parent notifies its opening "
          "once, and one resolved meanwhile does not",
          "[integration][maintenance]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto& s = maintenance_server();
  auto m = manager_with(s, rx.url());
  auto id = silence(s, m, "db")["id"].get<std::string>();
  s.trigger(m, "p", {{"class", "db"}});
  s.trigger(m, "c", {{"class", "db"}});
  s.trigger(m, "r", {{"class", "cache"}}); // not silenced: a control
  CHECK(s.await_alert(m, "c")["parent_dedupKey"] == "p");
  CHECK(opening_state(s, m, "p") == "suppressed");
  auto other = silence(s, m, "queue")["id"].get<std::string>();
  s.trigger(m, "q", {{"class", "queue"}});
  CHECK(opening_state(s, m, "q") == "suppressed");
  s.resolve(m, "q"); // resolved while silenced
  CHECK(s.await_alert(m, "q", [](auto& a) {
    return a["status"] == "resolved";
  })["status"] == "resolved");
  let_reviews_run(s);
  CHECK(count_of(rx, "p parent_opened") == 0);

  REQUIRE(s.http().del("/v1/silences/" + id).status == 200);
  REQUIRE(s.http().del("/v1/silences/" + other).status == 200);
  REQUIRE(eventually([&] { return count_of(rx, "p parent_opened") == 1; }));
  // The released opening is stored under the held one's id.
  bool released = false;
  for (auto& n : s.notifications_of(m))
    if (n["alert"]["dedupKey"] == "p" && n["kind"] == "parent_opened" &&
        n["id"].get<std::string>().size() > 9 &&
        n["id"].get<std::string>().rfind("-released") ==
            n["id"].get<std::string>().size() - 9)
      released = true;
  CHECK(released);
  let_reviews_run(s);
  CHECK(count_of(rx, "p parent_opened") == 1);
  CHECK(count_of(rx, "q parent_opened") == 0);
  CHECK(count_of(rx, "r parent_opened") == 1);
  // Nothing was lost or regrouped while silenced.
  auto p = s.alert(m, "p");
  CHECK(p["status"] == "active");
  CHECK(p["child_count"] == 1);
  CHECK(p["silenced_by"] == json::array());
  // Later notifications of the group go out as usual.
  s.resolve(m, "c");
  s.resolve(m, "p");
  REQUIRE(eventually([&] { return count_of(rx, "p parent_resolved") == 1; }));
}

TEST_CASE("a silence that ends by its endsAt releases the opening it held, "
          "with no call to say so",
          "[integration][maintenance]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto& s = maintenance_server();
  auto m = manager_with(s, rx.url());
  auto end = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::now() + 5s);
  silence(s, m, "db", {{"endsAt", rfc3339(end)}});
  s.trigger(m, "p", {{"class", "db"}});
  CHECK(opening_state(s, m, "p") == "suppressed");
  REQUIRE(
      eventually([&] { return count_of(rx, "p parent_opened") == 1; }, 20s));
  // Held until the end, not sent early.
  CHECK(std::chrono::system_clock::now() >= end);
  CHECK(s.alert(m, "p")["silenced_by"] == json::array());
  let_reviews_run(s);
  CHECK(count_of(rx, "p parent_opened") == 1);
}

TEST_CASE("maintenance windows: on during an occurrence, off between, next "
          "occurrences listed",
          "[integration][maintenance]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto& s = maintenance_server();
  auto m = manager_with(s, rx.url());
  std::string day_start;
  auto later = silence(
      s, m, "web",
      {{"schedule", window_in_three_days(day_start)}, {"endsAt", nullptr}});
  CHECK(later["state"] == "pending");
  CHECK(later["endsAt"].is_null());
  REQUIRE(later["next_occurrences"].size() == 3);
  CHECK(later["next_occurrences"][0] == day_start);
  CHECK(later["schedule"]["days"].size() == 1);
  auto now = silence(s, m, "db", {{"schedule", window_now()}});
  CHECK(now["state"] == "active");
  CHECK(now["schedule"]["cron"] == "* * * * *");
  auto id = now["id"].get<std::string>();

  s.trigger(m, "w", {{"class", "web"}});
  s.trigger(m, "d", {{"class", "db"}});
  CHECK(opening_state(s, m, "w") == "delivered");
  CHECK(opening_state(s, m, "d") == "suppressed");
  CHECK(s.alert(m, "d")["silenced_by"] == json::array({id}));
  CHECK(s.alert(m, "w")["silenced_by"] == json::array());

  // The window's occurrence ends (it moves to three days from now): the
  // parent opened in it notifies its opening, once.
  auto put = s.http().put("/v1/silences/" + id,
                          {{"schedule", window_in_three_days(day_start)}});
  INFO(put.text);
  REQUIRE(put.status == 200);
  CHECK(put.data()["state"] == "pending");
  REQUIRE(eventually([&] { return count_of(rx, "d parent_opened") == 1; }));
  let_reviews_run(s);
  CHECK(count_of(rx, "d parent_opened") == 1);
  CHECK(count_of(rx, "w parent_opened") == 1);

  // Listing shows the windows with their schedule and next occurrences.
  auto listed = s.http().get("/v1/silences");
  REQUIRE(listed.status == 200);
  int windows = 0;
  for (auto& x : listed.data())
    if (x["event_manager_id"] == m) {
      ++windows;
      CHECK(x["next_occurrences"][0] == day_start);
    }
  CHECK(windows == 2);

  // Bad schedules are 400s naming the field.
  auto bad = [&](json schedule) {
    json body{{"matchers", {matcher("class", "x")}},
              {"schedule", std::move(schedule)},
              {"createdBy", "alice"},
              {"comment", "c"}};
    return s.http().post("/v1/silences", body).error_message();
  };
  CHECK(bad({{"time_zone", "Mars/Base"},
             {"cron", "* * * * *"},
             {"duration_seconds", 60}})
            .find("'schedule.time_zone'") != std::string::npos);
  CHECK(bad({{"time_zone", "UTC"}, {"cron", "* * *"}, {"duration_seconds", 60}})
            .find("'schedule.cron'") != std::string::npos);
  CHECK(bad({{"time_zone", "UTC"}, {"days", {"sun"}}, {"duration_seconds", 60}})
            .find("'schedule.start'") != std::string::npos);
  CHECK(bad({{"time_zone", "UTC"}, {"days", {"sun"}}, {"start", "02:00"}})
            .find("'schedule.duration_seconds'") != std::string::npos);
  // A plain silence still needs its end.
  json plain{{"matchers", {matcher("class", "x")}},
             {"createdBy", "alice"},
             {"comment", "c"}};
  CHECK(s.http().post("/v1/silences", plain).error_message() ==
        "field 'endsAt' is required");
}

TEST_CASE("inhibition: targets are held while the source is active and "
          "notify once when it resolves",
          "[integration][maintenance]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto& s = maintenance_server();
  auto rules = outage_mutes_low_alerts();
  auto m = manager_with(s, rx.url(), {{"inhibit_rules", rules}});
  auto got = s.http().get("/v1/event-managers/" + m);
  REQUIRE(got.status == 200);
  CHECK(got.data()["inhibit_rules"] == rules);

  s.trigger(m, "outage", {{"class", "outage"}, {"cluster", "eu"}}, "high");
  // The targets are groups of their own, checked against the active alerts
  // once, at fan-out: the source must be stored before they open.
  REQUIRE(s.await_alert(m, "outage").is_object());
  s.trigger(m, "disk-eu", {{"class", "disk"}, {"cluster", "eu"}}, "low");
  s.trigger(m, "disk-us", {{"class", "net"}, {"cluster", "us"}}, "low");
  CHECK(opening_state(s, m, "outage") == "delivered");
  CHECK(opening_state(s, m, "disk-eu") == "suppressed");
  CHECK(opening_state(s, m, "disk-us") == "delivered");
  CHECK(s.alert(m, "disk-eu")["inhibited_by"] == json::array({"outage"}));
  CHECK(s.alert(m, "disk-us")["inhibited_by"] == json::array());
  CHECK(s.alert(m, "outage")["inhibited_by"] == json::array());
  bool named = false;
  for (auto& n : s.notifications_of(m, "state=suppressed"))
    named = named || n["deliveries"][0]["last_error"] == "inhibited by outage";
  CHECK(named);
  let_reviews_run(s);
  CHECK(count_of(rx, "disk-eu parent_opened") == 0);

  s.resolve(m, "outage");
  REQUIRE(
      eventually([&] { return count_of(rx, "disk-eu parent_opened") == 1; }));
  CHECK(s.alert(m, "disk-eu")["inhibited_by"] == json::array());
  let_reviews_run(s);
  CHECK(count_of(rx, "disk-eu parent_opened") == 1);

  // Bad rules are 400s naming the field; null removes them.
  auto put = s.http().put("/v1/event-managers/" + m,
                          {{"inhibit_rules",
                            {{{"source_matchers", json::array()},
                              {"target_matchers", {matcher("class", "x")}}}}}});
  CHECK(put.status == 400);
  CHECK(put.error_message().find("'inhibit_rules[0].source_matchers'") !=
        std::string::npos);
  put = s.http().put("/v1/event-managers/" + m, {{"inhibit_rules", nullptr}});
  INFO(put.text);
  CHECK(put.status == 200);
  CHECK(put.data()["inhibit_rules"] == json::array());
}

TEST_CASE("maintenance windows: Sundays 02:00-04:00 Europe/Berlin on the "
          "spring-forward night, with a shifted clock",
          "[integration][maintenance]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  spring_forward_server shifted;
  auto& s = shifted.instance;
  auto m = manager_with(s, rx.url());
  // 02:00 does not exist that night: the window starts at 03:00 CEST
  // (01:00 UTC), the first valid instant, and lasts its two hours, so at
  // 04:59 CEST it is still in force (the server's clock started there a
  // moment ago; it has a minute before the window ends).
  json schedule{{"time_zone", "Europe/Berlin"},
                {"days", {"sunday"}},
                {"start", "02:00"},
                {"duration_seconds", 7200}};
  auto w = silence(s, m, "db", {{"schedule", schedule}, {"endsAt", nullptr}});
  CHECK(w["state"] == "active");
  CHECK(w["schedule"]["days"] == json::array({"sun"}));
  // The next ones are in summer time: 02:00 CEST is 00:00 UTC.
  CHECK(w["next_occurrences"] ==
        json::array({"2027-04-04T00:00:00.000Z", "2027-04-11T00:00:00.000Z",
                     "2027-04-18T00:00:00.000Z"}));
  s.trigger(m, "p", {{"class", "db"}});
  CHECK(opening_state(s, m, "p") == "suppressed");
  CHECK(s.alert(m, "p")["silenced_by"] == json::array({w["id"]}));

  // An hour long, that occurrence ended at 02:00 UTC: the parent is no
  // longer muted and notifies its opening, once.
  schedule["duration_seconds"] = 3600;
  auto put = s.http().put("/v1/silences/" + w["id"].get<std::string>(),
                          {{"schedule", schedule}});
  INFO(put.text);
  REQUIRE(put.status == 200);
  CHECK(put.data()["state"] == "pending");
  REQUIRE(eventually([&] { return count_of(rx, "p parent_opened") == 1; }));
  let_reviews_run(s);
  CHECK(count_of(rx, "p parent_opened") == 1);
}

TEST_CASE("Alertmanager's silence update: in place when it can, else the "
          "old one expires and a new one is made",
          "[integration][maintenance]") {
  auto& s = maintenance_server();
  auto m = s.fresh_manager();
  auto path = "/am/" + m + "/api/v2/silences";
  json body{{"matchers",
             {{{"name", "alertname"},
               {"value", "DiskFull"},
               {"isRegex", false},
               {"isEqual", true}}}},
            {"startsAt", "2020-01-01T00:00:00Z"},
            {"endsAt", "2199-01-01T00:00:00Z"},
            {"createdBy", "alice"},
            {"comment", "disks"}};
  auto made = s.http().post(path, body);
  INFO(made.text);
  REQUIRE(made.status == 200);
  auto id = made.body["silenceID"].get<std::string>();
  auto get = [&](const std::string& x) {
    auto res = s.http().get("/am/" + m + "/api/v2/silence/" + x);
    REQUIRE(res.status == 200);
    return res.body;
  };
  // A longer end for an active silence: the same silence.
  body["id"] = id;
  body["startsAt"] = get(id)["startsAt"];
  body["endsAt"] = "2199-06-01T00:00:00Z";
  auto same = s.http().post(path, body);
  INFO(same.text);
  REQUIRE(same.status == 200);
  CHECK(same.body["silenceID"] == id);
  CHECK(get(id)["endsAt"] == "2199-06-01T00:00:00.000Z");
  // Other matchers: Alertmanager expires the old one and makes a new one.
  body["matchers"][0]["value"] = "DiskAlmostFull";
  auto replaced = s.http().post(path, body);
  INFO(replaced.text);
  REQUIRE(replaced.status == 200);
  auto fresh = replaced.body["silenceID"].get<std::string>();
  CHECK(fresh != id);
  CHECK(get(id)["status"]["state"] == "expired");
  CHECK(get(fresh)["status"]["state"] == "active");
  CHECK(get(fresh)["matchers"][0]["value"] == "DiskAlmostFull");
}

// The worker once read a manager's active alerts for held openings and
// inhibition through the API's page limit, the newest 1,000: past that, a
// held parent looked resolved (its opening was dropped when the silence
// ended) and an older inhibition source looked gone (its targets paged).
// More than 1,000 are checked at fan-out in batches of 1,000, so the
// second batch always meets a store with more than 1,000 active alerts.
TEST_CASE("a silence over more than 1,000 groups: every held opening goes "
          "out once when it ends",
          "[integration][maintenance]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto& s = maintenance_server();
  auto m = manager_with(s, rx.url());
  constexpr int groups = 1100;
  auto id = silenced_storm(s, m, groups);
  let_reviews_run(s);
  CHECK(rx.requests().empty());

  REQUIRE(s.http().del("/v1/silences/" + id).status == 200);
  REQUIRE(eventually([&] { return opened_keys(rx).size() == groups; }, 20s));
  let_reviews_run(s);
  CHECK(rx.requests().size() == groups);
}

TEST_CASE("inhibition with more than 1,000 active alerts: an older source "
          "still holds every target, in fan-out and in the alerts API",
          "[integration][maintenance]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto& s = maintenance_server();
  auto rules = outage_mutes_low_alerts();
  auto m = manager_with(s, rx.url(), {{"inhibit_rules", rules}});
  s.trigger(m, "outage", {{"class", "outage"}, {"cluster", "eu"}}, "high");
  REQUIRE(s.await_alert(m, "outage").is_object());
  constexpr int targets = 1100;
  trigger_groups(s, m, "target-", targets, {{"cluster", "eu"}}, "low");
  REQUIRE(s.settle());
  REQUIRE(eventually([&] { return openings_in(s, m, "suppressed") == targets; },
                     20s));
  CHECK(openings_in(s, m, "delivered") == 1);
  CHECK(s.alert(m, "target-0")["inhibited_by"] == json::array({"outage"}));
  auto page = s.alerts("event_manager_id=" + m + "&limit=1000");
  REQUIRE(page.size() == 1000);
  for (auto& a : page)
    if (a["dedupKey"] != "outage")
      CHECK(a["inhibited_by"] == json::array({"outage"}));

  s.resolve(m, "outage");
  REQUIRE(
      eventually([&] { return opened_keys(rx).size() == targets + 1; }, 20s));
  let_reviews_run(s);
  // Each opening once, and the source's resolution.
  CHECK(rx.requests().size() == targets + 2);
  CHECK(count_of(rx, "outage parent_resolved") == 1);
}

TEST_CASE("held openings survive a restart: the silence's end releases each "
          "once, and none whose parent resolved while muted",
          "[integration][maintenance]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  server s{server_options{}};
  auto m = manager_with(s, rx.url());
  constexpr int groups = 20;
  auto id = silenced_storm(s, m, groups);
  // And two keys with a NUL byte, which the SQL outboxes' held query
  // cannot compare in SQL ("held-\0nul-0" and "-1"); the second resolves
  // while muted.
  const std::string nul_prefix{"held-\0nul-", 10};
  trigger_groups(s, m, nul_prefix, 2, {{"cluster", "storm"}});
  REQUIRE(eventually(
      [&] { return openings_in(s, m, "suppressed") == groups + 2; }, 20s));
  s.resolve(m, "held-0");
  s.resolve(m, nul_prefix + "1");
  REQUIRE(s.settle());

  // The worker that held them is gone; the new one reads them back.
  REQUIRE(s.restart() == 0);
  REQUIRE(s.http().del("/v1/silences/" + id).status == 200);
  REQUIRE(eventually([&] { return opened_keys(rx).size() == groups; }, 20s));
  let_reviews_run(s);
  CHECK(rx.requests().size() == groups);
  CHECK(opened_keys(rx).count("held-0") == 0);
  CHECK(opened_keys(rx).count(nul_prefix + "0") == 1);
  CHECK(opened_keys(rx).count(nul_prefix + "1") == 0);
}
