#include "http/strict_json.hpp"

#include "http/json_scan.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace argus::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

struct checker {
  const char* p;
  const char* end;
  size_t depth;

  void ws() {
    while (p != end && is_json_space(*p))
      ++p;
  }

  bool hex4(unsigned& out) {
    if (end - p < 4)
      return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      int v = hex_value(p[i]);
      if (v < 0)
        return false;
      out = out * 16 + static_cast<unsigned>(v);
    }
    p += 4;
    return true;
  }

  /// A string token starting at its opening quote.
  bool string() {
    ++p; // the quote
    while (p != end) {
      p = find_json_special(p, end);
      if (p == end)
        return false;
      auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        ++p;
        return true;
      }
      if (c < 0x20)
        return false;
      // A backslash: the escape that follows.
      if (++p == end)
        return false;
      switch (*p++) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        break;
      case 'u': {
        unsigned cp = 0;
        if (!hex4(cp))
          return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
          return false; // a low surrogate alone
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned low = 0;
          if (end - p < 2 || p[0] != '\\' || p[1] != 'u')
            return false;
          p += 2;
          if (!hex4(low) || low < 0xDC00 || low > 0xDFFF)
            return false;
        }
        break;
      }
      default:
        return false;
      }
    }
    return false;
  }

  bool digits() {
    auto start = p;
    while (p != end && *p >= '0' && *p <= '9')
      ++p;
    return p != start;
  }

  /// A number as JSON's grammar has it, and finite as a double (nlohmann
  /// refuses what overflows one; integers beyond 64 bits become doubles).
  bool number() {
    auto start = p;
    bool plain = true;
    if (*p == '-')
      ++p;
    if (p == end)
      return false;
    if (*p == '0')
      ++p;
    else if (!digits())
      return false;
    if (p != end && *p == '.') {
      ++p;
      plain = false;
      if (!digits())
        return false;
    }
    if (p != end && (*p == 'e' || *p == 'E')) {
      ++p;
      plain = false;
      if (p != end && (*p == '+' || *p == '-'))
        ++p;
      if (!digits())
        return false;
    }
    if (plain && p - start < 19)
      return true;
    // strtod stops at the first byte that is not part of the number; the
    // body's padding makes sure there is one.
    return std::isfinite(std::strtod(start, nullptr));
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end - p) < word.size() ||
        std::memcmp(p, word.data(), word.size()) != 0)
      return false;
    p += word.size();
    return true;
  }

  json_verdict value() {
    if (p == end)
      return json_verdict::invalid;
    switch (*p) {
    case '"':
      return string() ? json_verdict::ok : json_verdict::invalid;
    case '{':
    case '[':
      return container();
    case 't':
      return literal("true") ? json_verdict::ok : json_verdict::invalid;
    case 'f':
      return literal("false") ? json_verdict::ok : json_verdict::invalid;
    case 'n':
      return literal("null") ? json_verdict::ok : json_verdict::invalid;
    default:
      return number() ? json_verdict::ok : json_verdict::invalid;
    }
  }

  json_verdict container() {
    bool object = *p == '{';
    char close = object ? '}' : ']';
    if (++depth > max_event_depth)
      return json_verdict::too_deep;
    ++p;
    ws();
    if (p != end && *p == close) {
      ++p;
      --depth;
      return json_verdict::ok;
    }
    for (;;) {
      if (object) {
        if (p == end || *p != '"' || !string())
          return json_verdict::invalid;
        ws();
        if (p == end || *p++ != ':')
          return json_verdict::invalid;
        ws();
      }
      if (auto v = value(); v != json_verdict::ok)
        return v;
      ws();
      if (p == end)
        return json_verdict::invalid;
      char c = *p++;
      if (c == close)
        break;
      if (c != ',')
        return json_verdict::invalid;
      ws();
    }
    --depth;
    return json_verdict::ok;
  }
};

/// The closing quote of the key whose value starts at `value`: between
/// them On-Demand allows only white space and the colon. Null if the bytes
/// are not so (the DOM path then decides); never before `key` (the byte
/// after the opening quote).
const char* closing_quote_before(const char* value, const char* key) {
  const char* p = value;
  do
    --p;
  while (p > key && is_json_space(*p));
  if (p <= key || *p != ':')
    return nullptr;
  do
    --p;
  while (p > key && is_json_space(*p));
  return p >= key && *p == '"' ? p : nullptr;
}

} // namespace

json_verdict check_json_value(std::string_view text, size_t depth) {
  checker c{text.data(), text.data() + text.size(), depth};
  auto v = c.value();
  if (v != json_verdict::ok)
    return v;
  c.ws();
  return c.p == c.end ? json_verdict::ok : json_verdict::invalid;
}

std::optional<raw_key> strict_key_slow(const char* key, const char* value) {
  auto end = closing_quote_before(value, key);
  if (end == nullptr)
    return std::nullopt;
  raw_key out{{key, static_cast<size_t>(end - key)}};
  out.escaped = out.text.find('\\') != std::string_view::npos;
  if (!out.escaped)
    return out;
  checker c{key - 1, end + 1, 0};
  if (!c.string() || c.p != end + 1)
    return std::nullopt;
  return out;
}

bool strict_escaped_string(std::string_view raw) {
  return check_json_value(raw, 0) == json_verdict::ok;
}

} // namespace argus::http
