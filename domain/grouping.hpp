#pragma once

#include "domain/alert.hpp"
#include "domain/alert_set.hpp"
#include "domain/event.hpp"
#include "domain/notification.hpp"
#include "domain/parent_links.hpp"

#include <string>
#include <vector>

/// The rules of grouping and the alert lifecycle, as pure functions of
/// (group state, event, now). The grouping actor owns a `group_state` and
/// carries out the `decision` each call returns.
namespace argus::domain {

/// Everything one (event manager, grouping value) owns: its active alerts,
/// the links from parents to children, and the open window.
struct group_state {
  /// Its alerts share these texts (and `open_parent`, `last_class`) instead
  /// of each holding a copy.
  shared_text event_manager_id;
  /// False for the group of events that lack the grouping field; each of
  /// those is a parent of its own.
  bool has_value = false;
  shared_text grouping_value;
  /// The class of the alert triggered last, for the next to share: a
  /// group's events mostly carry one class.
  shared_text last_class;
  /// Active alerts by dedupKey. Resolved alerts leave memory (the store has
  /// them), so memory follows open work. Each is shared with the writes that
  /// persist it (and the memory store): change one only through
  /// `mutable_alert`, which copies it first while others hold it.
  alert_set active;
  /// Children of each active parent that has had one, by the parent's
  /// dedupKey: a parent without children (most groups, and every alert
  /// without a grouping value) costs no entry.
  parent_link_map links;
  /// dedupKey of the parent that opened the latest window, which ends at
  /// `window_ends_at`; empty once that parent resolved. A trigger joins it
  /// when the trigger was accepted before the end, however late it is
  /// applied (behind a queue, or replayed from the journal after a
  /// restart): the window ends by the events' acceptance time, so no timer
  /// closes it. Its children share it as their parent_dedup_key.
  shared_text open_parent;
  time_point window_ends_at{};
  /// No active alert ends or auto-resolves before this time (`no_time`:
  /// not known, look). Lets `apply` skip its look at every active alert for
  /// passed deadlines, which cost O(alerts of the group) per event.
  time_point deadline_floor{};
  /// Notifications made for events without a journal position, so two made
  /// at the same instant (an injected clock) still get distinct ids.
  uint64_t unsequenced_notices = 0;
  /// Whether a child joining makes a child_added notification: a receiver
  /// of the manager asks for them. The owner sets it from the catalog before
  /// an event that may join, so nobody pays for notifications nobody wants.
  bool child_notices = false;
};

/// What the owner of a group must do after applying an event. Reused across
/// calls (cleared, capacity kept) so the hot path does not allocate for it.
struct decision {
  /// Alert changes to persist, in order.
  std::vector<alert_write> writes;
  /// Arm the acknowledgement timer until this time (see `ack_timeout`).
  bool arm_ack = false;
  time_point ack_until{};
  /// Parent opened / resolved / acknowledged and child added notifications.
  std::vector<notification> notify;
  /// dedupKeys that stopped being active here (resolved).
  std::vector<std::string> deactivated;
  /// The event was a trigger for a dedupKey this group had already resolved,
  /// and it carries another grouping value: the router must route it afresh.
  bool reroute = false;
  /// A trigger re-activated a dedupKey the router believed was gone.
  bool reactivated = false;
  /// The event changed nothing (e.g. a resolve for an unknown dedupKey).
  bool ignored = false;

  void clear();
};

/// Adds a notification of `kind` about `parent` (and `child`) to `out`,
/// sharing their snapshots, which must not change in place after this (as
/// with `persist`). `seq` is the journal position of the event that caused
/// it (0 for none, or for an end passing): with the parent, kind and time
/// it names the notification the same when a replay makes it again.
void add_notification(group_state& g, decision& out, notification_kind kind,
                      alert_ptr parent, time_point now, uint64_t seq,
                      alert_ptr child = nullptr, int64_t active_children = 0);

/// Whether `e` belongs to group `g` by its grouping value.
bool belongs_to(const group_state& g, const event& e);

/// Applies one event. `fresh` is true when the router knows no active alert
/// for the dedupKey (it routed by grouping value); false when it routed to
/// this group because the dedupKey is active here.
void apply(group_state& g, const event& e, bool fresh, time_point now,
           decision& out);

/// As `apply`, but the alert a trigger opens or renews takes `e`'s texts
/// (summary, class, grouping value, details) instead of copying them, which
/// leaves those of `e` unspecified; its keys, times and numbers stay. For
/// an owner done with the event's texts afterwards: a copy of each is a
/// heap block and a copy of its bytes per event on the hot path.
void apply_taking_texts(group_state& g, event& e, bool fresh, time_point now,
                        decision& out);

/// Resolves the alerts whose end (`expires_at`, `resolved_by` "expired") or
/// auto-resolve time (`auto_resolve_at`, "auto") is at or before `now`, each
/// at that time, with the same parent/child rules as a resolve event (a
/// deadline is not an event: `event_count` stays). Returns whether any did.
/// `apply` does the same before each event, so replays decide alike.
bool expire(group_state& g, time_point now, decision& out);

/// The earliest end or auto-resolve time among the active alerts
/// (`no_time`: none), for the owner's timer.
time_point next_expiry(const group_state& g);

/// A group with no active alerts holds nothing worth keeping in memory.
bool is_idle(const group_state& g);

/// Whether a trigger accepted at `now` may join the group's open parent:
/// one is open and its window had not ended by then.
bool window_open(const group_state& g, time_point now);

/// Rebuilds a group from persisted alerts (after a restart or when another
/// node takes it over): active alerts, parent links, and the latest window.
/// `alerts` holds the group's active alerts and the children of its active
/// parents.
group_state restore_group(shared_text event_manager_id, bool has_value,
                          shared_text grouping_value,
                          const std::vector<alert>& alerts);

} // namespace argus::domain
