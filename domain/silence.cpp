#include "domain/silence.hpp"

#include "domain/catalog.hpp"
#include "domain/error.hpp"

#include <algorithm>
#include <regex>
#include <unordered_map>
#include <utility>

namespace argus::domain {

namespace {

constexpr std::pair<silence_state, std::string_view> states[] = {
    {silence_state::pending, "pending"},
    {silence_state::active, "active"},
    {silence_state::expired, "expired"},
};

std::string op_of(const silence_matcher& m) {
  return m.is_equal ? (m.is_regex ? "=~" : "=") : (m.is_regex ? "!~" : "!=");
}

/// The matcher as Alertmanager prints it (`name=~"value"`), for
/// messages.
std::string describe(const silence_matcher& m) {
  return m.name + op_of(m) + "\"" + m.value + "\"";
}

/// Compiles an anchored regex as Alertmanager does (`^(?:value)$`); ECMAScript
/// has no `(?:` alternative to RE2's, but it accepts that syntax.
std::regex anchored(const std::string& value) {
  return std::regex{"^(?:" + value + ")$", std::regex::ECMAScript};
}

/// `anchored(value)`, compiled once per thread: a silence's matchers are
/// checked for every alert a listing shows and every notification, and
/// compiling the regex was most of each check. Silences come and go, so
/// the cache is bounded (cleared when full) rather than kept forever.
const std::regex& compiled(const std::string& value) {
  constexpr size_t most_patterns = 1024;
  thread_local std::unordered_map<std::string, std::regex> cache;
  if (auto it = cache.find(value); it != cache.end())
    return it->second;
  auto re = anchored(value); // throws on a bad pattern, caching nothing
  if (cache.size() >= most_patterns)
    cache.clear();
  return cache.emplace(value, std::move(re)).first->second;
}

} // namespace

std::string_view to_string(silence_state x) {
  for (auto& [state, text] : states)
    if (state == x)
      return text;
  return "unknown";
}

std::optional<silence_state> parse_silence_state(std::string_view text) {
  for (auto& [state, spelled] : states)
    if (spelled == text)
      return state;
  return std::nullopt;
}

silence_state state_of(const silence& s, time_point now) {
  if (now < s.starts_at)
    return silence_state::pending;
  if (now >= s.ends_at)
    return silence_state::expired;
  if (!s.recurrence.empty() && !occurrence_at(s.recurrence, now))
    return silence_state::pending;
  return silence_state::active;
}

std::vector<occurrence> next_occurrences(const silence& s, time_point now,
                                         size_t n) {
  if (s.recurrence.empty() || now >= s.ends_at)
    return {};
  return next_occurrences(s.recurrence, std::max(now, s.starts_at), n,
                          s.ends_at);
}

caf::error validate(silence& s) {
  if (s.matchers.empty())
    return make_error(ec::validation_failed,
                      "field 'matchers' needs at least one matcher");
  if (s.matchers.size() > max_matchers)
    return make_error(ec::validation_failed, "field 'matchers' has more than " +
                                                 std::to_string(max_matchers) +
                                                 " matchers");
  for (size_t i = 0; i < s.matchers.size(); ++i) {
    auto& m = s.matchers[i];
    auto where = "matchers[" + std::to_string(i) + "]";
    if (m.name.empty())
      return make_error(ec::validation_failed,
                        "field '" + where + ".name' must not be empty");
    if (!m.is_regex)
      continue;
    try {
      anchored(m.value);
    } catch (const std::regex_error& e) {
      return make_error(ec::validation_failed,
                        "field '" + where + ".value': " + describe(m) +
                            " is not a valid regular expression");
    }
  }
  if (s.ends_at <= s.starts_at)
    return make_error(ec::validation_failed,
                      "field 'endsAt' must be after 'startsAt'");
  if (s.created_by.empty())
    return make_error(ec::validation_failed, "field 'createdBy' is required");
  if (s.comment.empty())
    return make_error(ec::validation_failed, "field 'comment' is required");
  if (!s.recurrence.empty())
    return validate(s.recurrence, "schedule");
  return {};
}

bool matches(const silence_matcher& m, const std::string& text) {
  bool hit = false;
  if (!m.is_regex) {
    hit = text == m.value;
  } else {
    try {
      hit = std::regex_match(text, compiled(m.value));
    } catch (const std::regex_error&) {
      hit = false; // validated on the way in; a stored bad one matches nothing
    }
  }
  return hit == m.is_equal;
}

std::string field_text(const alert& a, const std::string& name,
                       const details_reader& details) {
  // The alert's own fields first, never shadowed by details:
  // `source_filter` (inhibition.cpp) relies on it for severity, class,
  // summary and dedupKey.
  if (name == "severity")
    return std::string{to_string(a.sev)};
  if (name == "class")
    return a.class_name.str();
  if (name == "summary")
    return a.summary;
  if (name == "dedupKey")
    return a.dedup_key.str();
  if (name == "event_manager_id")
    return a.event_manager_id.str();
  if (name == "grouping_value")
    return a.has_grouping_value ? a.grouping_value.str() : std::string{};
  if (!details)
    return {};
  if (auto text = details(name))
    return std::move(*text);
  // Alertmanager's users write `alertname`, not `labels.alertname`.
  if (name.rfind("labels.", 0) != 0)
    if (auto text = details("labels." + name))
      return std::move(*text);
  return {};
}

bool matches(const silence& s, const alert& a, const details_reader& details) {
  if (!s.event_manager_id.empty() && s.event_manager_id != a.event_manager_id)
    return false;
  return std::all_of(s.matchers.begin(), s.matchers.end(),
                     [&](const silence_matcher& m) {
                       return matches(m, field_text(a, m.name, details));
                     });
}

std::map<std::string, silence>
active_silences(const std::map<std::string, silence>& all,
                const std::string& manager_id, time_point now) {
  std::map<std::string, silence> out;
  for (auto& [id, s] : all)
    if (state_of(s, now) == silence_state::active &&
        (manager_id.empty() || s.event_manager_id.empty() ||
         s.event_manager_id == manager_id))
      out.emplace_hint(out.end(), id, s);
  return out;
}

bool is_silenced(const std::map<std::string, silence>& all, const alert& a,
                 const details_reader& details, time_point now) {
  return std::any_of(all.begin(), all.end(), [&](auto& entry) {
    return state_of(entry.second, now) == silence_state::active &&
           matches(entry.second, a, details);
  });
}

std::vector<std::string> silenced_by(const std::map<std::string, silence>& all,
                                     const alert& a,
                                     const details_reader& details,
                                     time_point now) {
  std::vector<std::string> ids;
  for (auto& [id, s] : all)
    if (state_of(s, now) == silence_state::active && matches(s, a, details))
      ids.push_back(id);
  return ids; // a std::map walks in id order
}

time_point active_until(const silence& s, time_point now) {
  if (state_of(s, now) != silence_state::active)
    return now;
  if (s.recurrence.empty())
    return s.ends_at;
  auto in_force = occurrence_at(s.recurrence, now);
  return in_force ? std::min(in_force->ends_at, s.ends_at) : now;
}

time_point silenced_until(const std::map<std::string, silence>& all,
                          const std::vector<std::string>& ids, time_point now) {
  auto until = now;
  for (auto& id : ids)
    if (auto it = all.find(id); it != all.end())
      until = std::max(until, active_until(it->second, now));
  return until;
}

void expire(silence& s, time_point now) {
  if (s.ends_at <= now)
    return;
  s.ends_at = now;
  if (s.starts_at > now)
    s.starts_at = now;
  s.updated_at = now;
}

bool can_update_in_place(const silence& old, const silence& next,
                         time_point now) {
  auto same = [](const silence_matcher& a, const silence_matcher& b) {
    return a.name == b.name && a.value == b.value && a.is_regex == b.is_regex &&
           a.is_equal == b.is_equal;
  };
  if (old.matchers.size() != next.matchers.size() ||
      !std::equal(old.matchers.begin(), old.matchers.end(),
                  next.matchers.begin(), same))
    return false;
  // By the time alone, as Alertmanager: a window between occurrences is
  // still running.
  if (now < old.starts_at)
    return next.starts_at >= now;
  if (now < old.ends_at)
    return next.starts_at == old.starts_at && next.ends_at >= now;
  return false;
}

std::string encode_matchers(const std::vector<silence_matcher>& matchers) {
  std::vector<std::string> lines;
  for (auto& m : matchers) {
    lines.push_back(m.name);
    lines.push_back(m.value);
    lines.push_back(op_of(m));
  }
  return encode_keys(lines);
}

std::optional<std::vector<silence_matcher>>
decode_matchers(std::string_view text) {
  auto lines = decode_keys(text);
  if (lines.size() % 3 != 0)
    return std::nullopt;
  std::vector<silence_matcher> out;
  for (size_t i = 0; i < lines.size(); i += 3) {
    auto& op = lines[i + 2];
    if (op != "=" && op != "!=" && op != "=~" && op != "!~")
      return std::nullopt;
    out.push_back(silence_matcher{lines[i], lines[i + 1], op.back() == '~',
                                  op.front() != '!'});
  }
  return out;
}

} // namespace argus::domain
