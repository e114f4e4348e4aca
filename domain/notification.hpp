#pragma once

#include "domain/alert.hpp"

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

/// A parent alert opened, resolved or was acknowledged; the notifier
/// delivers it.
struct notification {
  /// Assigned by the notifier, increasing.
  uint64_t seq = 0;
  notification_kind kind = notification_kind::parent_opened;
  alert parent;
  time_point at{};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notification& x) {
  return f(caf::meta::type_name("argus.notification"), x.seq, x.kind, x.parent,
           x.at);
}

} // namespace argus::domain
