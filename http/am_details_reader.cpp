#include "http/am_details_reader.hpp"

#include "http/details_walk.hpp"

#include <simdjson.h>

#include <string_view>
#include <vector>

namespace argus::http {

namespace od = simdjson::ondemand;

namespace {

/// Stands for a label whose value is not a string: no UTF-8 text (all
/// simdjson returns) is this byte.
constexpr std::string_view not_a_string = "\xff";

/// Reads the members of object `value` into `out`, the last of a name
/// given twice winning. A value that is not a string is `not_a_string`
/// when `others_allowed`, else the read fails.
bool read_string_members(od::value& value, domain::label_set& out,
                         bool others_allowed) {
  od::object obj;
  if (value.get_object().get(obj))
    return false;
  std::vector<domain::label_set::value_type> members;
  bool read = each_member(obj, [&](std::string_view name, od::field& f) {
    od::json_type type;
    if (f.value().type().get(type))
      return false;
    std::string_view text = not_a_string;
    if (type != od::json_type::string && !others_allowed)
      return false;
    if (type == od::json_type::string && f.value().get_string().get(text))
      return false;
    members.emplace_back(name, text);
    return true;
  });
  if (!read)
    return false;
  // Sorted once: stored details hold what an event sent, in any order.
  out = *domain::label_set::from(std::move(members),
                                 domain::duplicate_names::keep_last);
  return true;
}

/// Reads the string members of `labels` into `out` as the DOM has them:
/// a last value that is not a string drops the name.
bool read_labels(od::value& value, domain::label_set& out) {
  if (!read_string_members(value, out, true))
    return false;
  out.erase_if([](auto& label) { return label.second == not_a_string; });
  return true;
}

/// Reads `f`'s value as the DOM's `string_at` gives it: its text, or
/// empty when it is not a string.
bool read_text(od::field& f, std::string& out) {
  od::json_type type;
  if (f.value().type().get(type))
    return false;
  std::string_view text;
  if (type == od::json_type::string && f.value().get_string().get(text))
    return false;
  out = text;
  return true;
}

/// Reads `f`'s value into `out` if it is an object (else `out` is left
/// empty), by `read`.
template <class Read>
bool read_object(od::field& f, domain::label_set& out, Read read) {
  out.clear();
  od::json_type type;
  if (f.value().type().get(type))
    return false;
  return type != od::json_type::object || read(f.value(), out);
}

/// Parses `details` and fills a `T`, each root member read by `visit`. Texts
/// simdjson returns stay valid only during the walk, so each `visit`
/// copies what it keeps.
template <class T, class Visit>
std::optional<T> read_details(std::string_view details, Visit visit) {
  details_walk walk;
  T out;
  if (!walk.start(details) ||
      !walk.each_root_member([&](std::string_view key, od::field& f) {
        return visit(key, f, out);
      }))
    return std::nullopt;
  return out;
}

} // namespace

std::optional<am_filter_fields>
read_am_filter_fields(std::string_view details) {
  return read_details<am_filter_fields>(
      details, [](std::string_view key, od::field& f, am_filter_fields& out) {
        if (key == "labels")
          return read_object(f, out.labels, read_labels);
        if (key == "endsAt")
          return read_text(f, out.ends_at);
        return true;
      });
}

std::optional<am_listing_fields>
read_am_listing_fields(std::string_view details) {
  auto strings_only = [](od::value& value, domain::label_set& out) {
    return read_string_members(value, out, false);
  };
  return read_details<am_listing_fields>(
      details, [&](std::string_view key, od::field& f, am_listing_fields& out) {
        if (key == "annotations")
          return read_object(f, out.annotations, strings_only);
        if (key == "startsAt")
          return read_text(f, out.starts_at);
        if (key == "endsAt")
          return read_text(f, out.ends_at);
        if (key == "generatorURL")
          return read_text(f, out.generator_url);
        return true;
      });
}

} // namespace argus::http
