#include "http/am_details_reader.hpp"

#include "http/simdjson_body.hpp"

#include <simdjson.h>

#include <string_view>
#include <vector>

namespace argus::http {

namespace od = simdjson::ondemand;

namespace {

/// The unescaped key of `f`; false on a simdjson error.
bool key_of(od::field& f, std::string_view& key) {
  return !f.unescaped_key().get(key);
}

/// Stands for a label whose value is not a string: no UTF-8 text (all
/// simdjson returns) is this byte.
constexpr std::string_view not_a_string = "\xff";

/// Reads the string members of object `value` into `out`, the last of a
/// name given twice winning (a last value that is not a string drops the
/// name, as the DOM has no string for it); other members are skipped.
bool read_labels(od::value& value, domain::label_set& out) {
  od::object obj;
  if (value.get_object().get(obj))
    return false;
  std::vector<domain::label_set::value_type> labels;
  for (auto member : obj) {
    od::field f;
    std::string_view name;
    // simdjson's documented idiom: its result's get() consumes it.
    // NOLINTNEXTLINE(performance-move-const-arg)
    if (std::move(member).get(f) || !key_of(f, name))
      return false;
    od::json_type type;
    if (f.value().type().get(type))
      return false;
    std::string_view text = not_a_string;
    if (type == od::json_type::string && f.value().get_string().get(text))
      return false;
    labels.emplace_back(name, text);
  }
  // Sorted once: stored details hold what an event sent, in any order.
  out = *domain::label_set::from(std::move(labels),
                                 domain::duplicate_names::keep_last);
  out.erase_if([](auto& label) { return label.second == not_a_string; });
  return true;
}

bool read_fields(od::document& doc, am_filter_fields& out) {
  od::object obj;
  if (doc.get_object().get(obj))
    return false;
  for (auto member : obj) {
    od::field f;
    std::string_view key;
    // NOLINTNEXTLINE(performance-move-const-arg)
    if (std::move(member).get(f) || !key_of(f, key))
      return false;
    bool labels = key == "labels";
    bool ends_at = key == "endsAt";
    if (!labels && !ends_at)
      continue;
    od::json_type type;
    if (f.value().type().get(type))
      return false;
    if (labels) {
      out.labels.clear();
      if (type == od::json_type::object && !read_labels(f.value(), out.labels))
        return false;
    } else {
      std::string_view text;
      if (type == od::json_type::string && f.value().get_string().get(text))
        return false;
      out.ends_at = type == od::json_type::string ? text : std::string_view{};
    }
  }
  return nothing_after_root(doc);
}

} // namespace

std::optional<am_filter_fields>
read_am_filter_fields(std::string_view details) {
  // Texts simdjson returns stay valid until the parser's next document.
  static thread_local od::parser thread_parser;
  static thread_local std::string thread_padded;
  std::optional<od::parser> large_parser;
  std::string large_padded;
  bool small = details.size() <= small_body;
  auto& parser = small ? thread_parser : large_parser.emplace();
  auto& padded = small ? thread_padded : large_padded;
  od::document doc;
  am_filter_fields out;
  if (!iterate_padded(parser, padded, details, doc) || !read_fields(doc, out))
    return std::nullopt;
  return out;
}

} // namespace argus::http
