#include "http/am_details_reader.hpp"

#include "http/details_walk.hpp"

#include <simdjson.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace argus::http {

namespace od = simdjson::ondemand;

namespace {

/// Stands for a label whose value is not a string: no UTF-8 text (all
/// simdjson returns) is this byte.
constexpr std::string_view not_a_string = "\xff";

/// Reads the members of object `value` into `out`, the last of a name
/// given twice winning, a value that is not a string as `not_a_string`.
bool read_members(od::value& value, domain::label_set& out) {
  od::object obj;
  if (value.get_object().get(obj))
    return false;
  std::vector<domain::label_set::value_type> members;
  bool read = each_member(obj, [&](std::string_view name, od::field& f) {
    od::json_type type;
    if (f.value().type().get(type))
      return false;
    std::string_view text = not_a_string;
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

/// Reads the string members of `labels` (field `f`) into `out` as the
/// DOM has them: a last value that is not a string drops the name, and
/// `labels` that are not an object are none. `exact`: whether nothing was
/// dropped.
bool read_labels(od::field& f, domain::label_set& out, bool& exact) {
  out.clear();
  od::json_type type;
  if (f.value().type().get(type))
    return false;
  exact = type == od::json_type::object;
  if (!exact)
    return true;
  if (!read_members(f.value(), out))
    return false;
  auto read = out.size();
  out.erase_if([](auto& label) { return label.second == not_a_string; });
  exact = out.size() == read;
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

/// Whether `parts` take in `part`.
bool has(am_parts parts, am_parts part) {
  return (static_cast<int>(parts) & static_cast<int>(part)) != 0;
}

} // namespace

bool read_am_fields(std::string_view details, am_parts parts, am_fields& out) {
  bool filter = has(parts, am_parts::filter);
  bool listing = has(parts, am_parts::listing);
  details_walk walk;
  // Texts simdjson returns stay valid only during the walk: each read
  // copies what it keeps.
  bool read =
      walk.start(details) &&
      walk.each_root_member([&](std::string_view key, od::field& f) {
        if (key == "endsAt")
          return read_text(f, out.ends_at);
        if (key == "labels")
          return !filter || read_labels(f, out.labels, out.labels_exact);
        bool known =
            key == "annotations" || key == "startsAt" || key == "generatorURL";
        out.other_members |= !known;
        if (!listing || !known)
          return true;
        if (key == "annotations")
          // Of any type (as `not_a_string`), so that the walk still
          // gives the labels an alert is filtered on.
          return read_object(f, out.annotations, read_members);
        return read_text(f,
                         key == "startsAt" ? out.starts_at : out.generator_url);
      });
  if (read)
    out.annotations_are_strings =
        std::none_of(out.annotations.begin(), out.annotations.end(),
                     [](auto& a) { return a.second == not_a_string; });
  return read;
}

} // namespace argus::http
