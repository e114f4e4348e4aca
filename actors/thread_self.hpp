#pragma once

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <memory>

namespace argus::actors {

/// One hidden scoped_actor per thread and actor system, created on first
/// use, for blocking requests from threads that are not actors (HTTP
/// workers, the cluster's coordinator). Hidden, so it does not hold up the
/// system's shutdown. `reset` replaces it: a timed-out request may still be
/// answered later, and a fresh actor keeps that stale reply from being
/// taken for the next request's answer.
inline caf::scoped_actor& thread_self(caf::actor_system& sys, bool reset) {
  struct slot {
    caf::actor_system* sys = nullptr;
    std::unique_ptr<caf::scoped_actor> self;
  };
  thread_local slot s;
  if (reset || s.sys != &sys || !s.self) {
    s.self.reset();
    s.self = std::make_unique<caf::scoped_actor>(sys, true);
    s.sys = &sys;
  }
  return *s.self;
}

} // namespace argus::actors
