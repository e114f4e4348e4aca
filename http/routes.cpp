#include "http/routes.hpp"

#include "domain/admission.hpp"
#include "domain/error.hpp"
#include "http/json.hpp"

namespace argus::http {

caf::expected<nlohmann::json> read_body(const route_env& env,
                                        const httplib::Request& req) {
  auto limit = env.settings.server.max_body_bytes;
  if (req.body.size() > limit)
    return make_error(ec::payload_too_large, "request body is larger than " +
                                                 std::to_string(limit) +
                                                 " bytes");
  return parse_body(req.body);
}

bool is_ingest(const httplib::Request& req) {
  if (req.method != "POST")
    return false;
  auto& p = req.path;
  auto ends = [&p](const std::string& tail) {
    return p.size() >= tail.size() &&
           p.compare(p.size() - tail.size(), tail.size(), tail) == 0;
  };
  return p == "/v1/events" || p == "/v1/events/batch" || p == "/v2/enqueue" ||
         (p.rfind("/am/", 0) == 0 && ends("/api/v2/alerts"));
}

caf::error ingest_action(route_env& env, const domain::alert& a,
                         domain::action act, const std::string& by) {
  if (auto err = env.node.check_backlog(1))
    return err;
  domain::event e;
  e.event_manager_id = a.event_manager_id;
  e.dedup_key = a.dedup_key;
  e.act = act;
  e.actor = by;
  // The alert's own grouping value: the admission path looks it up as the
  // rule's field, so the event goes where the alert's group lives.
  auto admitted = domain::admit(
      std::move(e), *env.node.catalog_now(),
      [&a](const std::string&) -> std::optional<std::string> {
        if (a.has_grouping_value)
          return a.grouping_value.str();
        return std::nullopt;
      },
      env.node.ctx->now());
  if (!admitted)
    return admitted.error();
  // An operator's action is never rate limited (front::check_rate is for
  // senders): an operator must be able to act on a flood.
  std::vector<domain::event> one;
  one.push_back(std::move(*admitted));
  env.node.registry().event_received(metrics::front::v1);
  if (auto err = env.node.ingest(std::move(one)))
    return err;
  env.node.registry().event_accepted(metrics::front::v1, a.event_manager_id);
  return {};
}

} // namespace argus::http
