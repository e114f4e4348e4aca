#pragma once

// An alert as it was at one moment, held by everything that tells of that
// moment: a notification, its outbox entry, the envelope a receiver's body
// is made from. Those held full copies: a parent copied into each
// notification, again into its envelope, and moved (twelve strings at a
// time) through every vector on the way, about 7% of the instructions of
// an event while every other event opened a group. A shared_alert shares
// the grouping's own snapshot instead, the one its write to the store
// holds too. The grouping never changes a shared snapshot in place
// (`mutable_alert` copies it first), so it stays as it was.
//
// Never null to its readers: one that holds nothing reads as the empty
// alert (a notification's child when no child joined).

#include "domain/alert.hpp"

#include <caf/meta/load_callback.hpp>

#include <memory>
#include <utility>

namespace argus::domain {

class shared_alert {
public:
  shared_alert() = default;
  /// Shares the snapshot (null: the empty alert).
  shared_alert(alert_ptr snapshot) : ptr_(std::move(snapshot)) {}
  /// Holds a value of its own (stores' loads, tests).
  shared_alert(alert value)
      : ptr_(std::make_shared<const alert>(std::move(value))) {}

  const alert& operator*() const { return ptr_ ? *ptr_ : empty(); }
  const alert* operator->() const { return &**this; }

  /// The snapshot, null when it holds nothing.
  const alert_ptr& ptr() const { return ptr_; }

  /// Makes it hold a copy of its own and returns that copy to change: for
  /// building one field by field (tests), never on a path that shares.
  alert& edit() {
    auto own = std::make_shared<alert>(**this);
    ptr_ = own;
    return *own;
  }

private:
  // A function-local static, not a shared empty snapshot: reading it
  // touches no reference count that every thread would share.
  static const alert& empty() {
    static const alert none;
    return none;
  }

  alert_ptr ptr_;
};

/// Sends the alert itself; a load makes a snapshot of its own.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shared_alert& x) {
  if constexpr (Inspector::reads_state) {
    return f(*x);
  } else {
    auto loaded = std::make_shared<alert>();
    return f(*loaded, caf::meta::load_callback([&]() -> caf::error {
      x = shared_alert{alert_ptr{std::move(loaded)}};
      return caf::none;
    }));
  }
}

} // namespace argus::domain
