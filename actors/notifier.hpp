#pragma once

#include "actors/actors.hpp"
#include "actors/context.hpp"
#include "delivery/outbox.hpp"
#include "delivery/worker.hpp"

#include <caf/stateful_actor.hpp>

#include <memory>
#include <vector>

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

/// What follows the commit that added `stored` to the outbox, on the
/// committing thread: counts and logs them, observes how long each took
/// from acceptance, and wakes `worker` (null: delivery is off). Called
/// directly, not through the notifier's mailbox: a hop to another thread
/// would only delay the delivery.
void notifications_stored(const context& ctx, delivery::worker* worker,
                          const std::vector<domain::notification>& stored);

/// The notifier behavior. Its reads may block on the store: spawn it
/// `caf::detached`.
notifier_actor::behavior_type
notifier(notifier_actor::stateful_pointer<notifier_state> self,
         std::shared_ptr<delivery::outbox> outbox,
         std::shared_ptr<delivery::worker> worker, context_ptr ctx);

} // namespace argus::actors
