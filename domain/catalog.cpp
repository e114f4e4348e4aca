#include "domain/catalog.hpp"

#include "domain/error.hpp"

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

} // namespace

caf::error validate(const grouping_rule& rule) {
  if (auto err = require_text("name", rule.name))
    return err;
  if (auto err = require_text("grouping_key", rule.grouping_key))
    return err;
  if (rule.time_window_seconds <= 0)
    return make_error(ec::validation_failed,
                      "time window must be a positive number");
  // One year is far beyond any sensible grouping window and keeps the
  // arithmetic on nanosecond time points well away from overflow.
  if (rule.time_window_seconds > int64_t{366} * 24 * 3600)
    return make_error(ec::validation_failed,
                      "time window must be at most one year");
  return {};
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
  if (manager.description.size() > size_t{64} * 1024)
    return make_error(ec::validation_failed,
                      "description is longer than 65536 bytes");
  if (!manager.webhook_url.empty() &&
      manager.webhook_url.rfind("http://", 0) != 0 &&
      manager.webhook_url.rfind("https://", 0) != 0)
    return make_error(ec::validation_failed,
                      "notification_config.webhook_url must start with "
                      "http:// or https://");
  return {};
}

const grouping_rule* catalog::rule_of(const std::string& manager_id) const {
  auto m = managers.find(manager_id);
  if (m == managers.end())
    return nullptr;
  auto r = rules.find(m->second.grouping_rule_id);
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
