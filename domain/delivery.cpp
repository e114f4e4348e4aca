#include "domain/delivery.hpp"

#include "domain/alert.hpp"
#include "domain/error.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

namespace argus::domain {

namespace {

constexpr std::pair<delivery_state, std::string_view> states[] = {
    {delivery_state::pending, "pending"},
    {delivery_state::delivered, "delivered"},
    {delivery_state::failed, "failed"},
    {delivery_state::suppressed, "suppressed"},
};

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

/// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the only HTTP-date
/// form senders may generate (RFC 9110, 5.6.7).
std::optional<time_point> parse_http_date(std::string_view text) {
  std::string copy{text};
  std::tm parts{};
  auto end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr || *end != '\0')
    return std::nullopt;
  return time_point{std::chrono::seconds{timegm(&parts)}};
}

void fail(delivery& d, std::string why, time_point now) {
  d.state = delivery_state::failed;
  d.last_error = std::move(why);
  d.next_attempt_at = no_time;
  d.updated_at = now;
}

} // namespace

std::string_view to_string(delivery_state x) {
  for (auto& [value, text] : states)
    if (value == x)
      return text;
  return "unknown";
}

std::optional<delivery_state> parse_delivery_state(std::string_view text) {
  for (auto& [value, spelled] : states)
    if (spelled == text)
      return value;
  return std::nullopt;
}

caf::error validate(const retry_policy& p) {
  using std::chrono::milliseconds;
  if (p.initial < milliseconds{1})
    return make_error(ec::validation_failed,
                      "notifications.retry.initial_ms must be positive");
  if (p.max < p.initial)
    return make_error(ec::validation_failed,
                      "notifications.retry.max_ms must be at least initial_ms");
  if (p.max_attempts < 1)
    return make_error(ec::validation_failed,
                      "notifications.retry.max_attempts must be positive");
  if (p.max_age < milliseconds{1})
    return make_error(ec::validation_failed,
                      "notifications.retry.max_age must be positive");
  return {};
}

verdict classify(const attempt_result& r) {
  if (r.status >= 200 && r.status < 300)
    return verdict::delivered;
  if (r.status == 0 || r.status >= 500 || r.status == 408 || r.status == 429)
    return verdict::retry;
  return verdict::permanent;
}

std::string describe(const attempt_result& r, int64_t timeout_ms) {
  if (r.status != 0)
    return "HTTP " + std::to_string(r.status);
  if (r.timed_out)
    return "timeout after " + std::to_string(timeout_ms) + " ms";
  return r.error.empty() ? std::string{"no response"} : r.error;
}

std::optional<duration> parse_retry_after(std::string_view text,
                                          time_point now) {
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  if (all_digits(text)) {
    // More than a day is not a delay any receiver means; it also keeps the
    // arithmetic far from overflow.
    if (text.size() > 6)
      return std::chrono::hours{24};
    return std::chrono::seconds{std::stoll(std::string{text})};
  }
  auto at = parse_http_date(text);
  if (!at)
    return std::nullopt;
  return std::max(duration{0},
                  std::min<duration>(*at - now, std::chrono::hours{24}));
}

duration backoff(const retry_policy& p, int32_t attempts, double jitter) {
  auto delay = p.initial;
  for (int32_t i = 1; i < attempts && delay < p.max; ++i)
    delay *= 2;
  delay = std::min(delay, p.max);
  jitter = std::clamp(jitter, 0.0, 1.0);
  auto half = delay / 2;
  return half + duration{static_cast<duration::rep>(std::floor(
                    static_cast<double>((delay - half).count()) * jitter))};
}

delivery make_delivery(std::string notification_id, std::string receiver,
                       std::string event_manager_id, std::string group,
                       notification_kind kind, time_point now) {
  delivery d;
  d.notification_id = std::move(notification_id);
  d.receiver = std::move(receiver);
  d.event_manager_id = std::move(event_manager_id);
  d.group = std::move(group);
  d.kind = kind;
  d.created_at = now;
  d.next_attempt_at = now;
  d.updated_at = now;
  return d;
}

verdict record_attempt(delivery& d, const attempt_result& r, int64_t timeout_ms,
                       const retry_policy& p, double jitter, time_point now) {
  ++d.attempts;
  d.updated_at = now;
  auto v = classify(r);
  if (v == verdict::delivered) {
    d.state = delivery_state::delivered;
    d.last_error.clear();
    d.next_attempt_at = no_time;
    return v;
  }
  auto what = describe(r, timeout_ms);
  if (v == verdict::permanent) {
    fail(d, what + " (not retried)", now);
    return v;
  }
  auto delay = backoff(p, d.attempts, jitter);
  if (r.retry_after)
    delay = std::max(delay, *r.retry_after);
  if (d.attempts >= p.max_attempts) {
    fail(d,
         what + " (gave up after " + std::to_string(d.attempts) + " attempts)",
         now);
    return v;
  }
  if (now + delay > d.created_at + p.max_age) {
    fail(d, what + " (gave up: max_age reached)", now);
    return v;
  }
  d.last_error = std::move(what);
  d.next_attempt_at = now + delay;
  return v;
}

bool expire(delivery& d, const retry_policy& p, time_point now) {
  if (d.state != delivery_state::pending || now < d.created_at + p.max_age)
    return false;
  auto why = d.last_error.empty() ? std::string{"not sent"} : d.last_error;
  fail(d, why + " (gave up: max_age reached)", now);
  return true;
}

caf::error retry_now(delivery& d, time_point now) {
  if (d.state != delivery_state::failed)
    return make_error(ec::conflict, "notification " + d.notification_id +
                                        " to " + d.receiver + " is " +
                                        std::string{to_string(d.state)} +
                                        ", not failed");
  d.state = delivery_state::pending;
  d.attempts = 0;
  d.created_at = now;
  d.next_attempt_at = now;
  d.updated_at = now;
  return {};
}

std::string notification_id_for(const alert_id& id, notification_kind kind,
                                time_point at, uint64_t event_seq,
                                std::string_view extra) {
  // The id of `id` and "<kind>@<at>#<seq>/<extra>", hashed in parts:
  // one is made for every parent opened, and building the text was half
  // of it. Ids are stored, so the text hashed must stay the same.
  char at_text[24];
  char seq_text[24];
  auto at_end = std::to_chars(at_text, at_text + sizeof at_text,
                              at.time_since_epoch().count())
                    .ptr;
  auto seq_end =
      std::to_chars(seq_text, seq_text + sizeof seq_text, event_seq).ptr;
  return id.with_text([&](std::string_view alert_id) {
    return name_based_uuid(
        alert_id,
        {to_string(kind), "@",
         std::string_view{at_text, static_cast<size_t>(at_end - at_text)}, "#",
         std::string_view{seq_text, static_cast<size_t>(seq_end - seq_text)},
         "/", extra});
  });
}

void suppress(delivery& d, const std::vector<std::string>& ids,
              const std::vector<std::string>& inhibitors) {
  d.state = delivery_state::suppressed;
  d.last_error.clear();
  auto list = [&d](const char* what, const std::vector<std::string>& xs) {
    if (xs.empty())
      return;
    if (!d.last_error.empty())
      d.last_error += "; ";
    d.last_error += what;
    for (size_t i = 0; i < xs.size(); ++i)
      d.last_error += (i == 0 ? " " : ", ") + xs[i];
  };
  list("silenced by", ids);
  list("inhibited by", inhibitors);
  d.next_attempt_at = no_time;
}

duration review_pause(duration took, duration poll_interval) {
  constexpr int look_share = 20;    // a look takes 1/20 of the time at most
  constexpr int longest_pause = 10; // poll intervals
  return std::clamp(took * (look_share - 1), poll_interval,
                    poll_interval * longest_pause);
}

} // namespace argus::domain
