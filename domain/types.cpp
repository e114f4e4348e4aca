#include "domain/types.hpp"

#include <cstdint>

namespace argus::domain {

int64_t to_millis(time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             t.time_since_epoch())
      .count();
}

time_point from_millis(int64_t ms) {
  return time_point{std::chrono::milliseconds{ms}};
}

namespace {

struct civil_date {
  int64_t year;
  unsigned month; ///< 1-12
  unsigned day;   ///< 1-31
};

/// The proleptic Gregorian date `days` after 1970-01-01 (negative:
/// before), by the era arithmetic of Howard Hinnant's `civil_from_days`:
/// 400-year eras of 146,097 days, years counted from March so the leap
/// day falls at the end.
civil_date civil_from_days(int64_t days) {
  days += 719'468; // 0000-03-01 to 1970-01-01
  int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  auto day_of_era = static_cast<unsigned>(days - era * 146'097);
  unsigned year_of_era = (day_of_era - day_of_era / 1'460 +
                          day_of_era / 36'524 - day_of_era / 146'096) /
                         365;
  unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  unsigned march_month = (5 * day_of_year + 2) / 153; // 0 = March
  unsigned month = march_month < 10 ? march_month + 3 : march_month - 9;
  return {static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0),
          month, day_of_year - (153 * march_month + 2) / 5 + 1};
}

/// Writes `v` as `digits` decimal digits, zero-padded, at `out`.
char* put_digits(char* out, int64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i, v /= 10)
    out[i] = static_cast<char>('0' + v % 10);
  return out + digits;
}

} // namespace

void write_rfc3339(char* out, time_point t) {
  // By hand, not gmtime_r and strftime: every stored Alertmanager alert
  // formats two times, and the C library's calls were 6% of its CPU.
  auto ms = to_millis(t);
  int64_t days = ms / 86'400'000;
  int64_t in_day = ms % 86'400'000;
  if (in_day < 0) {
    in_day += 86'400'000;
    --days;
  }
  auto date = civil_from_days(days);
  // A time_point (nanoseconds in 64 bits) lies within years 1677-2262, so
  // the year has four digits and the text `rfc3339_length` bytes.
  char* p = put_digits(out, date.year, 4);
  *p++ = '-';
  p = put_digits(p, date.month, 2);
  *p++ = '-';
  p = put_digits(p, date.day, 2);
  *p++ = 'T';
  p = put_digits(p, in_day / 3'600'000, 2);
  *p++ = ':';
  p = put_digits(p, in_day / 60'000 % 60, 2);
  *p++ = ':';
  p = put_digits(p, in_day / 1'000 % 60, 2);
  *p++ = '.';
  p = put_digits(p, in_day % 1'000, 3);
  *p = 'Z';
}

std::string to_rfc3339(time_point t) {
  std::string out(rfc3339_length, '\0');
  write_rfc3339(out.data(), t);
  return out;
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
