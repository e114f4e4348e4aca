#pragma once

#include "domain/types.hpp"

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

} // namespace argus::domain
