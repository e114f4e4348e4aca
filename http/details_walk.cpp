#include "http/details_walk.hpp"

#include "http/simdjson_body.hpp"

namespace argus::http {

bool details_walk::start(std::string_view text) {
  static thread_local simdjson::ondemand::parser thread_parser;
  static thread_local std::string thread_padded;
  bool small = text.size() <= small_body;
  auto& parser = small ? thread_parser : large_parser_.emplace();
  auto& padded = small ? thread_padded : large_padded_;
  return iterate_padded(parser, padded, text, doc_);
}

bool details_walk::nothing_follows() {
  return nothing_after_root(doc_);
}

} // namespace argus::http
