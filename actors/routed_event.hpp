#pragma once

#include "domain/event.hpp"

#include <caf/meta/type_name.hpp>

namespace argus::actors {

/// An event on its way from a router to a grouping actor.
struct routed_event {
  routed_event() = default;
  /// Takes `e` with one move (an outbox's `emplace_back(std::move(e), ..)`
  /// builds it in place).
  routed_event(domain::event&& e, bool fresh) : e(std::move(e)), fresh(fresh) {}

  domain::event e;
  /// True when the router knows no active alert for the dedupKey (it routed
  /// by grouping value); false when it routed by the dedupKey index.
  bool fresh = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, routed_event& x) {
  return f(caf::meta::type_name("argus.routed_event"), x.e, x.fresh);
}

} // namespace argus::actors
