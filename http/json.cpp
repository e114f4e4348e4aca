#include "http/json.hpp"
#include "http/silence_json.hpp"

#include "domain/admission.hpp"
#include "domain/alertmanager.hpp"
#include "domain/error.hpp"
#include "http/alertmanager_json.hpp"

#include <array>
#include <optional>
#include <string_view>

namespace argus::http {

using nlohmann::json;

namespace {

caf::error bad_type(const std::string& field, const char* expected) {
  return make_error(ec::bad_request,
                    "field '" + field + "' must be " + expected);
}

/// Reads an optional string field; `present` tells whether it was there.
caf::error read_string(const json& j, const std::string& field,
                       std::string& out, bool& present) {
  auto it = j.find(field);
  present = it != j.end() && !it->is_null();
  if (!present)
    return {};
  if (!it->is_string())
    return bad_type(field, "a string");
  out = it->get<std::string>();
  return {};
}

caf::error read_window(const json& j, domain::grouping_rule& rule,
                       bool required) {
  auto minutes = j.find("time_window_minutes");
  auto seconds = j.find("time_window_seconds");
  bool has_minutes = minutes != j.end() && !minutes->is_null();
  bool has_seconds = seconds != j.end() && !seconds->is_null();
  if (has_minutes && has_seconds)
    return make_error(ec::validation_failed,
                      "give time_window_minutes or time_window_seconds, "
                      "not both");
  if (!has_minutes && !has_seconds) {
    if (required)
      return make_error(ec::validation_failed,
                        "field 'time_window_minutes' (or "
                        "'time_window_seconds') is required");
    return {};
  }
  auto& value = has_minutes ? *minutes : *seconds;
  const char* name =
      has_minutes ? "time_window_minutes" : "time_window_seconds";
  if (!value.is_number_integer())
    return bad_type(name, "a positive integer");
  auto n = value.get<int64_t>();
  int64_t limit = has_minutes ? 366 * 24 * 60 : 366 * 24 * 3600;
  if (n <= 0 || n > limit)
    return make_error(ec::validation_failed,
                      std::string{"field '"} + name +
                          "' must be a positive integer of at most one year");
  rule.time_window_seconds = has_minutes ? n * 60 : n;
  return {};
}

/// Reads `auto_resolve_after` (whole seconds; 0 or null: off) into `out`
/// when present; the range is the domain's to check.
caf::error read_auto_resolve(const json& j, int64_t& out) {
  auto it = j.find("auto_resolve_after");
  if (it == j.end())
    return {};
  if (it->is_null())
    out = 0;
  else if (!it->is_number_integer())
    return bad_type("auto_resolve_after", "an integer number of seconds");
  else
    out = it->get<int64_t>();
  return {};
}

/// The field at dotted `path` through nested objects, or null.
const json* at_path(const json& j, const std::string& path) {
  const json* node = &j;
  for (size_t start = 0;;) {
    auto dot = path.find('.', start);
    if (!node->is_object())
      return nullptr;
    auto child = node->find(path.substr(start, dot - start));
    if (child == node->end())
      return nullptr;
    node = &*child;
    if (dot == std::string::npos)
      return node;
    start = dot + 1;
  }
}

/// Reads `grouping_key` (one field) or `grouping_keys` (an array of them);
/// either replaces what the rule grouped by.
caf::error read_keys(const json& j, domain::grouping_rule& rule) {
  auto keys = j.find("grouping_keys");
  bool has_keys = keys != j.end() && !keys->is_null();
  std::string key;
  bool has_key = false;
  if (auto err = read_string(j, "grouping_key", key, has_key))
    return err;
  if (has_key && has_keys)
    return make_error(ec::validation_failed,
                      "give grouping_key or grouping_keys, not both");
  if (has_key)
    domain::set_keys(rule, {std::move(key)});
  if (!has_keys)
    return {};
  if (!keys->is_array())
    return bad_type("grouping_keys", "an array of strings");
  if (keys->empty())
    return make_error(ec::validation_failed,
                      "field 'grouping_keys' must not be empty");
  std::vector<std::string> names;
  for (auto& k : *keys) {
    if (!k.is_string())
      return bad_type("grouping_keys", "an array of strings");
    names.push_back(k.get<std::string>());
  }
  domain::set_keys(rule, std::move(names));
  return {};
}

} // namespace

caf::expected<json> parse_body(const std::string& body) {
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // nlohmann reports bad UTF-8 as a parse error; say so plainly.
    if (what.find("UTF-8") != std::string::npos)
      return make_error(ec::bad_request,
                        "request body is not valid UTF-8 at byte " +
                            std::to_string(e.byte));
    return make_error(ec::bad_request, "request body is not valid JSON "
                                       "(error at byte " +
                                           std::to_string(e.byte) + ")");
  } catch (const json::exception& e) {
    // e.g. a number beyond the range of a double
    return make_error(ec::bad_request,
                      std::string{"request body is not valid JSON: "} +
                          e.what());
  }
}

namespace {

/// An event field's error, if any: not a caf::error itself, since every
/// field of every event is read through these, and destroying even an
/// empty caf::error is a call into libcaf_core (a dozen per event).
using field_error = std::optional<caf::error>;

/// Sets an event's field to `text`: built at its length, then moved in.
/// `assign` is libstdc++'s general replace, out of line, and took about
/// twice the instructions for the handful of fields of every event.
void set_text(std::string& out, std::string_view text) {
  out = std::string{text};
}
/// A field only parsed (action, severity) is viewed, not copied.
void set_text(std::string_view& out, std::string_view text) {
  out = text;
}

/// Reads an optional standard field into a std::string or a view of the
/// field's text (valid while `f` is); `present` tells whether it was there
/// (null counts as missing).
template <class Text>
field_error read_field(const event_field& f, const char* name, Text& out,
                       bool& present) {
  present = f.kind != event_field::absent;
  if (!present)
    return std::nullopt;
  if (f.kind != event_field::string)
    return bad_type(name, "a string");
  set_text(out, f.text);
  return std::nullopt;
}

/// Reads a standard field that must be present and non-empty.
template <class Text>
field_error require_field(const event_field& f, const char* name, Text& out) {
  bool present = false;
  if (auto err = read_field(f, name, out, present))
    return err;
  if (!present)
    return make_error(ec::validation_failed,
                      std::string{"field '"} + name + "' is required");
  if (out.empty())
    return make_error(ec::validation_failed,
                      std::string{"field '"} + name + "' must not be empty");
  return std::nullopt;
}

/// Reads a key field (event manager id, dedupKey): required, and as long
/// as admission allows.
field_error require_key_field(const event_field& f, const char* name,
                              std::string& out) {
  if (auto err = require_field(f, name, out))
    return err;
  if (!domain::key_fits(out))
    return domain::check_key_length(name, out);
  return std::nullopt;
}

} // namespace

int event_fields::index_of(std::string_view name) {
  // By length first: most names are told apart without a compare.
  switch (name.size()) {
  case 5:
    return name == "class" ? 5 : -1;
  case 6:
    return name == "action" ? 1 : -1;
  case 7:
    return name == "summary" ? 3 : -1;
  case 8:
    return name == "severity" ? 4 : name == "dedupKey" ? 2 : -1;
  case 15:
    return name == "acknowledged_by" ? 6 : -1;
  case 16:
    return name == "event_manager_id" ? 0 : -1;
  default:
    return -1;
  }
}

event_field* event_fields::slot(std::string_view name) {
  switch (index_of(name)) {
  case 0:
    return &event_manager_id;
  case 1:
    return &action;
  case 2:
    return &dedup_key;
  case 3:
    return &summary;
  case 4:
    return &severity;
  case 5:
    return &class_name;
  case 6:
    return &acknowledged_by;
  default:
    return nullptr;
  }
}

caf::expected<domain::event> make_event(const event_fields& f) {
  domain::event e;
  if (auto err = fill_event(f, e))
    return err;
  return e;
}

caf::error fill_event(const event_fields& f, domain::event& e) {
  if (auto err = require_key_field(f.event_manager_id, "event_manager_id",
                                   e.event_manager_id))
    return std::move(*err);
  std::string_view action_text;
  if (auto err = require_field(f.action, "action", action_text))
    return std::move(*err);
  auto act = domain::parse_event_action(action_text);
  if (!act)
    return act.error();
  e.act = *act;
  if (auto err = require_key_field(f.dedup_key, "dedupKey", e.dedup_key))
    return std::move(*err);
  bool trigger = e.act == domain::action::trigger;
  bool present = false;
  std::string_view severity_text;
  if (trigger) {
    if (auto err = require_field(f.summary, "summary", e.summary))
      return std::move(*err);
    if (auto err = require_field(f.severity, "severity", severity_text))
      return std::move(*err);
  } else {
    if (auto err = read_field(f.summary, "summary", e.summary, present))
      return std::move(*err);
    if (auto err = read_field(f.severity, "severity", severity_text, present))
      return std::move(*err);
  }
  if (!severity_text.empty()) {
    auto sev = domain::parse_event_severity(severity_text);
    if (!sev)
      return sev.error();
    e.sev = *sev;
  }
  if (auto err = read_field(f.class_name, "class", e.class_name, present))
    return std::move(*err);
  // Who acknowledges; an acknowledge without it names the API.
  if (auto err =
          read_field(f.acknowledged_by, "acknowledged_by", e.actor, present))
    return std::move(*err);
  return {};
}

caf::expected<domain::event> parse_event(const json& j) {
  if (!j.is_object())
    return make_error(ec::bad_request, "an event must be a JSON object");
  event_fields f;
  json extra = json::object();
  for (auto& [name, value] : j.items()) {
    auto* slot = f.slot(name);
    if (slot == nullptr) {
      extra[name] = value;
      continue;
    }
    if (value.is_null())
      continue;
    slot->kind = value.is_string() ? event_field::string : event_field::other;
    if (value.is_string())
      slot->text = value.get_ref<const std::string&>();
  }
  auto e = make_event(f);
  if (e)
    e->details = extra.dump();
  return e;
}

std::optional<std::string> grouping_text(const json& j,
                                         const std::string& key) {
  // The whole key as a top-level name first: rules from before dotted
  // paths, on fields whose names hold dots, keep their values.
  auto it = j.find(key);
  const json* at = it != j.end()                        ? &*it
                   : key.find('.') != std::string::npos ? at_path(j, key)
                                                        : nullptr;
  if (at == nullptr || at->is_null())
    return std::nullopt;
  return at->is_string() ? at->get<std::string>() : at->dump();
}

bool grouping_value_of(const json& j, const std::string& key,
                       std::string& out) {
  auto text = grouping_text(j, key);
  if (text)
    out = std::move(*text);
  return text.has_value();
}

domain::field_lookup fields_of(const json& j) {
  return [&j](const std::string& name) { return grouping_text(j, name); };
}

caf::expected<domain::grouping_rule>
parse_rule(const json& j, const domain::grouping_rule* base) {
  if (!j.is_object())
    return make_error(ec::bad_request, "a grouping rule must be a JSON object");
  domain::grouping_rule rule;
  if (base)
    rule = *base;
  bool present = false;
  if (auto err = read_string(j, "name", rule.name, present))
    return err;
  if (auto err = read_keys(j, rule))
    return err;
  if (auto err = read_window(j, rule, base == nullptr))
    return err;
  if (auto err = read_auto_resolve(j, rule.auto_resolve_after_seconds))
    return err;
  if (rule.name.empty())
    return make_error(ec::validation_failed, "field 'name' is required");
  if (rule.grouping_key.empty() && rule.grouping_keys.empty())
    return make_error(ec::validation_failed,
                      "field 'grouping_key' is required");
  return rule;
}

/// `rate_limit`: absent keeps what the manager had, null returns it to the
/// node's default, an object sets its own (`events_per_second` required,
/// `burst` optional: 0 or absent is the rate rounded up).
caf::error read_rate_limit(const json& j, domain::event_manager& m) {
  auto it = j.find("rate_limit");
  if (it == j.end())
    return {};
  if (it->is_null()) {
    m.has_rate_limit = false;
    m.rate = {};
    return {};
  }
  if (!it->is_object())
    return bad_type("rate_limit", "an object or null");
  domain::rate_limit limit;
  auto rate = it->find("events_per_second");
  if (rate == it->end() || rate->is_null())
    return make_error(ec::validation_failed,
                      "field 'rate_limit.events_per_second' is required");
  if (!rate->is_number())
    return bad_type("rate_limit.events_per_second", "a number");
  limit.events_per_second = rate->get<double>();
  if (auto burst = it->find("burst"); burst != it->end() && !burst->is_null()) {
    if (!burst->is_number_integer())
      return bad_type("rate_limit.burst", "an integer");
    limit.burst = burst->get<int64_t>();
  }
  for (auto& [key, value] : it->items())
    if (key != "events_per_second" && key != "burst")
      return make_error(ec::bad_request, "field 'rate_limit." + key +
                                             "' is unknown (events_per_second "
                                             "and burst are)");
  if (auto err = domain::validate(limit, "rate_limit"))
    return err;
  m.has_rate_limit = true;
  m.rate = limit;
  return {};
}

caf::expected<domain::event_manager>
parse_manager(const json& j, const domain::event_manager* base) {
  if (!j.is_object())
    return make_error(ec::bad_request,
                      "an event manager must be a JSON object");
  domain::event_manager m;
  if (base)
    m = *base;
  bool present = false;
  if (!base) {
    if (auto err = read_string(j, "id", m.id, present))
      return err;
    if (present && m.id.empty())
      return make_error(ec::validation_failed, "field 'id' must not be empty");
  }
  if (auto err = read_string(j, "name", m.name, present))
    return err;
  if (auto err = read_string(j, "description", m.description, present))
    return err;
  if (auto err =
          read_string(j, "grouping_rule_id", m.grouping_rule_id, present))
    return err;
  if (auto nc = j.find("notification_config");
      nc != j.end() && !nc->is_null()) {
    if (!nc->is_object())
      return bad_type("notification_config", "an object");
    if (auto err = read_string(*nc, "webhook_url", m.webhook_url, present))
      return make_error(ec::bad_request, "field "
                                         "'notification_config.webhook_url' "
                                         "must be a string");
    if (auto rs = nc->find("receivers"); rs != nc->end() && !rs->is_null())
      if (auto err = parse_receivers(*rs, base ? &base->receivers : nullptr,
                                     m.receivers))
        return err;
  }
  if (auto am = j.find("alertmanager"); am != j.end() && !am->is_null()) {
    auto mapping = parse_severity_mapping(*am, m.am_severity);
    if (!mapping)
      return mapping.error();
    m.am_severity = std::move(*mapping);
  }
  // A PagerDuty integration key a team already uses may be kept; without
  // one the catalog generates a key.
  if (auto err = read_string(j, "routing_key", m.routing_key, present))
    return err;
  if (auto it = j.find("ack_timeout_seconds"); it != j.end()) {
    if (it->is_null())
      m.ack_timeout_seconds = 0;
    else if (!it->is_number_integer())
      return bad_type("ack_timeout_seconds", "an integer");
    else
      m.ack_timeout_seconds = it->get<int64_t>();
  }
  if (auto err = read_auto_resolve(j, m.auto_resolve_after_seconds))
    return err;
  if (auto err = read_rate_limit(j, m))
    return err;
  if (auto it = j.find("inhibit_rules"); it != j.end()) {
    if (it->is_null()) {
      m.inhibit_rules.clear();
    } else {
      auto rules = parse_inhibit_rules(*it);
      if (!rules)
        return rules.error();
      m.inhibit_rules = std::move(*rules);
    }
  }
  if (m.name.empty())
    return make_error(ec::validation_failed, "field 'name' is required");
  if (m.grouping_rule_id.empty())
    return make_error(ec::validation_failed,
                      "field 'grouping_rule_id' is required");
  return m;
}

json time_or_null(domain::time_point t) {
  if (t == domain::no_time)
    return nullptr;
  return domain::to_rfc3339(t);
}

json details_of(const std::string& text) {
  auto parsed = json::parse(text, nullptr, false);
  return parsed.is_discarded() ? json::object() : parsed;
}

json to_json(const domain::alert& a) {
  return json{
      {"id", a.id},
      {"dedupKey", a.dedup_key},
      {"event_manager_id", a.event_manager_id},
      {"summary", a.summary},
      {"severity", domain::to_string(a.sev)},
      {"class", a.class_name},
      {"type", domain::to_string(a.type)},
      {"status", domain::to_string(a.status)},
      {"grouping_value",
       a.has_grouping_value ? json(a.grouping_value) : json(nullptr)},
      {"parent_dedupKey",
       a.parent_dedup_key.empty() ? json(nullptr) : json(a.parent_dedup_key)},
      {"child_count", a.child_count},
      {"resolve_requested", a.resolve_requested},
      {"event_count", a.event_count},
      {"created_at", time_or_null(a.created_at)},
      {"updated_at", time_or_null(a.updated_at)},
      {"resolved_at", time_or_null(a.resolved_at)},
      {"acknowledged", a.acknowledged},
      {"acknowledged_at", time_or_null(a.acknowledged_at)},
      {"acknowledged_by",
       a.acknowledged ? json(a.acknowledged_by) : json(nullptr)},
      {"acknowledged_until", time_or_null(a.acknowledged_until)},
      {"resolved_by", a.resolved_by == domain::resolution::none
                          ? json(nullptr)
                          : json(domain::to_string(a.resolved_by))},
      {"auto_resolve_at", time_or_null(a.auto_resolve_at)},
      {"details", details_of(a.details)},
  };
}

json to_json(const domain::grouping_rule& r) {
  json minutes = r.time_window_seconds % 60 == 0
                     ? json(r.time_window_seconds / 60)
                     : json(static_cast<double>(r.time_window_seconds) / 60.0);
  return json{
      {"id", r.id},
      {"name", r.name},
      {"grouping_key",
       r.grouping_keys.empty() ? json(r.grouping_key) : json(nullptr)},
      {"grouping_keys", domain::keys_of(r)},
      {"time_window_minutes", minutes},
      {"time_window_seconds", r.time_window_seconds},
      {"auto_resolve_after", r.auto_resolve_after_seconds},
      {"created_at", time_or_null(r.created_at)},
      {"updated_at", time_or_null(r.updated_at)},
  };
}

namespace {

/// The manager's own limit with its burst in force, or null (the node's
/// default applies).
json rate_limit_json(const domain::event_manager& m) {
  if (!m.has_rate_limit)
    return nullptr;
  auto limit = domain::normalized(m.rate);
  return {{"events_per_second", limit.events_per_second},
          {"burst", limit.burst}};
}

json receivers_json(const std::vector<domain::receiver>& rs) {
  json out = json::array();
  for (auto& r : rs)
    out.push_back(to_json(r));
  return out;
}

} // namespace

json to_json(const domain::event_manager& m) {
  return json{
      {"id", m.id},
      {"name", m.name},
      {"description", m.description},
      {"grouping_rule_id", m.grouping_rule_id},
      {"notification_config",
       {{"webhook_url",
         m.webhook_url.empty() ? json(nullptr) : json(m.webhook_url)},
        {"receivers", receivers_json(m.receivers)}}},
      {"alertmanager", to_json(m.am_severity)},
      {"routing_key", m.routing_key},
      {"ack_timeout_seconds", m.ack_timeout_seconds},
      {"auto_resolve_after", m.auto_resolve_after_seconds},
      {"rate_limit", rate_limit_json(m)},
      {"inhibit_rules", to_json(m.inhibit_rules)},
      {"created_at", time_or_null(m.created_at)},
      {"updated_at", time_or_null(m.updated_at)},
  };
}

json to_json(const domain::notification& n) {
  json out{
      {"seq", n.seq},
      {"id", n.id},
      {"kind", domain::to_string(n.kind)},
      {"at", time_or_null(n.at)},
      {"alert", to_json(*n.parent)},
      {"active_children", n.active_children},
  };
  if (n.kind == domain::notification_kind::child_added)
    out["child"] = to_json(*n.child);
  return out;
}

json to_json(const domain::delivery& d) {
  auto pending = d.state == domain::delivery_state::pending;
  return json{
      {"receiver", d.receiver},
      {"state", domain::to_string(d.state)},
      {"attempts", d.attempts},
      {"last_error", d.last_error.empty() ? json(nullptr) : json(d.last_error)},
      {"next_attempt_at",
       pending ? time_or_null(d.next_attempt_at) : json(nullptr)},
      {"updated_at", time_or_null(d.updated_at)},
  };
}

json to_json(const domain::notification_record& r) {
  auto out = to_json(r.note);
  auto deliveries = json::array();
  for (auto& d : r.deliveries)
    deliveries.push_back(to_json(d));
  out["deliveries"] = std::move(deliveries);
  return out;
}

json to_json(const domain::api_key& k, domain::time_point now) {
  return {{"id", k.id},
          {"prefix", k.prefix},
          {"role", domain::to_string(k.key_role)},
          {"managers", k.managers},
          {"state", domain::state_of(k, now)},
          {"created_at", time_or_null(k.created_at)},
          {"expires_at", time_or_null(k.expires_at)},
          {"revoked_at", time_or_null(k.revoked_at)},
          {"created_by", k.created_by}};
}

json to_json(const domain::audit_entry& e) {
  return {{"id", e.id},
          {"at", domain::to_rfc3339(e.at)},
          {"actor", e.actor},
          {"action", e.action},
          {"kind", e.kind},
          {"object_id", e.object_id},
          {"event_manager_id", e.event_manager_id.empty()
                                   ? json(nullptr)
                                   : json(e.event_manager_id)}};
}

namespace {

caf::error read_key_managers(const json& j, domain::api_key& k) {
  auto bad = [] {
    return make_error(ec::bad_request, "field 'managers' must be an array of "
                                       "event manager ids");
  };
  if (auto it = j.find("manager"); it != j.end() && !it->is_null()) {
    if (!it->is_string())
      return make_error(ec::bad_request, "field 'manager' must be a string");
    k.managers.push_back(it->get<std::string>());
  }
  if (auto it = j.find("managers"); it != j.end() && !it->is_null()) {
    if (!it->is_array())
      return bad();
    for (auto& m : *it) {
      if (!m.is_string())
        return bad();
      k.managers.push_back(m.get<std::string>());
    }
  }
  return {};
}

caf::error read_key_expiry(const json& j, domain::api_key& k,
                           domain::time_point now) {
  auto at = j.find("expires_at");
  auto in = j.find("expires_in");
  bool has_at = at != j.end() && !at->is_null();
  bool has_in = in != j.end() && !in->is_null();
  if (has_at && has_in)
    return make_error(ec::bad_request,
                      "give expires_at or expires_in, not both");
  if (has_at) {
    if (!at->is_string())
      return make_error(ec::bad_request,
                        "field 'expires_at' must be an RFC 3339 string");
    auto t = domain::parse_am_time(at->get<std::string>());
    if (!t)
      return make_error(ec::bad_request,
                        "field 'expires_at': " + message_of(t.error()));
    k.expires_at = *t;
  }
  if (has_in) {
    std::optional<domain::duration> d;
    if (in->is_number_integer() && in->get<int64_t>() > 0)
      d = domain::parse_lifetime(std::to_string(in->get<int64_t>()) + "s");
    else if (in->is_string())
      d = domain::parse_lifetime(in->get<std::string>());
    if (!d)
      return make_error(ec::bad_request,
                        "field 'expires_in' must be a positive number of "
                        "seconds or a duration such as 12h or 90d (at most "
                        "ten years)");
    k.expires_at = now + *d;
  }
  return {};
}

} // namespace

caf::expected<domain::api_key> parse_key_request(const json& j,
                                                 domain::time_point now) {
  if (!j.is_object())
    return make_error(ec::bad_request, "request body must be a JSON object");
  domain::api_key k;
  auto role = j.find("role");
  if (role == j.end() || !role->is_string())
    return make_error(ec::bad_request,
                      "field 'role' is required: admin, reader or ingest");
  auto parsed = domain::parse_role(role->get<std::string>());
  if (!parsed)
    return make_error(ec::validation_failed,
                      "field 'role' must be admin, reader or ingest");
  k.key_role = *parsed;
  if (auto err = read_key_managers(j, k))
    return err;
  if (auto err = read_key_expiry(j, k, now))
    return err;
  return k;
}

} // namespace argus::http
