// The repository writes behind in batches and reads see everything it
// received; notifications go to the outbox with the changes that caused
// them, and the notifier lists them.

#include "fixture.hpp"
#include "memory_store_wrapper.hpp"

#include "domain/error.hpp"

namespace {

using namespace std::chrono_literals;

using argus::atom::flush;
using argus::atom::ok;
using argus::atom::write;
/// These writes come from no journaled event.
const std::vector<uint64_t> no_seqs;
/// ...and cause no notification.
const std::vector<argus::domain::notification> no_notes;
using argus::domain::alert;
using argus::domain::alert_write;
using argus::domain::notification;
using argus::domain::notification_kind;
using fixture = argus::test::actor_fixture;

alert_write write_of(const std::string& key, int64_t created_ms) {
  alert a;
  a.id = argus::domain::alert_id_for("m1", key);
  a.dedup_key = key;
  a.event_manager_id = "m1";
  a.created_at = argus::domain::from_millis(created_ms);
  a.updated_at = a.created_at;
  return alert_write{a, 1};
}

size_t stored_count(argus::storage::store& store) {
  auto all = store.list(argus::domain::alert_filter{});
  REQUIRE(all);
  return all->size();
}

/// The notification a change to `key` made.
std::vector<notification> note_for(const std::string& key) {
  notification n;
  n.id = "note-" + key;
  n.parent = *write_of(key, 1).snapshot;
  return {n};
}

/// A memory store whose first `failures` writes fail, as a full disk's do.
class fails_first_writes : public argus::test::memory_store_wrapper {
public:
  explicit fails_first_writes(int failures) : failures_(failures) {}

  caf::error write(const std::vector<alert_write>& writes,
                   const argus::storage::notifications& notes,
                   uint64_t applied_through) override {
    if (failures_ > 0) {
      --failures_;
      return argus::make_error(argus::ec::unavailable, "disk full");
    }
    return memory_store_wrapper::write(writes, notes, applied_through);
  }

private:
  int failures_;
};

} // namespace

TEST_CASE_METHOD(fixture, "the repository writes behind in batches",
                 "[actors]") {
  std::shared_ptr<argus::storage::store> own =
      argus::storage::make_memory_store();
  argus::actors::repository_settings settings;
  settings.batch_size = 3;
  settings.flush_interval = 5ms;
  auto r = spawn(argus::actors::repository, own, settings, context());
  sched->run();

  // A quiet repository writes at once...
  caf::anon_send(r, write::value, std::vector<alert_write>{write_of("a", 1)},
                 no_notes, no_seqs);
  sched->run();
  CHECK(stored_count(*own) == 1);
  // ...then the next change waits until 5 ms after that write ended (or
  // for a full batch).
  caf::anon_send(r, write::value, std::vector<alert_write>{write_of("e", 1)},
                 no_notes, no_seqs);
  sched->run();
  CHECK(stored_count(*own) == 1);
  sched->advance_time(4ms);
  sched->run();
  CHECK(stored_count(*own) == 1);
  sched->advance_time(1ms);
  sched->run();
  CHECK(stored_count(*own) == 2);

  SECTION("a full batch is written at once") {
    caf::anon_send(r, write::value,
                   std::vector<alert_write>{write_of("b", 2), write_of("c", 3)},
                   no_notes, no_seqs);
    caf::anon_send(r, write::value, std::vector<alert_write>{write_of("d", 4)},
                   no_notes, no_seqs);
    sched->run();
    CHECK(stored_count(*own) == 5);
  }
  SECTION("flush writes what is pending") {
    caf::anon_send(r, write::value, std::vector<alert_write>{write_of("b", 2)},
                   no_notes, no_seqs);
    sched->run();
    CHECK(stored_count(*own) == 2);
    CHECK(ask<ok>(r, flush::value) == ok::value);
    CHECK(stored_count(*own) == 3);
  }
  SECTION("a change after a quiet spell is written at once again") {
    sched->advance_time(5ms);
    caf::anon_send(r, write::value, std::vector<alert_write>{write_of("b", 2)},
                   no_notes, no_seqs);
    sched->run();
    CHECK(stored_count(*own) == 3);
  }
  SECTION("a change with a notification is written at once, with what "
          "waits") {
    caf::anon_send(r, write::value, std::vector<alert_write>{write_of("b", 2)},
                   no_notes, no_seqs);
    sched->run();
    CHECK(stored_count(*own) == 2);
    caf::anon_send(r, write::value, std::vector<alert_write>{write_of("c", 2)},
                   note_for("c"), no_seqs);
    sched->run();
    CHECK(stored_count(*own) == 4);
    // The 5 ms timer the first change armed finds nothing left to write.
    sched->advance_time(5ms);
    sched->run();
    CHECK(stored_count(*own) == 4);
  }
  SECTION("reads see pending changes") {
    caf::anon_send(r, write::value,
                   std::vector<alert_write>{write_of("b", 2), write_of("b", 2)},
                   no_notes, no_seqs);
    sched->run();
    auto b = ask<std::vector<alert>>(r, argus::atom::get::value,
                                     std::string{"m1"}, std::string{"b"});
    REQUIRE(b.size() == 1);
    CHECK(b[0].event_count == 2); // two deltas of one
    CHECK(stored_count(*own) == 3);
  }
}

TEST_CASE_METHOD(fixture,
                 "with no flush interval the repository writes as soon as it "
                 "has taken the queued changes, in one transaction",
                 "[actors]") {
  std::shared_ptr<argus::storage::store> own =
      argus::storage::make_memory_store();
  argus::actors::repository_settings settings;
  settings.flush_interval = {};
  // One call per transaction that stored notifications.
  std::vector<size_t> transactions;
  settings.on_notified = [&](std::vector<notification> stored) {
    transactions.push_back(stored.size());
  };
  auto r = spawn(argus::actors::repository, own, settings, context());
  sched->run();
  // Three changes queue up while the repository is busy elsewhere...
  for (auto key : {"a", "b", "c"})
    caf::anon_send(r, write::value, std::vector<alert_write>{write_of(key, 1)},
                   note_for(key), no_seqs);
  // ...and are stored together once it runs, without time passing.
  sched->run();
  CHECK(stored_count(*own) == 3);
  CHECK(transactions == std::vector<size_t>{3});
  // A change on a quiet repository is stored right away, on its own.
  caf::anon_send(r, write::value, std::vector<alert_write>{write_of("d", 2)},
                 note_for("d"), no_seqs);
  sched->run();
  CHECK(stored_count(*own) == 4);
  CHECK(transactions == std::vector<size_t>{3, 1});
}

TEST_CASE_METHOD(fixture,
                 "after a failed write the repository retries after a "
                 "back-off, notifications or not",
                 "[actors]") {
  auto own = std::make_shared<fails_first_writes>(1);
  argus::actors::repository_settings settings;
  settings.flush_interval = 5ms;
  auto r = spawn(argus::actors::repository, own, settings, context());
  sched->run();
  caf::anon_send(r, write::value, std::vector<alert_write>{write_of("a", 1)},
                 note_for("a"), no_seqs);
  sched->run();
  CHECK(stored_count(*own) == 0);
  CHECK(context()->stats->store_errors.load() == 1);
  // A notification does not cut the back-off short...
  caf::anon_send(r, write::value, std::vector<alert_write>{write_of("b", 1)},
                 note_for("b"), no_seqs);
  sched->run();
  sched->advance_time(499ms);
  sched->run();
  CHECK(stored_count(*own) == 0);
  // ...and at its end both are written, nothing lost.
  sched->advance_time(1ms);
  sched->run();
  CHECK(stored_count(*own) == 2);
  // Written again, the next notification goes out at once.
  caf::anon_send(r, write::value, std::vector<alert_write>{write_of("c", 1)},
                 note_for("c"), no_seqs);
  sched->run();
  CHECK(stored_count(*own) == 3);
}

TEST_CASE_METHOD(fixture,
                 "the repository hands the changes of each stored write to "
                 "on_stored, and none of a failed one",
                 "[actors]") {
  auto own = std::make_shared<fails_first_writes>(1);
  argus::actors::repository_settings settings;
  settings.flush_interval = 5ms;
  std::vector<std::vector<std::string>> handed;
  settings.on_stored = [&](const std::vector<alert_write>& writes) {
    std::vector<std::string> keys;
    for (auto& w : writes)
      keys.push_back(w.snapshot->dedup_key.str());
    handed.push_back(keys);
  };
  auto r = spawn(argus::actors::repository, own, settings, context());
  sched->run();
  caf::anon_send(r, write::value,
                 std::vector<alert_write>{write_of("a", 1), write_of("b", 1)},
                 note_for("a"), no_seqs);
  sched->run();
  CHECK(stored_count(*own) == 0); // the write failed: nothing handed on
  CHECK(handed.empty());
  // The retry after the back-off stores both, and hands both on once.
  sched->advance_time(1s);
  sched->run();
  CHECK(stored_count(*own) == 2);
  CHECK(handed == std::vector<std::vector<std::string>>{{"a", "b"}});
}

TEST_CASE_METHOD(fixture, "the repository lists with filters, newest first",
                 "[actors]") {
  caf::anon_send(repo, write::value,
                 std::vector<alert_write>{write_of("old", 1000),
                                          write_of("mid", 2000),
                                          write_of("new", 3000)},
                 no_notes, no_seqs);
  sched->run();
  argus::domain::alert_filter f;
  CHECK(argus::test::keys_of(list(f)) ==
        std::vector<std::string>{"new", "mid", "old"});
  f.limit = 1;
  f.offset = 1;
  CHECK(argus::test::keys_of(list(f)) == std::vector<std::string>{"mid"});
  f = {};
  f.event_manager_id = "m2";
  CHECK(list(f).empty());
  f = {};
  f.status = "resolved";
  CHECK(list(f).empty());
  CHECK(counts() == std::pair<int64_t, int64_t>{3, 0});
}

TEST_CASE_METHOD(fixture,
                 "notifications are stored with their changes and listed "
                 "newest first, a repeat once",
                 "[actors]") {
  std::vector<notification> notes;
  for (auto key : {"a", "b", "c"}) {
    notification x;
    x.id = std::string{"note-"} + key;
    x.kind = notification_kind::parent_opened;
    x.parent = *write_of(key, 1).snapshot;
    x.at = now();
    notes.push_back(x);
  }
  auto again = notes[1];
  caf::anon_send(repo, write::value,
                 std::vector<alert_write>{write_of("a", 1), write_of("b", 1),
                                          write_of("c", 1)},
                 notes, no_seqs);
  // The same notification from a replay: the outbox has it already.
  caf::anon_send(repo, write::value, std::vector<alert_write>{},
                 std::vector<notification>{again}, no_seqs);
  CHECK(ask<ok>(repo, flush::value) == ok::value);
  sched->run();
  auto all = notifications(10);
  REQUIRE(all.size() == 3);
  CHECK(all[0].parent->dedup_key == "c");
  CHECK(all[0].id == "note-c");
  CHECK(all[0].seq == 3);
  CHECK(all[1].parent->dedup_key == "b");
  CHECK(all[1].seq == 2);
  auto one = notifications(1);
  REQUIRE(one.size() == 1);
  CHECK(one[0].parent->dedup_key == "c");
  // The notifier heard of each stored one (the repeat too: it cannot tell).
  CHECK(ctx->stats->notifications == 4);
  // Without a worker nothing is sent: no deliveries, nothing to retry.
  auto err = ask_with(
      notifier, [](ok) {}, argus::atom::retry::value, std::string{"note-a"},
      std::string{});
  CHECK(argus::code_of(err) == argus::ec::not_found);
}

namespace {

/// `key`'s alert resolved at `resolved_at`, as its group writes it.
alert_write resolved_write(const std::string& key,
                           argus::domain::time_point resolved_at) {
  auto w = write_of(key, 1);
  auto a = *w.snapshot;
  a.status = argus::domain::alert_status::resolved;
  a.resolved_at = resolved_at;
  return alert_write{a, 0};
}

/// A memory store that records the cutoff of each `drop_resolved`, says
/// "more" the first `partial` times, and fails the first `failing` writes.
/// It records where each `drop_notifications` starts too, and says "more"
/// (five seqs on) the first `partial_notes` times.
class records_drops final : public fails_first_writes {
public:
  explicit records_drops(int partial, int failing = 0, int partial_notes = 0)
      : fails_first_writes(failing), partial_(partial),
        partial_notes_(partial_notes) {}

  caf::expected<dropped_notifications>
  drop_notifications(argus::domain::time_point cutoff, uint64_t after,
                     size_t at_most) override {
    outbox_steps.push_back(after);
    auto result =
        memory_store_wrapper::drop_notifications(cutoff, after, at_most);
    if (result && partial_notes_ > 0) {
      --partial_notes_;
      result->last_seq = after + 5;
      result->more = true;
    }
    return result;
  }

  /// Where each outbox step started.
  std::vector<uint64_t> outbox_steps;

  caf::expected<dropped> drop_resolved(argus::domain::time_point cutoff,
                                       size_t at_most) override {
    cutoffs.push_back(cutoff);
    if (on_drop)
      on_drop();
    auto result = memory_store_wrapper::drop_resolved(cutoff, at_most);
    if (result && partial_ > 0) {
      --partial_;
      result->more = true;
    }
    return result;
  }

  std::vector<argus::domain::time_point> cutoffs;
  /// Called at each `drop_resolved`.
  std::function<void()> on_drop;

private:
  int partial_;
  int partial_notes_;
};

/// A repository over `store` keeping resolved alerts for 100 s (so it
/// looks every 10 s, the first time 10 s from now), started.
argus::actors::repository_actor
spawn_retaining(fixture& f, std::shared_ptr<records_drops> store,
                argus::actors::repository_settings settings = {}) {
  settings.retention.keep = 100s;
  auto r = f.spawn(argus::actors::repository, std::move(store),
                   std::move(settings), f.context());
  f.sched->run();
  return r;
}

bool stored(argus::storage::store& store, const std::string& key) {
  auto found = store.by_dedup_key("m1", key);
  REQUIRE(found);
  return !found->empty();
}

} // namespace

TEST_CASE_METHOD(fixture,
                 "the repository deletes alerts resolved longer ago than the "
                 "retention, a tenth of it apart",
                 "[actors]") {
  auto own = std::make_shared<records_drops>(0);
  auto r = spawn_retaining(*this, own);
  caf::anon_send(r, write::value,
                 std::vector<alert_write>{resolved_write("old", now() - 150s),
                                          resolved_write("recent", now() - 85s),
                                          write_of("active", 1)},
                 no_notes, no_seqs);
  sched->run();
  REQUIRE(stored_count(*own) == 3);
  advance(9s);
  CHECK(own->cutoffs.empty());
  advance(1s);
  REQUIRE(own->cutoffs.size() == 1);
  CHECK(own->cutoffs[0] == now() - 100s);
  CHECK_FALSE(stored(*own, "old"));
  CHECK(stored(*own, "recent"));
  CHECK(stored(*own, "active"));
  // At the first look "recent" resolved 95 s ago; ten seconds on, 105 s.
  advance(10s);
  CHECK(own->cutoffs.size() == 2);
  CHECK_FALSE(stored(*own, "recent"));
  CHECK(stored(*own, "active"));
}

TEST_CASE_METHOD(fixture,
                 "retention writes what is pending first, so an old resolved "
                 "alert triggered again stays",
                 "[actors]") {
  auto own = std::make_shared<records_drops>(0);
  argus::actors::repository_settings settings;
  settings.flush_interval = 1h; // the re-trigger waits in `pending`
  auto r = spawn_retaining(*this, own, settings);
  caf::anon_send(r, write::value,
                 std::vector<alert_write>{resolved_write("old", now() - 150s)},
                 no_notes, no_seqs);
  sched->run();
  REQUIRE(stored(*own, "old"));
  // The first write went at once; this one waits for the interval.
  caf::anon_send(r, write::value, std::vector<alert_write>{write_of("old", 1)},
                 no_notes, no_seqs);
  sched->run();
  advance(10s);
  REQUIRE(own->cutoffs.size() == 1);
  auto found = own->by_dedup_key("m1", "old");
  REQUIRE(found);
  REQUIRE(found->size() == 1);
  CHECK((*found)[0].status == argus::domain::alert_status::active);
}

TEST_CASE_METHOD(fixture,
                 "a retention pass that stopped at its bound goes on at once, "
                 "after the queued writes",
                 "[actors]") {
  auto own = std::make_shared<records_drops>(2);
  auto r = spawn_retaining(*this, own);
  advance(10s);
  // Two partial steps and the last, without the clock moving.
  CHECK(own->cutoffs.size() == 3);
  advance(9s);
  CHECK(own->cutoffs.size() == 3);
  advance(1s);
  CHECK(own->cutoffs.size() == 4);
}

TEST_CASE_METHOD(fixture,
                 "a retention pass keeps the cutoff it started with to its "
                 "end",
                 "[actors]") {
  // Alerts resolving faster than steps delete them moved a fresh cutoff
  // on at every step: the pass never ended, and never came to the outbox.
  auto own = std::make_shared<records_drops>(2, 0, 1);
  own->on_drop = [this] { advance_clock(1s); };
  auto r = spawn_retaining(*this, own);
  advance(10s);
  REQUIRE(own->cutoffs.size() == 3);
  CHECK(own->cutoffs[1] == own->cutoffs[0]);
  CHECK(own->cutoffs[2] == own->cutoffs[0]);
  CHECK(own->outbox_steps.size() == 2);
  // The next pass takes a new one.
  own->on_drop = nullptr;
  advance(10s);
  REQUIRE(own->cutoffs.size() == 4);
  CHECK(own->cutoffs[3] == now() - 100s);
}

TEST_CASE_METHOD(fixture,
                 "a retention pass goes through the outbox once the alerts "
                 "are done, on from where each step stopped",
                 "[actors]") {
  auto own = std::make_shared<records_drops>(1, 0, 2);
  auto r = spawn_retaining(*this, own);
  advance(10s);
  // Two alert steps, then three outbox steps, without the clock moving.
  CHECK(own->cutoffs.size() == 2);
  CHECK(own->outbox_steps == std::vector<uint64_t>{0, 5, 10});
  // The next pass starts over: the alerts, then the outbox from its start.
  advance(10s);
  CHECK(own->cutoffs.size() == 3);
  CHECK(own->outbox_steps == std::vector<uint64_t>{0, 5, 10, 0});
}

TEST_CASE_METHOD(fixture, "without a retention the repository deletes nothing",
                 "[actors]") {
  auto own = std::make_shared<records_drops>(0);
  auto r = spawn(argus::actors::repository, own,
                 argus::actors::repository_settings{}, context());
  sched->run();
  advance(2h);
  CHECK(own->cutoffs.empty());
}

TEST_CASE_METHOD(fixture, "retention waits out a failing store's back-off",
                 "[actors]") {
  auto own = std::make_shared<records_drops>(0, 1);
  auto r = spawn_retaining(*this, own);
  advance(9800ms);
  // A write fails just before the first look: the back-off runs past it.
  caf::anon_send(r, write::value, std::vector<alert_write>{write_of("a", 1)},
                 no_notes, no_seqs);
  sched->run();
  REQUIRE(context()->stats->store_errors.load() == 1);
  advance(200ms);
  CHECK(own->cutoffs.empty());
  CHECK(stored_count(*own) == 0);
  // The retried write goes at the back-off's end, the next look at 20 s.
  advance(300ms);
  CHECK(stored_count(*own) == 1);
  advance(9600ms);
  CHECK(own->cutoffs.empty());
  advance(100ms);
  CHECK(own->cutoffs.size() == 1);
}
