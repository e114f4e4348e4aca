#include "domain/admission.hpp"
#include "http/bridge.hpp"
#include "http/errors.hpp"
#include "http/json.hpp"
#include "http/routes.hpp"

namespace argus::http {

namespace {

/// /healthz's body: the node status `argusctl status` reports too, plus
/// what only the health check shows.
nlohmann::json health_of(const actors::front& node) {
  auto st = actors::local_status(node, "");
  auto& m = node.stats();
  auto relaxed = std::memory_order_relaxed;
  nlohmann::json body{{"status", "ok"},
                      {"version", st.version},
                      {"storage", st.storage},
                      {"uptime_seconds", st.uptime_seconds},
                      {"events",
                       {{"received", st.events_received},
                        {"accepted", st.events_accepted},
                        {"rejected", st.events_rejected},
                        {"processed", st.events_processed},
                        {"ignored", st.events_ignored}}},
                      {"groups_live", m.groups_live.load(relaxed)},
                      {"notifications", st.notifications},
                      {"store_errors", st.store_errors},
                      // Alert changes applied but not yet written to the
                      // store.
                      {"store_backlog", m.store_backlog()}};
  if (auto c = node.cluster_state()) {
    body["events"]["forwarded"] = m.events_forwarded.load(relaxed);
    // "settled": false while this node takes groups over; their events
    // wait meanwhile (the node itself is healthy).
    body["cluster"] = {{"node_id", c->node_id},
                       {"live_members", c->live},
                       {"settled", c->settled}};
  }
  return body;
}

/// The `limit` query parameter of the notification list.
caf::expected<int64_t> notification_limit(const httplib::Request& req) {
  if (!req.has_param("limit"))
    return domain::default_notification_limit;
  const std::string name = "query parameter 'limit'";
  auto text = req.get_param_value("limit");
  char* end = nullptr;
  auto value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0')
    return domain::out_of_range(name, 1, domain::max_notification_limit);
  if (auto err = domain::check_notification_limit(value, name))
    return err;
  return value;
}

} // namespace

void add_status_routes(httplib::Server& svr, route_env& env) {
  svr.Get("/healthz", [&env](const httplib::Request&, httplib::Response& res) {
    reply_data(res, 200, health_of(env.node));
  });
  svr.Get("/v1/notifications",
          [&env](const httplib::Request& req, httplib::Response& res) {
            auto limit = notification_limit(req);
            if (!limit)
              return reply_error(res, limit.error());
            auto found = ask<std::vector<domain::notification>>(
                *env.node.system, env.node.notifier, atom::list::value,
                static_cast<uint64_t>(*limit));
            if (!found)
              return reply_error(res, found.error());
            auto out = nlohmann::json::array();
            for (auto& n : *found)
              out.push_back(to_json(n));
            reply_data(res, 200, out);
          });
}

} // namespace argus::http
