#include "domain/receiver.hpp"

#include "domain/error.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace argus::domain {

namespace {

constexpr std::pair<receiver_format, std::string_view> formats[] = {
    {receiver_format::argus, "argus"},
    {receiver_format::alertmanager, "alertmanager"},
    {receiver_format::slack, "slack"},
    {receiver_format::pagerduty, "pagerduty"},
};

constexpr notification_kind kinds[] = {
    notification_kind::parent_opened, notification_kind::parent_resolved,
    notification_kind::child_added, notification_kind::parent_acknowledged};

caf::error invalid(const std::string& where, const std::string& what) {
  return make_error(ec::validation_failed, where + "." + what);
}

bool is_token_char(char c) {
  // RFC 9110 tchar: header names are tokens.
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' ||
         c == '_' || c == '.';
}

/// An absolute http(s) URL with a host and no whitespace or control bytes;
/// libcurl does the rest of the parsing when it sends.
bool is_http_url(const std::string& url) {
  size_t scheme = url.rfind("http://", 0) == 0    ? 7
                  : url.rfind("https://", 0) == 0 ? 8
                                                  : 0;
  if (scheme == 0 || url.size() == scheme || url[scheme] == '/')
    return false;
  return std::none_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
  });
}

bool has_line_break(const std::string& text) {
  return text.find_first_of("\r\n", 0) != std::string::npos ||
         text.find('\0') != std::string::npos;
}

caf::error validate_headers(const receiver& r, const std::string& where) {
  if (r.headers.size() > 32)
    return invalid(where, "headers may hold at most 32 entries");
  for (auto& [name, value] : r.headers) {
    if (name.empty() || name.size() > 256 ||
        !std::all_of(name.begin(), name.end(), is_token_char))
      return invalid(where,
                     "headers: \"" + name + "\" is not a valid header name");
    if (is_reserved_header(name))
      return invalid(where, "headers: " + name + " is set by Argus");
    if (value.size() > 8192 || has_line_break(value))
      return invalid(where, "headers." + name +
                                " must be one line of at most 8192 bytes");
  }
  return {};
}

caf::error validate_types(const receiver& r, const std::string& where) {
  if (r.types.empty())
    return invalid(where, "types must name at least one notification type");
  for (size_t i = 0; i < r.types.size(); ++i)
    if (std::count(r.types.begin(), r.types.end(), r.types[i]) > 1)
      return invalid(where, "types lists " +
                                std::string{to_string(r.types[i])} + " twice");
  if (r.child_added_per_minute < 1 || r.child_added_per_minute > 10000)
    return invalid(where, "child_added_per_minute must be between 1 and 10000");
  return {};
}

} // namespace

std::string_view to_string(receiver_format x) {
  for (auto& [value, text] : formats)
    if (value == x)
      return text;
  return "unknown";
}

std::optional<receiver_format> parse_receiver_format(std::string_view text) {
  for (auto& [value, spelled] : formats)
    if (spelled == text)
      return value;
  return std::nullopt;
}

std::optional<notification_kind>
parse_notification_kind(std::string_view text) {
  for (auto kind : kinds)
    if (to_string(kind) == text)
      return kind;
  return std::nullopt;
}

bool receiver::wants(notification_kind kind) const {
  return std::find(types.begin(), types.end(), kind) != types.end();
}

bool is_reserved_header(std::string_view name) {
  static constexpr std::string_view reserved[] = {
      "content-type",      "content-length",  "host",
      "transfer-encoding", "idempotency-key", "x-argus-notification-id",
      "x-argus-signature", "connection",      "expect",
  };
  std::string lower{name};
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return std::find(std::begin(reserved), std::end(reserved), lower) !=
         std::end(reserved);
}

caf::error validate(const receiver& r, const std::string& where) {
  if (r.name.empty() || r.name.size() > 64 ||
      !std::all_of(r.name.begin(), r.name.end(), is_name_char))
    return invalid(where, "name must be 1 to 64 letters, digits, '-', '_' "
                          "or '.'");
  if (r.url.size() > 4096 || !is_http_url(r.url))
    return invalid(where, "url must be an http:// or https:// URL with a "
                          "host");
  if (r.timeout_ms < 100 || r.timeout_ms > 120000)
    return invalid(where, "timeout_ms must be between 100 and 120000");
  if (r.secret.size() > 1024)
    return invalid(where, "secret is longer than 1024 bytes");
  if (auto err = validate_headers(r, where))
    return err;
  if (auto err = validate_types(r, where))
    return err;
  if (r.format == receiver_format::pagerduty && r.routing_key.empty())
    return invalid(where, "routing_key is required for the pagerduty format");
  if (r.routing_key.size() > 256 || has_line_break(r.routing_key))
    return invalid(where, "routing_key must be one line of at most 256 "
                          "bytes");
  return {};
}

caf::error validate(const std::vector<receiver>& rs) {
  if (rs.size() > max_receivers)
    return make_error(ec::validation_failed,
                      "notification_config.receivers may hold at most " +
                          std::to_string(max_receivers) + " receivers");
  std::set<std::string> names;
  for (size_t i = 0; i < rs.size(); ++i) {
    auto where = "notification_config.receivers[" + std::to_string(i) + "]";
    if (auto err = validate(rs[i], where))
      return err;
    if (!names.insert(rs[i].name).second)
      return invalid(where, "name \"" + rs[i].name + "\" is used twice");
  }
  return {};
}

receiver webhook_receiver(const std::string& url) {
  receiver r;
  r.name = std::string{webhook_receiver_name};
  r.url = url;
  return r;
}

bool admit(rate_window& w, int64_t per_minute, time_point now) {
  if (now - w.start >= std::chrono::minutes{1} || now < w.start) {
    w.start = now;
    w.count = 0;
  }
  if (w.count >= per_minute)
    return false;
  ++w.count;
  return true;
}

} // namespace argus::domain
