#include "metrics/registry.hpp"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace argus::metrics {

namespace {

constexpr std::array<std::string_view, front_count> front_names = {
    "v1", "am", "pagerduty", "cli"};

/// From a fast fsync (tens of microseconds) to a stalled disk or database.
const prometheus::Histogram::BucketBoundaries journal_buckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};

/// Powers of four up to the default batch size and past it.
const prometheus::Histogram::BucketBoundaries size_buckets = {
    1, 4, 16, 64, 256, 1024, 4096};

/// Fine below 25 ms, where a healthy node's notifications are made.
const prometheus::Histogram::BucketBoundaries lag_buckets = {
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003,
    0.005,  0.0075,  0.01,   0.015,   0.02,  0.025,  0.05,  0.1,
    0.25,   0.5,     1.0,    2.5,     5.0,   10.0};

/// Prometheus's default buckets, as client libraries use for HTTP.
const prometheus::Histogram::BucketBoundaries http_buckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

prometheus::Family<prometheus::Counter>&
counter_family(prometheus::Registry& r, const std::string& name,
               const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

template <class T, class Family>
std::array<T*, front_count> per_front(Family& family) {
  std::array<T*, front_count> result{};
  for (size_t i = 0; i < front_count; ++i)
    result[i] = &family.Add({{"front", std::string{front_names[i]}}});
  return result;
}

size_t index(front f) {
  return static_cast<size_t>(f);
}

} // namespace

std::string_view to_string(front f) {
  return front_names[index(f)];
}

labelled_counters::labelled_counters(
    prometheus::Family<prometheus::Counter>& family, prometheus::Labels fixed,
    std::string label)
    : family_(family), fixed_(std::move(fixed)), label_(std::move(label)) {}

prometheus::Counter& labelled_counters::operator[](std::string_view value) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto it = counters_.find(value); it != counters_.end())
    return *it->second;
  auto& own = values_.emplace_front(value);
  auto labels = fixed_;
  labels.emplace(label_, own);
  auto& added = family_.Add(labels);
  counters_.emplace(own, &added);
  return added;
}

registry::registry()
    : registry_(std::make_shared<prometheus::Registry>()),
      received_(counter_family(*registry_, "argus_events_received_total",
                               "Events a front read, valid or not.")),
      rejected_(counter_family(*registry_, "argus_events_rejected_total",
                               "Events a front refused as invalid.")),
      accepted_(counter_family(*registry_, "argus_events_accepted_total",
                               "Events admitted for a manager (answered "
                               "202).")),
      refused_(counter_family(*registry_, "argus_backpressure_refusals_total",
                              "Events refused because the node was behind "
                              "(503, or 429 for PagerDuty senders).")),
      processed_(counter_family(*registry_, "argus_events_processed_total",
                                "Events the grouping actors applied.")),
      notifications_(counter_family(*registry_, "argus_notifications_total",
                                    "Notifications by kind and delivery "
                                    "outcome.")),
      rate_limited_(counter_family(*registry_, "argus_rate_limited_total",
                                   "Events refused because their event "
                                   "manager was over its rate limit (429).")),
      dropped_(counter_family(*registry_, "argus_alerts_dropped_total",
                              "Resolved alerts deleted past "
                              "storage.retention.")),
      notes_dropped_(counter_family(*registry_,
                                    "argus_notifications_dropped_total",
                                    "Notifications (with their deliveries) "
                                    "deleted with their alert past "
                                    "storage.retention.")),
      journal_append_(prometheus::BuildHistogram()
                          .Name("argus_journal_append_seconds")
                          .Help("Time of one journal append, from the start of "
                                "its write to the end of its sync.")
                          .Register(*registry_)),
      store_write_(prometheus::BuildHistogram()
                       .Name("argus_store_write_seconds")
                       .Help("Time of one write-behind transaction of alert "
                             "changes and their notifications.")
                       .Register(*registry_)),
      store_write_size_(prometheus::BuildHistogram()
                            .Name("argus_store_write_changes")
                            .Help("Alert changes per write-behind "
                                  "transaction.")
                            .Register(*registry_)),
      notification_lag_(
          prometheus::BuildHistogram()
              .Name("argus_notification_lag_seconds")
              .Help("From the acceptance of the event that made a "
                    "notification (or the timer that did) to the notification "
                    "being stored in the outbox, ready for delivery.")
              .Register(*registry_)),
      http_duration_(prometheus::BuildHistogram()
                         .Name("argus_http_request_duration_seconds")
                         .Help("HTTP request duration by route pattern, method "
                               "and status code.")
                         .Register(*registry_)),
      received_by_front_(per_front<prometheus::Counter>(received_)),
      rejected_by_front_(per_front<prometheus::Counter>(rejected_)),
      refused_by_front_(per_front<prometheus::Counter>(refused_)),
      processed_by_manager_(processed_, {}, "manager"),
      rate_limited_by_manager_(rate_limited_, {}, "event_manager"),
      dropped_alerts_(dropped_.Add({})), dropped_notes_(notes_dropped_.Add({})),
      journal_append_seconds_(journal_append_.Add({}, journal_buckets)),
      store_write_seconds_(store_write_.Add({}, journal_buckets)),
      store_write_changes_(store_write_size_.Add({}, size_buckets)),
      notification_lag_seconds_(notification_lag_.Add({}, lag_buckets)) {
  for (auto name : front_names)
    accepted_by_front_.push_back(std::make_unique<labelled_counters>(
        accepted_, prometheus::Labels{{"front", std::string{name}}},
        "manager"));
}

void registry::event_received(front f, uint64_t n) {
  received_by_front_[index(f)]->Increment(static_cast<double>(n));
}

void registry::event_rejected(front f, uint64_t n) {
  rejected_by_front_[index(f)]->Increment(static_cast<double>(n));
}

void registry::event_accepted(front f, std::string_view manager, uint64_t n) {
  (*accepted_by_front_[index(f)])[manager].Increment(static_cast<double>(n));
}

void registry::backpressure_refused(front f, uint64_t n) {
  refused_by_front_[index(f)]->Increment(static_cast<double>(n));
}

void registry::rate_limited(const std::string& manager, uint64_t n) {
  rate_limited_by_manager_[manager].Increment(static_cast<double>(n));
}

void registry::event_processed(std::string_view manager, uint64_t n) {
  processed_by_manager_[manager].Increment(static_cast<double>(n));
}

void registry::notification(std::string_view kind, std::string_view outcome) {
  // Family::Add builds a label map of two strings and hashes it: for every
  // notification stored, 2% of the node's time with groups opening by
  // the hundred thousand. The series are found by view instead.
  labelled_counters* by_kind = nullptr;
  {
    std::lock_guard<std::mutex> guard{notifications_mtx_};
    auto it = notifications_by_outcome_.find(outcome);
    if (it == notifications_by_outcome_.end())
      it = notifications_by_outcome_
               .emplace(
                   std::piecewise_construct, std::forward_as_tuple(outcome),
                   std::forward_as_tuple(
                       notifications_,
                       prometheus::Labels{{"outcome", std::string{outcome}}},
                       "kind"))
               .first;
    by_kind = &it->second;
  }
  (*by_kind)[kind].Increment();
}

void registry::journal_append(double seconds) {
  journal_append_seconds_.Observe(seconds);
}

void registry::store_write(size_t changes, double seconds) {
  store_write_seconds_.Observe(seconds);
  store_write_changes_.Observe(static_cast<double>(changes));
}

void registry::alerts_dropped(size_t n) {
  dropped_alerts_.Increment(static_cast<double>(n));
}

void registry::notifications_dropped(size_t n) {
  dropped_notes_.Increment(static_cast<double>(n));
}

void registry::notification_lag(double seconds) {
  notification_lag_seconds_.Observe(seconds);
}

void registry::http_request(const std::string& route, std::string_view method,
                            int status, double seconds) {
  auto code = std::to_string(status);
  std::string key;
  key.reserve(route.size() + method.size() + code.size() + 2);
  key.append(route).append(1, ' ').append(method).append(1, ' ').append(code);
  prometheus::Histogram* h = nullptr;
  {
    // Family::Add builds a histogram before it looks the labels up, so
    // known series are found here first.
    std::lock_guard<std::mutex> guard{http_mtx_};
    auto& slot = http_series_[key];
    if (slot == nullptr)
      slot = &http_duration_.Add(
          {{"route", route}, {"method", std::string{method}}, {"code", code}},
          http_buckets);
    h = slot;
  }
  h->Observe(seconds);
}

void registry::on_scrape(collector c) {
  std::lock_guard<std::mutex> guard{mtx_};
  collectors_.push_back(std::move(c));
}

std::string registry::scrape() const {
  auto families = registry_->Collect();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& c : collectors_)
      c(families);
  }
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, families);
  return out.str();
}

namespace {

prometheus::MetricFamily single(std::string name, std::string help,
                                prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

} // namespace

prometheus::MetricFamily gauge(std::string name, std::string help,
                               double value) {
  auto family =
      single(std::move(name), std::move(help), prometheus::MetricType::Gauge);
  add_sample(family, {}, value);
  return family;
}

prometheus::MetricFamily counter(std::string name, std::string help,
                                 double value) {
  auto family =
      single(std::move(name), std::move(help), prometheus::MetricType::Counter);
  add_sample(family, {}, value);
  return family;
}

void add_sample(prometheus::MetricFamily& family,
                std::vector<prometheus::ClientMetric::Label> labels,
                double value) {
  prometheus::ClientMetric sample;
  sample.label = std::move(labels);
  if (family.type == prometheus::MetricType::Counter)
    sample.counter.value = value;
  else
    sample.gauge.value = value;
  family.metric.push_back(std::move(sample));
}

} // namespace argus::metrics
