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

} // namespace

void add_status_routes(router& svr, route_env& env) {
  svr.Get("/healthz", [&env](const httplib::Request&, httplib::Response& res) {
    reply_data(res, 200, health_of(env.node));
  });
}

} // namespace argus::http
