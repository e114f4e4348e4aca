#include "domain/rate_limit.hpp"

#include "domain/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace argus::domain {

namespace {

/// Tokens a refilled bucket may lack for rounding and still admit: time is
/// counted in nanoseconds, so 0.1 events/s over 10 s can come to 0.999...
constexpr double slack = 1e-9;

/// The longest wait a refusal names (a year).
constexpr double max_wait_seconds = 366.0 * 24 * 3600;

double seconds_of(duration d) {
  return std::chrono::duration<double>(d).count();
}

} // namespace

int64_t default_burst(double events_per_second) {
  if (!(events_per_second > 1))
    return 1;
  return static_cast<int64_t>(
      std::min(std::ceil(events_per_second), static_cast<double>(max_burst)));
}

rate_limit normalized(rate_limit limit) {
  if (!limit.unlimited() && limit.burst == 0)
    limit.burst = default_burst(limit.events_per_second);
  return limit;
}

caf::error validate(const rate_limit& limit, const std::string& prefix) {
  auto rate = limit.events_per_second;
  if (!std::isfinite(rate) || rate < 0 ||
      (rate > 0 && rate < min_events_per_second) ||
      rate > max_events_per_second)
    return make_error(ec::validation_failed,
                      "field '" + prefix +
                          ".events_per_second' must be 0 (unlimited) or a "
                          "number from " +
                          format_rate(min_events_per_second) + " to " +
                          format_rate(max_events_per_second));
  if (limit.burst < 0 || limit.burst > max_burst)
    return make_error(ec::validation_failed,
                      "field '" + prefix + ".burst' must be an integer from " +
                          "1 to " + std::to_string(max_burst) +
                          " (0 or absent: the rate rounded up)");
  return {};
}

std::string format_rate(double events_per_second) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", events_per_second);
  return buf;
}

std::string encode(const rate_limit& limit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g %lld", limit.events_per_second,
                static_cast<long long>(limit.burst));
  return buf;
}

std::optional<rate_limit> decode_rate_limit(std::string_view text) {
  std::string s{text};
  auto space = s.find(' ');
  if (space == std::string::npos || space == 0 || space + 1 == s.size())
    return std::nullopt;
  char* end = nullptr;
  rate_limit out;
  out.events_per_second = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + space)
    return std::nullopt;
  out.burst = std::strtoll(s.c_str() + space + 1, &end, 10);
  if (end != s.c_str() + s.size())
    return std::nullopt;
  if (validate(out, "rate_limit"))
    return std::nullopt;
  return out;
}

void refill(token_bucket& b, const rate_limit& limit, time_point now) {
  auto burst = static_cast<double>(normalized(limit).burst);
  if (!b.started) {
    b.tokens = burst;
    b.updated = now;
    b.started = true;
    return;
  }
  if (now > b.updated) {
    b.tokens += seconds_of(now - b.updated) * limit.events_per_second;
    b.updated = now;
  }
  // A lower burst (the limit changed) caps what was saved under the old.
  b.tokens = std::min(b.tokens, burst);
}

rate_decision can_take(const token_bucket& b, const rate_limit& limit,
                       uint64_t n) {
  if (limit.unlimited() || n == 0)
    return {};
  auto burst = static_cast<double>(normalized(limit).burst);
  auto need = std::min(static_cast<double>(n), burst);
  if (b.tokens + slack >= need)
    return {};
  // Capped (a deep debt at the lowest rate) so nanoseconds fit.
  auto wait =
      std::min((need - b.tokens) / limit.events_per_second, max_wait_seconds);
  auto ns = std::ceil(wait * 1e9);
  return {false, duration{static_cast<int64_t>(ns)}};
}

void take(token_bucket& b, uint64_t n) {
  b.tokens -= static_cast<double>(n);
}

rate_decision admit(token_bucket& b, const rate_limit& limit, uint64_t n,
                    time_point now) {
  if (limit.unlimited())
    return {};
  refill(b, limit, now);
  auto d = can_take(b, limit, n);
  if (d)
    take(b, n);
  return d;
}

int64_t retry_after_seconds(duration retry_after) {
  using namespace std::chrono;
  auto s = duration_cast<seconds>(retry_after);
  if (s < retry_after)
    ++s;
  return std::max<int64_t>(1, s.count());
}

caf::error to_error(const rate_refusal& r) {
  return make_error(ec::rate_limited,
                    "event manager " + r.event_manager_id +
                        " is over its rate limit of " +
                        format_rate(r.limit.events_per_second) + " events/s");
}

} // namespace argus::domain
