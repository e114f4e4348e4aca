#pragma once

// Stored details (JSON objects Argus wrote: event details pass the strict
// checks before they are kept, Alertmanager ones are written by Argus) are
// read with simdjson's On-Demand API by several readers; this is where
// they get their parser.

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

namespace argus::http {

/// Calls `visit(key, field)` for each member of `obj`, its key unescaped;
/// false on a simdjson error or as soon as `visit` returns false.
template <class Visit>
bool each_member(simdjson::ondemand::object& obj, Visit visit) {
  for (auto member : obj) {
    simdjson::ondemand::field f;
    std::string_view key;
    // simdjson's documented idiom: its result's get() consumes it.
    // NOLINTNEXTLINE(performance-move-const-arg)
    if (std::move(member).get(f) || f.unescaped_key().get(key) ||
        !visit(key, f))
      return false;
  }
  return true;
}

/// One walk of one details text. Texts up to `small_body` are walked with
/// the calling thread's parser (walks on one thread must not overlap),
/// larger ones with a parser of the walk's own, so a thread keeps no large
/// buffers. Texts simdjson returns stay valid while the walk lives.
class details_walk {
public:
  details_walk() = default;
  // The document points into the parser: neither may move.
  details_walk(const details_walk&) = delete;
  details_walk& operator=(const details_walk&) = delete;

  /// Starts walking `text`; false when simdjson refuses it at once.
  bool start(std::string_view text);

  /// `each_member` over the root object, then whether nothing follows it;
  /// false when the root is not an object.
  template <class Visit>
  bool each_root_member(Visit visit) {
    simdjson::ondemand::object obj;
    return !doc_.get_object().get(obj) && each_member(obj, visit) &&
           nothing_follows();
  }

private:
  bool nothing_follows();

  std::optional<simdjson::ondemand::parser> large_parser_;
  std::string large_padded_;
  simdjson::ondemand::document doc_;
};

} // namespace argus::http
