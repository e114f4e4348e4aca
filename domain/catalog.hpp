#pragma once

#include "domain/alertmanager.hpp"
#include "domain/auth.hpp"
#include "domain/inhibition.hpp"
#include "domain/rate_limit.hpp"
#include "domain/receiver.hpp"
#include "domain/silence.hpp"
#include "domain/types.hpp"

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Configuration entities: grouping rules and event managers (tenants).
namespace argus::domain {

struct grouping_rule {
  std::string id;
  std::string name;
  /// The event field whose value groups alerts: a top-level name, or a
  /// dotted path into nested objects (`labels.cluster`). Empty when
  /// `grouping_keys` is set.
  std::string grouping_key;
  /// Two or more fields that group together: the grouping value is their
  /// tuple. Empty when `grouping_key` alone groups.
  std::vector<std::string> grouping_keys;
  /// Window length in seconds (ArgusGo clients speak minutes).
  int64_t time_window_seconds = 0;
  time_point created_at{};
  time_point updated_at{};
  /// An alert with no new trigger for this many seconds resolves by itself
  /// (0: never), for senders that never send resolves. A manager's own
  /// value wins over its rule's.
  int64_t auto_resolve_after_seconds = 0;

  duration window() const { return std::chrono::seconds{time_window_seconds}; }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, grouping_rule& x) {
  return f(caf::meta::type_name("argus.grouping_rule"), x.id, x.name,
           x.grouping_key, x.grouping_keys, x.time_window_seconds, x.created_at,
           x.updated_at, x.auto_resolve_after_seconds);
}

/// The most fields one rule may group by.
inline constexpr size_t max_grouping_keys = 16;

/// The fields a rule groups by, in order: `grouping_keys`, else the one
/// `grouping_key`.
std::vector<std::string> keys_of(const grouping_rule& rule);

/// Sets the fields a rule groups by: one key goes to `grouping_key`, two or
/// more to `grouping_keys` (so both spellings of one key are one rule).
void set_keys(grouping_rule& rule, std::vector<std::string> keys);

/// `grouping_keys` as text for the stores: one key a line, `\` and line
/// breaks escaped as `\\` and `\n`; "" for none.
std::string encode_keys(const std::vector<std::string>& keys);

/// Reads `encode_keys`'s text back.
std::vector<std::string> decode_keys(std::string_view text);

/// Reads one field of an event by grouping key (a top-level name first,
/// then a dotted path) as grouping text: a string as it is, any other value
/// as compact JSON; none when absent or null.
using field_reader =
    std::function<std::optional<std::string>(const std::string& key)>;

/// The grouping value of an event under `rule`. One key: that field's text,
/// unchanged from rules before tuples existed. Several: their tuple as the
/// text of a JSON array of strings, with null for a missing field
/// (`["prod","HighCPU"]`, `["prod",null]`). None when every field is
/// missing: the event is then a parent of its own. The tuple's text is the
/// group's identity, the same from every front, so it is defined here.
std::optional<std::string> grouping_value_of(const grouping_rule& rule,
                                             const field_reader& read);

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
  /// How alerts posted to its Alertmanager API get their severity.
  severity_mapping am_severity;
  /// Selects this manager for PagerDuty Events API v2 senders (their
  /// integration key): generated, 32 characters, rotatable.
  std::string routing_key;
  /// How long an acknowledgement lasts before the alert returns to
  /// unacknowledged (0: until it resolves). PagerDuty's default is 30 min.
  int64_t ack_timeout_seconds = 0;
  /// Overrides the rule's `auto_resolve_after_seconds` when set (0: the
  /// rule's applies).
  int64_t auto_resolve_after_seconds = 0;
  /// Its own rate limit (`rate`, where 0 events/s is unlimited) when set;
  /// otherwise the node's `rate_limit` setting applies.
  bool has_rate_limit = false;
  rate_limit rate;
  /// While an active alert of this manager matches a rule's source, the
  /// manager's alerts matching its target (with equal `equal` fields) do not
  /// notify (domain/inhibition.hpp).
  std::vector<inhibit_rule> inhibit_rules;

  duration ack_timeout() const {
    return std::chrono::seconds{ack_timeout_seconds};
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_manager& x) {
  return f(caf::meta::type_name("argus.event_manager"), x.id, x.name,
           x.description, x.grouping_rule_id, x.webhook_url, x.receivers,
           x.created_at, x.updated_at, x.am_severity, x.routing_key,
           x.ack_timeout_seconds, x.auto_resolve_after_seconds,
           x.has_rate_limit, x.rate, x.inhibit_rules);
}

/// The longest `auto_resolve_after_seconds` (one year, as the window).
inline constexpr int64_t max_auto_resolve_after_seconds =
    int64_t{366} * 24 * 3600;

/// The auto-resolve limit for events of `manager` under `rule` (may be
/// null): the manager's when set, else the rule's; 0 when neither is.
duration auto_resolve_after(const event_manager& manager,
                            const grouping_rule* rule);

/// The rate limit in force for `manager`: its own when set, else
/// `node_default`; the burst filled in.
rate_limit rate_limit_of(const event_manager& manager,
                         const rate_limit& node_default);

/// A manager's own rate limit as the stores keep it: `encode(rate)`, or ""
/// for none.
std::string stored_rate_limit(const event_manager& manager);

/// Reads `stored_rate_limit`'s text back into `manager`; internal error if
/// it cannot be read.
caf::error restore_rate_limit(event_manager& manager, std::string_view text);

/// Checks the fields of a rule a client asked for (name, key, window).
caf::error validate(const grouping_rule& rule);

/// Checks the fields of a manager a client asked for (id, name, webhook,
/// receivers).
caf::error validate(const event_manager& manager);

/// Where a manager's notifications go: its receivers, plus the legacy
/// webhook_url as the `argus` receiver "webhook" when set.
std::vector<receiver> receivers_of(const event_manager& manager);

/// An immutable view of all rules, managers, silences and API keys. The
/// catalog actor
/// publishes a new one after every change; HTTP threads read it without a round
/// trip.
struct catalog {
  std::map<std::string, grouping_rule> rules;
  std::map<std::string, event_manager> managers;
  /// Every silence, expired ones too (they stay listed).
  std::map<std::string, silence> silences;
  /// Every API key by id, revoked and expired ones too (they stay listed);
  /// HTTP authenticates against these without a round trip.
  std::map<std::string, api_key> keys;

  /// The rule of a manager, or null when either is unknown.
  const grouping_rule* rule_of(const std::string& manager_id) const;
  /// The rule of `manager`, a manager of this catalog, or nullptr: for a
  /// caller that found the manager already.
  const grouping_rule* rule_of(const event_manager& manager) const;

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
