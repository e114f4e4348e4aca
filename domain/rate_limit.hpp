#pragma once

#include "domain/types.hpp"

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// Per event manager rate limits: a token bucket per manager, refilled at
/// `events_per_second` up to `burst` tokens. An event takes one token; a
/// request of n events takes n at once or none (see `take`).
namespace argus::domain {

/// A token bucket's parameters.
struct rate_limit {
  /// Tokens added per second; fractions allowed (0.5: one event every 2 s).
  /// 0: unlimited.
  double events_per_second = 0;
  /// The bucket's size: events a sender may send at once after a pause.
  /// 0: `default_burst(events_per_second)`.
  int64_t burst = 0;

  bool unlimited() const { return !(events_per_second > 0); }

  friend bool operator==(const rate_limit& a, const rate_limit& b) {
    return a.events_per_second == b.events_per_second && a.burst == b.burst;
  }
  friend bool operator!=(const rate_limit& a, const rate_limit& b) {
    return !(a == b);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rate_limit& x) {
  return f(caf::meta::type_name("argus.rate_limit"), x.events_per_second,
           x.burst);
}

/// The lowest rate (one event in 1000 s) and the highest rate and burst a
/// limit may name.
inline constexpr double min_events_per_second = 0.001;
inline constexpr double max_events_per_second = 1e9;
inline constexpr int64_t max_burst = 1'000'000'000;

/// The burst of a limit that names none: one second's worth of events, at
/// least 1.
int64_t default_burst(double events_per_second);

/// `limit` with its burst filled in when 0 (unlimited stays as it is).
rate_limit normalized(rate_limit limit);

/// Checks a limit: 0 or a rate from `min_events_per_second` to
/// `max_events_per_second`, a burst from 0 (the default) to `max_burst`.
/// Errors name the field as `<prefix>.events_per_second` and
/// `<prefix>.burst` (validation_failed).
caf::error validate(const rate_limit& limit, const std::string& prefix);

/// The rate as people write it: "2", "0.5".
std::string format_rate(double events_per_second);

/// A limit as text for the stores: "<rate> <burst>" with the rate exact
/// (17 significant digits).
std::string encode(const rate_limit& limit);

/// Reads `encode`'s text back; none if it is not such text.
std::optional<rate_limit> decode_rate_limit(std::string_view text);

// -- the bucket ---------------------------------------------------------------

/// The state of one manager's bucket. A fresh bucket is full.
struct token_bucket {
  double tokens = 0;
  time_point updated{};
  bool started = false;
};

/// What a bucket says to a request.
struct rate_decision {
  bool admitted = true;
  /// Refused: how long until the same request would be admitted (with no
  /// other sender taking tokens meanwhile).
  duration retry_after{};

  explicit operator bool() const { return admitted; }
};

/// Adds the tokens earned since the bucket's last update (capped at the
/// burst); a fresh bucket starts full. Time going backwards adds nothing.
void refill(token_bucket& b, const rate_limit& limit, time_point now);

/// Whether a (refilled) bucket has tokens for `n` events, without taking
/// them. A request larger than the burst needs a full bucket (it could
/// never be admitted otherwise) and leaves the bucket in debt, which later
/// requests wait out: the long-run rate still holds.
rate_decision can_take(const token_bucket& b, const rate_limit& limit,
                       uint64_t n);

/// Takes `n` tokens (after `can_take` said yes).
void take(token_bucket& b, uint64_t n);

/// `refill`, `can_take` and `take` in one: all `n` tokens or none.
/// Unlimited admits everything and leaves the bucket untouched.
rate_decision admit(token_bucket& b, const rate_limit& limit, uint64_t n,
                    time_point now);

/// `retry_after` as the seconds of a Retry-After header: rounded up, at
/// least 1.
int64_t retry_after_seconds(duration retry_after);

/// A request refused because a manager is over its limit.
struct rate_refusal {
  std::string event_manager_id;
  rate_limit limit;
  /// The manager's events in the refused request.
  uint64_t events = 0;
  /// The longest wait among the request's managers that were over.
  duration retry_after{};
};

/// "event manager X is over its rate limit of N events/s" (rate_limited).
caf::error to_error(const rate_refusal& r);

} // namespace argus::domain
