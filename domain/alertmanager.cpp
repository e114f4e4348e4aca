#include "domain/alertmanager.hpp"

#include "domain/error.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>

namespace argus::domain {

namespace {

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
/// days_from_civil), so parsing needs neither time zones nor `timegm`.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int64_t days_in_month(int64_t y, int64_t m) {
  static constexpr int64_t days[] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

/// Reads `n` digits at `pos` into `out`; false if they are not all digits.
bool digits(std::string_view s, size_t pos, size_t n, int64_t& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool expect(std::string_view s, size_t pos, char c) {
  return pos < s.size() &&
         std::tolower(static_cast<unsigned char>(s[pos])) == std::tolower(c);
}

/// The fraction of a second after `pos` (a '.' and 1 to 9 digits), in ns.
bool fraction(std::string_view s, size_t& pos, int64_t& ns) {
  ns = 0;
  if (pos >= s.size() || s[pos] != '.')
    return true;
  size_t n = 0;
  for (++pos;
       pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]));
       ++pos, ++n)
    if (n < 9)
      ns = ns * 10 + (s[pos] - '0');
  if (n == 0)
    return false;
  for (; n < 9; ++n)
    ns *= 10;
  return true;
}

/// The zone at `pos` ("Z" or "+hh:mm"/"-hh:mm") as seconds east of UTC.
bool zone(std::string_view s, size_t pos, int64_t& offset) {
  if (expect(s, pos, 'Z'))
    return offset = 0, pos + 1 == s.size();
  int64_t hh = 0;
  int64_t mm = 0;
  if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-') ||
      !digits(s, pos + 1, 2, hh) || !expect(s, pos + 3, ':') ||
      !digits(s, pos + 4, 2, mm) || pos + 6 != s.size() || hh > 23 || mm > 59)
    return false;
  offset = (s[pos] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
  return true;
}

caf::error bad_time(std::string_view text, const char* why) {
  return make_error(ec::bad_request,
                    "'" + std::string{text} + "' is not " + why);
}

std::string to_lower(std::string text) {
  for (auto& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

/// `{a="b", c="d"}`: a label set as Alertmanager prints one.
std::string label_text(const label_set& labels) {
  std::string out = "{";
  for (auto& [name, value] : labels) {
    if (out.size() > 1)
      out += ", ";
    out += name + "=\"" + value + "\"";
  }
  return out + "}";
}

caf::error check_names(const label_set& set, const char* what) {
  for (auto& [name, value] : set)
    if (!valid_label_name(name))
      return make_error(ec::validation_failed,
                        std::string{what} + ": invalid name \"" + name + "\"");
  return {};
}

void drop_empty_values(label_set& labels) {
  labels.erase_if([](auto& label) { return label.second.empty(); });
}

} // namespace

caf::expected<time_point> parse_am_time(std::string_view text) {
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ns = 0, offset = 0;
  size_t pos = 19;
  if (!digits(text, 0, 4, y) || !expect(text, 4, '-') ||
      !digits(text, 5, 2, mo) || !expect(text, 7, '-') ||
      !digits(text, 8, 2, d) || !expect(text, 10, 'T') ||
      !digits(text, 11, 2, h) || !expect(text, 13, ':') ||
      !digits(text, 14, 2, mi) || !expect(text, 16, ':') ||
      !digits(text, 17, 2, sec) || !fraction(text, pos, ns) ||
      !zone(text, pos, offset))
    return bad_time(text, "an RFC 3339 time");
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
      mi > 59 || sec > 59)
    return bad_time(text, "a valid date and time");
  auto secs =
      days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  // Go's zero time.Time, which Go clients send for "unset".
  if (secs == days_from_civil(1, 1, 1) * 86400 && ns == 0)
    return no_time;
  constexpr int64_t max_secs = INT64_MAX / 1'000'000'000 - 1;
  if (secs > max_secs || secs < -max_secs)
    return bad_time(text, "within the years 1678 to 2261");
  return time_point{duration{secs * 1'000'000'000 + ns}};
}

std::map<std::string, severity> severity_mapping::defaults() {
  return {{"critical", severity::high},
          {"error", severity::high},
          {"warning", severity::medium},
          {"info", severity::low},
          {"none", severity::low}};
}

severity severity_mapping::of(const label_set& labels) const {
  auto label = labels.find("severity");
  if (label == labels.end())
    return fallback;
  auto it = by_label.find(to_lower(label->second));
  return it == by_label.end() ? fallback : it->second;
}

std::string encode(const severity_mapping& m) {
  std::string out{to_string(m.fallback)};
  for (auto& [label, sev] : m.by_label) {
    out += '\n';
    out += to_string(sev);
    out += ' ';
    for (char c : label)
      out += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
  }
  return out;
}

std::optional<severity_mapping> decode_severity_mapping(std::string_view text) {
  severity_mapping m;
  if (text.empty())
    return m;
  m.by_label.clear();
  bool first = true;
  while (!text.empty() || first) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{}
                                         : text.substr(end + 1);
    auto space = first ? line.size() : line.find(' ');
    if (space == std::string_view::npos)
      return std::nullopt;
    auto sev = parse_severity(line.substr(0, space));
    if (!sev)
      return std::nullopt;
    if (first) {
      m.fallback = *sev;
      first = false;
      continue;
    }
    std::string label;
    for (size_t i = space + 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size())
        label += line[++i] == 'n' ? '\n' : line[i];
      else
        label += line[i];
    }
    m.by_label[label] = *sev;
  }
  return m;
}

namespace {

/// `labels` without its empty values: `labels` itself when it has none
/// (nearly every alert), else a reduced copy kept in `storage`.
const label_set& without_empty_values(const label_set& labels,
                                      std::optional<label_set>& storage) {
  auto empty = [](auto& label) { return label.second.empty(); };
  if (std::none_of(labels.begin(), labels.end(), empty))
    return labels;
  storage = labels;
  drop_empty_values(*storage);
  return *storage;
}

/// `validate` on its parts: `labels` already without empty values, and the
/// times to check.
caf::error validate_parts(const label_set& labels, const label_set& annotations,
                          time_point starts_at, time_point ends_at) {
  if (starts_at != no_time && ends_at != no_time && ends_at < starts_at)
    return make_error(ec::validation_failed,
                      "start time must be before end time");
  if (auto err = check_names(labels, "invalid label set"))
    return err;
  if (labels.empty())
    return make_error(ec::validation_failed,
                      "at least one label pair required");
  return check_names(annotations, "invalid annotations");
}

} // namespace

caf::error validate(const postable_alert& a) {
  std::optional<label_set> storage;
  return validate_parts(without_empty_values(a.labels, storage), a.annotations,
                        a.starts_at, a.ends_at);
}

caf::expected<am_alert> admit_am_alert(const postable_alert& a,
                                       const std::string& manager_id,
                                       const severity_mapping& severities,
                                       time_point now) {
  am_alert out;
  auto& e = out.ev;
  e.act = a.ends_at != no_time && a.ends_at <= now ? action::resolve
                                                   : action::trigger;
  // Alertmanager fills unset times before it validates (api/v2
  // postAlertsHandler), so a start after now + resolve_timeout with no end
  // is refused there too.
  out.starts_at = a.starts_at != no_time ? a.starts_at
                  : a.ends_at != no_time ? a.ends_at
                                         : now;
  out.ends_at = a.ends_at != no_time ? a.ends_at : now + am_resolve_timeout;
  // Read in place: copies of the label maps (one here, one to validate)
  // were a tenth of admitting an alert.
  std::optional<label_set> storage;
  auto& labels = without_empty_values(a.labels, storage);
  if (auto err =
          validate_parts(labels, a.annotations, out.starts_at, out.ends_at))
    return err;
  e.event_manager_id = manager_id;
  e.dedup_key = fingerprint(labels);
  auto summary = a.annotations.find("summary");
  auto name = labels.find("alertname");
  e.summary = summary != a.annotations.end() && !summary->second.empty()
                  ? summary->second
              : name != labels.end() ? name->second
                                     : label_text(labels);
  e.sev = severities.of(labels);
  e.received_at = now;
  return out;
}

caf::expected<std::regex> parse_receiver_regex(const std::string& text) {
  try {
    return std::regex{"^(?:" + text + ")$"};
  } catch (const std::regex_error& e) {
    return make_error(ec::bad_request,
                      std::string{"failed to parse receiver param: "} +
                          e.what());
  }
}

bool am_listed(const am_query& q, const label_set& labels,
               const std::string& receiver, time_point ends_at,
               time_point now) {
  if (ends_at != no_time && ends_at < now)
    return false;
  if (!q.active)
    return false;
  if (q.receiver && !std::regex_match(receiver, *q.receiver))
    return false;
  return matches_all(q.filter, labels);
}

} // namespace argus::domain
