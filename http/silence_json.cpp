#include "http/silence_json.hpp"

#include "domain/alertmanager.hpp"
#include "domain/error.hpp"
#include "http/details_lookup.hpp"
#include "http/json.hpp"

#include <memory>
#include <optional>

namespace argus::http {

namespace {

using nlohmann::json;

caf::error bad(const std::string& field, const char* what) {
  return make_error(ec::bad_request, "field '" + field + "' " + what);
}

caf::error read_text(const json& j, const char* field, std::string& out,
                     bool& seen) {
  auto it = j.find(field);
  seen = it != j.end() && !it->is_null();
  if (!seen)
    return {};
  if (!it->is_string())
    return bad(field, "must be a string");
  out = it->get<std::string>();
  return {};
}

caf::error read_flag(const json& m, const std::string& where, const char* name,
                     bool& out) {
  auto it = m.find(name);
  if (it == m.end() || it->is_null())
    return {};
  if (!it->is_boolean())
    return bad(where + "." + name, "must be a boolean");
  out = it->get<bool>();
  return {};
}

caf::expected<domain::silence_matcher> read_matcher(const json& m,
                                                    const std::string& where) {
  if (!m.is_object())
    return bad(where, "must be an object");
  domain::silence_matcher out;
  bool seen = false;
  for (auto field : {"name", "value"}) {
    auto& target = field[0] == 'n' ? out.name : out.value;
    if (auto err = read_text(m, field, target, seen))
      return bad(where + "." + field, "must be a string");
    if (!seen)
      return bad(where + "." + field, "is required");
  }
  if (auto err = read_flag(m, where, "isRegex", out.is_regex))
    return err;
  if (auto err = read_flag(m, where, "isEqual", out.is_equal))
    return err;
  return out;
}

caf::error read_matchers(const json& j,
                         std::vector<domain::silence_matcher>& out, bool& seen,
                         const std::string& name = "matchers",
                         const std::string& where = "matchers") {
  auto it = j.find(name);
  seen = it != j.end() && !it->is_null();
  if (!seen)
    return {};
  if (!it->is_array())
    return bad(where, "must be an array");
  out.clear();
  for (size_t i = 0; i < it->size(); ++i) {
    auto m = read_matcher((*it)[i], where + "[" + std::to_string(i) + "]");
    if (!m)
      return m.error();
    out.push_back(std::move(*m));
  }
  return {};
}

caf::error read_time(const json& j, const char* field, domain::time_point& out,
                     bool& seen) {
  std::string text;
  if (auto err = read_text(j, field, text, seen))
    return bad(field, "must be an RFC 3339 string");
  if (!seen)
    return {};
  auto t = domain::parse_am_time(text);
  if (!t)
    return make_error(ec::bad_request, std::string{"field '"} + field +
                                           "': " + message_of(t.error()));
  out = *t;
  return {};
}

/// `schedule`: absent keeps it, null removes it, an object replaces it.
caf::error read_schedule(const json& j, domain::silence& s) {
  auto it = j.find("schedule");
  if (it == j.end())
    return {};
  s.recurrence = {};
  if (it->is_null())
    return {};
  if (!it->is_object())
    return bad("schedule", "must be an object");
  auto& o = *it;
  domain::schedule out;
  bool seen = false;
  if (auto err = read_text(o, "time_zone", out.time_zone, seen))
    return bad("schedule.time_zone", "must be a string");
  if (!seen || out.time_zone.empty())
    return make_error(ec::validation_failed,
                      "field 'schedule.time_zone' is required");
  if (auto err = read_text(o, "start", out.start, seen))
    return bad("schedule.start", "must be a string (\"HH:MM\")");
  if (auto err = read_text(o, "cron", out.cron, seen))
    return bad("schedule.cron", "must be a string");
  if (auto d = o.find("days"); d != o.end() && !d->is_null()) {
    if (!d->is_array())
      return bad("schedule.days", "must be an array of day names");
    for (size_t i = 0; i < d->size(); ++i) {
      if (!(*d)[i].is_string())
        return bad("schedule.days[" + std::to_string(i) + "]",
                   "must be a string");
      out.days.push_back((*d)[i].get<std::string>());
    }
  }
  auto d = o.find("duration_seconds");
  if (d == o.end() || d->is_null())
    return make_error(ec::validation_failed,
                      "field 'schedule.duration_seconds' is required");
  if (!d->is_number_integer())
    return bad("schedule.duration_seconds", "must be an integer");
  out.duration_seconds = d->get<int64_t>();
  s.recurrence = std::move(out);
  return {};
}

json schedule_json(const domain::schedule& s) {
  if (s.empty())
    return nullptr;
  json out{{"time_zone", s.time_zone},
           {"duration_seconds", s.duration_seconds}};
  if (!s.cron.empty()) {
    out["cron"] = s.cron;
  } else {
    out["days"] = s.days;
    out["start"] = s.start;
  }
  return out;
}

json end_or_null(domain::time_point t) {
  return t == domain::forever ? json(nullptr) : json(domain::to_rfc3339(t));
}

/// The fields both forms share; `required` names the first missing one.
caf::error read_common(const json& j, domain::silence& s, bool creating,
                       domain::time_point now) {
  if (!j.is_object())
    return make_error(ec::bad_request, "a silence must be a JSON object");
  bool seen = false;
  if (auto err = read_matchers(j, s.matchers, seen))
    return err;
  if (creating && !seen)
    return make_error(ec::validation_failed, "field 'matchers' is required");
  if (auto err = read_time(j, "startsAt", s.starts_at, seen))
    return err;
  if (creating && (!seen || s.starts_at == domain::no_time))
    s.starts_at = now;
  if (auto err = read_schedule(j, s))
    return err;
  if (auto err = read_time(j, "endsAt", s.ends_at, seen))
    return err;
  // A maintenance window may go on forever: no endsAt, or null.
  if (!seen && !s.recurrence.empty() &&
      (creating || (j.count("endsAt") > 0 && j["endsAt"].is_null())))
    s.ends_at = domain::forever;
  else if (creating && !seen)
    return make_error(ec::validation_failed, "field 'endsAt' is required");
  if (auto err = read_text(j, "createdBy", s.created_by, seen))
    return err;
  if (auto err = read_text(j, "comment", s.comment, seen))
    return err;
  return {};
}

json matchers_json(const std::vector<domain::silence_matcher>& ms) {
  auto out = json::array();
  for (auto& m : ms)
    out.push_back({{"name", m.name},
                   {"value", m.value},
                   {"isRegex", m.is_regex},
                   {"isEqual", m.is_equal}});
  return out;
}

} // namespace

caf::expected<domain::silence> parse_silence(const json& j,
                                             const domain::silence* base,
                                             domain::time_point now) {
  domain::silence s;
  if (base)
    s = *base;
  if (auto err = read_common(j, s, base == nullptr, now))
    return err;
  bool seen = false;
  if (auto err = read_text(j, "event_manager_id", s.event_manager_id, seen))
    return err;
  return s;
}

json to_json(const domain::silence& s, domain::time_point now) {
  json out{
      {"id", s.id},
      {"matchers", matchers_json(s.matchers)},
      {"event_manager_id",
       s.event_manager_id.empty() ? json(nullptr) : json(s.event_manager_id)},
      {"startsAt", domain::to_rfc3339(s.starts_at)},
      {"endsAt", end_or_null(s.ends_at)},
      {"createdBy", s.created_by},
      {"comment", s.comment},
      {"updatedAt", domain::to_rfc3339(s.updated_at)},
      {"state", domain::to_string(domain::state_of(s, now))},
      {"schedule", schedule_json(s.recurrence)},
  };
  if (!s.recurrence.empty()) {
    auto next = json::array();
    for (auto& o : domain::next_occurrences(s, now, 3))
      next.push_back(domain::to_rfc3339(o.starts_at));
    out["next_occurrences"] = std::move(next);
  }
  return out;
}

caf::expected<domain::silence> parse_am_silence(const json& j,
                                                const std::string& manager_id) {
  domain::silence s;
  // amtool always sends startsAt; Alertmanager requires it too.
  if (auto err = read_common(j, s, true, domain::no_time))
    return err;
  bool seen = false;
  if (auto err = read_text(j, "id", s.id, seen))
    return err;
  s.event_manager_id = manager_id;
  return s;
}

json to_gettable_silence(const domain::silence& s, domain::time_point now) {
  return json{
      {"id", s.id},
      {"status", {{"state", domain::to_string(domain::state_of(s, now))}}},
      {"updatedAt", domain::to_rfc3339(s.updated_at)},
      {"matchers", matchers_json(s.matchers)},
      {"startsAt", domain::to_rfc3339(s.starts_at)},
      {"endsAt", domain::to_rfc3339(s.ends_at)},
      {"createdBy", s.created_by},
      {"comment", s.comment},
  };
}

std::vector<std::string>
silenced_by(const std::map<std::string, domain::silence>& all,
            const domain::alert& a, domain::time_point now) {
  if (all.empty())
    return {};
  return domain::silenced_by(all, a, details_reader_of(a), now);
}

bool is_silenced(const std::map<std::string, domain::silence>& all,
                 const domain::alert& a, domain::time_point now) {
  return !all.empty() && domain::is_silenced(all, a, details_reader_of(a), now);
}

caf::expected<std::vector<domain::inhibit_rule>>
parse_inhibit_rules(const json& j) {
  if (!j.is_array())
    return bad("inhibit_rules", "must be an array");
  std::vector<domain::inhibit_rule> out;
  for (size_t i = 0; i < j.size(); ++i) {
    auto where = "inhibit_rules[" + std::to_string(i) + "]";
    auto& r = j[i];
    if (!r.is_object())
      return bad(where, "must be an object");
    domain::inhibit_rule rule;
    bool seen = false;
    for (auto side : {"source_matchers", "target_matchers"}) {
      auto& target =
          side[0] == 's' ? rule.source_matchers : rule.target_matchers;
      if (auto err = read_matchers(r, target, seen, side, where + "." + side))
        return err;
      if (!seen)
        return make_error(ec::validation_failed,
                          "field '" + where + "." + side + "' is required");
    }
    if (auto e = r.find("equal"); e != r.end() && !e->is_null()) {
      if (!e->is_array())
        return bad(where + ".equal", "must be an array of field names");
      for (size_t k = 0; k < e->size(); ++k) {
        if (!(*e)[k].is_string())
          return bad(where + ".equal[" + std::to_string(k) + "]",
                     "must be a string");
        rule.equal.push_back((*e)[k].get<std::string>());
      }
    }
    out.push_back(std::move(rule));
  }
  return out;
}

json to_json(const std::vector<domain::inhibit_rule>& rules) {
  auto out = json::array();
  for (auto& r : rules)
    out.push_back({{"source_matchers", matchers_json(r.source_matchers)},
                   {"target_matchers", matchers_json(r.target_matchers)},
                   {"equal", r.equal}});
  return out;
}

domain::details_reader details_reader_of(const domain::alert& a) {
  // Parsed at the first read, not here: matchers on alert fields (class,
  // severity, ...) never read the details, and inhibition makes a reader
  // for every active alert of a manager. A string (or missing) field is
  // found by a walk of the text, without a DOM. The first other value, or
  // the walks' cost passing a DOM's (a walk is 1/12 to 1/37 of a parse),
  // parses the DOM, which then answers every later read.
  struct lazy_details {
    const std::string* text;
    std::optional<json> parsed;
    int walks = 0;
    bool not_json = false;
  };
  constexpr int most_walks = 8;
  auto state = std::make_shared<lazy_details>(lazy_details{&a.details});
  return [state](const std::string& name) -> std::optional<std::string> {
    bool walk =
        !state->parsed && (state->not_json || state->walks < most_walks);
    if (walk) {
      ++state->walks;
      auto found = find_details_field(*state->text, name);
      if (found.kind == details_field::text)
        return std::move(found.value);
      if (found.kind == details_field::none || state->not_json)
        return std::nullopt;
    }
    if (!state->parsed) {
      auto parsed = json::parse(*state->text, nullptr, false);
      if (!parsed.is_object()) {
        // Not JSON the DOM reads (stored details always are): go on
        // answering from the walks, so one reader never contradicts
        // itself.
        state->not_json = true;
        return std::nullopt;
      }
      state->parsed = std::move(parsed);
    }
    return grouping_text(*state->parsed, name);
  };
}

} // namespace argus::http
