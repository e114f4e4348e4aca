// A process killed while PostgreSQL runs its COMMIT: the server finishes
// the commit after the process is gone. The restarted process must read the
// store after that commit, or its replay applies the events again. Here a
// deferred trigger makes one commit take seconds, so the kill lands inside
// it every time. Registered only in ctest's "pg/" set of the suite.

#include "integration/harness.hpp"
#include "support/postgres.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

namespace argus::test {

namespace {

/// The next commit that changes `dedup_key`'s alert takes `seconds` longer:
/// a deferred trigger runs at COMMIT, after the client sent it.
void slow_down_next_commit_of(const pg_schema& schema,
                              const std::string& dedup_key, int seconds) {
  schema.exec("CREATE TABLE slow_once (n int); INSERT INTO slow_once"
              " VALUES (1);"
              " CREATE FUNCTION slow_commit() RETURNS trigger"
              " LANGUAGE plpgsql AS $$ BEGIN DELETE FROM slow_once;"
              " IF FOUND THEN PERFORM pg_sleep(" +
              std::to_string(seconds) +
              "); END IF; RETURN NULL; END $$;"
              " CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON alerts"
              " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
              " WHEN (NEW.dedup_key = '" +
              dedup_key + "') EXECUTE FUNCTION slow_commit()");
}

/// Waits until a commit sleeps in that trigger.
bool commit_sleeping(const pg_schema& schema) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (std::chrono::steady_clock::now() < deadline) {
    if (schema.query_int("SELECT count(*) FROM pg_stat_activity"
                         " WHERE wait_event = 'PgSleep'"
                         " AND query = 'COMMIT'") > 0)
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
  opts.log_level = "info";
  server srv{opts};
  auto m = srv.fresh_manager("class", 3600);
  srv.trigger(m, "x", {{"class", "disk"}});
  srv.trigger(m, "y", {{"class", "disk"}});
  REQUIRE(srv.settle());
  slow_down_next_commit_of(schema, "y", 2);
  srv.resolve(m, "y");
  REQUIRE(commit_sleeping(schema));
  srv.kill9();
  srv.start();
  REQUIRE(srv.settle());
  auto y = srv.alert(m, "y");
  CHECK(y["status"] == "resolved");
  // Read before the commit ended, y was active with one event, and the
  // replayed resolve counted again on top of the late commit's two.
  CHECK(y["event_count"] == 2);
  auto x = srv.alert(m, "x");
  CHECK(x["child_count"] == 1);
  CHECK(x["event_count"] == 1);
  CHECK(srv.log().find("waiting for write transactions of a previous "
                       "process") != std::string::npos);
}

} // namespace argus::test
