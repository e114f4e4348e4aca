// The Prometheus registry: what a scrape of /metrics shows after the node
// counted, timed and collected.

#include "metrics/registry.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using argus::metrics::front;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos ||
         text.rfind(line + "\n", 0) == 0;
}

} // namespace

TEST_CASE("the registry counts events by front and by manager", "[unit]") {
  argus::metrics::registry r;
  r.event_received(front::v1, 3);
  r.event_received(front::pagerduty);
  r.event_rejected(front::v1);
  r.event_accepted(front::v1, "payments", 2);
  r.event_accepted(front::pagerduty, "payments");
  r.event_accepted(front::am, "search");
  r.backpressure_refused(front::pagerduty);
  r.event_processed("payments");
  r.event_processed("payments");
  auto text = r.scrape();
  INFO(text);
  CHECK(has_line(text, "# TYPE argus_events_received_total counter"));
  CHECK(has_line(text, R"(argus_events_received_total{front="v1"} 3)"));
  CHECK(has_line(text, R"(argus_events_received_total{front="pagerduty"} 1)"));
  // Every front shows from the start, so rate() has a series to work on.
  CHECK(has_line(text, R"(argus_events_received_total{front="am"} 0)"));
  CHECK(has_line(text, R"(argus_events_received_total{front="cli"} 0)"));
  CHECK(has_line(text, R"(argus_events_rejected_total{front="v1"} 1)"));
  CHECK(has_line(
      text, R"(argus_events_accepted_total{front="v1",manager="payments"} 2)"));
  CHECK(has_line(
      text,
      R"(argus_events_accepted_total{front="pagerduty",manager="payments"} 1)"));
  CHECK(has_line(
      text, R"(argus_events_accepted_total{front="am",manager="search"} 1)"));
  CHECK(has_line(text,
                 R"(argus_backpressure_refusals_total{front="pagerduty"} 1)"));
  CHECK(
      has_line(text, R"(argus_events_processed_total{manager="payments"} 2)"));
  CHECK(to_string(front::am) == "am");
}

TEST_CASE("the registry times journal appends, notifications and HTTP "
          "requests",
          "[unit]") {
  argus::metrics::registry r;
  r.journal_append(0.0003);
  r.journal_append(0.02);
  r.notification_lag(0.0006);
  r.notification_lag(0.0009);
  r.notification_lag(0.004);
  r.store_write(3, 0.002);
  r.http_request("/v1/alerts/:dedupKey", "GET", 200, 0.004);
  r.http_request("/v1/alerts/:dedupKey", "GET", 200, 0.2);
  r.http_request("/v2/enqueue", "POST", 400, 0.001);
  r.notification("parent_acknowledged", "recorded");
  auto text = r.scrape();
  INFO(text);
  CHECK(has_line(text, "# TYPE argus_journal_append_seconds histogram"));
  CHECK(has_line(text, R"(argus_journal_append_seconds_count 2)"));
  CHECK(
      has_line(text, R"(argus_journal_append_seconds_bucket{le="0.0005"} 1)"));
  CHECK(has_line(text, R"(argus_journal_append_seconds_bucket{le="+Inf"} 2)"));
  // Fine buckets around a millisecond, where the latency target lies.
  CHECK(has_line(text, "# TYPE argus_notification_lag_seconds histogram"));
  CHECK(has_line(text,
                 R"(argus_notification_lag_seconds_bucket{le="0.0005"} 0)"));
  CHECK(has_line(text,
                 R"(argus_notification_lag_seconds_bucket{le="0.00075"} 1)"));
  CHECK(
      has_line(text, R"(argus_notification_lag_seconds_bucket{le="0.001"} 2)"));
  CHECK(has_line(text, R"(argus_notification_lag_seconds_count 3)"));
  CHECK(has_line(text, R"(argus_store_write_seconds_bucket{le="0.0025"} 1)"));
  CHECK(has_line(text, R"(argus_store_write_changes_bucket{le="1"} 0)"));
  CHECK(has_line(text, R"(argus_store_write_changes_bucket{le="4"} 1)"));
  CHECK(has_line(text, "# TYPE argus_http_request_duration_seconds histogram"));
  CHECK(has_line(
      text,
      R"(argus_http_request_duration_seconds_count{code="200",method="GET",route="/v1/alerts/:dedupKey"} 2)"));
  CHECK(has_line(
      text,
      R"(argus_http_request_duration_seconds_bucket{code="200",method="GET",route="/v1/alerts/:dedupKey",le="0.005"} 1)"));
  CHECK(has_line(
      text,
      R"(argus_http_request_duration_seconds_count{code="400",method="POST",route="/v2/enqueue"} 1)"));
  CHECK(has_line(
      text,
      R"(argus_notifications_total{kind="parent_acknowledged",outcome="recorded"} 1)"));
}

TEST_CASE("collectors add families at each scrape", "[unit]") {
  argus::metrics::registry r;
  int backlog = 5;
  r.on_scrape([&](std::vector<prometheus::MetricFamily>& out) {
    out.push_back(argus::metrics::gauge(
        "argus_store_backlog", "Alert changes not stored yet.", backlog));
    auto alerts = argus::metrics::gauge("argus_alerts_active",
                                        "Active alerts by state.", 0);
    alerts.metric.clear();
    argus::metrics::add_sample(alerts, {{"state", "acknowledged"}}, 2);
    argus::metrics::add_sample(alerts, {{"state", "unacknowledged"}}, 7);
    out.push_back(std::move(alerts));
    out.push_back(argus::metrics::counter("argus_store_errors_total",
                                          "Failed store batches.", 1));
  });
  auto first = r.scrape();
  INFO(first);
  CHECK(has_line(first, "# TYPE argus_store_backlog gauge"));
  CHECK(has_line(first, "argus_store_backlog 5"));
  CHECK(has_line(first, R"(argus_alerts_active{state="acknowledged"} 2)"));
  CHECK(has_line(first, R"(argus_alerts_active{state="unacknowledged"} 7)"));
  CHECK(has_line(first, "# TYPE argus_store_errors_total counter"));
  CHECK(has_line(first, "argus_store_errors_total 1"));
  backlog = 0;
  CHECK(has_line(r.scrape(), "argus_store_backlog 0"));
  CHECK(std::string{argus::metrics::registry::content_type}.find(
            "version=0.0.4") != std::string::npos);
}
