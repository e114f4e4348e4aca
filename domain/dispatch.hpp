#pragma once

#include "domain/delivery.hpp"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

/// Which pending deliveries may start now: per-receiver circuit breakers,
/// per-(receiver, group) order, and concurrency limits. Pure: the delivery
/// actor keeps a `dispatch_state` and reports what it started and finished.
namespace argus::domain {

/// When a receiver counts as down, and how it is probed.
struct breaker_policy {
  /// Consecutive retryable failures that open the breaker.
  int32_t failure_threshold = 5;
  /// How long an open breaker waits before it lets one probe through.
  duration cool_down = std::chrono::seconds{30};
};

/// closed: sends flow. open: nothing is sent until the cool-down ends.
/// half_open: one probe is in flight; its outcome closes or reopens.
enum class breaker_state : uint8_t { closed, open, half_open };

std::string_view to_string(breaker_state x);

struct circuit_breaker {
  breaker_state state = breaker_state::closed;
  int32_t consecutive_failures = 0;
  /// While open: when the probe may go.
  time_point open_until{};
};

/// Whether a send to this receiver may start now. An open breaker whose
/// cool-down ended turns half-open and lets exactly this one send through
/// as the probe; a half-open one lets nothing else through.
bool allow_send(circuit_breaker& b, time_point now);

/// Records the verdict of a finished send. Only `retry` verdicts (timeouts,
/// connection errors, 5xx, 408, 429) count as failures: a 4xx means the
/// receiver is up.
void record(circuit_breaker& b, verdict v, const breaker_policy& p,
            time_point now);

/// Limits on sends in flight.
struct dispatch_limits {
  size_t total = 64;
  size_t per_receiver = 4;
};

/// (receiver, group): deliveries of one lane go out one at a time, in order.
using lane = std::pair<std::string, std::string>;

lane lane_of(const delivery& d);

/// What is in flight, and each receiver's breaker.
struct dispatch_state {
  std::map<std::string, circuit_breaker> breakers;
  std::map<std::string, size_t> in_flight_per_receiver;
  std::set<lane> busy;
  size_t in_flight = 0;
};

/// Picks the deliveries to start now from `pending` (pending deliveries in
/// `seq` order; delivered or failed ones are skipped), and marks them in
/// flight. A delivery starts only when it heads its lane (no earlier pending
/// delivery of the lane, none of it in flight), is due, its receiver's
/// breaker allows it and the limits leave room. So per receiver and group, a
/// parent's opening is delivered (or dead-lettered) before its resolution.
/// Returns indexes into `pending`.
std::vector<size_t> pick(dispatch_state& st,
                         const std::vector<delivery>& pending,
                         const dispatch_limits& limits, time_point now);

/// A send started by `pick` finished with verdict `v`: frees its slot and
/// feeds the receiver's breaker.
void finish(dispatch_state& st, const delivery& d, verdict v,
            const breaker_policy& p, time_point now);

/// The earliest time a pending delivery that `pick` skipped could start
/// (its due time, or its breaker's probe time); `no_time` when none waits on
/// time (only on sends in flight, or nothing pending).
time_point next_wakeup(const dispatch_state& st,
                       const std::vector<delivery>& pending);

} // namespace argus::domain
