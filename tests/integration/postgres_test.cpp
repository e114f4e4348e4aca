// PostgreSQL going away: each test runs a server of its own (tools/pg.sh),
// stops it and starts it again under a running argus. Registered only in
// ctest's "pg/" set of the suite.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

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
  // The journal cannot store an event now: 503, naming the cause.
  auto during = s.post_event(trigger_event(m, "during"));
  INFO("during: " << during.text);
  CHECK(is_unavailable(during));
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
  CHECK(s.alert(m, "during").is_null());
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

TEST_CASE("postgres: every event acknowledged while the server comes and goes "
          "is kept",
          "[integration][postgres]") {
  private_postgres pg;
  server_options opts;
  opts.backend = "postgres";
  opts.dsn = pg.dsn();
  server s{opts};
  auto m = s.fresh_manager("class");
  // One client on its own thread posts events with fresh keys, as fast as
  // it gets answers, while this thread stops and starts PostgreSQL.
  std::atomic<bool> done{false};
  std::atomic<int> acked{0};
  std::atomic<int> refused{0};
  std::vector<std::string> acked_keys;
  std::vector<std::string> odd_replies;
  std::thread load{[&] {
    client c{"127.0.0.1", s.port()};
    for (int i = 0; i < 20000 && !done; ++i) {
      auto key = "k-" + std::to_string(i);
      auto r = c.post("/v1/events", trigger_event(m, key));
      if (r.status == 202) {
        acked_keys.push_back(key);
        ++acked;
      } else if (is_unavailable(r)) {
        ++refused;
      } else {
        odd_replies.push_back(r.text);
      }
    }
  }};
  auto wait_for = [](std::atomic<int>& n, int at_least) {
    return eventually([&] { return n >= at_least; }, std::chrono::seconds{10});
  };
  CHECK(wait_for(acked, 50));
  pg.stop();
  CHECK(wait_for(refused, 5));
  pg.start();
  auto before = acked.load();
  CHECK(wait_for(acked, before + 50));
  done = true;
  load.join();
  CHECK(odd_replies.empty());
  INFO(acked_keys.size() << " acknowledged, " << refused << " refused");
  // Every acknowledged event made its alert.
  REQUIRE(s.settle(std::chrono::seconds{15}));
  std::set<std::string> stored;
  for (int offset = 0;; offset += 1000) {
    auto page = s.alerts("event_manager_id=" + m +
                         "&limit=1000&offset=" + std::to_string(offset));
    for (auto& a : page)
      stored.insert(a["dedupKey"].get<std::string>());
    if (page.size() < 1000)
      break;
  }
  std::vector<std::string> missing;
  for (auto& key : acked_keys)
    if (stored.count(key) == 0)
      missing.push_back(key);
  CHECK(missing.empty());
  CHECK(s.stop() == 0);
}

} // namespace argus::test
