// The lazy-sharing scheduler policy (actors/lazy_sharing.hpp) on a real
// actor system with two scheduler threads: a job queued from inside the
// scheduler wakes a sleeping thread only when another job already waits,
// a job from outside always does, and no message is left behind either way.

#include "actors/lazy_sharing.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>
#include <vector>

namespace {

using argus::actors::lazy_sharing;
using lazy_coordinator = caf::scheduler::coordinator<lazy_sharing>;

struct lazy_system_config : caf::actor_system_config {
  explicit lazy_system_config(size_t threads) {
    set("scheduler.max-threads", threads);
    load<lazy_coordinator>();
  }
};

lazy_sharing::coordinator_data& data_of(caf::actor_system& sys) {
  return static_cast<lazy_coordinator&>(sys.scheduler()).data();
}

/// Waits until every scheduler thread sleeps on an empty queue.
void wait_idle(caf::actor_system& sys, size_t threads) {
  auto& data = data_of(sys);
  for (;;) {
    {
      std::lock_guard<std::mutex> guard{data.lock};
      if (data.idle.size() == threads && data.queue.empty())
        return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
}

size_t wakeups(caf::actor_system& sys) {
  auto& data = data_of(sys);
  std::lock_guard<std::mutex> guard{data.lock};
  return data.wakeups;
}

/// Passes a count on to the next actor; the last one tells `done`.
caf::behavior hop(caf::event_based_actor* self, caf::actor next,
                  caf::actor done) {
  return {[=](int n) { self->send(next ? next : done, n + 1); }};
}

/// Sends one message to each of `targets` at once.
caf::behavior fan_out(caf::event_based_actor* self,
                      std::vector<caf::actor> targets) {
  return {[=](int n) {
    for (auto& t : targets)
      self->send(t, n);
  }};
}

/// Counts what arrives and tells `done` at `expected`.
caf::behavior counter(caf::event_based_actor*, int expected, caf::actor done) {
  auto seen = std::make_shared<int>(0);
  return {[=](int) {
    if (++*seen == expected)
      caf::anon_send(done, expected);
  }};
}

int await_int(caf::scoped_actor& self) {
  int got = -1;
  self->receive([&](int n) { got = n; },
                caf::after(std::chrono::seconds{30}) >> [] {});
  return got;
}

} // namespace

TEST_CASE("lazy sharing: a chain of hops from one outside message wakes one "
          "thread",
          "[actors]") {
  lazy_system_config cfg{2};
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  constexpr int hops = 200;
  caf::actor next;
  for (int i = 0; i < hops; ++i)
    next = sys.spawn(hop, next, caf::actor{self});
  wait_idle(sys, 2);
  auto before = wakeups(sys);
  // The first hop comes from outside and wakes a thread; each later one
  // is queued by that thread, which runs it once the hop before is done.
  caf::anon_send(next, 0);
  CHECK(await_int(self) == hops);
  CHECK(wakeups(sys) - before == 1);
}

TEST_CASE("lazy sharing: a second job queued from inside wakes a helper",
          "[actors]") {
  lazy_system_config cfg{2};
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto sink = sys.spawn(counter, 2, caf::actor{self});
  auto first = sys.spawn(hop, caf::actor{}, sink);
  auto second = sys.spawn(hop, caf::actor{}, sink);
  auto source = sys.spawn(fan_out, std::vector<caf::actor>{first, second});
  wait_idle(sys, 2);
  auto before = wakeups(sys);
  caf::anon_send(source, 0);
  CHECK(await_int(self) == 2);
  // The outside message, then the second of the two jobs `source` queued.
  CHECK(wakeups(sys) - before == 2);
}

TEST_CASE("lazy sharing: every message arrives, from inside and outside, "
          "on one thread or two",
          "[actors]") {
  auto threads = GENERATE(size_t{1}, size_t{2});
  lazy_system_config cfg{threads};
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  constexpr int targets = 50;
  constexpr int rounds = 200;
  constexpr int outside = 1000;
  auto sink = sys.spawn(counter, targets * rounds + outside, caf::actor{self});
  std::vector<caf::actor> hops;
  hops.reserve(targets);
  for (int i = 0; i < targets; ++i)
    hops.push_back(sys.spawn(hop, caf::actor{}, sink));
  auto source = sys.spawn(fan_out, hops);
  // Bursts from inside (each round queues 50 jobs) mixed with messages
  // sent from this thread straight to the hops.
  for (int r = 0; r < rounds; ++r)
    caf::anon_send(source, r);
  for (int i = 0; i < outside; ++i)
    caf::anon_send(hops[i % targets], i);
  CHECK(await_int(self) == targets * rounds + outside);
}
