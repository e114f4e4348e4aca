#include "http/bridge.hpp"
#include "http/errors.hpp"
#include "http/json.hpp"
#include "http/routes.hpp"

#include "version.hpp"

namespace argus::http {

void add_status_routes(httplib::Server& svr, route_env& env) {
  svr.Get("/healthz", [&env](const httplib::Request&, httplib::Response& res) {
    auto& m = env.node.stats();
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::steady_clock::now() - env.started)
                      .count();
    auto relaxed = std::memory_order_relaxed;
    nlohmann::json body{
        {"status", "ok"},
        {"version", ARGUS_VERSION},
        {"storage", env.node.backend()},
        {"uptime_seconds", uptime},
        {"events",
         {{"received", m.events_received.load(relaxed)},
          {"accepted", m.events_accepted.load(relaxed)},
          {"rejected", m.events_rejected.load(relaxed)},
          {"processed", m.events_applied.load(relaxed)},
          {"ignored", m.events_ignored.load(relaxed)}}},
        {"groups_live", m.groups_live.load(relaxed)},
        {"notifications", m.notifications.load(relaxed)},
        {"store_errors", m.store_errors.load(relaxed)},
        // Alert changes applied but not yet written to the store.
        {"store_backlog", m.store_backlog()}};
    if (auto c = env.node.cluster_state()) {
      body["events"]["forwarded"] = m.events_forwarded.load(relaxed);
      // "settled": false while this node takes groups over; their events
      // wait meanwhile (the node itself is healthy).
      body["cluster"] = {{"node_id", c->node_id},
                         {"live_members", c->live},
                         {"settled", c->settled}};
    }
    reply_data(res, 200, body);
  });
  svr.Get("/v1/notifications", [&env](const httplib::Request& req,
                                      httplib::Response& res) {
    uint64_t limit = 100;
    if (req.has_param("limit")) {
      auto text = req.get_param_value("limit");
      char* end = nullptr;
      auto value = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || value < 1 || value > 10000)
        return reply_error(res, ec::bad_request,
                           "query parameter 'limit' must be an integer from "
                           "1 to 10000");
      limit = static_cast<uint64_t>(value);
    }
    auto found = ask<std::vector<domain::notification>>(
        env.node.system(), env.node.notifier(), atom::list::value, limit);
    if (!found)
      return reply_error(res, found.error());
    auto out = nlohmann::json::array();
    for (auto& n : *found)
      out.push_back(to_json(n));
    reply_data(res, 200, out);
  });
}

} // namespace argus::http
