#include "domain/dispatch.hpp"

#include <algorithm>

namespace argus::domain {

std::string_view to_string(breaker_state x) {
  switch (x) {
  case breaker_state::closed:
    return "closed";
  case breaker_state::open:
    return "open";
  case breaker_state::half_open:
    return "half_open";
  }
  return "unknown";
}

bool allow_send(circuit_breaker& b, time_point now) {
  switch (b.state) {
  case breaker_state::closed:
    return true;
  case breaker_state::half_open:
    return false;
  case breaker_state::open:
    if (now < b.open_until)
      return false;
    b.state = breaker_state::half_open;
    return true;
  }
  return false;
}

void record(circuit_breaker& b, verdict v, const breaker_policy& p,
            time_point now) {
  if (v != verdict::retry) {
    b = circuit_breaker{};
    return;
  }
  ++b.consecutive_failures;
  // A failed probe reopens at once; a closed breaker opens at the threshold.
  if (b.state == breaker_state::half_open ||
      b.consecutive_failures >= p.failure_threshold) {
    b.state = breaker_state::open;
    b.open_until = now + p.cool_down;
  }
}

lane lane_of(const delivery& d) {
  return {d.receiver, d.event_manager_id + '\n' + d.group};
}

std::vector<size_t> pick(dispatch_state& st,
                         const std::vector<delivery>& pending,
                         const dispatch_limits& limits, time_point now) {
  std::vector<size_t> out;
  // Lanes whose head was seen: a later delivery of them must wait.
  std::set<lane> headed = st.busy;
  for (size_t i = 0; i < pending.size() && st.in_flight < limits.total; ++i) {
    auto& d = pending[i];
    if (d.state != delivery_state::pending)
      continue;
    if (!headed.insert(lane_of(d)).second || d.next_attempt_at > now)
      continue;
    auto& slots = st.in_flight_per_receiver[d.receiver];
    if (slots >= limits.per_receiver ||
        !allow_send(st.breakers[d.receiver], now))
      continue;
    ++slots;
    ++st.in_flight;
    st.busy.insert(lane_of(d));
    out.push_back(i);
  }
  return out;
}

void finish(dispatch_state& st, const delivery& d, verdict v,
            const breaker_policy& p, time_point now) {
  if (st.busy.erase(lane_of(d)) == 0)
    return;
  auto& slots = st.in_flight_per_receiver[d.receiver];
  if (slots > 0)
    --slots;
  if (st.in_flight > 0)
    --st.in_flight;
  record(st.breakers[d.receiver], v, p, now);
}

time_point next_wakeup(const dispatch_state& st,
                       const std::vector<delivery>& pending) {
  time_point best = no_time;
  auto consider = [&](time_point t) {
    if (best == no_time || t < best)
      best = t;
  };
  std::set<lane> headed = st.busy;
  for (auto& d : pending) {
    if (d.state != delivery_state::pending || !headed.insert(lane_of(d)).second)
      continue;
    auto due = d.next_attempt_at;
    auto b = st.breakers.find(d.receiver);
    if (b != st.breakers.end() && b->second.state == breaker_state::open)
      due = std::max(due, b->second.open_until);
    consider(due);
  }
  return best;
}

} // namespace argus::domain
