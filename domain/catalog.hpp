#pragma once

#include "domain/receiver.hpp"
#include "domain/types.hpp"

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

/// Configuration entities: grouping rules and event managers (tenants).
namespace argus::domain {

struct grouping_rule {
  std::string id;
  std::string name;
  /// The top-level event field whose value groups alerts.
  std::string grouping_key;
  /// Window length in seconds (ArgusGo clients speak minutes).
  int64_t time_window_seconds = 0;
  time_point created_at{};
  time_point updated_at{};

  duration window() const { return std::chrono::seconds{time_window_seconds}; }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, grouping_rule& x) {
  return f(caf::meta::type_name("argus.grouping_rule"), x.id, x.name,
           x.grouping_key, x.time_window_seconds, x.created_at, x.updated_at);
}

struct event_manager {
  std::string id;
  std::string name;
  std::string description;
  std::string grouping_rule_id;
  /// The legacy single webhook; it acts as one `argus` receiver named
  /// "webhook".
  std::string webhook_url;
  std::vector<receiver> receivers;
  time_point created_at{};
  time_point updated_at{};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_manager& x) {
  return f(caf::meta::type_name("argus.event_manager"), x.id, x.name,
           x.description, x.grouping_rule_id, x.webhook_url, x.receivers,
           x.created_at, x.updated_at);
}

/// Checks the fields of a rule a client asked for (name, key, window).
caf::error validate(const grouping_rule& rule);

/// Checks the fields of a manager a client asked for (id, name, webhook,
/// receivers).
caf::error validate(const event_manager& manager);

/// Where a manager's notifications go: its receivers, plus the legacy
/// webhook_url as the `argus` receiver "webhook" when set.
std::vector<receiver> receivers_of(const event_manager& manager);

/// An immutable view of all rules and managers. The catalog actor publishes a
/// new one after every change; HTTP threads read it without a round trip.
struct catalog {
  std::map<std::string, grouping_rule> rules;
  std::map<std::string, event_manager> managers;

  /// The rule of a manager, or null when either is unknown.
  const grouping_rule* rule_of(const std::string& manager_id) const;

  /// Whether a manager points at this rule.
  bool rule_in_use(const std::string& rule_id) const;
};

} // namespace argus::domain
