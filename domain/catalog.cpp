#include "domain/catalog.hpp"

#include "domain/error.hpp"

namespace argus::domain {

namespace {

caf::error require_text(const std::string& field, const std::string& value,
                        size_t max_bytes = max_key_bytes) {
  if (value.empty())
    return make_error(ec::validation_failed, field + " must not be empty");
  if (value.size() > max_bytes)
    return make_error(ec::validation_failed,
                      field + " is longer than " + std::to_string(max_bytes)
                        + " bytes");
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
  if (manager.description.size() > size_t{64} * 1024)
    return make_error(ec::validation_failed,
                      "description is longer than 65536 bytes");
  if (!manager.webhook_url.empty()
      && manager.webhook_url.rfind("http://", 0) != 0
      && manager.webhook_url.rfind("https://", 0) != 0)
    return make_error(ec::validation_failed,
                      "notification_config.webhook_url must start with "
                      "http:// or https://");
  if (auto err = validate(manager.receivers))
    return err;
  for (auto& r : manager.receivers)
    if (!manager.webhook_url.empty() && r.name == webhook_receiver_name)
      return make_error(ec::validation_failed,
                        "notification_config.receivers: the name \"webhook\" "
                        "is taken by notification_config.webhook_url");
  return {};
}

std::vector<receiver> receivers_of(const event_manager& manager) {
  auto out = manager.receivers;
  if (!manager.webhook_url.empty())
    out.push_back(webhook_receiver(manager.webhook_url));
  return out;
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

} // namespace argus::domain
