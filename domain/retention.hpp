#pragma once

#include "domain/types.hpp"

#include <cstddef>

namespace argus::domain {

/// Which resolved alerts a store keeps (`storage.retention`). Resolved
/// alerts are history: without a bound every alert ever seen stays, so the
/// memory backend grows for as long as the node runs and the SQL tables'
/// indexes (and with them every write) grow with the database.
struct retention {
  /// How long an alert is kept after it resolved; zero keeps every one.
  duration keep{};

  bool enabled() const { return keep > duration::zero(); }

  /// Alerts resolved before this time go (for `now`).
  time_point cutoff(time_point now) const { return now - keep; }

  /// How often the repository looks for alerts past `keep`: a tenth of
  /// it, so none outstays it by more than a tenth, between a second and
  /// an hour (a look reads the index range of old resolved alerts, so
  /// hourly costs a busy store nothing noticeable).
  duration interval() const;

  /// How many notifications one step of a pass over the outbox looks at,
  /// where a step over the alerts deletes up to `alerts_per_step`: a
  /// quarter as many, at least one. Each is a parse of its body and a
  /// lookup of its parent, and a deletion takes its deliveries along:
  /// about four times an alert's deletion (tools/bench/retention_bench),
  /// so steps of either kind hold the repository about as long.
  static size_t notifications_per_step(size_t alerts_per_step);
};

/// Whether an alert in `status`, resolved at `resolved_at`, is past the
/// `cutoff` on its own. A child goes only with its parent (`drops_child`).
bool past_retention(alert_status status, time_point resolved_at,
                    time_point cutoff);

/// Whether a child past retention goes: only when its parent goes too, or
/// is not stored at all. An active parent's children are its open work
/// (`storage::store::open_work`), and a resolved parent's child count and
/// children listing stay whole for as long as the parent is kept.
/// `parent_stored` says whether the parent's row exists; `parent_past` is
/// `past_retention` of that row.
bool drops_child(bool parent_stored, bool parent_past);

/// What a retention pass knows of one notification in the outbox.
struct notification_facts {
  /// Made before the cutoff. A pass goes in outbox order and stops at the
  /// first one made later: nearly all after it are later still (a
  /// replayed event's, or another node's, may be older and waits for a
  /// later pass).
  bool made_before_cutoff = false;
  /// Its parent is the active alert of its dedupKey (an open group).
  bool parent_active = false;
  bool fanned_out = false;
  /// One of its deliveries is still to be tried.
  bool delivery_pending = false;
};

/// Whether a notification leaves the outbox, with its deliveries: it was
/// made longer ago than the retention, its parent is no longer active
/// (resolved, or deleted past retention) and nothing is left to deliver.
/// So a page's record is kept for the retention after it was made, and
/// for as long as its group is open: a held opening (of an active parent)
/// stays for as long as its silence may release it. Not "for as long as
/// the parent alert is stored": a dedupKey that resolves and triggers
/// again within the retention keeps its row (and its id) for good, and
/// the notifications of all its past openings would stay with it.
bool drops_notification(const notification_facts& n);

/// Whether `drops_notification(n)` turns on `n.parent_active` alone: only
/// then is a parent the store cannot find cheaply worth looking up.
bool parent_decides(const notification_facts& n);

} // namespace argus::domain
