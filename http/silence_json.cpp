#include "http/silence_json.hpp"

#include "domain/alertmanager.hpp"
#include "domain/error.hpp"
#include "http/json.hpp"

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
                         std::vector<domain::silence_matcher>& out,
                         bool& seen) {
  auto it = j.find("matchers");
  seen = it != j.end() && !it->is_null();
  if (!seen)
    return {};
  if (!it->is_array())
    return bad("matchers", "must be an array");
  out.clear();
  for (size_t i = 0; i < it->size(); ++i) {
    auto m = read_matcher((*it)[i], "matchers[" + std::to_string(i) + "]");
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
  if (auto err = read_time(j, "endsAt", s.ends_at, seen))
    return err;
  if (creating && !seen)
    return make_error(ec::validation_failed, "field 'endsAt' is required");
  if (auto err = read_text(j, "createdBy", s.created_by, seen))
    return err;
  if (auto err = read_text(j, "comment", s.comment, seen))
    return err;
  return {};
}

json matchers_json(const domain::silence& s) {
  auto out = json::array();
  for (auto& m : s.matchers)
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
  return json{
      {"id", s.id},
      {"matchers", matchers_json(s)},
      {"event_manager_id",
       s.event_manager_id.empty() ? json(nullptr) : json(s.event_manager_id)},
      {"startsAt", domain::to_rfc3339(s.starts_at)},
      {"endsAt", domain::to_rfc3339(s.ends_at)},
      {"createdBy", s.created_by},
      {"comment", s.comment},
      {"updatedAt", domain::to_rfc3339(s.updated_at)},
      {"state", domain::to_string(domain::state_of(s, now))},
  };
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
      {"matchers", matchers_json(s)},
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
  auto details = json::parse(a.details, nullptr, false);
  if (!details.is_object())
    details = json::object();
  return domain::silenced_by(
      all, a,
      [&details](const std::string& name) {
        return grouping_text(details, name);
      },
      now);
}

} // namespace argus::http
