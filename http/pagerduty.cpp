#include "http/pagerduty.hpp"

#include "domain/alert.hpp"

#include <cctype>
#include <random>

namespace argus::http::pagerduty {

using nlohmann::json;

namespace {

std::string missing(const std::string& field) {
  return "'" + field + "' is missing or blank";
}

std::string wrong_type(const std::string& field, const char* expected) {
  return "'" + field + "' is invalid (must be " + expected + ")";
}

std::string too_long(const std::string& field, size_t max) {
  return "'" + field + "' is too long (maximum is " + std::to_string(max) +
         " characters)";
}

/// Length in characters (UTF-8 code points), as PagerDuty counts.
size_t chars(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text)
    n += (c & 0xc0) != 0x80;
  return n;
}

/// The faults found so far, and the fields read.
struct reader {
  const json& body;
  std::vector<std::string> errors;

  /// A string member of `j` at `path`; null or absent is nullopt.
  std::optional<std::string> text(const json& j, const char* name,
                                  const std::string& path) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null())
      return std::nullopt;
    if (!it->is_string()) {
      errors.push_back(wrong_type(path, "a string"));
      return std::nullopt;
    }
    return it->get<std::string>();
  }

  /// A string that must be there and not blank.
  std::optional<std::string> required(const json& j, const char* name,
                                      const std::string& path) {
    auto before = errors.size();
    auto value = text(j, name, path);
    if (value && value->find_first_not_of(" \t\r\n") != std::string::npos)
      return value;
    if (errors.size() == before)
      errors.push_back(missing(path));
    return std::nullopt;
  }
};

bool digits(const std::string& s, size_t pos, size_t n) {
  if (pos + n > s.size())
    return false;
  for (size_t i = pos; i < pos + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
  return true;
}

/// ISO 8601 date-time as monitoring tools send it:
/// `2015-07-17T08:42:58.315+0000`, `...Z`, `...+00:00`, fraction optional.
bool is_date_time(const std::string& s) {
  if (!digits(s, 0, 4) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2) ||
      s[7] != '-' || !digits(s, 8, 2) || (s[10] != 'T' && s[10] != ' ') ||
      !digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' ||
      !digits(s, 17, 2))
    return false;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    auto start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i;
    if (i == start)
      return false;
  }
  auto zone = s.substr(i);
  if (zone.empty() || zone == "Z")
    return true;
  if (zone[0] != '+' && zone[0] != '-')
    return false;
  return (zone.size() == 5 && digits(zone, 1, 4)) ||
         (zone.size() == 6 && digits(zone, 1, 2) && zone[3] == ':' &&
          digits(zone, 4, 2));
}

/// `links` or `images`: arrays of objects, each with `required` set.
void check_list(reader& r, const char* name, const char* required_member) {
  auto it = r.body.find(name);
  if (it == r.body.end() || it->is_null())
    return;
  if (!it->is_array()) {
    r.errors.push_back(wrong_type(name, "an array"));
    return;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    auto path = std::string{name} + "[" + std::to_string(i) + "]";
    auto& item = (*it)[i];
    if (!item.is_object()) {
      r.errors.push_back(wrong_type(path, "an object"));
      continue;
    }
    r.required(item, required_member, path + "." + required_member);
  }
}

/// The payload of a trigger: summary, source, severity and the optional
/// PD-CEF fields, into `e` and `details`.
void read_payload(reader& r, domain::event& e, json& details) {
  static const json empty = json::object();
  auto it = r.body.find("payload");
  bool has = it != r.body.end() && !it->is_null();
  if (has && !it->is_object()) {
    r.errors.push_back(wrong_type("payload", "an object"));
    return;
  }
  auto& p = has ? *it : empty;
  if (auto summary = r.required(p, "summary", "payload.summary")) {
    if (chars(*summary) > max_summary_chars)
      // PagerDuty's own wording names it without the "payload." prefix.
      r.errors.push_back(too_long("summary", max_summary_chars));
    e.summary = std::move(*summary);
  }
  if (auto source = r.required(p, "source", "payload.source"))
    details["source"] = *source;
  if (auto sev = r.required(p, "severity", "payload.severity")) {
    if (auto mapped = parse_severity(*sev)) {
      e.sev = *mapped;
      details["severity"] = *sev;
    } else {
      r.errors.push_back("'payload.severity' is invalid (must be one of the "
                         "following: 'critical', 'warning', 'error' or "
                         "'info')");
    }
  }
  if (auto ts = r.text(p, "timestamp", "payload.timestamp")) {
    if (is_date_time(*ts))
      details["timestamp"] = *ts;
    else
      r.errors.push_back(
          wrong_type("payload.timestamp", "an ISO 8601 date-time"));
  }
  for (auto name : {"component", "group"})
    if (auto value = r.text(p, name, std::string{"payload."} + name))
      details[name] = *value;
  if (auto cls = r.text(p, "class", "payload.class"))
    e.class_name = *cls;
  if (auto cd = p.find("custom_details"); cd != p.end() && !cd->is_null())
    details["custom_details"] = *cd;
}

json error_body(const char* status, const char* message,
                std::vector<std::string> errors) {
  return {{"status", status}, {"message", message}, {"errors", errors}};
}

reply unrecognized() {
  return {400, error_body("Unrecognized object",
                          "Event object format is unrecognized",
                          {"JSON parse error"})};
}

/// routing_key and the manager it selects.
void read_routing_key(reader& r, const manager_lookup& manager_of,
                      domain::event& e) {
  auto key = r.required(r.body, "routing_key", "routing_key");
  if (!key)
    return;
  // An Argus ingest key (longer than PagerDuty's 32) is a routing key too
  // when auth is on: the lookup knows it.
  if (auto manager = manager_of(*key))
    e.event_manager_id = std::move(*manager);
  else if (key->size() != routing_key_length)
    r.errors.push_back("Length of 'routing_key' is incorrect (should be " +
                       std::to_string(routing_key_length) + " characters)");
  else
    r.errors.push_back("Invalid routing key");
}

/// Whether the action is known; what else is required depends on it.
bool read_action(reader& r, domain::event& e) {
  auto text = r.required(r.body, "event_action", "event_action");
  if (!text)
    return false;
  if (*text == "trigger")
    e.act = domain::action::trigger;
  else if (*text == "acknowledge")
    e.act = domain::action::acknowledge;
  else if (*text == "resolve")
    e.act = domain::action::resolve;
  else {
    r.errors.push_back("'event_action' is invalid (must be one of the "
                       "following: 'trigger', 'acknowledge' or 'resolve')");
    return false;
  }
  return true;
}

void read_dedup_key(reader& r, domain::event& e, bool trigger) {
  auto key = trigger ? r.text(r.body, "dedup_key", "dedup_key")
                     : r.required(r.body, "dedup_key", "dedup_key");
  if (!key)
    return;
  if (chars(*key) > max_dedup_key_chars)
    r.errors.push_back(too_long("dedup_key", max_dedup_key_chars));
  e.dedup_key = std::move(*key);
}

/// What a grouping key looks into: the body without its secret, with the
/// payload's fields at the top level too.
json grouping_view(const json& body) {
  auto view = body;
  view.erase("routing_key");
  if (auto p = body.find("payload"); p != body.end() && p->is_object())
    for (auto& [name, value] : p->items())
      if (!view.contains(name))
        view[name] = value;
  return view;
}

} // namespace

std::variant<mapped, reply> parse(const std::string& body,
                                  const manager_lookup& manager_of) {
  if (body.size() > max_body_bytes)
    return invalid({"Event is too large (maximum is " +
                    std::to_string(max_body_bytes) + " bytes)"});
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return unrecognized();
  reader r{j, {}};
  mapped m;
  auto& e = m.e;
  read_routing_key(r, manager_of, e);
  bool known = read_action(r, e);
  // An unknown action leaves open what else is required: only its own
  // fault is named.
  bool trigger = !known || e.act == domain::action::trigger;
  read_dedup_key(r, e, trigger);
  json details = json::object();
  if (known && trigger)
    read_payload(r, e, details);
  check_list(r, "links", "href");
  check_list(r, "images", "src");
  for (auto name : {"links", "images"})
    if (auto it = j.find(name); it != j.end() && it->is_array())
      details[name] = *it;
  auto client = r.text(j, "client", "client");
  if (client)
    details["client"] = *client;
  if (auto url = r.text(j, "client_url", "client_url"))
    details["client_url"] = *url;
  if (!r.errors.empty())
    return invalid(std::move(r.errors));
  if (e.dedup_key.empty())
    e.dedup_key = domain::random_uuid();
  e.actor = client.value_or("pagerduty");
  e.details = details.dump();
  m.view = grouping_view(j);
  return m;
}

reply accepted(const std::string& dedup_key) {
  return {202,
          {{"status", "success"},
           {"message", "Event processed"},
           {"dedup_key", dedup_key}}};
}

reply refused(int status, const std::string& message) {
  return {status, error_body(status == 403 ? "forbidden" : "unauthorized",
                             message.c_str(), {message})};
}

reply invalid(std::vector<std::string> errors) {
  return {400, error_body("invalid event", "Event object is invalid",
                          std::move(errors))};
}

reply throttled(std::vector<std::string> errors) {
  return {429, error_body("throttle event",
                          "Requests for this service are arriving too "
                          "quickly. Please retry later.",
                          std::move(errors))};
}

std::optional<domain::severity> parse_severity(const std::string& text) {
  if (text == "critical" || text == "error")
    return domain::severity::high;
  if (text == "warning")
    return domain::severity::medium;
  if (text == "info")
    return domain::severity::low;
  return std::nullopt;
}

} // namespace argus::http::pagerduty
