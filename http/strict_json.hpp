#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

/// Holding JSON text to what nlohmann-json (the DOM path) accepts, for the
/// readers that walk request bodies with simdjson's On-Demand API instead
/// (events in http/event_json.cpp, Alertmanager posts in
/// http/am_alert_reader.cpp).
///
/// simdjson's stage 1 checks the whole body's UTF-8, refuses control
/// characters inside strings (every kernel does, as `parser::iterate`
/// documents) and finds its structure; On-Demand checks what it iterates,
/// but not the inside of the values it only delimits. These checks hold a
/// value's text to nlohmann's grammar (numbers and their range, escapes and
/// surrogate pairs, literals), so a fast reader refuses nothing the DOM
/// path takes and takes nothing it refuses: whatever fails here goes to the
/// DOM path, which words the error. A key or string without escapes needs
/// no check beyond stage 1's.
namespace argus::http {

/// The most nesting levels an event body may have: deeper ones are refused
/// before any event is read, so neither the parser nor the code that
/// serialises details later recurses without bound. The checks here count
/// levels against it; the Alertmanager reader leaves a deeper body to its
/// DOM path, which keeps no member it does not read.
inline constexpr size_t max_event_depth = 1024;

/// What a check found: a plain syntax error goes to the DOM path, which
/// words the error; too deep is refused outright.
enum class json_verdict { ok, invalid, too_deep };

/// Whether `text` is exactly one JSON value (white space after it allowed)
/// that nlohmann-json accepts as it is, nested at most `max_event_depth`
/// levels, counted from `depth` (the levels of the containers it is in).
/// The byte after `text` must not continue a number (in a body, the next
/// token or white space does not): a number at the very end is read up to
/// it.
json_verdict check_json_value(std::string_view text, size_t depth);

/// Whether `c` is white space to JSON.
constexpr bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// `text` without the JSON white space at its end (On-Demand's tokens run
/// up to the next one).
inline std::string_view trim_json_space(std::string_view text) {
  while (!text.empty() && is_json_space(text.back()))
    text.remove_suffix(1);
  return text;
}

/// A key's text between its quotes, as sent, and whether it has escapes.
struct raw_key {
  std::string_view text;
  bool escaped = false;
};

/// `strict_key` for keys with white space before the value or escapes.
std::optional<raw_key> strict_key_slow(const char* key, const char* value);

/// The key that starts at `key` (the byte after its opening quote) and
/// whose value starts at `value`, if it is a valid JSON string. Between
/// the key's closing quote and `value` only white space and the colon may
/// lie (On-Demand has checked that of a field it read). None if the bytes
/// are not so, or an escape is not valid. Inline for the common `"key":`:
/// every field of a body comes here.
inline std::optional<raw_key> strict_key(const char* key, const char* value) {
  if (value - key < 2 || value[-1] != ':' || value[-2] != '"')
    return strict_key_slow(key, value);
  raw_key out{{key, static_cast<size_t>(value - 2 - key)}};
  out.escaped = out.text.find('\\') != std::string_view::npos;
  if (out.escaped)
    return strict_key_slow(key, value);
  return out;
}

/// Whether string token `raw` (from its opening quote to its closing one)
/// is valid JSON: `strict_string`'s check when it has escapes.
bool strict_escaped_string(std::string_view raw);

/// Whether a string value's token `raw` (from its opening quote to its
/// closing one), which simdjson unescaped to `text`, is valid JSON. Every
/// escape is longer than what it stands for, so a text as long as the
/// token's inside has none and needs no more checking.
inline bool strict_string(std::string_view raw, std::string_view text) {
  return text.size() + 2 == raw.size() || strict_escaped_string(raw);
}

} // namespace argus::http
