#pragma once

#include "domain/types.hpp"

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <map>
#include <memory>
#include <string>

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
  std::string webhook_url;
  time_point created_at{};
  time_point updated_at{};
  /// Selects this manager for PagerDuty Events API v2 senders (their
  /// integration key): generated, 32 characters, rotatable.
  std::string routing_key;
  /// How long an acknowledgement lasts before the alert returns to
  /// unacknowledged (0: until it resolves). PagerDuty's default is 30 min.
  int64_t ack_timeout_seconds = 0;

  duration ack_timeout() const {
    return std::chrono::seconds{ack_timeout_seconds};
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_manager& x) {
  return f(caf::meta::type_name("argus.event_manager"), x.id, x.name,
           x.description, x.grouping_rule_id, x.webhook_url, x.created_at,
           x.updated_at, x.routing_key, x.ack_timeout_seconds);
}

/// Checks the fields of a rule a client asked for (name, key, window).
caf::error validate(const grouping_rule& rule);

/// Checks the fields of a manager a client asked for (id, name, webhook).
caf::error validate(const event_manager& manager);

/// An immutable view of all rules and managers. The catalog actor publishes a
/// new one after every change; HTTP threads read it without a round trip.
struct catalog {
  std::map<std::string, grouping_rule> rules;
  std::map<std::string, event_manager> managers;

  /// The rule of a manager, or null when either is unknown.
  const grouping_rule* rule_of(const std::string& manager_id) const;

  /// Whether a manager points at this rule.
  bool rule_in_use(const std::string& rule_id) const;

  /// The manager a PagerDuty routing key selects, or null.
  const event_manager* manager_by_routing_key(const std::string& key) const;
};

/// Length of a routing key, as PagerDuty's integration keys.
inline constexpr size_t routing_key_length = 32;

/// A fresh routing key: 32 lowercase hex digits (128 random bits from the
/// system's entropy source, since it is what lets a sender in).
std::string random_routing_key();

} // namespace argus::domain
