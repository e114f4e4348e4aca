#include "domain/error.hpp"
#include "http/errors.hpp"
#include "http/json.hpp"
#include "http/routes.hpp"

#include <caf/send.hpp>

namespace argus::http {

namespace {

/// Validates one event against the catalog and hands it to its router
/// (fire and forget: the order of one sender's events is kept by the
/// router's mailbox).
caf::error ingest(route_env& env, const domain::catalog& catalog,
                  const nlohmann::json& j) {
  auto e = parse_event(j);
  if (!e)
    return std::move(e.error());
  auto manager = catalog.managers.find(e->event_manager_id);
  if (manager == catalog.managers.end())
    return make_error(ec::not_found, "event manager '" + e->event_manager_id
                                       + "' not found");
  if (auto rule = catalog.rule_of(e->event_manager_id)) {
    e->has_grouping_value = grouping_value_of(j, rule->grouping_key,
                                              e->grouping_value);
    e->window = rule->window();
  }
  e->received_at = domain::time_point{std::chrono::system_clock::now()};
  caf::anon_send(env.node.router_for(e->event_manager_id),
                 atom::apply::value, std::move(*e));
  return {};
}

} // namespace

void add_event_routes(httplib::Server& svr, route_env& env) {
  svr.Post("/v1/events", [&env](const httplib::Request& req,
                                httplib::Response& res) {
    auto& stats = env.node.stats();
    stats.events_received.fetch_add(1, std::memory_order_relaxed);
    auto body = parse_body(req.body);
    caf::error err;
    if (!body)
      err = std::move(body.error());
    else if (!body->is_object())
      err = make_error(ec::bad_request, "request body must be a JSON object");
    else
      err = ingest(env, *env.node.catalog_snapshot().get(), *body);
    if (err) {
      stats.events_rejected.fetch_add(1, std::memory_order_relaxed);
      reply_error(res, err);
      return;
    }
    stats.events_accepted.fetch_add(1, std::memory_order_relaxed);
    reply_data(res, 202,
               {{"status", "accepted"}, {"dedupKey", (*body)["dedupKey"]}});
  });
}

} // namespace argus::http
