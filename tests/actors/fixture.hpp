#pragma once

// Deterministic actor tests under Catch2, without caf/test/dsl.hpp (its
// checks report into CAF's own test engine and crash under Catch2). The
// 'testing' scheduler runs nothing by itself: tests drive it with
// sched->run(), sched->advance_time() and sched->trigger_timeout(), and
// advance the Argus clock (context::now) by hand alongside.

#include "actors/actors.hpp"
#include "actors/catalog.hpp"
#include "actors/context.hpp"
#include "actors/grouping.hpp"
#include "actors/notifier.hpp"
#include "actors/repository.hpp"
#include "actors/router.hpp"
#include "actors/type_ids.hpp"
#include "config/log.hpp"
#include "domain/error.hpp"
#include "storage/store.hpp"
#include "support/grouping_events.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace argus::test {

using namespace std::chrono_literals;

/// A whole node's actors over an in-memory store, on the deterministic
/// scheduler, with a clock that only moves when the test says so.
struct actor_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::unique_ptr<caf::scoped_actor> self;

  /// What context::now returns.
  std::shared_ptr<domain::time_point> clock =
      std::make_shared<domain::time_point>(
          domain::from_millis(1'700'000'000'000));
  std::shared_ptr<actors::context> ctx = std::make_shared<actors::context>();
  /// The repository's store, shared so tests can read open work directly.
  std::shared_ptr<storage::store> store = storage::make_memory_store();

  actors::repository_actor repo;
  actors::notifier_actor notifier;
  actors::router_actor router;

  /// Every actor spawned here; each gets an exit at the end, since routers
  /// and groups reference each other and would otherwise live forever.
  std::vector<caf::actor_addr> spawned;

  actor_fixture() {
    log::set_level("error");
    cfg.set("scheduler.policy", caf::atom("testing"));
    actors::register_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    self = std::make_unique<caf::scoped_actor>(*sys, true);
    auto c = clock;
    ctx->now = [c] { return *c; };
    // A node spawns the repository detached (its store blocks); here it
    // runs on the testing scheduler like every other actor, so tests decide
    // when it flushes.
    // No delivery worker: notifications are stored and listed, not sent.
    auto outbox = store->open_outbox("");
    if (!outbox)
      throw std::runtime_error("no outbox");
    notifier = spawn(actors::notifier, std::move(*outbox),
                     std::shared_ptr<delivery::worker>{}, context());
    actors::repository_settings settings;
    settings.on_notified = [c = ctx](std::vector<domain::notification> stored) {
      actors::notifications_stored(*c, nullptr, stored);
    };
    repo = spawn(actors::repository, store, std::move(settings), context());
    router = spawn_router();
    sched->run();
  }

  ~actor_fixture() {
    for (auto& addr : spawned)
      caf::anon_send_exit(addr, caf::exit_reason::user_shutdown);
    // Drain messages AND pending timeouts (request timeouts hold actor
    // references); nothing runs by itself with the testing scheduler.
    while (sched->run() + sched->trigger_timeouts() > 0) {
    }
    repo = nullptr;
    notifier = nullptr;
    router = nullptr;
    self.reset();
  }

  actor_fixture(const actor_fixture&) = delete;
  actor_fixture& operator=(const actor_fixture&) = delete;

  actors::context_ptr context() const { return ctx; }

  template <class... Ts>
  auto spawn(Ts&&... xs) -> decltype(sys->spawn(std::forward<Ts>(xs)...)) {
    auto hdl = sys->spawn(std::forward<Ts>(xs)...);
    spawned.push_back(hdl.address());
    return hdl;
  }

  actors::router_actor spawn_router() {
    return spawn(actors::router, repo, context());
  }

  /// Runs messages of `hdl` only, until its mailbox is empty; other actors
  /// keep what they were sent. Returns how many messages ran.
  template <class Handle>
  size_t run_only(const Handle& hdl) {
    size_t n = 0;
    while (sched->prioritize(hdl)) {
      sched->run_once();
      ++n;
    }
    return n;
  }

  /// Runs exactly one message of `hdl`.
  template <class Handle>
  void step(const Handle& hdl) {
    REQUIRE(sched->prioritize(hdl));
    sched->run_once();
  }

  /// The state of a stateful actor, for the few checks no message answers.
  template <class State, class Handle>
  State& state_of(const Handle& hdl) {
    using base = typename Handle::template stateful_base<State>;
    return dynamic_cast<base&>(*caf::actor_cast<caf::abstract_actor*>(hdl))
        .state;
  }

  /// The state of a grouping actor (a lean actor, not a stateful one).
  actors::grouping_state& group_state_of(const actors::grouping_actor& hdl) {
    return dynamic_cast<actors::grouping_impl&>(
               *caf::actor_cast<caf::abstract_actor*>(hdl))
        .state;
  }

  /// The router's entry for group (manager, value); fails when there is
  /// none.
  actors::router_state::group_entry&
  routed_group(const std::string& value = "db",
               const std::string& manager = "m1") {
    auto* found = state_of<actors::router_state>(router).groups.find(
        actors::group_key(manager, true, value));
    REQUIRE(found != nullptr);
    return *found->value;
  }

  /// The grouping actor the router runs for (manager, value); fails when
  /// it runs none.
  actors::grouping_actor group_actor(const std::string& value = "db",
                                     const std::string& manager = "m1") {
    return routed_group(value, manager).handle;
  }

  /// Moves the Argus clock only (the scheduler's timers stay put).
  void advance_clock(domain::duration d) { *clock += d; }

  /// Moves both clocks and runs whatever became due.
  void advance(domain::duration d) {
    advance_clock(d);
    sched->advance_time(d);
    sched->run();
  }

  domain::time_point now() const { return *clock; }

  /// Sends a request, runs the scheduler and hands the reply to `f`, or
  /// returns the error. Fails instead of blocking when nothing came back.
  template <class Handle, class F, class... Ts>
  caf::error ask_with(const Handle& hdl, F f, Ts&&... xs) {
    auto rh = (*self)->request(hdl, caf::infinite, std::forward<Ts>(xs)...);
    sched->run();
    if ((*self)->mailbox().size() == 0) {
      FAIL("no reply");
    }
    caf::error result;
    rh.receive(f, [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// A request that must succeed with one value of type T.
  template <class T, class Handle, class... Ts>
  T ask(const Handle& hdl, Ts&&... xs) {
    T result{};
    auto err = ask_with(
        hdl, [&](T& x) { result = std::move(x); }, std::forward<Ts>(xs)...);
    if (err)
      FAIL("request failed: " << message_of(err));
    return result;
  }

  /// A request that must fail; returns its error.
  template <class T, class Handle, class... Ts>
  caf::error ask_error(const Handle& hdl, Ts&&... xs) {
    auto err = ask_with(
        hdl, [&](T&) { FAIL("expected an error"); }, std::forward<Ts>(xs)...);
    REQUIRE(err);
    return err;
  }

  // -- events ---------------------------------------------------------------

  /// The domain tests' trigger (tests/support/grouping_events.hpp),
  /// accepted now by the fixture's clock.
  domain::event trigger(const std::string& key, const std::string& value = "db",
                        const std::string& manager = "m1") const {
    auto e = ::argus::test::trigger(key, value, manager);
    e.received_at = now();
    return e;
  }

  domain::event trigger_without_value(const std::string& key,
                                      const std::string& manager = "m1") const {
    auto e = trigger(key, "", manager);
    e.has_grouping_value = false;
    return e;
  }

  domain::event resolve(const std::string& key,
                        const std::string& manager = "m1") const {
    auto e = ::argus::test::resolve(key, manager);
    e.received_at = now();
    return e;
  }

  /// Hands an event to the router without running anything.
  void send(const domain::event& e) {
    caf::anon_send(router, atom::apply::value, e);
  }

  /// Hands an event to the router and runs until everything settled.
  void apply(const domain::event& e) {
    send(e);
    sched->run();
  }

  // -- reads ----------------------------------------------------------------

  /// Makes the repository write what it holds back, so the store has it.
  void flush() {
    REQUIRE(ask<atom::ok>(repo, atom::flush::value) == atom::ok::value);
  }

  /// The one alert of (manager, dedupKey); fails when there is none.
  domain::alert alert_of(const std::string& key,
                         const std::string& manager = "m1") {
    auto found =
        ask<std::vector<domain::alert>>(repo, atom::get::value, manager, key);
    REQUIRE(found.size() == 1);
    return found.front();
  }

  std::vector<domain::alert> list(domain::alert_filter filter = {}) {
    return ask<std::vector<domain::alert>>(repo, atom::list::value, filter);
  }

  std::vector<domain::alert> children_of(const std::string& parent,
                                         const std::string& manager = "m1") {
    return ask<std::vector<domain::alert>>(repo, atom::children::value, manager,
                                           parent);
  }

  /// {active, resolved} alert counts of the repository.
  std::pair<int64_t, int64_t> counts() {
    std::pair<int64_t, int64_t> result;
    auto err = ask_with(
        repo,
        [&](int64_t active, int64_t resolved) {
          result = {active, resolved};
        },
        atom::count::value);
    if (err)
      FAIL("count failed: " << message_of(err));
    return result;
  }

  /// Newest first.
  /// The outbox has what the repository stored: flush first.
  std::vector<domain::notification> notifications(uint64_t limit = 100) {
    ask<atom::ok>(repo, atom::flush::value);
    domain::notification_filter f;
    f.limit = static_cast<int64_t>(limit);
    auto records = ask<std::vector<domain::notification_record>>(
        notifier, atom::list::value, f);
    std::vector<domain::notification> out;
    for (auto& r : records)
      out.push_back(r.note);
    return out;
  }

  /// Live grouping actors of `r`.
  uint64_t groups(const actors::router_actor& r) {
    return ask<uint64_t>(r, atom::count::value);
  }

  uint64_t groups() { return groups(router); }
};

/// dedupKeys of `xs`, in order.
inline std::vector<std::string> keys_of(const std::vector<domain::alert>& xs) {
  std::vector<std::string> result;
  for (auto& x : xs)
    result.push_back(x.dedup_key.str());
  return result;
}

} // namespace argus::test
