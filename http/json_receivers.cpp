// The JSON of notification_config.receivers: parsed from manager bodies and
// shown in replies, where a secret is never returned (only `secret_set`).

#include "http/json.hpp"

#include "domain/error.hpp"

namespace argus::http {

namespace {

using json = nlohmann::json;

caf::error bad(const std::string& where, const std::string& what) {
  return make_error(ec::bad_request, "field '" + where + "' must be " + what);
}

caf::error read_text(const json& j, const std::string& where, const char* field,
                     std::string& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null())
    return {};
  if (!it->is_string())
    return bad(where + "." + field, "a string");
  out = it->get<std::string>();
  return {};
}

caf::error read_int(const json& j, const std::string& where, const char* field,
                    int64_t& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null())
    return {};
  if (!it->is_number_integer())
    return bad(where + "." + field, "an integer");
  out = it->get<int64_t>();
  return {};
}

caf::error read_headers(const json& j, const std::string& where,
                        domain::receiver& r) {
  auto it = j.find("headers");
  if (it == j.end() || it->is_null())
    return {};
  if (!it->is_object())
    return bad(where + ".headers", "an object of strings");
  r.headers.clear();
  for (auto& [name, value] : it->items()) {
    if (!value.is_string())
      return bad(where + ".headers." + name, "a string");
    r.headers[name] = value.get<std::string>();
  }
  return {};
}

caf::error read_types(const json& j, const std::string& where,
                      domain::receiver& r) {
  auto it = j.find("types");
  if (it == j.end() || it->is_null())
    return {};
  if (!it->is_array())
    return bad(where + ".types", "an array of notification types");
  r.types.clear();
  for (auto& t : *it) {
    auto kind = t.is_string()
                    ? domain::parse_notification_kind(t.get<std::string>())
                    : std::nullopt;
    if (!kind)
      return make_error(ec::validation_failed,
                        where + ".types: expected parent_opened, "
                                "parent_resolved, child_added or "
                                "parent_acknowledged");
    r.types.push_back(*kind);
  }
  return {};
}

/// One receiver. A receiver of the same name in `base` (an update) keeps
/// its secret unless the body gives one ("" clears it).
caf::expected<domain::receiver>
parse_receiver(const json& j, const std::string& where,
               const std::vector<domain::receiver>* base) {
  if (!j.is_object())
    return bad(where, "an object");
  domain::receiver r;
  std::string format = "argus";
  if (auto err = read_text(j, where, "name", r.name))
    return err;
  if (base)
    for (auto& old : *base)
      if (old.name == r.name)
        r.secret = old.secret;
  for (auto [field, out] :
       {std::pair{"url", &r.url}, std::pair{"format", &format},
        std::pair{"secret", &r.secret},
        std::pair{"routing_key", &r.routing_key}})
    if (auto err = read_text(j, where, field, *out))
      return err;
  auto f = domain::parse_receiver_format(format);
  if (!f)
    return make_error(ec::validation_failed,
                      where + ".format: expected argus, alertmanager, slack "
                              "or pagerduty");
  r.format = *f;
  if (auto err = read_int(j, where, "timeout_ms", r.timeout_ms))
    return err;
  if (auto err = read_int(j, where, "child_added_per_minute",
                          r.child_added_per_minute))
    return err;
  if (auto err = read_headers(j, where, r))
    return err;
  if (auto err = read_types(j, where, r))
    return err;
  return r;
}

} // namespace

caf::error parse_receivers(const json& j,
                           const std::vector<domain::receiver>* base,
                           std::vector<domain::receiver>& out) {
  if (!j.is_array())
    return bad("notification_config.receivers", "an array");
  std::vector<domain::receiver> rs;
  for (size_t i = 0; i < j.size(); ++i) {
    auto where = "notification_config.receivers[" + std::to_string(i) + "]";
    auto r = parse_receiver(j[i], where, base);
    if (!r)
      return std::move(r.error());
    rs.push_back(std::move(*r));
  }
  out = std::move(rs);
  return {};
}

json to_json(const domain::receiver& r) {
  json types = json::array();
  for (auto kind : r.types)
    types.push_back(domain::to_string(kind));
  json out{
      {"name", r.name},
      {"url", r.url},
      {"format", domain::to_string(r.format)},
      {"headers", r.headers},
      {"secret_set", !r.secret.empty()},
      {"timeout_ms", r.timeout_ms},
      {"types", types},
      {"child_added_per_minute", r.child_added_per_minute},
  };
  if (!r.routing_key.empty())
    out["routing_key"] = r.routing_key;
  return out;
}

} // namespace argus::http
