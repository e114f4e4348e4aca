// PostgreSQL going away: each test runs a server of its own (tools/pg.sh),
// stops it and starts it again under a running argus. Registered only in
// ctest's "pg/" set of the suite.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace argus::test {

namespace {

/// A throwaway PostgreSQL of this test's own, which it may stop and start.
class private_postgres {
public:
  private_postgres() { start(); }
  ~private_postgres() { pg_sh("destroy"); }
  private_postgres(const private_postgres&) = delete;
  private_postgres& operator=(const private_postgres&) = delete;

  void start() { REQUIRE(pg_sh("start") == 0); }
  void stop() { REQUIRE(pg_sh("stop") == 0); }

  std::string dsn() const {
    auto text = read_file(state_.path() / "dsn");
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
      text.pop_back();
    return text;
  }

private:
  int pg_sh(const std::string& command) const {
    auto log = (state_.path() / "pg.log").string();
    auto line = std::string{ARGUS_PG_SH} + " " + command + " " +
                state_.path().string() + " >>" + log + " 2>&1";
    auto status = std::system(line.c_str());
    if (status != 0)
      WARN("pg.sh " << command << " failed:\n" << read_file(log));
    return status;
  }

  temp_dir state_;
};

bool is_unavailable(const response& r) {
  return r.status == 503 && r.error_code() == "UNAVAILABLE";
}

} // namespace

TEST_CASE("postgres: a server that is down at start is a clear error",
          "[integration][postgres]") {
  private_postgres pg;
  auto dsn = pg.dsn();
  pg.stop();
  temp_dir dir;
  server_options opts;
  opts.backend = "postgres";
  opts.dsn = dsn;
  auto config = dir.path() / "config.yaml";
  write_file(config, config_yaml(dir.path(), free_port(), opts));
  auto r = run_argus({"--config", config.string()}, std::chrono::seconds{20});
  INFO(r.output);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("cannot start"));
  CHECK_THAT(r.output, Catch::Contains("postgres: cannot connect"));
  // The address is named, the DSN (which may hold a password) is not.
  CHECK_THAT(r.output, Catch::Contains("127.0.0.1"));
  CHECK_THAT(r.output, !Catch::Contains("user=argus"));
}

TEST_CASE("postgres: a server that goes away and comes back",
          "[integration][postgres]") {
  private_postgres pg;
  server_options opts;
  opts.backend = "postgres";
  opts.dsn = pg.dsn();
  server s{opts};
  CHECK(s.health()["storage"] == "postgres");
  auto m = s.fresh_manager("class");
  s.trigger(m, "before", {{"class", "db"}});
  REQUIRE(s.await_alert(m, "before").is_object());

  pg.stop();
  // An event now is either refused (503: the journal cannot store it) or,
  // without a journal, accepted and kept until the store is back.
  auto during = s.post_event(trigger_event(m, "during"));
  INFO("during: " << during.text);
  CHECK((during.status == 202 || is_unavailable(during)));
  if (during.status == 503)
    CHECK_THAT(during.error_message(), Catch::Contains("postgres"));
  // Reads need the store: a clear 503, not a hang or a crash.
  auto read = s.http().get("/v1/alerts?event_manager_id=" + m);
  INFO("read: " << read.text);
  CHECK(is_unavailable(read));
  CHECK_THAT(read.error_message(), Catch::Contains("postgres"));
  // The catalog is served from memory meanwhile.
  CHECK(s.http().get("/v1/event-managers/" + m).status == 200);

  pg.start();
  // Back: reads work again, and nothing that was acknowledged is lost.
  CHECK(s.await_alert(
             m, "before", [](const json&) { return true; },
             std::chrono::seconds{15})
            .is_object());
  if (during.status == 202)
    CHECK(s.await_alert(
               m, "during", [](const json&) { return true; },
               std::chrono::seconds{15})
              .is_object());
  s.trigger(m, "after", {{"class", "db"}});
  auto after = s.await_alert(m, "after");
  REQUIRE(after.is_object());
  CHECK(after["type"] == "child");
  CHECK(after["parent_dedupKey"] == "before");
  CHECK_THAT(s.log(), Catch::Contains("postgres: "));
  // And all of it is still there after a restart.
  CHECK(s.restart() == 0);
  CHECK(s.alert(m, "after")["parent_dedupKey"] == "before");
  CHECK(s.stop() == 0);
}

} // namespace argus::test
