#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <array>
#include <cstdint>
#include <forward_list>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

/// The node's Prometheus metrics, on prometheus-cpp's core registry and text
/// serializer (Debian's prometheus-cpp-dev), served at `GET /metrics` by the
/// HTTP server. Counters and histograms that only exist for Prometheus live
/// here; values the node keeps anyway (the back-pressure counters, live
/// groups, store backlog, alert counts) are read at each scrape by the
/// collectors given to `on_scrape`, so the hot path does not count twice.
namespace argus::metrics {

/// Where an event came in: the front that mapped its body.
enum class front : uint8_t { v1, am, pagerduty, cli };

inline constexpr size_t front_count = 4;

/// The `front` label: v1, am, pagerduty, cli.
std::string_view to_string(front f);

/// One counter per value of one label (beyond a fixed front), looked up
/// without allocating: tenants come and go, so the set is open.
class labelled_counters {
public:
  labelled_counters(prometheus::Family<prometheus::Counter>& family,
                    prometheus::Labels fixed, std::string label);

  prometheus::Counter& operator[](std::string_view value);

private:
  prometheus::Family<prometheus::Counter>& family_;
  prometheus::Labels fixed_;
  std::string label_;
  std::mutex mtx_;
  /// The values seen, where the keys of `counters_` point: a lookup by a
  /// view copies nothing.
  std::forward_list<std::string> values_;
  std::unordered_map<std::string_view, prometheus::Counter*> counters_;
};

class registry {
public:
  /// Adds families computed at scrape time to `out`.
  using collector =
      std::function<void(std::vector<prometheus::MetricFamily>& out)>;

  /// What `scrape` returns is this media type (text format 0.0.4).
  static constexpr const char* content_type =
      "text/plain; version=0.0.4; charset=utf-8";

  registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// A front read an event (valid or not).
  void event_received(front f, uint64_t n = 1);
  /// A front refused an event as invalid (4xx).
  void event_rejected(front f, uint64_t n = 1);
  /// An event was admitted for `manager` (its 202 is under way).
  void event_accepted(front f, std::string_view manager, uint64_t n = 1);
  /// Ingestion refused an event because the node is behind (503 / 429).
  void backpressure_refused(front f, uint64_t n = 1);
  /// Events of `manager` refused because it was over its rate limit (429).
  void rate_limited(const std::string& manager, uint64_t n = 1);
  /// A grouping actor applied `n` events of `manager`.
  void event_processed(std::string_view manager, uint64_t n = 1);
  /// A notification of `kind` (parent_opened, ...) ended with `outcome`
  /// (recorded, delivered, failed, ...).
  void notification(std::string_view kind, std::string_view outcome);
  /// One journal append (group commit included) took `seconds`.
  void journal_append(double seconds);
  /// One write-behind transaction of `changes` alert changes took
  /// `seconds`.
  void store_write(size_t changes, double seconds);
  /// Retention deleted `n` resolved alerts.
  void alerts_dropped(size_t n);
  /// Retention deleted `n` notifications (with their deliveries).
  void notifications_dropped(size_t n);
  /// A notification was stored `seconds` after the acceptance of the event
  /// that made it: the node's ingest-to-notification time, less the HTTP
  /// request's own.
  void notification_lag(double seconds);
  /// An HTTP request for `route` (the pattern, not the path: bounded
  /// labels) answered `status` after `seconds`.
  void http_request(const std::string& route, std::string_view method,
                    int status, double seconds);

  /// Adds a collector run at each scrape, after the registry's own
  /// families. Add them before the server starts.
  void on_scrape(collector c);

  /// Every family in Prometheus text exposition format.
  std::string scrape() const;

private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& received_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Family<prometheus::Counter>& accepted_;
  prometheus::Family<prometheus::Counter>& refused_;
  prometheus::Family<prometheus::Counter>& processed_;
  prometheus::Family<prometheus::Counter>& notifications_;
  prometheus::Family<prometheus::Counter>& rate_limited_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Counter>& notes_dropped_;
  prometheus::Family<prometheus::Histogram>& journal_append_;
  prometheus::Family<prometheus::Histogram>& store_write_;
  prometheus::Family<prometheus::Histogram>& store_write_size_;
  prometheus::Family<prometheus::Histogram>& notification_lag_;
  prometheus::Family<prometheus::Histogram>& http_duration_;
  std::array<prometheus::Counter*, front_count> received_by_front_{};
  std::array<prometheus::Counter*, front_count> rejected_by_front_{};
  std::array<prometheus::Counter*, front_count> refused_by_front_{};
  std::vector<std::unique_ptr<labelled_counters>> accepted_by_front_;
  labelled_counters processed_by_manager_;
  labelled_counters rate_limited_by_manager_;
  prometheus::Counter& dropped_alerts_;
  prometheus::Counter& dropped_notes_;
  prometheus::Histogram& journal_append_seconds_;
  prometheus::Histogram& store_write_seconds_;
  prometheus::Histogram& store_write_changes_;
  prometheus::Histogram& notification_lag_seconds_;
  std::mutex notifications_mtx_; // guards notifications_by_outcome_
  /// The notification series by outcome, then kind.
  std::map<std::string, labelled_counters, std::less<>>
      notifications_by_outcome_;
  std::mutex http_mtx_; // guards http_series_
  std::unordered_map<std::string, prometheus::Histogram*> http_series_;
  mutable std::mutex mtx_; // guards collectors_
  std::vector<collector> collectors_;
};

/// A family of one sample, for collectors.
prometheus::MetricFamily gauge(std::string name, std::string help,
                               double value);
prometheus::MetricFamily counter(std::string name, std::string help,
                                 double value);

/// Adds one sample with `labels` to a gauge or counter family.
void add_sample(prometheus::MetricFamily& family,
                std::vector<prometheus::ClientMetric::Label> labels,
                double value);

} // namespace argus::metrics
