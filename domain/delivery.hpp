#pragma once

#include "domain/alert_id.hpp"
#include "domain/notification.hpp"
#include "domain/types.hpp"

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// The life of one notification's delivery to one receiver: attempts, the
/// retry policy and the dead letter, as pure functions of (delivery, attempt
/// outcome, now). The delivery actor stores each step in the outbox.
namespace argus::domain {

/// pending: not delivered yet (waiting for its first or next attempt);
/// delivered: a receiver answered 2xx; failed: out of attempts or age, or a
/// permanent error (the dead letter; a manual retry makes it pending again);
/// suppressed: never sent because the parent matched an active silence when
/// the notification was fanned out (`last_error` names the silences).
enum class delivery_state : uint8_t { pending, delivered, failed, suppressed };

std::string_view to_string(delivery_state x);
std::optional<delivery_state> parse_delivery_state(std::string_view text);

/// How often and how long a delivery is tried.
struct retry_policy {
  /// The delay after the first failed attempt; it doubles with each one.
  duration initial = std::chrono::seconds{1};
  /// The longest delay between two attempts (Retry-After aside).
  duration max = std::chrono::minutes{5};
  /// The most attempts before the delivery fails.
  int32_t max_attempts = 12;
  /// How long after its creation (or manual retry) a delivery may still be
  /// tried; a retry that would start later fails it instead.
  duration max_age = std::chrono::hours{24};
};

/// Checks a policy (positive values, initial <= max).
caf::error validate(const retry_policy& p);

/// What one attempt came to, as the sender saw it.
struct attempt_result {
  /// The HTTP status; 0 when no response came.
  int status = 0;
  /// No complete answer within the receiver's timeout.
  bool timed_out = false;
  /// The transport error when no response came (refused, reset, TLS, ...).
  std::string error;
  /// The receiver's Retry-After, when it sent a valid one.
  std::optional<duration> retry_after;
};

/// delivered: 2xx. retry: timeout, connection error, 5xx, 408, 429.
/// permanent: any other answer (a 4xx means the request itself is wrong).
enum class verdict : uint8_t { delivered, retry, permanent };

verdict classify(const attempt_result& r);

/// A line for `last_error`: "HTTP 503", "timeout after 10000 ms", or the
/// transport error.
std::string describe(const attempt_result& r, int64_t timeout_ms);

/// Parses a Retry-After value: delta-seconds or an HTTP-date (then relative
/// to `now`, never negative). Anything else is ignored (nullopt).
std::optional<duration> parse_retry_after(std::string_view text,
                                          time_point now);

/// The delay after `attempts` failed attempts (>= 1): `initial` doubled per
/// further attempt, capped at `max`, with "equal jitter": half of it fixed,
/// the other half scaled by `jitter` in [0, 1), so receivers that failed
/// together do not come back in step.
duration backoff(const retry_policy& p, int32_t attempts, double jitter);

/// One (notification, receiver) row of the outbox.
struct delivery {
  /// The notification's stable id (Idempotency-Key); with `receiver` the
  /// row's key.
  std::string notification_id;
  std::string receiver;
  std::string event_manager_id;
  /// The group (grouping value, or the parent's dedupKey for value-less
  /// parents): per receiver and group, deliveries go out in `seq` order.
  std::string group;
  notification_kind kind = notification_kind::parent_opened;
  /// Outbox order, assigned by the store.
  uint64_t seq = 0;
  delivery_state state = delivery_state::pending;
  int32_t attempts = 0;
  std::string last_error;
  /// Start of the max_age budget: creation, or the last manual retry.
  time_point created_at{};
  /// When the next attempt is due (pending only).
  time_point next_attempt_at{};
  time_point updated_at{};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery& x) {
  return f(caf::meta::type_name("argus.delivery"), x.notification_id,
           x.receiver, x.event_manager_id, x.group, x.kind, x.seq, x.state,
           x.attempts, x.last_error, x.created_at, x.next_attempt_at,
           x.updated_at);
}

/// Which notifications a listing shows (GET /v1/notifications, argusctl).
struct notification_filter {
  /// pending|delivered|failed|suppressed: those with a delivery in that state;
  /// empty: every one.
  std::string state;
  /// Those with a delivery to this receiver; empty: every one.
  std::string receiver;
  int64_t limit = 100;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notification_filter& x) {
  return f(caf::meta::type_name("argus.notification_filter"), x.state,
           x.receiver, x.limit);
}

/// A stored notification with its deliveries, as listings show it.
struct notification_record {
  notification note;
  std::vector<delivery> deliveries;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notification_record& x) {
  return f(caf::meta::type_name("argus.notification_record"), x.note,
           x.deliveries);
}

/// A new pending delivery, due at once.
delivery make_delivery(std::string notification_id, std::string receiver,
                       std::string event_manager_id, std::string group,
                       notification_kind kind, time_point now);

/// Marks a new delivery as held back by the silences `ids` (and the
/// inhibiting alerts `inhibitors`, by dedupKey): it stays in the listing as
/// the record of what was not sent, and is never tried. `last_error` says
/// why: "silenced by s1", "inhibited by db-down", or both.
void suppress(delivery& d, const std::vector<std::string>& ids,
              const std::vector<std::string>& inhibitors = {});

/// How long the delivery worker waits before it looks at its held openings
/// again, after a look that took `took`. Each look reads every active alert
/// of their managers, which grows with the alerts and slows down under
/// load: so the pause is the poll interval, or 19 times the look's own
/// time when that is longer (looks then take a twentieth of the time),
/// but at most 10 poll intervals (a silence's end still releases its
/// openings within seconds).
duration review_pause(duration took, duration poll_interval);

/// Records one attempt of a pending delivery and returns its verdict: 2xx
/// delivers; a retryable outcome schedules the next attempt after
/// max(backoff, Retry-After), or fails the delivery when that would pass
/// max_attempts or max_age; a permanent one fails it. `jitter` is in [0, 1).
verdict record_attempt(delivery& d, const attempt_result& r, int64_t timeout_ms,
                       const retry_policy& p, double jitter, time_point now);

/// Fails a pending delivery whose max_age ran out while it waited (e.g.
/// behind an open circuit breaker). Returns whether it did.
bool expire(delivery& d, const retry_policy& p, time_point now);

/// A manual retry: a failed delivery becomes pending, due now, with a fresh
/// attempt and age budget. Pending or delivered ones are a conflict.
caf::error retry_now(delivery& d, time_point now);

/// The stable id of a notification: name-based on the parent alert's id,
/// the kind, the time it happened and the journal sequence of the event that
/// caused it, so a replay of that event after a crash names it the same.
std::string notification_id_for(const alert_id& id, notification_kind kind,
                                time_point at, uint64_t event_seq,
                                std::string_view extra = {});

} // namespace argus::domain
