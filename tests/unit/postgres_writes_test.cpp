// A killed process's backend may still commit what the process sent before
// it died. Every write transaction holds its writer's lock shared, and
// recovery (a restart, or a cluster peer fencing a dead incarnation) takes
// it exclusively first, so it reads the store only once such commits ended.
// Here a session stands in for the dead process's backend.

#include "actors/recovery.hpp"
#include "delivery/outbox.hpp"
#include "storage/journal.hpp"
#include "storage/store.hpp"

#include "domain/alert.hpp"
#include "domain/error.hpp"
#include "support/postgres.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace {

using argus::test::pg_schema;
using argus::test::pg_session;
using namespace std::chrono_literals;

/// Long enough for an unblocked call to be done many times over.
constexpr auto blocked_for = 300ms;

/// The writes lock of `writer` in the session's schema, as SQL arguments.
std::string lock_args(const std::string& writer) {
  return "418581920, hashtext(current_schema() || ':' || '" + writer + "')";
}

/// Begins, in `s`, a transaction of `writer` that is still running: as the
/// backend of a process killed before its COMMIT was read.
void begin_as_writer(pg_session& s, const std::string& writer) {
  s.exec("BEGIN");
  s.exec("SELECT pg_advisory_xact_lock_shared(" + lock_args(writer) + ")");
}

/// Whether `f` is still running after `blocked_for`.
template <class T>
bool still_waiting(std::future<T>& f) {
  return f.wait_for(blocked_for) == std::future_status::timeout;
}

std::unique_ptr<argus::storage::store> store_or_fail(const std::string& dsn) {
  auto store = argus::storage::open_postgres_store(dsn);
  if (!store)
    FAIL("open failed: " << argus::message_of(store.error()));
  return std::move(*store);
}

std::unique_ptr<argus::storage::journal_fence>
fence_or_fail(const std::string& dsn) {
  auto f = argus::storage::open_postgres_fence(dsn);
  if (!f)
    FAIL("open failed: " << argus::message_of(f.error()));
  return std::move(*f);
}

argus::domain::alert_write active_alert(uint64_t seq) {
  argus::domain::alert a;
  a.id = "id-x";
  a.dedup_key = "x";
  a.event_manager_id = "em";
  a.summary = "disk full";
  a.event_count = 1;
  a.last_seq = seq;
  return {std::move(a), 1};
}

} // namespace

TEST_CASE("postgres writes: a restart reads the store only once the "
          "previous process's last transaction ended",
          "[unit]") {
  pg_schema schema;
  {
    auto store = store_or_fail(schema.dsn());
    REQUIRE_FALSE(store->write({active_alert(3)}, {}, 3));
  }
  // The dead process had sent the transaction of event 4 (it resolves x)
  // with its COMMIT; its backend has not got to the COMMIT yet.
  pg_session dead{schema.dsn()};
  begin_as_writer(dead, argus::storage::single_node_journal_id);
  dead.exec("UPDATE alerts SET status = 'resolved', event_count = 2,"
            " last_seq = 4 WHERE dedup_key = 'x'");
  dead.exec("UPDATE meta SET value = 4 WHERE key = 'applied_through'");
  argus::config::settings settings;
  settings.storage.backend = "postgres";
  settings.storage.dsn = schema.dsn();
  auto recovering = std::async(
      std::launch::async, [&] { return argus::actors::recover(settings); });
  CHECK(still_waiting(recovering));
  dead.exec("COMMIT");
  auto r = recovering.get();
  if (!r)
    FAIL("recover failed: " << argus::message_of(r.error()));
  // Read before the commit, the mark said 3 with x active at 1 event, and
  // the replay would have resolved x again: 3 events.
  CHECK(r->applied_through == 4);
  CHECK(r->open_work.empty());
}

TEST_CASE("postgres writes: store writes, outbox changes and journal appends "
          "hold their writer's lock",
          "[unit]") {
  pg_schema schema;
  auto store = store_or_fail(schema.dsn());
  auto incarnation = "a/" + argus::domain::random_uuid();
  auto journal =
      argus::storage::open_postgres_journal(schema.dsn(), incarnation);
  REQUIRE(journal);
  pg_session recovery{schema.dsn()};

  SECTION("the single node's store write") {
    recovery.exec("SELECT pg_advisory_lock(" +
                  lock_args(argus::storage::single_node_journal_id) + ")");
    auto writing = std::async(std::launch::async, [&] {
      return store->write({active_alert(1)}, {}, 1);
    });
    CHECK(still_waiting(writing));
    recovery.exec("SELECT pg_advisory_unlock(" +
                  lock_args(argus::storage::single_node_journal_id) + ")");
    CHECK_FALSE(writing.get());
    CHECK(schema.query_int("SELECT count(*) FROM alerts") == 1);
  }

  SECTION("a clustered node's store write, under its incarnation") {
    recovery.exec("SELECT pg_advisory_lock(" + lock_args(incarnation) + ")");
    // Another writer's lock does not hold it up.
    CHECK_FALSE(store->write({active_alert(1)}, {}, 1));
    auto writing = std::async(std::launch::async, [&] {
      return store->write_completing({active_alert(2)}, {}, incarnation, {});
    });
    CHECK(still_waiting(writing));
    recovery.exec("SELECT pg_advisory_unlock(" + lock_args(incarnation) + ")");
    CHECK_FALSE(writing.get());
  }

  SECTION("a clustered node's outbox transaction, under its incarnation") {
    auto box = store->open_outbox(incarnation);
    REQUIRE(box);
    recovery.exec("SELECT pg_advisory_lock(" + lock_args(incarnation) + ")");
    auto fanning = std::async(std::launch::async,
                              [&] { return (*box)->fan_out({"n-1"}, {}); });
    CHECK(still_waiting(fanning));
    recovery.exec("SELECT pg_advisory_unlock(" + lock_args(incarnation) + ")");
    CHECK_FALSE(fanning.get());
  }

  SECTION("a clustered node's journal append") {
    recovery.exec("SELECT pg_advisory_lock(" + lock_args(incarnation) + ")");
    argus::domain::event e;
    e.seq = 1;
    e.event_manager_id = "em";
    e.dedup_key = "x";
    auto appending =
        std::async(std::launch::async, [&] { return (*journal)->append({e}); });
    CHECK(still_waiting(appending));
    recovery.exec("SELECT pg_advisory_unlock(" + lock_args(incarnation) + ")");
    CHECK_FALSE(appending.get());
    CHECK(schema.query_int("SELECT count(*) FROM journal") == 1);
  }
}

TEST_CASE("postgres writes: a fence waits for a writer's transactions in "
          "flight",
          "[unit]") {
  pg_schema schema;
  auto fence = fence_or_fail(schema.dsn());
  pg_session dead{schema.dsn()};

  SECTION("await_writes returns once the transaction ends") {
    // Nothing in flight: no wait.
    CHECK_FALSE(fence->await_writes("w"));
    begin_as_writer(dead, "w");
    auto waiting = std::async(std::launch::async,
                              [&] { return fence->await_writes("w"); });
    CHECK(still_waiting(waiting));
    // Another writer's transaction is not waited for.
    CHECK_FALSE(fence_or_fail(schema.dsn())->await_writes("other"));
    dead.exec("ROLLBACK");
    CHECK_FALSE(waiting.get());
  }

  SECTION("a dead incarnation is fenced only once its transactions ended") {
    auto incarnation = "b/" + argus::domain::random_uuid();
    begin_as_writer(dead, incarnation);
    auto fenced = fence->try_fence(incarnation);
    REQUIRE(fenced);
    CHECK_FALSE(*fenced);
    dead.exec("COMMIT");
    // The first try let go of the journal's lock: another fence takes it.
    auto other = fence_or_fail(schema.dsn());
    auto taken = other->try_fence(incarnation);
    REQUIRE(taken);
    CHECK(*taken);
    CHECK_FALSE(other->release(incarnation));
  }
}
