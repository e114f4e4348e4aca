#pragma once

#include "domain/grouping.hpp"

/// Acknowledgement in the alert lifecycle: someone is working on an active
/// alert, so it pages nobody further until it resolves. Pure functions of
/// (group state, event, now), like the rest of `domain/grouping.hpp`.
namespace argus::domain {

/// Applies an `acknowledge` or `unacknowledge` event (called by `apply`).
/// Acknowledging a parent acknowledges its active children too and notifies
/// `parent_acknowledged` (once: acknowledging again only renews the
/// timeout); acknowledging a child acknowledges only that child. An event
/// for a dedupKey that is not active here is ignored, as PagerDuty drops an
/// acknowledge for a resolved alert.
void acknowledge(group_state& g, const event& e, time_point now, decision& out);

/// A child joining an acknowledged parent is acknowledged with it, so the
/// group stays quiet while someone works on it.
void inherit_acknowledgement(alert& child, const alert& parent);

/// The acknowledgement timer fired: every active alert whose
/// acknowledgement has run out (`acknowledged_until` <= now) returns to
/// unacknowledged. Arms the next deadline in `out` if one remains; a stale
/// or early timer changes nothing but that.
void expire_acknowledgements(group_state& g, time_point now, decision& out);

/// The earliest `acknowledged_until` among the group's active alerts, or
/// `no_time`: what a restored group arms its timer for.
time_point next_ack_deadline(const group_state& g);

} // namespace argus::domain
