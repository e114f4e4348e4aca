#include "domain/retention.hpp"

#include <algorithm>
#include <chrono>

namespace argus::domain {

duration retention::interval() const {
  auto tenth = keep / 10;
  return std::clamp<duration>(tenth, std::chrono::seconds{1},
                              std::chrono::hours{1});
}

size_t retention::notifications_per_step(size_t alerts_per_step) {
  return std::max<size_t>(alerts_per_step / 4, 1);
}

bool past_retention(alert_status status, time_point resolved_at,
                    time_point cutoff) {
  return status == alert_status::resolved && resolved_at != no_time &&
         resolved_at < cutoff;
}

bool drops_child(bool parent_stored, bool parent_past) {
  return !parent_stored || parent_past;
}

bool drops_notification(const notification_facts& n) {
  return !n.parent_active && parent_decides(n);
}

bool parent_decides(const notification_facts& n) {
  return n.made_before_cutoff && n.fanned_out && !n.delivery_pending;
}

} // namespace argus::domain
