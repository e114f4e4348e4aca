#include "http/alertmanager_json.hpp"

#include "domain/error.hpp"
#include "http/am_details_reader.hpp"
#include "http/event_json.hpp"
#include "http/silence_json.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <optional>
#include <string_view>
#include <utility>

namespace argus::http {

using nlohmann::json;

namespace {

/// Reads an object of strings (`labels`, `annotations`); null or absent
/// gives an empty set.
caf::error read_label_set(const json& j, const char* field,
                          domain::label_set& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null())
    return {};
  if (!it->is_object())
    return make_error(ec::bad_request, std::string{"field '"} + field +
                                           "' must be an object of strings");
  for (auto& [name, value] : it->items()) {
    if (!value.is_string())
      return make_error(ec::bad_request, std::string{"field '"} + field + "." +
                                             name + "' must be a string");
    out.emplace(name, value.get<std::string>());
  }
  return {};
}

/// Reads an optional RFC 3339 time; Go's zero time counts as unset.
caf::error read_time(const json& j, const char* field,
                     domain::time_point& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null())
    return {};
  if (!it->is_string())
    return make_error(ec::bad_request, std::string{"field '"} + field +
                                           "' must be an RFC 3339 string");
  auto t = domain::parse_am_time(it->get<std::string>());
  if (!t)
    return make_error(ec::bad_request, std::string{"field '"} + field +
                                           "': " + message_of(t.error()));
  out = *t;
  return {};
}

json label_json(const domain::label_set& labels) {
  auto out = json::object();
  for (auto& [name, value] : labels)
    out[name] = value;
  return out;
}

json details_json(const domain::alert& a) {
  auto parsed = json::parse(a.details, nullptr, false);
  return parsed.is_object() ? parsed : json::object();
}

std::string string_at(const json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

} // namespace

caf::expected<domain::postable_alert> parse_postable_alert(const json& j) {
  if (!j.is_object())
    return make_error(ec::bad_request, "an alert must be a JSON object");
  domain::postable_alert a;
  auto labels = j.find("labels");
  if (labels == j.end() || labels->is_null())
    return make_error(ec::validation_failed, "field 'labels' is required");
  if (auto err = read_label_set(j, "labels", a.labels))
    return err;
  if (auto err = read_label_set(j, "annotations", a.annotations))
    return err;
  if (auto err = read_time(j, "startsAt", a.starts_at))
    return err;
  if (auto err = read_time(j, "endsAt", a.ends_at))
    return err;
  if (auto url = j.find("generatorURL"); url != j.end() && !url->is_null()) {
    if (!url->is_string())
      return make_error(ec::bad_request,
                        "field 'generatorURL' must be a string");
    a.generator_url = url->get<std::string>();
  }
  return a;
}

namespace {

/// `labels` as a compact JSON object, skipping empty values when
/// `skip_empty` (Alertmanager drops those labels): what nlohmann's dump
/// writes for the same map, keys in the map's (sorted) order.
void append_label_object(std::string& out, const domain::label_set& labels,
                         bool skip_empty) {
  out.push_back('{');
  bool first = true;
  for (auto& [name, value] : labels) {
    if (skip_empty && value.empty())
      continue;
    if (!first)
      out.push_back(',');
    first = false;
    append_json_string(out, name);
    out.push_back(':');
    append_json_string(out, value);
  }
  out.push_back('}');
}

/// The length of `append_label_object`'s text when nothing in it needs
/// escaping (nearly always), skipping as it skips.
size_t label_object_size(const domain::label_set& labels, bool skip_empty) {
  size_t size = 2; // the braces
  size_t written = 0;
  for (auto& [name, value] : labels) {
    if (skip_empty && value.empty())
      continue;
    size += name.size() + value.size() + 5; // two quoted texts and ':'
    ++written;
  }
  return size + (written > 0 ? written - 1 : 0); // the commas
}

/// The members of the details object, in the order nlohmann's sorted
/// objects dump them.
enum class am_member { annotations, ends_at, generator_url, labels, starts_at };

constexpr std::pair<std::string_view, am_member> am_members[] = {
    {"annotations", am_member::annotations},    {"endsAt", am_member::ends_at},
    {"generatorURL", am_member::generator_url}, {"labels", am_member::labels},
    {"startsAt", am_member::starts_at},
};

std::optional<am_member> am_member_named(std::string_view name) {
  for (auto& [member_name, m] : am_members)
    if (member_name == name)
      return m;
  return std::nullopt;
}

/// Whether member `m` is an object of strings (a label set); the others
/// are strings.
bool is_label_set(am_member m) {
  return m == am_member::labels || m == am_member::annotations;
}

/// The label set of member `m` (see `is_label_set`). Empty labels are
/// dropped from the details; empty annotations are kept.
const domain::label_set& label_set_of(am_member m,
                                      const domain::postable_alert& posted) {
  return m == am_member::labels ? posted.labels : posted.annotations;
}

/// An admitted alert's effective times as text, on the stack: as strings,
/// each was a heap block (24 bytes is past the small-string buffer) made
/// and freed per stored alert.
struct am_times {
  char starts_at[domain::rfc3339_length];
  char ends_at[domain::rfc3339_length];

  explicit am_times(const domain::am_alert& admitted) {
    domain::write_rfc3339(starts_at, admitted.starts_at);
    domain::write_rfc3339(ends_at, admitted.ends_at);
  }
};

/// The text of a string member (unquoted).
std::string_view member_text(am_member m, const domain::postable_alert& posted,
                             const am_times& times) {
  switch (m) {
  case am_member::ends_at:
    return {times.ends_at, sizeof times.ends_at};
  case am_member::starts_at:
    return {times.starts_at, sizeof times.starts_at};
  default:
    return posted.generator_url;
  }
}

/// The length of `append_member`'s text when nothing in it needs escaping.
size_t member_size(am_member m, const domain::postable_alert& posted,
                   const am_times& times) {
  if (is_label_set(m))
    return label_object_size(label_set_of(m, posted), m == am_member::labels);
  return member_text(m, posted, times).size() + 2; // quoted
}

void append_member(std::string& out, am_member m,
                   const domain::postable_alert& posted,
                   const am_times& times) {
  if (is_label_set(m))
    append_label_object(out, label_set_of(m, posted), m == am_member::labels);
  else
    append_json_string(out, member_text(m, posted, times));
}

} // namespace

std::string am_details_text(const domain::postable_alert& posted,
                            const domain::am_alert& admitted) {
  // Written directly rather than built as a DOM and dumped: that was a
  // tenth of the CPU of an Alertmanager post. The text is kept with the
  // alert, so it is allocated once at its length (what escapes add aside)
  // rather than at a guess that doubled: 256 bytes for the common alert
  // of 200, 1,024 for one of 600.
  am_times times{admitted};
  size_t size = 2 + std::size(am_members) - 1; // the braces and commas
  for (auto& [name, m] : am_members)
    size += name.size() + 3 + member_size(m, posted, times); // "name":
  std::string out;
  out.reserve(size);
  out.push_back('{');
  for (auto& [name, m] : am_members) {
    if (out.size() > 1)
      out.push_back(',');
    append_json_string(out, name);
    out.push_back(':');
    append_member(out, m, posted, times);
  }
  out.push_back('}');
  return out;
}

std::optional<std::string> am_field(const domain::postable_alert& posted,
                                    const domain::am_alert& admitted,
                                    const std::string& key) {
  auto& e = admitted.ev;
  // A whole top-level name first, as `grouping_text` looks.
  if (key == "summary")
    return e.summary;
  if (key == "severity")
    return std::string{domain::to_string(e.sev)};
  if (key == "dedupKey")
    return e.dedup_key;
  if (auto m = am_member_named(key)) {
    am_times times{admitted};
    if (!is_label_set(*m))
      return std::string{member_text(*m, posted, times)};
    std::string out;
    append_member(out, *m, posted, times);
    return out;
  }
  // A dotted path: only the label sets are objects, and their values are
  // strings, so a path reaches a value in one step or none.
  auto dot = key.find('.');
  if (dot == std::string::npos)
    return std::nullopt;
  auto m = am_member_named(std::string_view{key}.substr(0, dot));
  auto name = key.substr(dot + 1);
  if (!m || !is_label_set(*m) || name.find('.') != std::string::npos)
    return std::nullopt;
  auto& set = label_set_of(*m, posted);
  auto it = set.find(name);
  if (it == set.end() || (*m == am_member::labels && it->second.empty()))
    return std::nullopt;
  return it->second;
}

am_details am_details_of(const domain::alert& a, am_parts parts) {
  assert(parts != am_parts::listing); // a listing filters on the labels
  am_details out;
  auto walk = [&](am_parts tried) {
    if (read_am_fields(a.details, tried, out.fields)) {
      out.walked = tried;
      return true;
    }
    out.fields = {}; // what a failed walk left is not the DOM's
    return false;
  };
  // A walk of both parts checks the annotations as it reads them, where
  // the filter's walk skips them: one it refuses gets the filter's walk
  // too, so that whether an alert is listed never depends on the query.
  if (!walk(parts) && !(parts == am_parts::both && walk(am_parts::filter))) {
    auto details = details_json(a);
    auto labels = details.find("labels");
    if (labels != details.end() && labels->is_object())
      for (auto& [name, value] : labels->items())
        if (value.is_string())
          out.fields.labels.emplace(name, value.get_ref<const std::string&>());
    out.fields.ends_at = string_at(details, "endsAt");
  }
  auto t = domain::parse_am_time(out.fields.ends_at);
  out.ends_at = t ? *t : domain::no_time;
  return out;
}

namespace {

/// Whether `name` is one of the root members `read_am_fields` knows.
bool am_root_member(std::string_view name) {
  return name == "labels" || name == "annotations" || name == "startsAt" ||
         name == "endsAt" || name == "generatorURL";
}

} // namespace

domain::details_reader am_details_reader(const domain::alert& a,
                                         const am_details& details) {
  // Walked for the filter, the details hold no root member but the known
  // ones, and `labels` as read.
  auto knows = details.walked && *details.walked != am_parts::listing &&
               !details.fields.other_members;
  return [&a, &details, knows, read = domain::details_reader{}](
             const std::string& name) mutable -> std::optional<std::string> {
    if (knows) {
      constexpr std::string_view labels = "labels.";
      auto dot = name.find('.');
      if (dot == std::string::npos && !am_root_member(name))
        return std::nullopt;
      if (details.fields.labels_exact && name.rfind(labels, 0) == 0 &&
          name.find('.', labels.size()) == std::string::npos) {
        auto it = details.fields.labels.find(
            std::string_view{name}.substr(labels.size()));
        if (it == details.fields.labels.end())
          return std::nullopt;
        return it->second;
      }
    }
    if (!read)
      read = details_reader_of(a);
    return read(name);
  };
}

json to_gettable_alert(const domain::alert& a, const domain::label_set& labels,
                       const std::vector<std::string>& silenced_by) {
  auto d = details_json(a);
  auto annotations = d.find("annotations");
  auto starts = string_at(d, "startsAt");
  auto ends = string_at(d, "endsAt");
  return json{
      {"labels", label_json(labels)},
      {"annotations", annotations != d.end() && annotations->is_object()
                          ? std::move(*annotations)
                          : json::object()},
      {"startsAt", starts.empty() ? domain::to_rfc3339(a.created_at) : starts},
      {"endsAt", ends.empty() ? domain::to_rfc3339(a.updated_at) : ends},
      {"updatedAt", domain::to_rfc3339(a.updated_at)},
      {"generatorURL", string_at(d, "generatorURL")},
      {"fingerprint", a.dedup_key},
      {"receivers", json::array({{{"name", a.event_manager_id}}})},
      {"status",
       {{"state", silenced_by.empty() ? "active" : "suppressed"},
        {"silencedBy", silenced_by},
        {"inhibitedBy", json::array()}}},
  };
}

namespace {

/// Writes `member`'s name and a colon, after a comma unless it is the
/// object's first.
void append_key(std::string& out, std::string_view member) {
  if (out.back() != '{')
    out.push_back(',');
  append_json_string(out, member);
  out.push_back(':');
}

/// `to_gettable_alert`'s dump from the labels and the listing part of
/// `fields`, members in the DOM's (sorted) order. The caller has checked
/// that every text is UTF-8, so nlohmann would not replace a byte of it.
void append_gettable_alert(std::string& out, const domain::alert& a,
                           const domain::label_set& labels,
                           const am_fields& fields,
                           const std::vector<std::string>& silenced_by) {
  auto updated = domain::to_rfc3339(a.updated_at);
  out.push_back('{');
  append_key(out, "annotations");
  append_label_object(out, fields.annotations, false);
  append_key(out, "endsAt");
  append_json_string(out, fields.ends_at.empty() ? updated : fields.ends_at);
  append_key(out, "fingerprint");
  append_json_string(out, a.dedup_key);
  append_key(out, "generatorURL");
  append_json_string(out, fields.generator_url);
  append_key(out, "labels");
  append_label_object(out, labels, false);
  append_key(out, "receivers");
  out += "[{\"name\":";
  append_json_string(out, a.event_manager_id.view());
  out += "}]";
  append_key(out, "startsAt");
  append_json_string(out, fields.starts_at.empty()
                              ? domain::to_rfc3339(a.created_at)
                              : fields.starts_at);
  append_key(out, "status");
  out += "{\"inhibitedBy\":[],\"silencedBy\":[";
  for (auto& id : silenced_by) {
    if (&id != &silenced_by.front())
      out.push_back(',');
    append_json_string(out, id);
  }
  out += silenced_by.empty() ? "],\"state\":\"active\"}"
                             : "],\"state\":\"suppressed\"}";
  append_key(out, "updatedAt");
  append_json_string(out, updated);
  out.push_back('}');
}

bool valid_utf8(std::string_view s) {
  return simdjson::validate_utf8(s.data(), s.size());
}

} // namespace

void append_gettable_alert_text(std::string& out, const domain::alert& a,
                                const am_details& details,
                                const std::vector<std::string>& silenced_by) {
  // Details texts simdjson read are UTF-8; the alert's own keys and the
  // silences' ids are checked here, as nlohmann's dump would replace a
  // byte that is not.
  const am_fields* fields = nullptr;
  am_fields listing_walk;
  if (details.walked == am_parts::both)
    fields = &details.fields;
  else if (details.walked &&
           read_am_fields(a.details, am_parts::listing, listing_walk))
    fields = &listing_walk;
  bool utf8 = fields != nullptr && fields->annotations_are_strings &&
              valid_utf8(a.dedup_key) &&
              valid_utf8(a.event_manager_id.view()) &&
              std::all_of(silenced_by.begin(), silenced_by.end(),
                          [](auto& id) { return valid_utf8(id); });
  if (utf8)
    return append_gettable_alert(out, a, details.fields.labels, *fields,
                                 silenced_by);
  // What the walk cannot write as the DOM would comes from the DOM.
  out += to_gettable_alert(a, details.fields.labels, silenced_by)
             .dump(-1, ' ', false, json::error_handler_t::replace);
}

json to_am_status(const am_node_status& s) {
  json cluster{{"status", "disabled"}, {"peers", json::array()}};
  if (!s.node_id.empty())
    cluster = {{"name", s.node_id},
               {"status", s.settled ? "ready" : "settling"},
               {"peers", json::array()}};
  return json{{"cluster", cluster},
              {"versionInfo",
               {{"version", s.version},
                {"revision", ""},
                {"branch", ""},
                {"buildUser", ""},
                {"buildDate", ""},
                {"goVersion", ""}}},
              {"config", {{"original", s.config_text}}},
              {"uptime", domain::to_rfc3339(s.started)}};
}

caf::expected<domain::severity_mapping>
parse_severity_mapping(const json& j, domain::severity_mapping base) {
  if (!j.is_object())
    return make_error(ec::bad_request,
                      "field 'alertmanager' must be an object");
  auto bad_severity = [](const std::string& field) {
    return make_error(ec::validation_failed,
                      "field '" + field +
                          "' must be 'high', 'medium' or 'low'");
  };
  if (auto map = j.find("severity_map"); map != j.end() && !map->is_null()) {
    if (!map->is_object())
      return make_error(ec::bad_request,
                        "field 'alertmanager.severity_map' must be an object");
    base.by_label.clear();
    for (auto& [label, value] : map->items()) {
      auto field = "alertmanager.severity_map." + label;
      auto sev = value.is_string()
                     ? domain::parse_severity(value.get<std::string>())
                     : std::nullopt;
      if (!sev)
        return bad_severity(field);
      std::string key = label;
      for (auto& c : key)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      base.by_label[key] = *sev;
    }
  }
  if (auto def = j.find("default_severity");
      def != j.end() && !def->is_null()) {
    auto sev = def->is_string()
                   ? domain::parse_severity(def->get<std::string>())
                   : std::nullopt;
    if (!sev)
      return bad_severity("alertmanager.default_severity");
    base.fallback = *sev;
  }
  return base;
}

json to_json(const domain::severity_mapping& m) {
  auto map = json::object();
  for (auto& [label, sev] : m.by_label)
    map[label] = domain::to_string(sev);
  return json{{"severity_map", map},
              {"default_severity", domain::to_string(m.fallback)}};
}

} // namespace argus::http
