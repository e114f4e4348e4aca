#include "http/bridge.hpp"
#include "http/routes.hpp"

#include <chrono>
#include <string_view>

namespace argus::http {

namespace {

using prometheus::MetricFamily;

/// The route pattern of a path, so request durations are labelled by a
/// bounded set (ids and dedupKeys would make a series each). Paths no route
/// serves count as "other".
std::string route_of(std::string_view path) {
  auto starts = [&](std::string_view prefix) {
    return path.substr(0, prefix.size()) == prefix;
  };
  auto ends = [&](std::string_view suffix) {
    return path.size() >= suffix.size() &&
           path.substr(path.size() - suffix.size()) == suffix;
  };
  for (auto exact :
       {"/v1/events", "/v1/events/batch", "/v1/alerts", "/v1/grouping-rules",
        "/v1/event-managers", "/v1/notifications", "/v2/enqueue", "/healthz",
        "/metrics"})
    if (path == exact)
      return exact;
  if (starts("/v1/alerts/")) {
    for (auto action :
         {"/children", "/acknowledge", "/unacknowledge", "/resolve"})
      if (ends(action))
        return std::string{"/v1/alerts/:dedupKey"} + action;
    return "/v1/alerts/:dedupKey";
  }
  if (starts("/v1/grouping-rules/"))
    return "/v1/grouping-rules/:id";
  if (starts("/v1/event-managers/"))
    return ends("/routing-key") ? "/v1/event-managers/:id/routing-key"
                                : "/v1/event-managers/:id";
  if (starts("/am/"))
    for (auto api : {"/api/v2/alerts", "/api/v2/status"})
      if (ends(api))
        return std::string{"/am/:id"} + api;
  return "other";
}

/// When the current worker thread started its request.
thread_local std::chrono::steady_clock::time_point request_started;

/// The node's own counters, read at scrape time.
void collect_node(const route_env& env, std::vector<MetricFamily>& out) {
  auto& m = env.node.stats();
  auto relaxed = std::memory_order_relaxed;
  auto n = [](auto value) { return static_cast<double>(value); };
  out.push_back(metrics::gauge("argus_groups_live",
                               "Grouping actors alive (open groups).",
                               n(m.groups_live.load(relaxed))));
  out.push_back(metrics::gauge("argus_store_backlog",
                               "Alert changes applied but not yet stored.",
                               n(m.store_backlog())));
  out.push_back(metrics::gauge("argus_events_unapplied",
                               "Accepted events not yet applied.",
                               n(m.events_unapplied())));
  out.push_back(metrics::counter("argus_events_ignored_total",
                                 "Resolves and acknowledgements for "
                                 "dedupKeys with no active alert.",
                                 n(m.events_ignored.load(relaxed))));
  out.push_back(metrics::counter("argus_events_forwarded_total",
                                 "Events forwarded to their owner node.",
                                 n(m.events_forwarded.load(relaxed))));
  out.push_back(metrics::counter("argus_store_errors_total",
                                 "Failed store writes.",
                                 n(m.store_errors.load(relaxed))));
}

/// Alerts by state, from the store (it lags the actors by milliseconds).
void collect_alerts(route_env& env, std::vector<MetricFamily>& out) {
  bool answered = false;
  int64_t active = 0;
  int64_t resolved = 0;
  thread_self(*env.node.system, false)
      ->request(env.node.repository, ask_timeout, atom::count::value)
      .receive(
          [&](int64_t a, int64_t r) {
            answered = true;
            active = a;
            resolved = r;
          },
          [&](caf::error&) {
            thread_self(*env.node.system, true); // a late answer must not leak
          });
  if (!answered)
    return; // a scrape without them beats no scrape
  auto family = metrics::gauge("argus_alerts", "Alerts by status.", 0);
  family.metric.clear();
  metrics::add_sample(family, {{"status", "active"}},
                      static_cast<double>(active));
  metrics::add_sample(family, {{"status", "resolved"}},
                      static_cast<double>(resolved));
  out.push_back(std::move(family));
}

} // namespace

void add_metrics_routes(router& svr, route_env& env) {
  auto& registry = env.node.registry();
  registry.on_scrape(
      [&env](std::vector<MetricFamily>& out) { collect_node(env, out); });
  registry.on_scrape(
      [&env](std::vector<MetricFamily>& out) { collect_alerts(env, out); });
  svr.Get("/metrics", [&env](const httplib::Request&, httplib::Response& res) {
    res.set_content(env.node.registry().scrape(),
                    metrics::registry::content_type);
  });
}

void note_request_started() {
  request_started = std::chrono::steady_clock::now();
}

void note_request_done(route_env& env, const httplib::Request& req,
                       const httplib::Response& res) {
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            request_started)
                  .count();
  env.node.registry().http_request(route_of(req.path), req.method, res.status,
                                   took);
}

} // namespace argus::http
