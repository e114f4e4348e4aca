// The lean actor (actors/lean_actor.hpp) keeps the contract of any CAF
// actor: arrival order, answers to requests, failures its monitors see,
// termination on an exit message or when nothing can reach it, and a place
// in the system's count of running actors. Tested on a small actor of its
// own, on the deterministic scheduler.

#include "actors/lean_actor.hpp"
#include "fixture.hpp"

#include <caf/typed_actor.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace argus;
using test::actor_fixture;

/// Doubles numbers it is asked; records texts, and fails on "boom".
using probe_actor = caf::typed_actor<caf::replies_to<int>::with<int>,
                                     caf::reacts_to<std::string>>;

/// What a probe saw; the test keeps a reference to see it go.
struct probe_log {
  std::vector<std::string> texts;
};

class probe_impl : public actors::lean_actor {
public:
  probe_impl(caf::actor_config& cfg, std::shared_ptr<probe_log> log)
      : lean_actor(cfg), log_(std::move(log)) {}

  const char* name() const override { return "probe"; }

protected:
  caf::behavior& behavior() override {
    if (!behavior_)
      behavior_ = probe_actor::behavior_type{
          [](int x) { return 2 * x; },
          [this](const std::string& text) {
            if (text == "boom")
              throw std::runtime_error("boom");
            if (text == "quit")
              quit();
            log_->texts.push_back(text);
          }}.unbox();
    return behavior_;
  }

  void on_terminate(const caf::error&) override {
    log_.reset();
    behavior_ = caf::behavior{};
  }

private:
  std::shared_ptr<probe_log> log_;
  caf::behavior behavior_;
};

struct lean_fixture : actor_fixture {
  std::shared_ptr<probe_log> log = std::make_shared<probe_log>();

  probe_actor spawn_probe() {
    caf::actor_config cfg;
    auto hdl = caf::make_actor<probe_impl, probe_actor>(
        sys->next_actor_id(), sys->node(), sys.get(), cfg, log);
    static_cast<probe_impl*>(caf::actor_cast<caf::abstract_actor*>(hdl))
        ->launch();
    spawned.push_back(hdl.address());
    return hdl;
  }

  /// Records why `hdl` terminated, as a monitor would learn it.
  std::shared_ptr<caf::error> exit_reason_of(const probe_actor& hdl) {
    auto reason = std::make_shared<caf::error>(caf::sec::none);
    auto* actor = caf::actor_cast<caf::abstract_actor*>(hdl);
    actor->attach_functor([reason](const caf::error& why) { *reason = why; });
    return reason;
  }
};

bool is_runtime_error(const caf::error& e) {
  return e == caf::sec::runtime_error;
}

} // namespace

TEST_CASE_METHOD(lean_fixture,
                 "a lean actor handles messages in arrival order and answers "
                 "requests",
                 "[actors]") {
  auto probe = spawn_probe();
  for (auto text : {"a", "b", "c", "d"})
    caf::anon_send(probe, std::string{text});
  CHECK(ask<int>(probe, 21) == 42);
  CHECK(log->texts == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE_METHOD(lean_fixture,
                 "a lean actor runs at most the scheduler's throughput per "
                 "run, then yields",
                 "[actors]") {
  auto probe = spawn_probe();
  for (auto text : {"a", "b", "c"})
    caf::anon_send(probe, std::string{text});
  // The testing scheduler lets a job handle one message per run.
  step(probe);
  CHECK(log->texts == std::vector<std::string>{"a"});
  step(probe);
  CHECK(log->texts == std::vector<std::string>{"a", "b"});
  CHECK(run_only(probe) == 1);
  CHECK(log->texts == std::vector<std::string>{"a", "b", "c"});
  CHECK(run_only(probe) == 0); // waits for mail, not scheduled
}

TEST_CASE_METHOD(
    lean_fixture,
    "a lean actor that throws fails with a runtime error, and later "
    "requests are answered with an error",
    "[actors]") {
  auto probe = spawn_probe();
  auto reason = exit_reason_of(probe);
  std::weak_ptr<probe_log> state = log;
  log.reset();
  caf::anon_send(probe, std::string{"boom"});
  caf::anon_send(probe, std::string{"never handled"});
  sched->run();
  CHECK(is_runtime_error(*reason));
  CHECK(state.expired()); // released as it terminated
  // As for any CAF actor, a request to a terminated one is answered.
  auto err = ask_error<int>(probe, 1);
  CHECK(err == caf::sec::request_receiver_down);
}

TEST_CASE_METHOD(lean_fixture,
                 "a lean actor ends on an exit message and on quit",
                 "[actors]") {
  auto killed = spawn_probe();
  auto killed_reason = exit_reason_of(killed);
  auto quitting = spawn_probe();
  auto quit_reason = exit_reason_of(quitting);
  caf::anon_send_exit(killed, caf::exit_reason::kill);
  caf::anon_send(quitting, std::string{"quit"});
  caf::anon_send(quitting, std::string{"after quit"});
  sched->run();
  CHECK(*killed_reason == caf::exit_reason::kill);
  CHECK(!*quit_reason); // a normal exit
  CHECK(log->texts == std::vector<std::string>{"quit"});
}

TEST_CASE_METHOD(lean_fixture,
                 "a lean actor answers a message outside its interface with "
                 "an error and lives on",
                 "[actors]") {
  auto probe = spawn_probe();
  auto untyped = caf::actor_cast<caf::actor>(probe);
  auto err = ask_error<int>(untyped, 1.5);
  CHECK(err == caf::sec::unexpected_message);
  CHECK(ask<int>(probe, 4) == 8);
}

TEST_CASE_METHOD(lean_fixture,
                 "a lean actor counts as running until it ends, also when the "
                 "last handle goes",
                 "[actors]") {
  auto running = sys->registry().running();
  auto probe = spawn_probe();
  CHECK(sys->registry().running() == running + 1);
  std::weak_ptr<probe_log> state = log;
  log.reset();
  probe = nullptr;
  spawned.clear();
  CHECK(sys->registry().running() == running);
  CHECK(state.expired());
}
