#include "http/am_alert_reader.hpp"

#include "http/simdjson_body.hpp"

#include <simdjson.h>

#include <optional>
#include <string>
#include <vector>

namespace argus::http {

namespace od = simdjson::ondemand;

namespace {

struct buffers {
  od::parser parser;
  std::string padded; ///< the body and simdjson's padding
};

/// The known members of a posted alert, as bits of the ones seen.
enum class member : unsigned {
  labels = 1,
  annotations = 2,
  starts_at = 4,
  ends_at = 8,
  generator_url = 16,
};

/// Reads an object of strings into `out`; false (the DOM path decides)
/// for any other value, or a name given twice.
bool read_strings(od::value& value, domain::label_set& out) {
  od::object obj;
  if (value.get_object().get(obj))
    return false;
  std::vector<domain::label_set::value_type> labels;
  for (auto member : obj) {
    od::field f;
    std::string_view name;
    std::string_view text;
    // simdjson's documented idiom: its result's get() consumes it.
    // NOLINTNEXTLINE(performance-move-const-arg)
    if (std::move(member).get(f))
      return false;
    od::value& v = f.value();
    if (!read_strict_key(f, v.raw_json_token().data(), name) ||
        !read_strict_string(v, text))
      return false;
    labels.emplace_back(name, text);
  }
  // Sorted once: a post may hold its labels in any order, and as many as
  // its body has room for.
  auto set = domain::label_set::from(std::move(labels),
                                     domain::duplicate_names::refuse);
  if (!set)
    return false;
  out = std::move(*set);
  return true;
}

/// Reads an optional string member: null leaves it unset.
bool read_optional_string(od::value& value,
                          std::optional<std::string_view>& out) {
  bool is_null = false;
  if (value.is_null().get(is_null))
    return false;
  if (is_null)
    return true;
  std::string_view text;
  if (!read_strict_string(value, text))
    return false;
  out = text;
  return true;
}

bool read_time(od::value& value, domain::time_point& out) {
  std::optional<std::string_view> text;
  if (!read_optional_string(value, text))
    return false;
  if (!text)
    return true;
  auto t = domain::parse_am_time(*text);
  if (!t)
    return false;
  out = *t;
  return true;
}

/// The nesting of an alert's members: inside the body's array and the
/// alert's object.
constexpr size_t member_depth = 2;

/// Whether `value`, a member parse_postable_alert does not read, is what
/// the DOM path accepts: it refuses a body for any bad value in it.
bool strict_other(od::value& value) {
  od::json_type type;
  std::string_view raw;
  std::string_view text;
  return !value.type().get(type) &&
         read_strict_value(value, type, member_depth, raw, text) ==
             json_verdict::ok;
}

/// Reads one alert object; false when the DOM path must decide.
bool read_alert(od::object obj, domain::postable_alert& a) {
  unsigned seen = 0;
  auto first_time = [&seen](member m) {
    auto bit = static_cast<unsigned>(m);
    bool first = (seen & bit) == 0;
    seen |= bit;
    return first;
  };
  for (auto member : obj) {
    od::field f;
    std::string_view key;
    // NOLINTNEXTLINE(performance-move-const-arg)
    if (std::move(member).get(f))
      return false;
    od::value& value = f.value();
    if (!read_strict_key(f, value.raw_json_token().data(), key))
      return false;
    if (key == "labels") {
      // Required and an object: null or anything else is the DOM's error.
      if (!first_time(member::labels) || !read_strings(value, a.labels))
        return false;
    } else if (key == "annotations") {
      bool is_null = false;
      if (!first_time(member::annotations) || value.is_null().get(is_null))
        return false;
      if (!is_null && !read_strings(value, a.annotations))
        return false;
    } else if (key == "startsAt") {
      if (!first_time(member::starts_at) || !read_time(value, a.starts_at))
        return false;
    } else if (key == "endsAt") {
      if (!first_time(member::ends_at) || !read_time(value, a.ends_at))
        return false;
    } else if (key == "generatorURL") {
      std::optional<std::string_view> url;
      if (!first_time(member::generator_url) ||
          !read_optional_string(value, url))
        return false;
      if (url)
        a.generator_url = *url;
    } else if (!strict_other(value)) {
      // Other members are not read, as parse_postable_alert ignores them,
      // but their text is checked.
      return false;
    }
  }
  return (seen & static_cast<unsigned>(member::labels)) != 0;
}

bool read_all(std::string_view body, buffers& s,
              std::vector<domain::postable_alert>& out) {
  od::document doc;
  od::array arr;
  if (!iterate_padded(s.parser, s.padded, body, doc) ||
      doc.get_array().get(arr))
    return false;
  for (auto item : arr) {
    od::object obj;
    // NOLINTNEXTLINE(performance-move-const-arg)
    if (std::move(item).get_object().get(obj))
      return false;
    if (!read_alert(obj, out.emplace_back()))
      return false;
  }
  return nothing_after_root(doc);
}

} // namespace

std::optional<std::vector<domain::postable_alert>>
read_postable_alerts(std::string_view body) {
  // The DOM path refuses a body for any bad value in it: every key and
  // value is held to its grammar as it is walked (http/strict_json.hpp),
  // and what On-Demand only delimits is checked whole.
  static thread_local buffers thread_own;
  std::optional<buffers> large;
  auto& s = body.size() <= small_body ? thread_own : large.emplace();
  std::vector<domain::postable_alert> out;
  if (!read_all(body, s, out))
    return std::nullopt;
  return out;
}

} // namespace argus::http
