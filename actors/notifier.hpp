#pragma once

#include "actors/actors.hpp"
#include "actors/context.hpp"

#include <caf/stateful_actor.hpp>

#include <deque>

namespace argus::actors {

struct notifier_state {
  /// The most recent notifications, oldest first.
  std::deque<domain::notification> recent;
  size_t keep = 1000;
  uint64_t next_seq = 1;
  static inline const char* name = "notifier";
};

notifier_actor::behavior_type
notifier(notifier_actor::stateful_pointer<notifier_state> self, size_t keep,
         context_ptr ctx);

} // namespace argus::actors
