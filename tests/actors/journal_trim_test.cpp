// The repository lets the journal go only through what its store made
// durable: a store may commit before its commits survive a power cut
// (SQLite's WAL with synchronous = NORMAL), and a trimmed journal could
// not replay what such a cut took back.

#include "fixture.hpp"

namespace {

using argus::atom::write;
using argus::domain::alert_write;
using fixture = argus::test::actor_fixture;
namespace domain = argus::domain;

/// A memory store whose commits become durable only up to `synced`,
/// as a SQLite store's do only up to its last checkpoint.
class syncs_behind final : public argus::storage::store {
public:
  uint64_t synced = 0;

  uint64_t durable_through(uint64_t committed) const override {
    return std::min(committed, synced);
  }

  // Everything else is the memory store's.
  std::string backend() const override { return inner_->backend(); }
  caf::error write(const std::vector<alert_write>& writes,
                   const argus::storage::notifications& notes,
                   uint64_t applied_through) override {
    return inner_->write(writes, notes, applied_through);
  }
  caf::expected<std::shared_ptr<argus::delivery::outbox>>
  open_outbox(const std::string& owner) override {
    return inner_->open_outbox(owner);
  }
  caf::expected<uint64_t> applied_through() override {
    return inner_->applied_through();
  }
  caf::expected<std::vector<domain::alert>>
  applied_after(uint64_t seq) override {
    return inner_->applied_after(seq);
  }
  caf::expected<std::vector<domain::alert>>
  list(const domain::alert_filter& filter) override {
    return inner_->list(filter);
  }
  caf::expected<std::vector<domain::alert>>
  by_dedup_key(const std::string& manager, const std::string& key) override {
    return inner_->by_dedup_key(manager, key);
  }
  caf::expected<std::vector<domain::alert>>
  children(const std::string& manager, const std::string& parent) override {
    return inner_->children(manager, parent);
  }
  caf::expected<std::vector<domain::alert>> open_work() override {
    return inner_->open_work();
  }
  caf::expected<std::pair<int64_t, int64_t>> count_by_status() override {
    return inner_->count_by_status();
  }
  caf::error put(const domain::grouping_rule& x) override {
    return inner_->put(x);
  }
  caf::error put(const domain::event_manager& x) override {
    return inner_->put(x);
  }
  caf::error put(const domain::silence& x) override { return inner_->put(x); }
  caf::error put(const domain::api_key& x) override { return inner_->put(x); }
  caf::error erase_rule(const std::string& id) override {
    return inner_->erase_rule(id);
  }
  caf::error erase_manager(const std::string& id) override {
    return inner_->erase_manager(id);
  }
  caf::error append(const domain::audit_entry& entry) override {
    return inner_->append(entry);
  }
  caf::expected<std::vector<domain::audit_entry>>
  audit(const domain::audit_filter& filter) override {
    return inner_->audit(filter);
  }
  caf::expected<domain::catalog> load_catalog() override {
    return inner_->load_catalog();
  }

private:
  std::unique_ptr<argus::storage::store> inner_ =
      argus::storage::make_memory_store();
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
