#pragma once

#include "actors/actors.hpp"
#include "actors/context.hpp"
#include "actors/storage.hpp"

#include <caf/stateful_actor.hpp>

#include <memory>
#include <vector>

namespace argus::actors {

struct repository_settings {
  /// Flush once this many changes are pending...
  size_t batch_size = 2000;
  /// ...or this long after the first one arrived.
  domain::duration flush_interval = std::chrono::milliseconds{5};
};

struct repository_state {
  std::shared_ptr<storage> store;
  repository_settings settings;
  std::vector<domain::alert_write> pending;
  /// Identifies the armed flush timer; zero when none is armed.
  uint64_t timer_token = 0;
  bool timer_armed = false;
  static inline const char* name = "repository";
};

repository_actor::behavior_type
repository(repository_actor::stateful_pointer<repository_state> self,
           std::shared_ptr<storage> store, repository_settings settings,
           context_ptr ctx);

} // namespace argus::actors
