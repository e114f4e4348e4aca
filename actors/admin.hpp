#pragma once

#include "actors/actors.hpp"
#include "actors/front.hpp"
#include "actors/remoting.hpp"

#include <caf/stateful_actor.hpp>

#include <functional>

/// The admin endpoint: the actor argusctl and cluster peers talk to.
namespace argus::actors {

/// What the admin actor works with: the node's front door, plus the
/// cluster side only it speaks.
struct admin_env {
  front node;
  /// This node's membership; null when it is not clustered.
  cluster_actor cluster;
  /// Starts the node's orderly shutdown (argusctl drain, once the node left
  /// its cluster).
  std::function<void()> shutdown;
};

struct admin_state {
  static inline const char* name = "admin";
};

using admin_self = admin_actor::stateful_pointer<admin_state>;

admin_actor::behavior_type admin(admin_self self, admin_env env);

} // namespace argus::actors
