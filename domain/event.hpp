#pragma once

#include "domain/text_hash.hpp"
#include "domain/types.hpp"

#include <caf/meta/type_name.hpp>

#include <string>

namespace argus::domain {

/// One validated event as the front hands it to the grouping actors.
struct event {
  std::string event_manager_id;
  std::string dedup_key;
  /// `text_hash(dedup_key)` once the router has hashed it, else 0. The
  /// router, the group and its set of alerts look the key up by it instead
  /// of each hashing the text again (a cache miss apiece on the hot path).
  /// Local only: it is not sent or journaled, and a change to `dedup_key`
  /// after routing must reset it.
  size_t dedup_hash = 0;
  action act = action::trigger;
  std::string summary;
  severity sev = severity::low;
  std::string class_name;
  /// JSON object text of the fields beyond the standard ones ("{}" if none).
  std::string details = "{}";
  /// Whether the event carries the field its rule groups by; an event without
  /// it is a parent of its own and never groups.
  bool has_grouping_value = false;
  std::string grouping_value;
  /// The window of the manager's rule when the event was accepted, so an
  /// updated rule applies only to groups opened afterwards.
  duration window{};
  /// When the node accepted it; grouping decisions use this time, so a
  /// replay after a crash decides exactly as the first run did.
  time_point received_at{};
  /// Position in the ingest journal (0 when not journaled). Applying an
  /// event is idempotent by it.
  uint64_t seq = 0;
  /// Set when a cluster node forwards the event to its owner (random, 0:
  /// never forwarded): a retried forward that the owner already journaled
  /// is recognised and not applied twice.
  uint64_t forward_id = 0;
  /// A trigger's end unless it is sent again (Alertmanager's `endsAt`): the
  /// alert resolves at this time by itself, so a sender that dies leaves
  /// nothing open. `no_time`: it stays active until resolved.
  time_point expires_at{};
  /// Who sent an acknowledge or unacknowledge (an operator's name, or the
  /// integration); becomes the alert's `acknowledged_by`.
  std::string actor;
  /// The manager's `ack_timeout` when the event was accepted (0: none): how
  /// long an acknowledgement it makes lasts.
  duration ack_timeout{};
  /// The `auto_resolve_after` in force when the event was accepted (the
  /// manager's, else its rule's; 0: none): a trigger's alert resolves by
  /// itself when no trigger follows within it.
  duration auto_resolve_after{};
};

/// `e`'s dedupKey hash: the one carried, else computed (an event the router
/// did not route, as in tests, or a hash that happens to be 0).
inline size_t dedup_hash_of(const event& e) {
  return e.dedup_hash != 0 ? e.dedup_hash : text_hash(e.dedup_key);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("argus.event"), x.event_manager_id, x.dedup_key,
           x.act, x.summary, x.sev, x.class_name, x.details,
           x.has_grouping_value, x.grouping_value, x.window, x.received_at,
           x.seq, x.forward_id, x.expires_at, x.actor, x.ack_timeout,
           x.auto_resolve_after);
}

} // namespace argus::domain
