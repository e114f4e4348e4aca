// A process killed while PostgreSQL runs its COMMIT: the server finishes
// the commit after the process is gone. The restarted process must read the
// store after that commit, or its replay applies the events again. Here a
// deferred trigger holds one commit until the test lets it go, so the kill
// lands inside it every time. Registered only in ctest's "pg/" set of the
// suite.

#include "integration/harness.hpp"
#include "support/postgres.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

namespace argus::test {

namespace {

/// The lock the held commit waits for: the test's own, per schema.
const std::string held_lock = "4242, hashtext(current_schema()) & 2147483647";

/// The next commit that changes `dedup_key`'s alert waits for `held_lock`:
/// a deferred trigger runs at COMMIT, after the client sent it.
void hold_next_commit_of(const pg_schema& schema,
                         const std::string& dedup_key) {
  schema.exec("CREATE TABLE held_once (n int); INSERT INTO held_once"
              " VALUES (1);"
              " CREATE FUNCTION held_commit() RETURNS trigger"
              " LANGUAGE plpgsql AS $$ BEGIN DELETE FROM held_once;"
              " IF FOUND THEN PERFORM pg_advisory_xact_lock_shared(" +
              held_lock +
              "); END IF; RETURN NULL; END $$;"
              " CREATE CONSTRAINT TRIGGER held_commit AFTER UPDATE ON alerts"
              " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
              " WHEN (NEW.dedup_key = '" +
              dedup_key + "') EXECUTE FUNCTION held_commit()");
}

/// Waits until a commit waits for `held_lock`.
bool commit_held(const pg_schema& schema) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (std::chrono::steady_clock::now() < deadline) {
    if (schema.query_int("SELECT count(*) FROM pg_locks WHERE"
                         " locktype = 'advisory' AND NOT granted"
                         " AND classid = 4242 AND objid = (hashtext("
                         "current_schema()) & 2147483647)::oid") > 0)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return false;
}

} // namespace

TEST_CASE("postgres: a restart after kill -9 waits for the commit the "
          "killed process left running",
          "[integration][postgres]") {
  pg_schema schema;
  server_options opts;
  opts.dsn = schema.dsn();
  server srv{opts};
  auto m = srv.fresh_manager("class", 3600);
  srv.trigger(m, "x", {{"class", "disk"}});
  srv.trigger(m, "y", {{"class", "disk"}});
  REQUIRE(srv.settle());
  pg_session test{schema.dsn()};
  test.exec("SELECT pg_advisory_lock(" + held_lock + ")");
  hold_next_commit_of(schema, "y");
  srv.resolve(m, "y");
  REQUIRE(commit_held(schema));
  srv.kill9();
  // The restarted process says it waits; then the commit is let go (after
  // 8 s regardless, well within the start's 15: a build that does not
  // wait then starts, and shows the double count).
  std::atomic<bool> saw_wait{false};
  std::thread release{[&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{8};
    while (!saw_wait && std::chrono::steady_clock::now() < deadline) {
      saw_wait = srv.log().find("sessions of a previous process of this "
                                "node are still open") != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    test.exec("SELECT pg_advisory_unlock(" + held_lock + ")");
  }};
  struct joined {
    std::thread& t;
    ~joined() { t.join(); } // also when start() fails the test
  } join_release{release};
  srv.start();
  CHECK(saw_wait);
  REQUIRE(srv.settle());
  auto y = srv.alert(m, "y");
  CHECK(y["status"] == "resolved");
  // Read before the commit ended, y was active with one event, and the
  // replayed resolve counted again on top of the late commit's two.
  CHECK(y["event_count"] == 2);
  auto x = srv.alert(m, "x");
  CHECK(x["child_count"] == 1);
  CHECK(x["event_count"] == 1);
}

} // namespace argus::test
