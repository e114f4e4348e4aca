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

/// The whole JSON text of `value`, which is of `type` (an object or array
/// whole, not only its first token), without white space after it. False
/// when simdjson cannot delimit it. A scalar is left unread: a string
/// whose text must be checked is read with `read_strict_string` instead,
/// as On-Demand skipping an unread string takes a colon after it for a
/// key's and skips on (`"x":"":1` would pass).
simdjson_inline bool raw_value_text(simdjson::ondemand::value& value,
                                    simdjson::ondemand::json_type type,
                                    std::string_view& out) {
  namespace od = simdjson::ondemand;
  switch (type) {
  case od::json_type::object: {
    od::object inner;
    if (value.get_object().get(inner) || inner.raw_json().get(out))
      return false;
    break;
  }
  case od::json_type::array: {
    od::array inner;
    if (value.get_array().get(inner) || inner.raw_json().get(out))
      return false;
    break;
  }
  default:
    out = value.raw_json_token();
    break;
  }
  out = trim_json_space(out);
  return true;
}

} // namespace argus::http
