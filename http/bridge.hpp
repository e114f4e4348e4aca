#pragma once

#include "actors/thread_self.hpp"
#include "domain/error.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <memory>

/// Blocking requests from HTTP worker threads to actors (never call this
/// inside an actor).
namespace argus::http {

constexpr auto ask_timeout = std::chrono::seconds{10};

using actors::thread_self;

/// Sends a request and waits for the single-value reply.
template <class T, class Handle, class... Ts>
caf::expected<T> ask(caf::actor_system& sys, const Handle& hdl, Ts&&... xs) {
  caf::expected<T> result = make_error(ec::internal, "no reply");
  thread_self(sys, false)
      ->request(hdl, ask_timeout, std::forward<Ts>(xs)...)
      .receive([&](T& value) { result = std::move(value); },
               [&](caf::error& err) { result = std::move(err); });
  if (!result && code_of(result.error()) == ec::internal)
    thread_self(sys, true);
  return result;
}

} // namespace argus::http
