// PagerDuty Events API v2 over real HTTP: every request/response pair of
// docs/pagerduty-events-v2.md ("Test cases"), the routing key's life, and
// what the events do to alerts.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <string>

namespace {

using namespace argus::test;

server& pd_server() {
  static server instance;
  return instance;
}

/// A fresh manager grouping by `key`; returns {id, routing key}.
std::pair<std::string, std::string> pd_manager(server& s,
                                               const std::string& key) {
  auto id = s.fresh_manager(key);
  auto got = s.http().get("/v1/event-managers/" + id);
  REQUIRE(got.status == 200);
  return {id, got.data()["routing_key"].get<std::string>()};
}

/// The trigger example of PagerDuty's documentation.
json documented_trigger(const std::string& routing_key,
                        const std::string& dedup) {
  return json{
      {"payload",
       {{"summary", "DISK at 99% on machine prod-datapipe03.example.com"},
        {"timestamp", "2015-07-17T08:42:58.315+0000"},
        {"severity", "critical"},
        {"source", "prod-datapipe03.example.com"},
        {"component", "mysql"},
        {"group", "prod-datapipe"},
        {"class", "disk"},
        {"custom_details",
         {{"free space", "1%"}, {"ping time", "1500ms"}, {"load avg", 0.75}}}}},
      {"routing_key", routing_key},
      {"dedup_key", dedup},
      {"event_action", "trigger"},
      {"client", "Sample Monitoring Service"},
      {"client_url", "https://monitoring.service.com"},
      {"links",
       {{{"href", "http://pagerduty.example.com"},
         {"text", "An example link."}}}},
      {"images",
       {{{"src", "https://chart.googleapis.com/chart?chs=600x400"},
         {"href", "https://google.com"},
         {"alt", "An example link with an image"}}}}};
}

json invalid(std::vector<std::string> errors) {
  return json{{"status", "invalid event"},
              {"message", "Event object is invalid"},
              {"errors", errors}};
}

const json unrecognized =
    json{{"status", "Unrecognized object"},
         {"message", "Event object format is unrecognized"},
         {"errors", {"JSON parse error"}}};

} // namespace

TEST_CASE("pagerduty: every manager has a 32-character routing key that "
          "rotates",
          "[integration]") {
  auto& s = pd_server();
  auto [id, key] = pd_manager(s, "class");
  CHECK(key.size() == 32);
  CHECK(key.find_first_not_of("0123456789abcdef") == std::string::npos);
  auto [other, other_key] = pd_manager(s, "class");
  CHECK(other_key != key);
  auto listed = s.http().get("/v1/event-managers");
  bool shown = false;
  for (auto& m : listed.data())
    shown = shown || (m["id"] == id && m["routing_key"] == key);
  CHECK(shown);
  auto rotated = s.http().post("/v1/event-managers/" + id + "/routing-key",
                               json::object());
  INFO(rotated.text);
  REQUIRE(rotated.status == 200);
  auto fresh = rotated.data()["routing_key"].get<std::string>();
  CHECK(fresh.size() == 32);
  CHECK(fresh != key);
  // The old key is gone at once; the new one works.
  auto old = s.http().post("/v2/enqueue", documented_trigger(key, "r-1"));
  CHECK(old.status == 400);
  CHECK(old.body == invalid({"Invalid routing key"}));
  auto now = s.http().post("/v2/enqueue", documented_trigger(fresh, "r-1"));
  CHECK(now.status == 202);
  CHECK(s.http()
            .post("/v1/event-managers/nope/routing-key", json::object())
            .status == 404);
  // A key a team already uses can be kept, but not shared.
  auto taken =
      s.http().put("/v1/event-managers/" + other, {{"routing_key", fresh}});
  CHECK(taken.status == 409);
  auto own = std::string(32, 'a');
  auto kept =
      s.http().put("/v1/event-managers/" + other, {{"routing_key", own}});
  CHECK(kept.status == 200);
  CHECK(kept.data()["routing_key"] == own);
  auto bad =
      s.http().put("/v1/event-managers/" + other, {{"routing_key", "short"}});
  CHECK(bad.status == 400);
}

TEST_CASE("pagerduty: the documented trigger makes an alert", "[integration]") {
  auto& s = pd_server();
  auto [m, key] = pd_manager(s, "component");
  auto r = s.http().post("/v2/enqueue", documented_trigger(key, "srv01/mysql"));
  INFO(r.text);
  CHECK(r.status == 202);
  CHECK(r.body == json{{"status", "success"},
                       {"message", "Event processed"},
                       {"dedup_key", "srv01/mysql"}});
  auto a = s.await_alert(m, "srv01/mysql");
  REQUIRE_FALSE(a.is_null());
  CHECK(a["summary"] == "DISK at 99% on machine prod-datapipe03.example.com");
  CHECK(a["severity"] == "high");
  CHECK(a["class"] == "disk");
  CHECK(a["type"] == "parent");
  CHECK(a["grouping_value"] == "mysql"); // the rule groups by component
  CHECK(a["details"]["source"] == "prod-datapipe03.example.com");
  CHECK(a["details"]["custom_details"]["load avg"] == 0.75);
  CHECK(a["details"]["links"][0]["href"] == "http://pagerduty.example.com");
  CHECK_FALSE(a["details"].contains("routing_key"));
  // A second trigger of the same component joins it as a child.
  auto second = documented_trigger(key, "srv02/mysql");
  second["payload"]["severity"] = "warning";
  CHECK(s.http().post("/v2/enqueue", second).status == 202);
  auto child = s.await_alert(
      m, "srv02/mysql", [](const json& x) { return x["type"] == "child"; });
  CHECK(child["parent_dedupKey"] == "srv01/mysql");
  CHECK(child["severity"] == "medium");
}

TEST_CASE("pagerduty: a trigger without dedup_key gets one", "[integration]") {
  auto& s = pd_server();
  auto [m, key] = pd_manager(s, "class");
  auto body = documented_trigger(key, "");
  body.erase("dedup_key");
  auto r = s.http().post("/v2/enqueue", body);
  REQUIRE(r.status == 202);
  auto dedup = r.body["dedup_key"].get<std::string>();
  CHECK(dedup.size() == 36);
  CHECK_FALSE(s.await_alert(m, dedup).is_null());
}

TEST_CASE("pagerduty: acknowledge and resolve", "[integration]") {
  auto& s = pd_server();
  auto [m, key] = pd_manager(s, "class");
  REQUIRE(s.http().post("/v2/enqueue", documented_trigger(key, "k1")).status ==
          202);
  REQUIRE_FALSE(s.await_alert(m, "k1").is_null());
  auto ack = s.http().post("/v2/enqueue", {{"routing_key", key},
                                           {"dedup_key", "k1"},
                                           {"event_action", "acknowledge"}});
  CHECK(ack.status == 202);
  CHECK(ack.body == json{{"status", "success"},
                         {"message", "Event processed"},
                         {"dedup_key", "k1"}});
  auto a = s.await_alert(
      m, "k1", [](const json& x) { return x["acknowledged"] == true; });
  CHECK(a["acknowledged_by"] == "pagerduty");
  CHECK_FALSE(a["acknowledged_at"].is_null());
  auto res = s.http().post(
      "/v2/enqueue",
      {{"routing_key", key}, {"dedup_key", "k1"}, {"event_action", "resolve"}});
  CHECK(res.status == 202);
  s.await_alert(m, "k1",
                [](const json& x) { return x["status"] == "resolved"; });
  // Acknowledge or resolve what is not open: accepted, and nothing happens.
  for (auto act : {"acknowledge", "resolve"}) {
    auto r = s.http().post("/v2/enqueue", {{"routing_key", key},
                                           {"dedup_key", "never-seen"},
                                           {"event_action", act}});
    CHECK(r.status == 202);
    CHECK(r.body["dedup_key"] == "never-seen");
  }
  REQUIRE(s.settle());
  CHECK(s.alert(m, "never-seen").is_null());
}

TEST_CASE("pagerduty: every invalid request is named as PagerDuty names it",
          "[integration]") {
  auto& s = pd_server();
  auto [m, key] = pd_manager(s, "class");
  auto body = documented_trigger(key, "bad");
  auto post = [&](const json& b) { return s.http().post("/v2/enqueue", b); };
  auto expect = [&](const json& b, std::vector<std::string> errors) {
    auto r = post(b);
    INFO(b.dump() << " -> " << r.text);
    CHECK(r.status == 400);
    CHECK(r.body == invalid(std::move(errors)));
  };
  auto b = body;
  b["routing_key"] = key.substr(1);
  expect(b, {"Length of 'routing_key' is incorrect (should be 32 "
             "characters)"});
  b = body;
  b.erase("routing_key");
  expect(b, {"'routing_key' is missing or blank"});
  b = body;
  b["routing_key"] = std::string(32, '0');
  expect(b, {"Invalid routing key"});
  b = body;
  b.erase("event_action");
  expect(b, {"'event_action' is missing or blank"});
  b = body;
  b["event_action"] = "snooze";
  expect(b, {"'event_action' is invalid (must be one of the following: "
             "'trigger', 'acknowledge' or 'resolve')"});
  b = body;
  b["payload"].erase("summary");
  expect(b, {"'payload.summary' is missing or blank"});
  b = body;
  b["payload"]["summary"] = std::string(1025, 's');
  expect(b, {"'summary' is too long (maximum is 1024 characters)"});
  b = body;
  b["payload"].erase("source");
  expect(b, {"'payload.source' is missing or blank"});
  b = body;
  b["payload"].erase("severity");
  expect(b, {"'payload.severity' is missing or blank"});
  b = body;
  b["payload"]["severity"] = "high";
  expect(b, {"'payload.severity' is invalid (must be one of the following: "
             "'critical', 'warning', 'error' or 'info')"});
  b = body;
  b.erase("payload");
  expect(b, {"'payload.summary' is missing or blank",
             "'payload.source' is missing or blank",
             "'payload.severity' is missing or blank"});
  for (auto act : {"acknowledge", "resolve"})
    expect({{"routing_key", key}, {"event_action", act}},
           {"'dedup_key' is missing or blank"});
  b = body;
  b["dedup_key"] = std::string(256, 'k');
  expect(b, {"'dedup_key' is too long (maximum is 255 characters)"});
  b = body;
  b["routing_key"] = "short";
  b["payload"].erase("severity");
  b["dedup_key"] = std::string(256, 'k');
  b["images"] = json::array({json{{"alt", "x"}}});
  expect(b, {"Length of 'routing_key' is incorrect (should be 32 characters)",
             "'dedup_key' is too long (maximum is 255 characters)",
             "'payload.severity' is missing or blank",
             "'images[0].src' is missing or blank"});
  b = body;
  b["payload"]["timestamp"] = "yesterday";
  expect(b, {"'payload.timestamp' is invalid (must be an ISO 8601 "
             "date-time)"});
  b = body;
  b["links"] = json::array({json{{"text", "x"}}});
  expect(b, {"'links[0].href' is missing or blank"});
  b = body;
  b["payload"]["summary"] = 5;
  b["links"] = json::object();
  expect(b, {"'payload.summary' is invalid (must be a string)",
             "'links' is invalid (must be an array)"});
  for (auto text : {"not json", "[]"}) {
    auto r = s.http().post_raw("/v2/enqueue", text);
    INFO(text);
    CHECK(r.status == 400);
    CHECK(r.body == unrecognized);
  }
  auto big = body;
  big["payload"]["custom_details"]["blob"] = std::string(512 * 1024, 'x');
  auto r = s.http().post("/v2/enqueue", big);
  CHECK(r.status == 400);
  CHECK(r.body == invalid({"Event is too large (maximum is 524288 bytes)"}));
  // Nothing invalid made an alert.
  REQUIRE(s.settle());
  CHECK(s.alerts("event_manager_id=" + m).empty());
}

TEST_CASE("pagerduty: 429 with Retry-After while ingestion is behind",
          "[integration]") {
  // The bound is filled by one batch; the PagerDuty event right behind it
  // must find the batch not yet applied. The batch is large enough that
  // applying it takes far longer than one more request on a warm
  // connection (a batch of 50 took about as long, so a fast node was
  // sometimes done with it first).
  constexpr int bound = 2000;
  server_options opts;
  opts.extra_yaml =
      "ingest: {max_pending_events: " + std::to_string(bound) + "}\n";
  server srv{opts};
  auto [m, key] = pd_manager(srv, "class");
  httplib::Client raw{"127.0.0.1", srv.port()};
  // Fill the bound with a batch, then send at once: until the actors have
  // applied and stored the batch (milliseconds), the sender must wait.
  bool throttled = false;
  for (int round = 0; round < 50 && !throttled; ++round) {
    json batch = json::array();
    for (int i = 0; i < bound; ++i)
      batch.push_back(trigger_event(m, "b-" + std::to_string(round) + "-" +
                                           std::to_string(i)));
    raw.Post("/v1/events/batch", batch.dump(), "application/json");
    auto r =
        raw.Post("/v2/enqueue",
                 documented_trigger(key, "pd-" + std::to_string(round)).dump(),
                 "application/json");
    REQUIRE(r);
    if (r->status == 429) {
      throttled = true;
      CHECK(r->get_header_value("Retry-After") == "1");
      auto body = json::parse(r->body);
      CHECK(body["status"] == "throttle event");
      CHECK(body["message"] == "Requests for this service are arriving too "
                               "quickly. Please retry later.");
    } else {
      CHECK(r->status == 202);
    }
  }
  CHECK(throttled);
}
