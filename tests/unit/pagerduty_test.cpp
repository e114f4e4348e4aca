// PagerDuty Events API v2 bodies mapped to Argus events, and the replies
// PagerDuty gives (docs/pagerduty-events-v2.md, "Test cases"). The same
// pairs run over real HTTP in tests/integration/pagerduty_test.cpp.

#include "http/pagerduty.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

namespace pd = argus::http::pagerduty;
using argus::domain::action;
using argus::domain::severity;
using nlohmann::json;

const std::string key = "0123456789abcdef0123456789abcdef";

std::optional<std::string> lookup(const std::string& k) {
  if (k == key)
    return std::string{"payments"};
  return std::nullopt;
}

json trigger_body() {
  return json::parse(R"({
    "payload": {
      "summary": "DISK at 99% on machine prod-datapipe03.example.com",
      "timestamp": "2015-07-17T08:42:58.315+0000",
      "severity": "critical",
      "source": "prod-datapipe03.example.com",
      "component": "mysql",
      "group": "prod-datapipe",
      "class": "disk",
      "custom_details": {"free space": "1%", "ping time": "1500ms",
                         "load avg": 0.75}
    },
    "dedup_key": "srv01/mysql",
    "event_action": "trigger",
    "client": "Sample Monitoring Service",
    "client_url": "https://monitoring.service.com",
    "links": [{"href": "http://pagerduty.example.com",
               "text": "An example link."}],
    "images": [{"src": "https://chart.googleapis.com/chart?chs=600x400",
                "href": "https://google.com",
                "alt": "An example link with an image"}]
  })");
}

json with_key(json body) {
  body["routing_key"] = key;
  return body;
}

pd::mapped accept(const json& body) {
  auto result = pd::parse(body.dump(), lookup);
  if (auto* r = std::get_if<pd::reply>(&result))
    FAIL("rejected: " << r->body.dump());
  return std::get<pd::mapped>(std::move(result));
}

/// The errors of a 400 "invalid event" reply.
json errors_of(const std::string& body) {
  auto result = pd::parse(body, lookup);
  REQUIRE(std::holds_alternative<pd::reply>(result));
  auto& r = std::get<pd::reply>(result);
  CHECK(r.status == 400);
  CHECK(r.body["status"] == "invalid event");
  CHECK(r.body["message"] == "Event object is invalid");
  return r.body["errors"];
}

json errors_of(const json& body) {
  return errors_of(body.dump());
}

} // namespace

TEST_CASE("pagerduty: the documented trigger maps to an Argus event",
          "[unit]") {
  auto m = accept(with_key(trigger_body()));
  auto& e = m.e;
  CHECK(e.event_manager_id == "payments");
  CHECK(e.act == action::trigger);
  CHECK(e.dedup_key == "srv01/mysql");
  CHECK(e.summary == "DISK at 99% on machine prod-datapipe03.example.com");
  CHECK(e.sev == severity::high);
  CHECK(e.class_name == "disk");
  CHECK(e.actor == "Sample Monitoring Service");
  auto details = json::parse(e.details);
  CHECK(details["source"] == "prod-datapipe03.example.com");
  CHECK(details["component"] == "mysql");
  CHECK(details["group"] == "prod-datapipe");
  CHECK(details["severity"] == "critical");
  CHECK(details["timestamp"] == "2015-07-17T08:42:58.315+0000");
  CHECK(details["custom_details"]["load avg"] == 0.75);
  CHECK(details["links"][0]["href"] == "http://pagerduty.example.com");
  CHECK(details["images"][0]["alt"] == "An example link with an image");
  CHECK(details["client_url"] == "https://monitoring.service.com");
  CHECK_FALSE(details.contains("routing_key"));
  // A grouping key finds payload fields by their own name or their path.
  CHECK(m.view["component"] == "mysql");
  CHECK(m.view["payload"]["component"] == "mysql");
  CHECK_FALSE(m.view.contains("routing_key"));
}

TEST_CASE("pagerduty: severities, generated keys, acknowledge and resolve",
          "[unit]") {
  auto body = with_key(trigger_body());
  for (auto [text, sev] : {std::pair{"critical", severity::high},
                           {"error", severity::high},
                           {"warning", severity::medium},
                           {"info", severity::low}}) {
    body["payload"]["severity"] = text;
    CHECK(accept(body).e.sev == sev);
  }
  body.erase("dedup_key");
  auto first = accept(body).e.dedup_key;
  auto second = accept(body).e.dedup_key;
  CHECK(first.size() == 36); // a UUID
  CHECK(first != second);
  auto ack = accept(json{{"routing_key", key},
                         {"dedup_key", "srv01/mysql"},
                         {"event_action", "acknowledge"}});
  CHECK(ack.e.act == action::acknowledge);
  CHECK(ack.e.actor == "pagerduty");
  CHECK(ack.e.dedup_key == "srv01/mysql");
  auto res = accept(json{{"routing_key", key},
                         {"dedup_key", "srv01/mysql"},
                         {"event_action", "resolve"}});
  CHECK(res.e.act == action::resolve);
}

TEST_CASE("pagerduty: replies word for word", "[unit]") {
  auto ok = pd::accepted("srv01/mysql");
  CHECK(ok.status == 202);
  CHECK(ok.body.dump() == R"({"dedup_key":"srv01/mysql","message":"Event )"
                          R"(processed","status":"success"})");
  auto throttled = pd::throttled();
  CHECK(throttled.status == 429);
  CHECK(throttled.body["status"] == "throttle event");
  for (auto text : {"not json", "[]", "\"text\"", ""}) {
    auto result = pd::parse(text, lookup);
    REQUIRE(std::holds_alternative<pd::reply>(result));
    auto& r = std::get<pd::reply>(result);
    CHECK(r.status == 400);
    CHECK(r.body == json::parse(R"({"status":"Unrecognized object",
      "message":"Event object format is unrecognized",
      "errors":["JSON parse error"]})"));
  }
}

TEST_CASE("pagerduty: every invalid field is named", "[unit]") {
  auto body = with_key(trigger_body());
  auto one = [&](json b) { return errors_of(b); };
  auto b = body;
  b["routing_key"] = key.substr(1);
  CHECK(one(b) == json{"Length of 'routing_key' is incorrect (should be 32 "
                       "characters)"});
  b = body;
  b.erase("routing_key");
  CHECK(one(b) == json{"'routing_key' is missing or blank"});
  b = body;
  b["routing_key"] = std::string(32, 'f');
  CHECK(one(b) == json{"Invalid routing key"});
  b = body;
  b.erase("event_action");
  CHECK(one(b) == json{"'event_action' is missing or blank"});
  b = body;
  b["event_action"] = "snooze";
  CHECK(one(b) == json{"'event_action' is invalid (must be one of the "
                       "following: 'trigger', 'acknowledge' or 'resolve')"});
  b = body;
  b["payload"].erase("summary");
  CHECK(one(b) == json{"'payload.summary' is missing or blank"});
  b = body;
  b["payload"]["summary"] = "   ";
  CHECK(one(b) == json{"'payload.summary' is missing or blank"});
  b = body;
  b["payload"]["summary"] = std::string(1025, 'x');
  CHECK(one(b) == json{"'summary' is too long (maximum is 1024 characters)"});
  b["payload"]["summary"] = std::string(1024, 'x');
  CHECK(accept(b).e.summary.size() == 1024);
  b = body;
  b["payload"].erase("source");
  CHECK(one(b) == json{"'payload.source' is missing or blank"});
  b = body;
  b["payload"].erase("severity");
  CHECK(one(b) == json{"'payload.severity' is missing or blank"});
  b = body;
  b["payload"]["severity"] = "high";
  CHECK(one(b) ==
        json{"'payload.severity' is invalid (must be one of the following: "
             "'critical', 'warning', 'error' or 'info')"});
  b = body;
  b.erase("payload");
  CHECK(one(b) == json{"'payload.summary' is missing or blank",
                       "'payload.source' is missing or blank",
                       "'payload.severity' is missing or blank"});
  b = body;
  b["dedup_key"] = std::string(256, 'k');
  CHECK(one(b) == json{"'dedup_key' is too long (maximum is 255 characters)"});
  b = body;
  b["payload"]["timestamp"] = "yesterday";
  CHECK(one(b) == json{"'payload.timestamp' is invalid (must be an ISO 8601 "
                       "date-time)"});
  b = body;
  b["links"] = json::array({json{{"text", "x"}}});
  b["images"] = json::array({json{{"alt", "x"}}});
  CHECK(one(b) == json{"'links[0].href' is missing or blank",
                       "'images[0].src' is missing or blank"});
  b = body;
  b["payload"]["summary"] = 5;
  b["links"] = json::object();
  CHECK(one(b) == json{"'payload.summary' is invalid (must be a string)",
                       "'links' is invalid (must be an array)"});
  // An unknown action leaves open what else is required.
  b = body;
  b["payload"].erase("severity");
  b["event_action"] = "snooze";
  CHECK(one(b) == json{"'event_action' is invalid (must be one of the "
                       "following: 'trigger', 'acknowledge' or 'resolve')"});
  // Every fault at once, each naming its field.
  b = body;
  b["routing_key"] = "short";
  b["payload"].erase("severity");
  b["dedup_key"] = std::string(256, 'k');
  b["images"] = json::array({json{{"alt", "x"}}});
  CHECK(one(b) ==
        json{"Length of 'routing_key' is incorrect (should be 32 characters)",
             "'dedup_key' is too long (maximum is 255 characters)",
             "'payload.severity' is missing or blank",
             "'images[0].src' is missing or blank"});
  for (auto act : {"acknowledge", "resolve"}) {
    auto e = json{{"routing_key", key}, {"event_action", act}};
    CHECK(one(e) == json{"'dedup_key' is missing or blank"});
  }
  auto big = body;
  big["payload"]["custom_details"]["blob"] = std::string(512 * 1024, 'x');
  CHECK(errors_of(big.dump()) ==
        json{"Event is too large (maximum is 524288 bytes)"});
}

TEST_CASE("pagerduty: timestamps as monitoring tools write them", "[unit]") {
  auto body = with_key(trigger_body());
  for (auto ts : {"2015-07-17T08:42:58.315+0000", "2015-07-17T08:42:58Z",
                  "2015-07-17T08:42:58+02:00", "2015-07-17T08:42:58.1-0500",
                  "2015-07-17T08:42:58"}) {
    body["payload"]["timestamp"] = ts;
    CHECK(json::parse(accept(body).e.details)["timestamp"] == ts);
  }
  for (auto ts : {"2015-07-17", "2015-07-17T08:42", "2015-07-17T08:42:58.",
                  "2015-07-17T08:42:58+2", "17/07/2015 08:42:58"}) {
    body["payload"]["timestamp"] = ts;
    INFO(ts);
    CHECK(errors_of(body).size() == 1);
  }
}
