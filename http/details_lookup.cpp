#include "http/details_lookup.hpp"

#include "http/details_walk.hpp"

#include <vector>

namespace argus::http {

namespace od = simdjson::ondemand;

namespace {

/// The field for value `v` (the member found), or false on a simdjson
/// error.
bool classify(od::value v, details_field& out) {
  od::json_type type;
  if (v.type().get(type))
    return false;
  out.value.clear();
  if (type == od::json_type::null) {
    out.kind = details_field::none;
  } else if (type == od::json_type::string) {
    std::string_view text;
    if (v.get_string().get(text))
      return false;
    out.kind = details_field::text;
    out.value = text;
  } else {
    out.kind = details_field::unknown;
  }
  return true;
}

/// Follows `path[step..]` into `v`; as the DOM's path walk, a step into
/// anything but an object finds nothing. False on a simdjson error.
bool follow(od::value v, const std::vector<std::string_view>& path, size_t step,
            details_field& out) {
  out = {details_field::none, {}};
  od::json_type type;
  if (v.type().get(type))
    return false;
  if (type != od::json_type::object)
    return true;
  od::object obj;
  if (v.get_object().get(obj))
    return false;
  return each_member(obj, [&](std::string_view key, od::field& f) {
    if (key != path[step])
      return true;
    return step + 1 == path.size() ? classify(f.value(), out)
                                   : follow(f.value(), path, step + 1, out);
  });
}

std::vector<std::string_view> steps_of(std::string_view key) {
  std::vector<std::string_view> steps;
  for (size_t start = 0;;) {
    auto dot = key.find('.', start);
    steps.push_back(key.substr(start, dot - start));
    if (dot == std::string_view::npos)
      return steps;
    start = dot + 1;
  }
}

} // namespace

details_field find_details_field(std::string_view details,
                                 std::string_view key) {
  details_field whole{details_field::none, {}};
  details_field by_path{details_field::none, {}};
  bool has_whole = false;
  auto path = steps_of(key);
  details_walk walk;
  bool read = walk.start(details) &&
              walk.each_root_member([&](std::string_view name, od::field& f) {
                if (name == key) {
                  has_whole = true;
                  return classify(f.value(), whole);
                }
                if (path.size() > 1 && name == path[0])
                  return follow(f.value(), path, 1, by_path);
                return true;
              });
  if (!read)
    return {};
  // The whole key as a top-level name first, even when its value is null.
  return has_whole ? whole : by_path;
}

} // namespace argus::http
