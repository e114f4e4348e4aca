#include "actors/front.hpp"

#include "domain/admission.hpp"

#include "version.hpp"

namespace argus::actors {

caf::error front::check_backlog(uint64_t incoming) const {
  return domain::check_backlog(stats().backlog(), incoming, max_pending_events);
}

std::optional<domain::rate_refusal>
front::check_rate(const std::vector<domain::event>& events) const {
  if (!limiter || events.empty())
    return std::nullopt;
  return limiter->admit(*catalog_now(), events, ctx->now());
}

node_status local_status(const front& f, const std::string& node_id) {
  auto& m = f.stats();
  auto relaxed = std::memory_order_relaxed;
  node_status st;
  st.node_id = node_id;
  st.version = ARGUS_VERSION;
  st.storage = f.backend;
  st.uptime_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now() - f.started)
                          .count();
  st.events_received = m.events_received.load(relaxed);
  st.events_accepted = m.events_accepted.load(relaxed);
  st.events_rejected = m.events_rejected.load(relaxed);
  st.events_processed = m.events_applied.load(relaxed);
  st.events_ignored = m.events_ignored.load(relaxed);
  st.events_queued = m.events_unapplied();
  st.notifications = m.notifications.load(relaxed);
  st.store_errors = m.store_errors.load(relaxed);
  st.groups_per_router.resize(f.routers.size());
  return st;
}

} // namespace argus::actors
