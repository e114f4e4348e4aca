#pragma once

#include "domain/error.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <memory>

/// Blocking requests from HTTP worker threads to actors (never call this
/// inside an actor).
namespace argus::http {

constexpr auto ask_timeout = std::chrono::seconds{10};

/// One hidden scoped_actor per worker thread and actor system, created on
/// first use. Hidden, so it does not hold up the system's shutdown.
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

/// Sends a request and waits for the single-value reply.
template <class T, class Handle, class... Ts>
caf::expected<T> ask(caf::actor_system& sys, const Handle& hdl, Ts&&... xs) {
  caf::expected<T> result = make_error(ec::internal, "no reply");
  thread_self(sys, false)
    ->request(hdl, ask_timeout, std::forward<Ts>(xs)...)
    .receive([&](T& value) { result = std::move(value); },
             [&](caf::error& err) { result = std::move(err); });
  // A timed-out request may still answer later; a fresh actor keeps that
  // stale reply from being taken for the next request's answer.
  if (!result && code_of(result.error()) == ec::internal)
    thread_self(sys, true);
  return result;
}

} // namespace argus::http
