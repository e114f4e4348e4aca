#pragma once

#include "domain/shared_alert.hpp"

#include <caf/meta/type_name.hpp>

namespace argus::domain {

/// Appended values only: the numbers are stored and cross the wire.
enum class notification_kind : uint8_t {
  parent_opened,
  parent_resolved,
  /// A child joined a parent (receivers ask for it; rate-capped per group).
  child_added,
  /// Someone acknowledged the parent (and so its group).
  parent_acknowledged,
};

std::string_view to_string(notification_kind x);

/// Something receivers hear about: a parent opened, resolved or was
/// acknowledged, or a child joined one. Stored in the outbox with the alert
/// change that caused it.
struct notification {
  /// Outbox order, assigned by the store (0 until stored).
  uint64_t seq = 0;
  /// Stable: a function of the alert change (`notification_id_for` in
  /// domain/delivery.hpp), so
  /// a replay after a crash makes the same id and receivers can drop a
  /// repeat (Idempotency-Key).
  std::string id;
  notification_kind kind = notification_kind::parent_opened;
  /// The parent as it was when the notification was made.
  shared_alert parent;
  time_point at{};
  /// child_added only: the child that joined (the empty alert otherwise).
  shared_alert child;
  /// The parent's children still active then.
  int64_t active_children = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notification& x) {
  return f(caf::meta::type_name("argus.notification"), x.seq, x.id, x.kind,
           x.parent, x.at, x.child, x.active_children);
}

} // namespace argus::domain
