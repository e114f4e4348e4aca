// The repository lets the journal go only through what its store made
// durable: a store may commit before its commits survive a power cut
// (SQLite's WAL with synchronous = NORMAL), and a trimmed journal could
// not replay what such a cut took back.

#include "fixture.hpp"
#include "memory_store_wrapper.hpp"

namespace {

using argus::atom::write;
using argus::domain::alert_write;
using fixture = argus::test::actor_fixture;
namespace domain = argus::domain;

/// A memory store whose commits become durable only up to `synced`,
/// as a SQLite store's do only up to its last checkpoint.
class syncs_behind final : public argus::test::memory_store_wrapper {
public:
  uint64_t synced = 0;

  uint64_t durable_through(uint64_t committed) const override {
    return std::min(committed, synced);
  }
};

alert_write change(const std::string& key) {
  domain::alert a;
  a.dedup_key = key;
  a.event_manager_id = "m1";
  a.id = domain::alert_id_for("m1", key);
  return alert_write{a, 1};
}

} // namespace

TEST_CASE_METHOD(fixture,
                 "the repository lets the journal go only through what the "
                 "store made durable",
                 "[actors]") {
  auto store = std::make_shared<syncs_behind>();
  argus::actors::repository_settings settings;
  std::vector<uint64_t> trimmed_through;
  settings.on_persisted = [&](uint64_t mark) {
    trimmed_through.push_back(mark);
  };
  auto r = spawn(argus::actors::repository, store, settings, context());
  sched->run();

  // Events 1 to 4 are stored, but only 2 survive a power cut yet.
  store->synced = 2;
  caf::anon_send(
      r, write::value, std::vector<alert_write>{change("a"), change("b")},
      std::vector<domain::notification>{}, std::vector<uint64_t>{1, 2, 3, 4});
  sched->run();
  CHECK(store->applied_through() == uint64_t{4});
  CHECK(trimmed_through == std::vector<uint64_t>{2});

  // Once synced further, the next flush lets go of the rest, and no more
  // than it stored.
  store->synced = 10;
  caf::anon_send(r, write::value, std::vector<alert_write>{change("c")},
                 std::vector<domain::notification>{}, std::vector<uint64_t>{5});
  sched->run();
  CHECK(trimmed_through == std::vector<uint64_t>{2, 5});
}
