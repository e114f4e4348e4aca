#pragma once

// What both simdjson readers of request bodies do the same way (events in
// http/event_json.cpp, Alertmanager posts in http/am_alert_reader.cpp).

#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace argus::http {

/// Bodies up to this size (single events, small batches) are read with the
/// calling thread's own parser and buffers, which stay with the thread;
/// larger ones with buffers that do not, so the 64 HTTP workers do not
/// each keep a large body's worth.
inline constexpr size_t small_body = size_t{32} << 10;

/// Starts simdjson's On-Demand walk of `body` into `doc`. The body is
/// copied into `padded` first, with the padding simdjson reads past the
/// end; `padded` keeps its capacity for the next body. False when simdjson
/// refuses the text at once.
inline bool iterate_padded(simdjson::ondemand::parser& parser,
                           std::string& padded, std::string_view body,
                           simdjson::ondemand::document& doc) {
  padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(body.data(), body.size());
  simdjson::padded_string_view view{padded.data(), padded.size(),
                                    padded.capacity()};
  return !parser.iterate(view).get(doc);
}

/// Whether nothing follows the root value `doc` was read through: anything
/// after it is trailing content, for the DOM path to word.
inline bool nothing_after_root(simdjson::ondemand::document& doc) {
  const char* rest = nullptr;
  return doc.current_location().get(rest) == simdjson::OUT_OF_BOUNDS;
}

} // namespace argus::http
