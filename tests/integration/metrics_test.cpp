// GET /metrics: Prometheus text exposition of what the node counted.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <string>

namespace {

using namespace argus::test;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("/metrics exposes events, alerts and request durations",
          "[integration]") {
  server s;
  auto m = s.fresh_manager("class");
  s.trigger(m, "p", {{"class", "db"}});
  s.post_event({{"event_manager_id", m}, {"action", "explode"}});
  auto key = s.http().get("/v1/event-managers/" + m).data()["routing_key"];
  auto pd = s.http().post(
      "/v2/enqueue",
      {{"routing_key", key},
       {"event_action", "trigger"},
       {"dedup_key", "pd-1"},
       {"payload", {{"summary", "s"}, {"source", "h"}, {"severity", "info"}}}});
  REQUIRE(pd.status == 202);
  s.await_alert(m, "pd-1");
  REQUIRE(s.settle());
  httplib::Client raw{"127.0.0.1", s.port()};
  // The notifier counts a notification once the store has it, just after
  // the write that the reads above waited for.
  const std::string stored =
      R"(argus_notifications_total{kind="parent_opened",outcome="stored"} 2)";
  // Each notification's lag is observed just after it is counted as stored.
  const std::string lagged = "argus_notification_lag_seconds_count 2";
  auto r = raw.Get("/metrics");
  eventually([&] {
    r = raw.Get("/metrics");
    return r && has(r->body, stored) && has(r->body, lagged);
  });
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(has(r->get_header_value("Content-Type"), "version=0.0.4"));
  auto& text = r->body;
  INFO(text);
  CHECK(has(text, "# TYPE argus_events_received_total counter"));
  CHECK(has(text, R"(argus_events_received_total{front="v1"} 2)"));
  CHECK(has(text, R"(argus_events_received_total{front="pagerduty"} 1)"));
  CHECK(has(text, R"(argus_events_rejected_total{front="v1"} 1)"));
  CHECK(has(text, "argus_events_accepted_total{front=\"v1\",manager=\"" + m +
                      "\"} 1"));
  CHECK(has(text, "argus_events_accepted_total{front=\"pagerduty\",manager=\"" +
                      m + "\"} 1"));
  CHECK(has(text, "argus_events_processed_total{manager=\"" + m + "\"} 2"));
  CHECK(has(text, stored));
  CHECK(has(text, "# TYPE argus_journal_append_seconds histogram"));
  CHECK(has(text, "argus_journal_append_seconds_count"));
  // Both parents' notifications, timed from their events' acceptance.
  CHECK(has(text, "# TYPE argus_notification_lag_seconds histogram"));
  CHECK(has(text, "argus_notification_lag_seconds_count 2"));
  CHECK(has(text, R"(argus_notification_lag_seconds_bucket{le="10"} 2)"));
  // The write-behind transactions that stored them.
  CHECK(has(text, "# TYPE argus_store_write_seconds histogram"));
  CHECK_FALSE(has(text, "argus_store_write_changes_count 0\n"));
  CHECK(has(
      text,
      R"(argus_http_request_duration_seconds_count{code="202",method="POST",route="/v2/enqueue"} 1)"));
  CHECK(has(
      text,
      R"(argus_http_request_duration_seconds_count{code="400",method="POST",route="/v1/events"} 1)"));
  CHECK(has(text, R"(argus_alerts{status="active"} 2)"));
  CHECK(has(text, "# TYPE argus_groups_live gauge"));
  CHECK(has(text, "argus_store_backlog 0"));
  CHECK(has(text, R"(argus_backpressure_refusals_total{front="pagerduty"} 0)"));
}

TEST_CASE("/metrics counts the Alertmanager front", "[integration]") {
  server s;
  auto m = s.fresh_manager("class");
  json good{{"labels", {{"alertname", "DiskFull"}}}};
  json no_labels{{"labels", json::object()}};
  auto res = s.http().post("/am/" + m + "/api/v2/alerts",
                           json::array({good, no_labels}));
  CHECK(res.status == 400); // the valid alert is still taken
  REQUIRE(s.settle());
  httplib::Client raw{"127.0.0.1", s.port()};
  auto r = raw.Get("/metrics");
  REQUIRE(r);
  auto& text = r->body;
  INFO(text);
  CHECK(has(text, R"(argus_events_received_total{front="am"} 2)"));
  CHECK(has(text, R"(argus_events_rejected_total{front="am"} 1)"));
  CHECK(has(text, "argus_events_accepted_total{front=\"am\",manager=\"" + m +
                      "\"} 1"));
  CHECK(has(text, "argus_events_processed_total{manager=\"" + m + "\"} 1"));
  CHECK(has(
      text,
      R"(argus_http_request_duration_seconds_count{code="400",method="POST",route="/am/:id/api/v2/alerts"} 1)"));
}
