#include "domain/admission.hpp"
#include "domain/error.hpp"
#include "http/json.hpp"
#include "http/pagerduty.hpp"
#include "http/routes.hpp"

#include <chrono>
#include <vector>

namespace argus::http {

namespace {

namespace pd = pagerduty;

void send(httplib::Response& res, const pd::reply& r) {
  res.status = r.status;
  res.set_content(r.body.dump(), "application/json");
}

void post_enqueue(route_env& env, const httplib::Request& req,
                  httplib::Response& res) {
  auto& stats = env.node.stats();
  auto& registry = env.node.registry();
  stats.events_received.fetch_add(1, std::memory_order_relaxed);
  registry.event_received(metrics::front::pagerduty);
  // PagerDuty senders retry a 429 with back-off; it is their "slow down".
  if (env.node.check_backlog(1)) {
    registry.backpressure_refused(metrics::front::pagerduty);
    res.set_header("Retry-After", "1");
    return send(res, pd::throttled());
  }
  auto catalog = env.node.catalog_now();
  auto parsed = pd::parse(
      req.body, [&](const std::string& key) -> std::optional<std::string> {
        if (auto m = catalog->manager_by_routing_key(key))
          return m->id;
        return std::nullopt;
      });
  if (auto* r = std::get_if<pd::reply>(&parsed)) {
    stats.events_rejected.fetch_add(1, std::memory_order_relaxed);
    registry.event_rejected(metrics::front::pagerduty);
    return send(res, *r);
  }
  // The one admission path, with the rule's grouping key looked up in the
  // PagerDuty body.
  auto& m = std::get<pd::mapped>(parsed);
  auto e = domain::admit(std::move(m.e), *catalog, fields_of(m.view),
                         env.node.ctx->now());
  if (!e) { // the manager went away since the lookup
    stats.events_rejected.fetch_add(1, std::memory_order_relaxed);
    registry.event_rejected(metrics::front::pagerduty);
    return send(res, pd::invalid({"Invalid routing key"}));
  }
  auto dedup_key = e->dedup_key;
  auto manager = e->event_manager_id;
  std::vector<domain::event> one;
  one.push_back(std::move(*e));
  if (auto err = env.node.ingest(std::move(one))) {
    // PagerDuty's senders retry any 5XX.
    res.set_header("Retry-After", "1");
    return send(res, {503,
                      {{"status", "unavailable"},
                       {"message", message_of(err)},
                       {"errors", nlohmann::json::array()}}});
  }
  registry.event_accepted(metrics::front::pagerduty, manager);
  send(res, pd::accepted(dedup_key));
}

} // namespace

void add_pagerduty_routes(httplib::Server& svr, route_env& env) {
  svr.Post("/v2/enqueue",
           [&env](const httplib::Request& req, httplib::Response& res) {
             post_enqueue(env, req, res);
           });
}

} // namespace argus::http
