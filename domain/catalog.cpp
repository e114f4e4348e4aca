#include "domain/catalog.hpp"

#include "domain/error.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

namespace argus::domain {

namespace {

caf::error require_text(const std::string& field, const std::string& value,
                        size_t max_bytes = max_key_bytes) {
  if (value.empty())
    return make_error(ec::validation_failed, field + " must not be empty");
  if (value.size() > max_bytes)
    return make_error(ec::validation_failed, field + " is longer than " +
                                                 std::to_string(max_bytes) +
                                                 " bytes");
  return {};
}

/// Checks the grouping fields: one key, or 2 to `max_grouping_keys`
/// distinct ones.
caf::error check_keys(const grouping_rule& rule) {
  if (rule.grouping_keys.empty())
    return require_text("grouping_key", rule.grouping_key);
  if (!rule.grouping_key.empty())
    return make_error(ec::validation_failed,
                      "give grouping_key or grouping_keys, not both");
  if (rule.grouping_keys.size() > max_grouping_keys)
    return make_error(ec::validation_failed,
                      "grouping_keys has more than " +
                          std::to_string(max_grouping_keys) + " keys");
  for (size_t i = 0; i < rule.grouping_keys.size(); ++i) {
    auto& key = rule.grouping_keys[i];
    if (auto err =
            require_text("grouping_keys[" + std::to_string(i) + "]", key))
      return err;
    auto first =
        std::find(rule.grouping_keys.begin(), rule.grouping_keys.end(), key);
    if (static_cast<size_t>(first - rule.grouping_keys.begin()) != i)
      return make_error(ec::validation_failed,
                        "grouping_keys names '" + key + "' twice");
  }
  return {};
}

/// 0 (off) up to one year: beyond that a limit is a typo, and the
/// arithmetic on nanosecond time points stays far from overflow.
caf::error check_auto_resolve(int64_t seconds) {
  if (seconds >= 0 && seconds <= max_auto_resolve_after_seconds)
    return {};
  return make_error(ec::validation_failed,
                    "field 'auto_resolve_after' must be 0 (off) or a number of "
                    "seconds of at most one year (" +
                        std::to_string(max_auto_resolve_after_seconds) + ")");
}

/// `text` as a JSON string literal.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

} // namespace

caf::error validate(const grouping_rule& rule) {
  if (auto err = require_text("name", rule.name))
    return err;
  if (auto err = check_keys(rule))
    return err;
  if (rule.time_window_seconds <= 0)
    return make_error(ec::validation_failed,
                      "time window must be a positive number");
  // One year is far beyond any sensible grouping window and keeps the
  // arithmetic on nanosecond time points well away from overflow.
  if (rule.time_window_seconds > int64_t{366} * 24 * 3600)
    return make_error(ec::validation_failed,
                      "time window must be at most one year");
  return check_auto_resolve(rule.auto_resolve_after_seconds);
}

duration auto_resolve_after(const event_manager& manager,
                            const grouping_rule* rule) {
  auto seconds = manager.auto_resolve_after_seconds;
  if (seconds == 0 && rule != nullptr)
    seconds = rule->auto_resolve_after_seconds;
  return std::chrono::seconds{seconds};
}

caf::error validate(const event_manager& manager) {
  if (auto err = require_text("id", manager.id))
    return err;
  if (auto err = require_text("name", manager.name))
    return err;
  if (auto err = require_text("grouping_rule_id", manager.grouping_rule_id))
    return err;
  if (!manager.routing_key.empty() &&
      manager.routing_key.size() != routing_key_length)
    return make_error(ec::validation_failed,
                      "routing_key must be " +
                          std::to_string(routing_key_length) + " characters");
  if (manager.ack_timeout_seconds < 0 ||
      manager.ack_timeout_seconds > int64_t{366} * 24 * 3600)
    return make_error(ec::validation_failed,
                      "ack_timeout_seconds must be 0 (none) or a positive "
                      "number of at most one year");
  if (auto err = check_auto_resolve(manager.auto_resolve_after_seconds))
    return err;
  if (manager.has_rate_limit)
    if (auto err = validate(manager.rate, "rate_limit"))
      return err;
  if (manager.description.size() > size_t{64} * 1024)
    return make_error(ec::validation_failed,
                      "description is longer than 65536 bytes");
  if (!manager.webhook_url.empty() &&
      manager.webhook_url.rfind("http://", 0) != 0 &&
      manager.webhook_url.rfind("https://", 0) != 0)
    return make_error(ec::validation_failed,
                      "notification_config.webhook_url must start with "
                      "http:// or https://");
  if (auto err = validate(manager.receivers))
    return err;
  if (auto err = validate(manager.inhibit_rules))
    return err;
  for (auto& r : manager.receivers)
    if (!manager.webhook_url.empty() && r.name == webhook_receiver_name)
      return make_error(ec::validation_failed,
                        "notification_config.receivers: the name \"webhook\" "
                        "is taken by notification_config.webhook_url");
  return {};
}

rate_limit rate_limit_of(const event_manager& manager,
                         const rate_limit& node_default) {
  return normalized(manager.has_rate_limit ? manager.rate : node_default);
}

std::string stored_rate_limit(const event_manager& manager) {
  return manager.has_rate_limit ? encode(manager.rate) : std::string{};
}

caf::error restore_rate_limit(event_manager& manager, std::string_view text) {
  manager.has_rate_limit = false;
  manager.rate = {};
  if (text.empty())
    return {};
  auto limit = decode_rate_limit(text);
  if (!limit)
    return make_error(ec::internal, "event manager '" + manager.id +
                                        "' has an unreadable rate_limit");
  manager.has_rate_limit = true;
  manager.rate = *limit;
  return {};
}

std::vector<receiver> receivers_of(const event_manager& manager) {
  auto out = manager.receivers;
  if (!manager.webhook_url.empty())
    out.push_back(webhook_receiver(manager.webhook_url));
  return out;
}

std::vector<std::string> keys_of(const grouping_rule& rule) {
  if (!rule.grouping_keys.empty())
    return rule.grouping_keys;
  return {rule.grouping_key};
}

void set_keys(grouping_rule& rule, std::vector<std::string> keys) {
  rule.grouping_key.clear();
  rule.grouping_keys.clear();
  if (keys.size() == 1)
    rule.grouping_key = std::move(keys.front());
  else
    rule.grouping_keys = std::move(keys);
}

std::string encode_keys(const std::vector<std::string>& keys) {
  std::string out;
  for (auto& key : keys) {
    if (&key != &keys.front())
      out += '\n';
    for (char c : key)
      out += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
  }
  return out;
}

std::vector<std::string> decode_keys(std::string_view text) {
  std::vector<std::string> keys;
  if (text.empty())
    return keys;
  keys.emplace_back();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n')
      keys.emplace_back();
    else if (text[i] == '\\' && i + 1 < text.size())
      keys.back() += text[++i] == 'n' ? '\n' : text[i];
    else
      keys.back() += text[i];
  }
  return keys;
}

std::optional<std::string> grouping_value_of(const grouping_rule& rule,
                                             const field_reader& read) {
  if (rule.grouping_keys.empty())
    return read(rule.grouping_key);
  std::string tuple = "[";
  bool any = false;
  for (auto& key : rule.grouping_keys) {
    if (tuple.size() > 1)
      tuple += ',';
    auto value = read(key);
    any = any || value.has_value();
    tuple += value ? quoted(*value) : "null";
  }
  if (!any)
    return std::nullopt;
  return tuple + "]";
}

const grouping_rule* catalog::rule_of(const std::string& manager_id) const {
  auto m = managers.find(manager_id);
  return m == managers.end() ? nullptr : rule_of(m->second);
}

const grouping_rule* catalog::rule_of(const event_manager& manager) const {
  auto r = rules.find(manager.grouping_rule_id);
  return r == rules.end() ? nullptr : &r->second;
}

bool catalog::rule_in_use(const std::string& rule_id) const {
  for (auto& [id, manager] : managers)
    if (manager.grouping_rule_id == rule_id)
      return true;
  return false;
}

const event_manager*
catalog::manager_by_routing_key(const std::string& key) const {
  // Managers are few (tenants) and a snapshot is immutable, so a scan beats
  // keeping an index in step.
  if (key.empty())
    return nullptr;
  for (auto& [id, manager] : managers)
    if (manager.routing_key == key)
      return &manager;
  return nullptr;
}

std::string random_routing_key() {
  std::random_device entropy;
  std::string key;
  char buf[9];
  for (size_t i = 0; i < routing_key_length / 8; ++i) {
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(entropy()));
    key += buf;
  }
  return key;
}

} // namespace argus::domain
