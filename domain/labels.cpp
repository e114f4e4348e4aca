#include "domain/labels.hpp"

#include "domain/error.hpp"

#include <cctype>
#include <cstdint>

namespace argus::domain {

namespace {

constexpr uint64_t fnv_offset = 14695981039346656037ULL;
constexpr uint64_t fnv_prime = 1099511628211ULL;

uint64_t fnv_add(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= fnv_prime;
  }
  return h;
}

uint64_t fnv_add_byte(uint64_t h, unsigned char c) {
  h ^= c;
  return h * fnv_prime;
}

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

caf::error bad_matcher(std::string_view text, const std::string& why) {
  return make_error(ec::bad_request,
                    "bad matcher " + std::string{text} + ": " + why);
}

/// The operator at the front of `rest` ("=~" before "=", as AM's regex
/// tries it), or none.
bool take_operator(std::string_view& rest, match_type& type) {
  struct op {
    std::string_view text;
    match_type type;
  };
  static constexpr op ops[] = {{"=~", match_type::regex},
                               {"!~", match_type::not_regex},
                               {"!=", match_type::not_equal},
                               {"=", match_type::equal}};
  for (auto& o : ops)
    if (rest.substr(0, o.text.size()) == o.text) {
      rest.remove_prefix(o.text.size());
      type = o.type;
      return true;
    }
  return false;
}

/// Unescapes a matcher value as ParseMatcher does: an optional surrounding
/// pair of quotes, `\"`, `\\`, `\n`; any other backslash is literal.
caf::expected<std::string> unescape_value(std::string_view raw,
                                          std::string_view text) {
  bool quoted = !raw.empty() && raw.front() == '"';
  if (quoted)
    raw.remove_prefix(1);
  std::string out;
  bool closed = !quoted;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      char next = raw[++i];
      if (next == 'n')
        out += '\n';
      else if (next == '"' || next == '\\')
        out += next;
      else
        out.append({'\\', next});
    } else if (c == '"') {
      if (closed || i + 1 != raw.size())
        return bad_matcher(text, "unescaped double quote in the value");
      closed = true;
    } else {
      out += c;
    }
  }
  if (!closed)
    return bad_matcher(text, "unescaped double quote in the value");
  return out;
}

} // namespace

std::string fingerprint(const label_set& labels) {
  uint64_t h = fnv_offset;
  for (auto& [name, value] : labels) {
    h = fnv_add_byte(fnv_add(h, name), 0xff);
    h = fnv_add_byte(fnv_add(h, value), 0xff);
  }
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4)
    out[static_cast<size_t>(i)] = digits[h & 0xf];
  return out;
}

bool valid_label_name(std::string_view name) {
  if (name.empty())
    return false;
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    // ASCII by hand: isalpha asks the locale, per character of every
    // label of every posted alert.
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool digit = c >= '0' && c <= '9';
    if (!(letter || c == '_' || (i > 0 && digit)))
      return false;
  }
  return true;
}

bool matcher::matches(const std::string& v) const {
  switch (type) {
  case match_type::equal:
    return v == value;
  case match_type::not_equal:
    return v != value;
  case match_type::regex:
    return std::regex_match(v, *re);
  case match_type::not_regex:
    return !std::regex_match(v, *re);
  }
  return false;
}

caf::expected<matcher> parse_matcher(std::string_view text) {
  auto rest = trim(text);
  // The name: a label name, with ':' allowed as in ParseMatcher's pattern.
  size_t n = 0;
  while (n < rest.size() &&
         (std::isalnum(static_cast<unsigned char>(rest[n])) || rest[n] == '_' ||
          rest[n] == ':'))
    ++n;
  if (n == 0 || std::isdigit(static_cast<unsigned char>(rest[0])))
    return bad_matcher(text, "expected a label name first");
  matcher m;
  m.name = std::string{rest.substr(0, n)};
  rest = trim(rest.substr(n));
  if (!take_operator(rest, m.type))
    return bad_matcher(text, "expected one of =, !=, =~, !~ after the name");
  auto value = unescape_value(trim(rest), text);
  if (!value)
    return value.error();
  m.value = std::move(*value);
  if (m.type == match_type::regex || m.type == match_type::not_regex) {
    try {
      m.re = std::make_shared<const std::regex>("^(?:" + m.value + ")$");
    } catch (const std::regex_error& e) {
      return bad_matcher(text, std::string{"invalid regex: "} + e.what());
    }
  }
  return m;
}

caf::expected<std::vector<matcher>> parse_matchers(std::string_view text) {
  auto s = trim(text);
  if (!s.empty() && s.front() == '{')
    s.remove_prefix(1);
  if (!s.empty() && s.back() == '}')
    s.remove_suffix(1);
  // Split on commas outside (unescaped) quotes, as ParseMatchers does.
  std::vector<std::string_view> tokens;
  bool quoted = false;
  bool escaped = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == ',' && !quoted) {
      tokens.push_back(s.substr(start, i - start));
      start = i + 1;
    } else if (c == '"' && !escaped) {
      quoted = !quoted;
    }
    escaped = c == '\\' && !escaped;
  }
  if (auto last = trim(s.substr(start)); !last.empty())
    tokens.push_back(last);
  std::vector<matcher> out;
  for (auto token : tokens) {
    auto m = parse_matcher(token);
    if (!m)
      return m.error();
    out.push_back(std::move(*m));
  }
  return out;
}

bool matches_all(const std::vector<matcher>& matchers,
                 const label_set& labels) {
  static const std::string absent;
  for (auto& m : matchers) {
    auto it = labels.find(m.name);
    bool present = it != labels.end();
    bool negative =
        m.type == match_type::not_equal || m.type == match_type::not_regex;
    // Alertmanager's API (matchFilterLabels): an empty value asks about the
    // label's presence rather than its text.
    if (m.value.empty() && present == negative)
      continue;
    if (!m.matches(present ? it->second : absent))
      return false;
  }
  return true;
}

} // namespace argus::domain
