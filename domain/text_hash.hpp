#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace argus::domain {

/// The hash the indexes of dedupKeys share (the router's, a group's): the
/// standard library's, which gives a std::string and its view the same
/// value. One event's key is looked up in several of them, so it is hashed
/// once and the hash carried along (`event::dedup_hash`).
inline size_t text_hash(std::string_view text) {
  return std::hash<std::string_view>{}(text);
}

} // namespace argus::domain
