#pragma once

#include "actors/actors.hpp"
#include "actors/context.hpp"
#include "delivery/outbox.hpp"
#include "delivery/worker.hpp"

#include <caf/stateful_actor.hpp>

#include <memory>

namespace argus::actors {

struct notifier_state {
  /// Reads and manual retries; a connection of the notifier's own for the
  /// SQL backends (not the worker's).
  std::shared_ptr<delivery::outbox> outbox;
  /// Sends; null when delivery is off (actor tests): notifications are
  /// then stored and listed, never sent.
  std::shared_ptr<delivery::worker> worker;
  static inline const char* name = "notifier";
};

/// The notifier behavior. Its reads may block on the store: spawn it
/// `caf::detached`.
notifier_actor::behavior_type
notifier(notifier_actor::stateful_pointer<notifier_state> self,
         std::shared_ptr<delivery::outbox> outbox,
         std::shared_ptr<delivery::worker> worker, context_ptr ctx);

} // namespace argus::actors
