// A killed process's backend may still commit what the process sent before
// it died. Every session a writer writes on holds the writer's lock, and
// recovery (a restart, or a cluster peer fencing a dead incarnation) waits
// until no such session is left, so it reads the store only once such
// commits ended. Here a session stands in for the dead process's backend.

#include "actors/recovery.hpp"
#include "delivery/outbox.hpp"
#include "storage/journal.hpp"
#include "storage/postgres.hpp"
#include "storage/postgres_writes.hpp"
#include "storage/store.hpp"

#include "domain/alert.hpp"
#include "domain/error.hpp"
#include "support/cutting_proxy.hpp"
#include "support/postgres.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace {

using argus::test::pg_schema;
using argus::test::pg_session;
using namespace std::chrono_literals;

/// Long enough for a call that does not wait to be done many times over.
constexpr auto blocked_for = 300ms;

/// Whether `f` is still running after `blocked_for`.
template <class T>
bool still_waiting(std::future<T>& f) {
  return f.wait_for(blocked_for) == std::future_status::timeout;
}

/// Whether `f` finished within 30 s (a wait that never ends fails the
/// test instead of hanging it).
template <class T>
bool finished(std::future<T>& f) {
  return f.wait_for(30s) == std::future_status::ready;
}

/// `writer`'s lock, as SQL arguments.
std::string lock_of(const std::string& writer) {
  return "418581920, hashtext(current_schema() || ':' || '" + writer + "')";
}

/// Takes, in `s`, `writer`'s lock as a session of that writer does.
void hold_as_writer(pg_session& s, const std::string& writer) {
  s.exec("SELECT pg_advisory_lock_shared(" + lock_of(writer) + ")");
}

std::unique_ptr<argus::storage::pg::connection>
connection_or_fail(const std::string& dsn) {
  auto conn = argus::storage::pg::open(dsn);
  if (!conn)
    FAIL("open failed: " << argus::message_of(conn.error()));
  return std::move(*conn);
}

/// Whether no session of `writer` is left within five seconds: the server
/// frees a session's locks once it notices that the session ended.
bool gone_within(argus::storage::pg::connection& conn,
                 const std::string& writer) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    auto gone = argus::storage::pg::writer_gone(conn, writer);
    if (!gone)
      FAIL("writer_gone failed: " << argus::message_of(gone.error()));
    if (*gone)
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(20ms);
  }
}

bool gone_now(argus::storage::pg::connection& conn, const std::string& writer) {
  auto gone = argus::storage::pg::writer_gone(conn, writer);
  if (!gone)
    FAIL("writer_gone failed: " << argus::message_of(gone.error()));
  return *gone;
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

const std::string& single = argus::storage::single_node_journal_id;

/// A journal record of event `seq`.
argus::domain::event record(uint64_t seq) {
  argus::domain::event e;
  e.seq = seq;
  e.event_manager_id = "em";
  e.dedup_key = "x" + std::to_string(seq);
  return e;
}

/// A writer that journaled `records` and is gone (no session left): its
/// records are for a peer to adopt. Answers its id.
std::string dead_writer_with(const std::string& dsn,
                             argus::storage::pg::connection& probe,
                             const std::vector<argus::domain::event>& records) {
  auto dead = "d/" + argus::domain::random_uuid();
  {
    auto journal = argus::storage::open_postgres_journal(dsn, dead);
    REQUIRE(journal);
    REQUIRE_FALSE((*journal)->append(records));
  }
  REQUIRE(gone_within(probe, dead));
  return dead;
}

} // namespace

TEST_CASE("postgres writers: a restart reads the store only once the "
          "previous process's sessions are gone",
          "[unit]") {
  pg_schema schema;
  REQUIRE_FALSE(store_or_fail(schema.dsn())->write({active_alert(3)}, {}, 3));
  // The dead process had sent the transaction of event 4 (it resolves x)
  // with its COMMIT; its backend has not got to the COMMIT yet.
  auto dead = std::make_unique<pg_session>(schema.dsn());
  hold_as_writer(*dead, single);
  dead->exec("BEGIN");
  dead->exec("UPDATE alerts SET status = 'resolved', event_count = 2,"
             " last_seq = 4 WHERE dedup_key = 'x'");
  dead->exec("UPDATE meta SET value = 4 WHERE key = 'applied_through'");
  argus::config::settings settings;
  settings.storage.backend = "postgres";
  settings.storage.dsn = schema.dsn();
  auto recovering = std::async(
      std::launch::async, [&] { return argus::actors::recover(settings); });
  CHECK(still_waiting(recovering));
  // The backend commits, reads the end of its input and ends.
  dead->exec("COMMIT");
  dead.reset();
  REQUIRE(finished(recovering));
  auto r = recovering.get();
  if (!r)
    FAIL("recover failed: " << argus::message_of(r.error()));
  // Read before the commit, the mark said 3 with x active at 1 event, and
  // the replay would have resolved x again: 3 events.
  CHECK(r->applied_through == 4);
  CHECK(r->open_work.empty());
}

TEST_CASE("postgres writers: every session a store, journal or outbox "
          "writes on holds its writer's lock while it lives",
          "[unit]") {
  pg_schema schema;
  auto probe = connection_or_fail(schema.dsn());
  auto incarnation = "a/" + argus::domain::random_uuid();
  CHECK(gone_now(*probe, single));
  CHECK(gone_now(*probe, incarnation));

  SECTION("a store: the single node's from the start, an incarnation's "
          "from its first write") {
    auto store = store_or_fail(schema.dsn());
    CHECK_FALSE(gone_now(*probe, single));
    CHECK(gone_now(*probe, incarnation));
    REQUIRE_FALSE(
        store->write_completing({active_alert(1)}, {}, incarnation, {}));
    CHECK_FALSE(gone_now(*probe, incarnation));
    store.reset();
    CHECK(gone_within(*probe, single));
    CHECK(gone_within(*probe, incarnation));
  }

  SECTION("a journal, under its id") {
    auto journal =
        argus::storage::open_postgres_journal(schema.dsn(), incarnation);
    REQUIRE(journal);
    CHECK_FALSE(gone_now(*probe, incarnation));
    CHECK(gone_now(*probe, single));
    journal->reset();
    CHECK(gone_within(*probe, incarnation));
  }

  SECTION("an outbox, under its owner") {
    auto store = store_or_fail(schema.dsn());
    auto box = store->open_outbox(incarnation);
    REQUIRE(box);
    CHECK_FALSE(gone_now(*probe, incarnation));
    box->reset();
    CHECK(gone_within(*probe, incarnation));
  }

  SECTION("a lock_timeout while it waits for the lock is unavailable, not "
          "an internal error") {
    pg_session fencing{schema.dsn()};
    fencing.exec("SELECT pg_advisory_lock(" + lock_of(incarnation) + ")");
    auto impatient = argus::test::pg_dsn_with_schema(
        argus::test::pg_base_dsn() + " options='-c lock_timeout=100'",
        schema.name());
    auto journal =
        argus::storage::open_postgres_journal(impatient, incarnation);
    REQUIRE_FALSE(journal);
    CHECK(argus::code_of(journal.error()) == argus::ec::unavailable);
    CHECK_THAT(argus::message_of(journal.error()),
               Catch::Contains("hold the writer's lock"));
  }

  SECTION("a session made after the last one was lost takes it again") {
    auto app = "argus_writer_" + schema.name();
    auto journal = argus::storage::open_postgres_journal(
        schema.dsn() + " application_name=" + app, incarnation);
    REQUIRE(journal);
    schema.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = '" +
                app + "'");
    CHECK(gone_within(*probe, incarnation));
    REQUIRE_FALSE((*journal)->append({record(1)}));
    CHECK_FALSE(gone_now(*probe, incarnation));
  }
}

TEST_CASE("postgres writers: a fence waits for a writer's sessions", "[unit]") {
  pg_schema schema;
  auto fence = fence_or_fail(schema.dsn());
  auto dead = std::make_unique<pg_session>(schema.dsn());

  SECTION("await_writer_gone returns once the last session ends") {
    // No session: no wait.
    CHECK_FALSE(fence->await_writer_gone("w"));
    hold_as_writer(*dead, "w");
    auto waiting = std::async(std::launch::async,
                              [&] { return fence->await_writer_gone("w"); });
    CHECK(still_waiting(waiting));
    // Another writer's session is not waited for.
    CHECK_FALSE(fence_or_fail(schema.dsn())->await_writer_gone("other"));
    dead.reset();
    REQUIRE(finished(waiting));
    CHECK_FALSE(waiting.get());
  }

  SECTION("a dead incarnation is fenced only once its sessions are gone") {
    auto incarnation = "b/" + argus::domain::random_uuid();
    hold_as_writer(*dead, incarnation);
    auto fenced = fence->try_fence(incarnation);
    REQUIRE(fenced);
    CHECK_FALSE(*fenced);
    dead.reset();
    // The first try let go of the journal's lock: another fence takes it.
    auto other = fence_or_fail(schema.dsn());
    auto deadline = std::chrono::steady_clock::now() + 5s;
    bool taken = false;
    while (!taken && std::chrono::steady_clock::now() < deadline) {
      auto got = other->try_fence(incarnation);
      REQUIRE(got);
      taken = *got;
      std::this_thread::sleep_for(20ms);
    }
    CHECK(taken);
    CHECK_FALSE(other->release(incarnation));
  }
}

TEST_CASE("postgres writers: an adoption holds the dead writer's lock while "
          "it runs",
          "[unit]") {
  pg_schema schema;
  auto probe = connection_or_fail(schema.dsn());
  std::vector<argus::domain::event> records{record(1), record(2)};
  auto dead = dead_writer_with(schema.dsn(), *probe, records);
  auto adopter = "a/" + argus::domain::random_uuid();
  auto journal = argus::storage::open_postgres_journal(schema.dsn(), adopter);
  REQUIRE(journal);
  // A fence of the dead writer holds its lock: the adoption waits for it
  // (and a fence coming later waits for the adoption).
  pg_session fencing{schema.dsn()};
  fencing.exec("SELECT pg_advisory_lock(" + lock_of(dead) + ")");
  auto adopting = std::async(std::launch::async, [&] {
    return (*journal)->adopt(records, dead, {1, 2});
  });
  CHECK(still_waiting(adopting));
  fencing.exec("SELECT pg_advisory_unlock(" + lock_of(dead) + ")");
  REQUIRE(finished(adopting));
  CHECK_FALSE(adopting.get());
  CHECK(schema.query_int("SELECT count(*) FROM journal WHERE node_id = '" +
                         adopter + "'") == 2);
  CHECK(schema.query_int("SELECT count(*) FROM journal WHERE node_id = '" +
                         dead + "'") == 0);
  // Let go once done.
  CHECK(gone_now(*probe, dead));

  // A second adopter of the same records (its fence's lock lost with its
  // session, say) stores nothing: each record stays in one journal.
  auto second = argus::storage::open_postgres_journal(
      schema.dsn(), "s/" + argus::domain::random_uuid());
  REQUIRE(second);
  auto again = (*second)->adopt(records, dead, {1, 2});
  REQUIRE(again);
  CHECK(argus::code_of(again) == argus::ec::unavailable);
  CHECK(schema.query_int("SELECT count(*) FROM journal") == 2);
}

namespace {

/// Whether a session holds `incarnation`'s journal lock (the fence's).
bool fence_lock_held(pg_schema& schema, const std::string& incarnation) {
  return schema.query_int("SELECT count(*) FROM pg_locks WHERE"
                          " locktype = 'advisory' AND granted AND"
                          " classid = 418581919 AND objid::bigint ="
                          " (hashtext('" +
                          incarnation + "')::bigint & 4294967295)") > 0;
}

bool fence_lock_gone_within(pg_schema& schema, const std::string& incarnation) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (fence_lock_held(schema, incarnation)) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

} // namespace

TEST_CASE("postgres writers: a node whose sessions were all lost takes its "
          "fence lock again, unless a peer fenced it meanwhile",
          "[unit]") {
  pg_schema schema;
  auto probe = connection_or_fail(schema.dsn());
  auto incarnation = "a/" + argus::domain::random_uuid();
  // The node: its fence, journal and store, on sessions the test can end
  // together, as a server restart or a long cut would.
  auto app = "argus_node_" + schema.name();
  auto node_dsn = schema.dsn() + " application_name=" + app;
  auto own = fence_or_fail(node_dsn);
  REQUIRE_FALSE(own->hold(incarnation));
  auto journal = argus::storage::open_postgres_journal(node_dsn, incarnation);
  REQUIRE(journal);
  REQUIRE_FALSE((*journal)->append({record(1)}));
  auto store = store_or_fail(node_dsn);
  REQUIRE_FALSE(
      store->write_completing({active_alert(1)}, {}, incarnation, {}));
  auto kept = own->keep();
  REQUIRE(kept);
  CHECK(*kept);
  auto peer = fence_or_fail(schema.dsn());
  auto fenced = peer->try_fence(incarnation);
  REQUIRE(fenced);
  REQUIRE_FALSE(*fenced);

  schema.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
              " WHERE application_name = '" +
              app + "'");
  REQUIRE(gone_within(*probe, incarnation));
  REQUIRE(fence_lock_gone_within(schema, incarnation));

  SECTION("checked, the lock is taken again: a peer cannot fence the node") {
    kept = own->keep();
    REQUIRE(kept);
    CHECK(*kept);
    CHECK(fence_lock_held(schema, incarnation));
    fenced = peer->try_fence(incarnation);
    REQUIRE(fenced);
    CHECK_FALSE(*fenced);
    // Its writers connect again and write as before.
    CHECK_FALSE((*journal)->append({record(2)}));
    CHECK_FALSE(
        store->write_completing({active_alert(2)}, {}, incarnation, {}));
  }

  SECTION("a peer that fences it now keeps it from the lock") {
    fenced = peer->try_fence(incarnation);
    REQUIRE(fenced);
    REQUIRE(*fenced);
    kept = own->keep();
    REQUIRE(kept);
    CHECK_FALSE(*kept);
  }

  SECTION("a session that holds the lock without a fence (a peer's try "
          "that will fail, the old backend) is waited for, not taken for "
          "a fence") {
    pg_session trying{schema.dsn()};
    trying.exec("SELECT pg_advisory_lock(418581919, hashtext('" + incarnation +
                "'))");
    kept = own->keep();
    REQUIRE_FALSE(kept);
    CHECK(argus::code_of(kept.error()) == argus::ec::unavailable);
    trying.exec("SELECT pg_advisory_unlock(418581919, hashtext('" +
                incarnation + "'))");
    kept = own->keep();
    REQUIRE(kept);
    CHECK(*kept);
    CHECK(fence_lock_held(schema, incarnation));
  }

  SECTION("a peer fenced it and let go: the node learns it, and its "
          "sessions write nothing more") {
    fenced = peer->try_fence(incarnation);
    REQUIRE(fenced);
    REQUIRE(*fenced);
    REQUIRE_FALSE(peer->release(incarnation));
    kept = own->keep();
    REQUIRE(kept);
    CHECK_FALSE(*kept);
    auto refused = (*journal)->append({record(2)});
    REQUIRE(refused);
    CHECK_THAT(argus::message_of(refused),
               Catch::Contains("a cluster peer fenced this node"));
    CHECK(schema.query_int("SELECT count(*) FROM journal WHERE node_id = '" +
                           incarnation + "'") == 1);
    refused = store->write_completing({active_alert(2)}, {}, incarnation, {});
    REQUIRE(refused);
    CHECK_THAT(argus::message_of(refused),
               Catch::Contains("a cluster peer fenced this node"));
    CHECK(schema.query_int("SELECT last_seq FROM alerts WHERE"
                           " dedup_key = 'x'") == 1);
    CHECK(argus::code_of(refused) == argus::ec::unavailable);
    // A session that first writes as the fenced node takes its lock, is
    // refused, and ends with the lock (the server frees it once the
    // backend is gone): nothing holds up a later fence.
    auto late = store_or_fail(schema.dsn());
    for (int attempt = 0; attempt < 2; ++attempt) {
      refused = late->write_completing({active_alert(3)}, {}, incarnation, {});
      REQUIRE(refused);
      CHECK(gone_within(*probe, incarnation));
    }
    // Another writer is not held back by that record.
    auto other = argus::storage::open_postgres_journal(
        schema.dsn(), "b/" + argus::domain::random_uuid());
    REQUIRE(other);
    CHECK_FALSE((*other)->append({record(1)}));
  }
}

TEST_CASE("postgres writers: a session that waits while a peer fences its "
          "writer sees the fence once it commits, at any isolation level",
          "[unit]") {
  pg_schema schema;
  connection_or_fail(schema.dsn()); // creates the tables
  auto incarnation = "a/" + argus::domain::random_uuid();
  // A peer's fence_writer, caught between its lock and its commit.
  pg_session peer{schema.dsn()};
  peer.exec("BEGIN");
  peer.exec("SELECT pg_advisory_xact_lock(" + lock_of(incarnation) + ")");
  peer.exec("INSERT INTO fenced_writers (writer) VALUES ('" + incarnation +
            "')");
  auto strict = argus::test::pg_dsn_with_schema(
      argus::test::pg_base_dsn() +
          " options='-c default_transaction_isolation=serializable'",
      schema.name());
  auto opening = std::async(std::launch::async, [&] {
    return argus::storage::open_postgres_journal(strict, incarnation);
  });
  CHECK(still_waiting(opening));
  peer.exec("COMMIT");
  REQUIRE(finished(opening));
  auto journal = opening.get();
  REQUIRE_FALSE(journal);
  CHECK_THAT(argus::message_of(journal.error()),
             Catch::Contains("a cluster peer fenced this node"));
}

TEST_CASE("postgres writers: a writer's name is quoted in the fence check, "
          "whatever it holds",
          "[unit]") {
  pg_schema schema;
  auto probe = connection_or_fail(schema.dsn());
  for (std::string name : {"n$$'x", "n$argus$", "n\\'; DROP TABLE journal"}) {
    auto writer = name + "/" + argus::domain::random_uuid();
    INFO(writer);
    auto journal = argus::storage::open_postgres_journal(schema.dsn(), writer);
    REQUIRE(journal);
    CHECK_FALSE((*journal)->append({record(1)}));
    journal->reset();
    REQUIRE(gone_within(*probe, writer));
    auto fenced = argus::storage::pg::fence_writer(*probe, writer);
    REQUIRE(fenced);
    CHECK(*fenced);
    journal = argus::storage::open_postgres_journal(schema.dsn(), writer);
    REQUIRE_FALSE(journal);
    CHECK_THAT(argus::message_of(journal.error()),
               Catch::Contains("a cluster peer fenced this node"));
  }
  CHECK(schema.query_int("SELECT count(*) FROM journal") == 3);
}

TEST_CASE("postgres writers: an adoption whose COMMIT went unanswered is "
          "settled, not left for the next append to overwrite",
          "[unit]") {
  pg_schema schema;
  auto probe = connection_or_fail(schema.dsn());
  std::vector<argus::domain::event> records{record(1), record(2)};
  auto dead = dead_writer_with(schema.dsn(), *probe, records);
  argus::test::cutting_proxy proxy{schema.dsn()};
  auto adopter = "a/" + argus::domain::random_uuid();
  auto journal =
      argus::storage::open_postgres_journal(proxy.via(schema.dsn()), adopter);
  REQUIRE(journal);
  auto count_of = [&](const std::string& writer) {
    return schema.query_int("SELECT count(*) FROM journal WHERE node_id = '" +
                            writer + "'");
  };
  // The server commits; the reply is lost with the connection.
  proxy.cut_after("COMMIT");
  CHECK_FALSE((*journal)->adopt(records, dead, {1, 2}));
  CHECK(count_of(dead) == 0);
  CHECK(count_of(adopter) == 2);
  // Answered as adopted, the records are delivered, and the next append
  // goes after them.
  CHECK_FALSE((*journal)->append({record(3)}));
  CHECK(count_of(adopter) == 3);
}
