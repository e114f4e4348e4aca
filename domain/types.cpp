#include "domain/types.hpp"

#include <ctime>

namespace argus::domain {

int64_t to_millis(time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             t.time_since_epoch())
      .count();
}

time_point from_millis(int64_t ms) {
  return time_point{std::chrono::milliseconds{ms}};
}

std::string to_rfc3339(time_point t) {
  auto ms = to_millis(t);
  auto secs = static_cast<std::time_t>(ms / 1000);
  auto frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::tm parts{};
  gmtime_r(&secs, &parts);
  char buf[40];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &parts);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", frac);
  return buf;
}

namespace {

/// One table per enum keeps spelling and parsing in sync.
template <class Enum, size_t N>
struct spelling {
  Enum value;
  std::string_view text;
};

template <class Enum, size_t N>
std::optional<Enum> parse_in(const spelling<Enum, N> (&table)[N],
                             std::string_view text) {
  for (auto& entry : table)
    if (entry.text == text)
      return entry.value;
  return std::nullopt;
}

template <class Enum, size_t N>
std::string_view spell_in(const spelling<Enum, N> (&table)[N], Enum x) {
  for (auto& entry : table)
    if (entry.value == x)
      return entry.text;
  return "unknown";
}

constexpr spelling<severity, 3> severities[] = {
    {severity::high, "high"},
    {severity::medium, "medium"},
    {severity::low, "low"},
};
constexpr spelling<action, 4> actions[] = {
    {action::trigger, "trigger"},
    {action::resolve, "resolve"},
    {action::acknowledge, "acknowledge"},
    {action::unacknowledge, "unacknowledge"},
};
constexpr spelling<alert_type, 2> alert_types[] = {
    {alert_type::parent, "parent"},
    {alert_type::child, "child"},
};
constexpr spelling<alert_status, 2> alert_statuses[] = {
    {alert_status::active, "active"},
    {alert_status::resolved, "resolved"},
};
constexpr spelling<resolution, 4> resolutions[] = {
    {resolution::none, ""},
    {resolution::event, "event"},
    {resolution::expired, "expired"},
    {resolution::automatic, "auto"},
};

} // namespace

std::string_view to_string(severity x) {
  return spell_in(severities, x);
}
std::string_view to_string(action x) {
  return spell_in(actions, x);
}
std::string_view to_string(alert_type x) {
  return spell_in(alert_types, x);
}
std::string_view to_string(alert_status x) {
  return spell_in(alert_statuses, x);
}
std::string_view to_string(resolution x) {
  return spell_in(resolutions, x);
}

std::optional<severity> parse_severity(std::string_view text) {
  return parse_in(severities, text);
}
std::optional<action> parse_action(std::string_view text) {
  return parse_in(actions, text);
}
std::optional<alert_type> parse_alert_type(std::string_view text) {
  return parse_in(alert_types, text);
}
std::optional<alert_status> parse_alert_status(std::string_view text) {
  return parse_in(alert_statuses, text);
}
std::optional<resolution> parse_resolution(std::string_view text) {
  return parse_in(resolutions, text);
}

} // namespace argus::domain
