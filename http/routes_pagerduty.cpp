#include "domain/admission.hpp"
#include "domain/error.hpp"
#include "http/auth.hpp"
#include "http/errors.hpp"
#include "http/json.hpp"
#include "http/pagerduty.hpp"
#include "http/routes.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace argus::http {

namespace {

namespace pd = pagerduty;

void send(httplib::Response& res, const pd::reply& r) {
  res.status = r.status;
  res.set_content(r.body.dump(), "application/json");
}

/// Authenticates a PagerDuty sender (auth on): the bearer key if sent,
/// else the routing_key as an ingest key, whose one manager it selects
/// (`key_text`, `key_manager`). A refusal in PagerDuty's shape otherwise.
std::optional<pd::reply> authenticate_sender(route_env& env,
                                             const httplib::Request& req,
                                             std::string& key_text,
                                             std::string& key_manager) {
  auto bearer = bearer_of(req);
  if (bearer.empty()) {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_object() && body.contains("routing_key") &&
        body["routing_key"].is_string())
      key_text = body["routing_key"].get<std::string>();
  }
  auto found = env.auth->authenticate(req, bearer.empty() ? key_text : bearer);
  if (auto* f = std::get_if<domain::auth_failure>(&found))
    return pd::refused(401, *f == domain::auth_failure::missing
                                ? "an API key is required (routing_key or "
                                  "Authorization: Bearer)"
                                : "the API key is not valid, expired or "
                                  "revoked");
  auto key = std::get<const domain::api_key*>(found);
  if (!bearer.empty())
    return std::nullopt;
  if (key->key_role != domain::role::ingest || key->managers.size() != 1) {
    env.auth->forbidden(req, *key);
    return pd::refused(403, "a routing_key must be an ingest key of exactly "
                            "one event manager");
  }
  key_manager = key->managers.front();
  return std::nullopt;
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
  // With auth on, the key is the Authorization header's (the routing_key
  // then picks the manager as without auth), or else the routing_key
  // itself: an ingest key of exactly one manager.
  std::string key_manager;
  std::string key_text;
  if (env.auth->enforced()) {
    auto refusal = authenticate_sender(env, req, key_text, key_manager);
    if (refusal) {
      stats.events_rejected.fetch_add(1, std::memory_order_relaxed);
      registry.event_rejected(metrics::front::pagerduty);
      return send(res, *refusal);
    }
  }
  auto parsed = pd::parse(
      req.body, [&](const std::string& key) -> std::optional<std::string> {
        if (!key_manager.empty() && key == key_text)
          return key_manager;
        if (auto m = catalog->manager_by_routing_key(key))
          return m->id;
        return std::nullopt;
      });
  if (auto* m = std::get_if<pd::mapped>(&parsed);
      m != nullptr && !current_principal().may_ingest(m->e.event_manager_id)) {
    env.auth->forbidden(req, *current_principal().key);
    parsed = pd::refused(403, "the key may not send events for event "
                              "manager '" +
                                  m->e.event_manager_id + "'");
  }
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
  if (auto refusal = env.node.check_rate(one)) {
    set_retry_after(res, *refusal);
    return send(res, pd::throttled({message_of(domain::to_error(*refusal))}));
  }
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

void add_pagerduty_routes(router& svr, route_env& env) {
  svr.Post("/v2/enqueue",
           [&env](const httplib::Request& req, httplib::Response& res) {
             post_enqueue(env, req, res);
           });
}

} // namespace argus::http
