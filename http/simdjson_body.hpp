#pragma once

// What both simdjson readers of request bodies do the same way (events in
// http/event_json.cpp, Alertmanager posts in http/am_alert_reader.cpp).

#include "http/strict_json.hpp"

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

/// The key of field `f`, whose value starts at `value`, held to what the
/// DOM path accepts (`strict_key`): its text as sent when it has no
/// escapes, else as simdjson unescapes it. False when the DOM path must
/// decide.
simdjson_inline bool read_strict_key(simdjson::ondemand::field& f,
                                     const char* value, std::string_view& out) {
  auto key = strict_key(f.key().raw(), value);
  if (!key)
    return false;
  out = key->text;
  return !key->escaped || !f.unescaped_key().get(out);
}

/// A string value's text, held to what the DOM path accepts
/// (`strict_string`), and its JSON text (`raw`, quotes included). False
/// when the DOM path must decide.
simdjson_inline bool read_strict_string(simdjson::ondemand::value& value,
                                        std::string_view& raw,
                                        std::string_view& text) {
  raw = trim_json_space(value.raw_json_token()); // before it is read
  return !value.get_string().get(text) && strict_string(raw, text);
}

/// `read_strict_string` for a reader that needs only the text.
simdjson_inline bool read_strict_string(simdjson::ondemand::value& value,
                                        std::string_view& text) {
  std::string_view raw;
  return read_strict_string(value, raw, text);
}

/// A value of `type`, nested at `depth` (see `check_json_value`), held to
/// what the DOM path accepts; `raw` is its JSON text (an object or array
/// whole, without white space after it) and, for a string, `text` its
/// text. A string is always read, not only delimited: On-Demand skipping
/// an unread string takes a colon after it for a key's and skips on
/// (`"x":"":1` would pass). Any other scalar it skips as one token.
simdjson_inline json_verdict read_strict_value(
    simdjson::ondemand::value& value, simdjson::ondemand::json_type type,
    size_t depth, std::string_view& raw, std::string_view& text) {
  namespace od = simdjson::ondemand;
  switch (type) {
  case od::json_type::string:
    return read_strict_string(value, raw, text) ? json_verdict::ok
                                                : json_verdict::invalid;
  case od::json_type::object: {
    od::object inner;
    if (value.get_object().get(inner) || inner.raw_json().get(raw))
      return json_verdict::invalid;
    break;
  }
  case od::json_type::array: {
    od::array inner;
    if (value.get_array().get(inner) || inner.raw_json().get(raw))
      return json_verdict::invalid;
    break;
  }
  default:
    raw = value.raw_json_token();
    break;
  }
  raw = trim_json_space(raw);
  return check_json_value(raw, depth);
}

} // namespace argus::http
