// The outgoing side of delivery: every receiver format's body, the request
// headers (idempotency, signature, the receiver's own) and the HMAC.

#include "delivery/format.hpp"
#include "delivery/signature.hpp"
#include "http/json.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace argus::domain;
using argus::delivery::envelope;
using argus::delivery::hmac_sha256_hex;
using argus::delivery::make_request;
using argus::delivery::render;
using argus::delivery::request;
using argus::delivery::signature_header;
using json = nlohmann::json;

const time_point t0 = from_millis(1'800'000'000'123);

alert parent_alert() {
  alert a;
  a.id = alert_id_for("payments", "db-1");
  a.dedup_key = "db-1";
  a.event_manager_id = "payments";
  a.summary = "DB primary down";
  a.sev = severity::high;
  a.class_name = "database";
  a.has_grouping_value = true;
  a.grouping_value = "database";
  a.child_count = 2;
  a.event_count = 3;
  a.created_at = t0;
  a.updated_at = t0 + 5s;
  a.details = R"({"host":"db-a"})";
  return a;
}

envelope opened() {
  envelope e;
  e.notification_id = "6f1c2a9e-0000-8000-8000-000000000001";
  e.kind = notification_kind::parent_opened;
  e.at = t0;
  e.parent = parent_alert();
  e.active_children = 1;
  e.manager_name = "Payments";
  e.external_url = "http://argus.example:8080";
  return e;
}

envelope resolved() {
  auto e = opened();
  e.kind = notification_kind::parent_resolved;
  e.at = t0 + 1min;
  e.parent.edit().status = alert_status::resolved;
  e.parent.edit().resolved_at = t0 + 1min;
  e.active_children = 0;
  return e;
}

receiver receiver_of(receiver_format f) {
  receiver r;
  r.name = "ops";
  r.url = "http://127.0.0.1:1/hook";
  r.format = f;
  r.routing_key = "R0UT1NGKEY";
  return r;
}

std::string header(const request& r, const std::string& name) {
  for (auto& [k, v] : r.headers)
    if (k == name)
      return v;
  return {};
}

} // namespace

TEST_CASE("HMAC-SHA256 matches RFC 4231", "[unit][delivery]") {
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(signature_header("Jefe", 1700000000, "{}") ==
        "t=1700000000,v1=" + hmac_sha256_hex("Jefe", "1700000000.{}"));
}

TEST_CASE("the argus body carries notification, alert, group and manager",
          "[unit][delivery]") {
  auto body = render(receiver_of(receiver_format::argus), opened());
  CHECK(body["version"] == "1");
  CHECK(body["notification"] ==
        json{{"id", "6f1c2a9e-0000-8000-8000-000000000001"},
             {"type", "parent_opened"},
             {"at", "2027-01-15T08:00:00.123Z"}});
  CHECK(body["receiver"] == "ops");
  CHECK(body["manager"] == json{{"id", "payments"}, {"name", "Payments"}});
  CHECK(body["group"] == json{{"event_manager_id", "payments"},
                              {"grouping_value", "database"},
                              {"parent_dedupKey", "db-1"},
                              {"children", 2},
                              {"active_children", 1}});
  CHECK(body["alert"] == argus::http::to_json(parent_alert()));
  CHECK(body["alert"]["details"] == json{{"host", "db-a"}});
  CHECK(body["alert"]["resolved_at"].is_null());
  CHECK_FALSE(body.contains("child"));
}

TEST_CASE("the argus body of child_added names the child", "[unit][delivery]") {
  auto e = opened();
  e.kind = notification_kind::child_added;
  e.child = parent_alert();
  alert child = *e.child;
  child.dedup_key = "db-2";
  child.type = alert_type::child;
  child.parent_dedup_key = "db-1";
  e.child = std::move(child);
  auto body = render(receiver_of(receiver_format::argus), e);
  CHECK(body["notification"]["type"] == "child_added");
  CHECK(body["child"]["dedupKey"] == "db-2");
  CHECK(body["child"]["parent_dedupKey"] == "db-1");
}

TEST_CASE("the alertmanager body is a webhook v4 message", "[unit][delivery]") {
  auto body = render(receiver_of(receiver_format::alertmanager), opened());
  CHECK(body["version"] == "4");
  CHECK(body["status"] == "firing");
  CHECK(body["receiver"] == "ops");
  CHECK(body["truncatedAlerts"] == 0);
  CHECK(body["externalURL"] == "http://argus.example:8080");
  CHECK(body["groupKey"] ==
        "{}:{event_manager_id=\"payments\", group=\"database\"}");
  CHECK(body["groupLabels"] ==
        json{{"event_manager_id", "payments"}, {"grouping_value", "database"}});
  REQUIRE(body["alerts"].size() == 1);
  auto& a = body["alerts"][0];
  CHECK(a["status"] == "firing");
  CHECK(a["labels"] == json{{"alertname", "database"},
                            {"dedupKey", "db-1"},
                            {"event_manager_id", "payments"},
                            {"severity", "high"},
                            {"type", "parent"},
                            {"class", "database"},
                            {"grouping_value", "database"}});
  CHECK(a["annotations"] ==
        json{{"summary", "DB primary down"}, {"child_count", "2"}});
  CHECK(a["startsAt"] == "2027-01-15T08:00:00.123Z");
  CHECK(a["endsAt"] == "0001-01-01T00:00:00Z");
  CHECK(a["generatorURL"] ==
        "http://argus.example:8080/v1/alerts/db-1?event_manager_id="
        "payments");
  auto fp = a["fingerprint"].get<std::string>();
  CHECK(fp.size() == 16);
  CHECK(std::all_of(fp.begin(), fp.end(), ::isxdigit));
  CHECK(body["commonLabels"] == a["labels"]);
  CHECK(body["commonAnnotations"] == a["annotations"]);
  // The same alert keeps its fingerprint when it resolves.
  auto done = render(receiver_of(receiver_format::alertmanager), resolved());
  CHECK(done["status"] == "resolved");
  CHECK(done["alerts"][0]["status"] == "resolved");
  CHECK(done["alerts"][0]["endsAt"] == "2027-01-15T08:01:00.123Z");
  CHECK(done["alerts"][0]["fingerprint"] == fp);
  CHECK(done["groupKey"] == body["groupKey"]);
}

TEST_CASE("alertmanager's common labels are those all alerts share",
          "[unit][delivery]") {
  auto e = opened();
  e.kind = notification_kind::child_added;
  e.child = parent_alert();
  alert child = *e.child;
  child.id = alert_id_for("payments", "db-2");
  child.dedup_key = "db-2";
  child.type = alert_type::child;
  child.sev = severity::low;
  child.parent_dedup_key = "db-1";
  e.child = std::move(child);
  e.external_url.clear();
  auto body = render(receiver_of(receiver_format::alertmanager), e);
  REQUIRE(body["alerts"].size() == 2);
  CHECK(body["alerts"][1]["labels"]["dedupKey"] == "db-2");
  CHECK(body["alerts"][1]["annotations"]["parent_dedupKey"] == "db-1");
  CHECK(body["alerts"][1]["generatorURL"] == "");
  CHECK(body["commonLabels"] == json{{"alertname", "database"},
                                     {"event_manager_id", "payments"},
                                     {"class", "database"},
                                     {"grouping_value", "database"}});
  CHECK(body["commonAnnotations"] == json{{"summary", "DB primary down"}});
  CHECK(body["alerts"][0]["fingerprint"] != body["alerts"][1]["fingerprint"]);
}

TEST_CASE("a value-less parent is its own alertmanager group",
          "[unit][delivery]") {
  auto e = opened();
  e.parent.edit().has_grouping_value = false;
  e.parent.edit().grouping_value.clear();
  e.parent.edit().class_name.clear();
  auto body = render(receiver_of(receiver_format::alertmanager), e);
  CHECK(body["groupLabels"] ==
        json{{"event_manager_id", "payments"}, {"dedupKey", "db-1"}});
  CHECK(body["alerts"][0]["labels"]["alertname"] == "db-1");
  CHECK_FALSE(body["alerts"][0]["labels"].contains("grouping_value"));
}

TEST_CASE("the slack body has text and blocks, escaped", "[unit][delivery]") {
  auto e = opened();
  e.parent.edit().summary = "p99 > 2s & <rising>";
  auto body = render(receiver_of(receiver_format::slack), e);
  CHECK(body["text"] == "[FIRING] p99 &gt; 2s &amp; &lt;rising&gt; (Payments)");
  REQUIRE(body["blocks"].size() == 3);
  CHECK(body["blocks"][0]["type"] == "section");
  CHECK(body["blocks"][0]["text"]["type"] == "mrkdwn");
  CHECK(body["blocks"][0]["text"]["text"] ==
        "*[FIRING] p99 &gt; 2s &amp; &lt;rising&gt;*");
  auto facts = body["blocks"][1]["text"]["text"].get<std::string>();
  CHECK(facts.find("*Group:* database") != std::string::npos);
  CHECK(facts.find("*Severity:* high") != std::string::npos);
  CHECK(facts.find("1 active of 2") != std::string::npos);
  CHECK(body["blocks"][2]["type"] == "context");
  auto context = body["blocks"][2]["elements"][0]["text"].get<std::string>();
  CHECK(context.find(e.notification_id) != std::string::npos);
  auto done = render(receiver_of(receiver_format::slack), resolved());
  CHECK(done["text"] == "[RESOLVED] DB primary down (Payments)");
  auto ack = opened();
  ack.kind = notification_kind::parent_acknowledged;
  ack.parent.edit().acknowledged = true;
  ack.parent.edit().acknowledged_by = "ana";
  CHECK(render(receiver_of(receiver_format::slack), ack)["text"] ==
        "[ACKNOWLEDGED] DB primary down by ana (Payments)");
}

TEST_CASE("the pagerduty body is an Events API v2 event", "[unit][delivery]") {
  auto trigger = render(receiver_of(receiver_format::pagerduty), opened());
  CHECK(trigger["routing_key"] == "R0UT1NGKEY");
  CHECK(trigger["event_action"] == "trigger");
  auto key = trigger["dedup_key"].get<std::string>();
  CHECK(key == "argus/" + alert_id_for("payments", "db-1").str());
  auto& p = trigger["payload"];
  CHECK(p["summary"] == "DB primary down");
  CHECK(p["source"] == "argus/payments");
  CHECK(p["severity"] == "critical");
  CHECK(p["timestamp"] == "2027-01-15T08:00:00.123Z");
  CHECK(p["group"] == "database");
  CHECK(p["class"] == "database");
  CHECK(p["custom_details"]["details"] == json{{"host", "db-a"}});
  CHECK(p["custom_details"]["notification_id"] == opened().notification_id);
  CHECK(trigger["client"] == "Argus");
  CHECK(trigger["client_url"] == "http://argus.example:8080");
  auto resolve = render(receiver_of(receiver_format::pagerduty), resolved());
  CHECK(resolve == json{{"routing_key", "R0UT1NGKEY"},
                        {"event_action", "resolve"},
                        {"dedup_key", key}});
  auto ack = opened();
  ack.kind = notification_kind::parent_acknowledged;
  CHECK(render(receiver_of(receiver_format::pagerduty), ack) ==
        json{{"routing_key", "R0UT1NGKEY"},
             {"event_action", "acknowledge"},
             {"dedup_key", key}});
  auto e = opened();
  e.parent.edit().sev = severity::medium;
  CHECK(render(receiver_of(receiver_format::pagerduty),
               e)["payload"]["severity"] == "error");
  e.parent.edit().sev = severity::low;
  CHECK(render(receiver_of(receiver_format::pagerduty),
               e)["payload"]["severity"] == "warning");
}

TEST_CASE("a request carries ids, signature and the receiver's headers",
          "[unit][delivery]") {
  auto r = receiver_of(receiver_format::argus);
  r.headers = {{"X-Team", "db"}, {"Authorization", "Bearer t"}};
  r.timeout_ms = 2500;
  auto e = opened();
  auto req = make_request(r, e, 1700000000);
  CHECK(req.receiver == "ops");
  CHECK(req.url == r.url);
  CHECK(req.timeout_ms == 2500);
  CHECK(json::parse(req.body) == render(r, e));
  CHECK(header(req, "Content-Type") == "application/json");
  CHECK(header(req, "Idempotency-Key") == e.notification_id);
  CHECK(header(req, "X-Argus-Notification-Id") == e.notification_id);
  CHECK(header(req, "X-Team") == "db");
  CHECK(header(req, "Authorization") == "Bearer t");
  CHECK(header(req, "X-Argus-Signature").empty()); // no secret, no signature
  r.secret = "s3cret";
  req = make_request(r, e, 1700000000);
  CHECK(header(req, "X-Argus-Signature") ==
        "t=1700000000,v1=" +
            hmac_sha256_hex("s3cret", "1700000000." + req.body));
}

TEST_CASE("invalid UTF-8 in an alert still renders", "[unit][delivery]") {
  auto e = opened();
  e.parent.edit().summary = "bad \xff byte";
  auto req = make_request(receiver_of(receiver_format::slack), e, 1);
  CHECK(json::parse(req.body)["text"].get<std::string>().find("bad") !=
        std::string::npos);
}
