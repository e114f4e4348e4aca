// Settings: defaults, every key read from YAML, and one error naming the key
// for every kind of bad input.

#include "config/settings.hpp"

#include "domain/alert.hpp"
#include "domain/error.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

using argus::ec;
using argus::config::load_text;
using argus::config::settings;

settings must_load(const std::string& yaml) {
  auto s = load_text(yaml);
  if (!s)
    FAIL("load failed: " << argus::message_of(s.error()));
  return std::move(*s);
}

/// The message of the error `yaml` must fail with.
std::string error_of(const std::string& yaml,
                     ec expected = ec::validation_failed) {
  auto s = load_text(yaml);
  REQUIRE_FALSE(s);
  CHECK(argus::code_of(s.error()) == expected);
  return argus::message_of(s.error());
}

void check_defaults(const settings& s) {
  CHECK(s.server.host == "127.0.0.1");
  CHECK(s.server.port == 8080);
  CHECK(s.server.read_timeout_seconds == 5);
  CHECK(s.server.write_timeout_seconds == 5);
  CHECK(s.server.idle_timeout_seconds == 5);
  CHECK(s.server.max_body_bytes == 1024 * 1024);
  CHECK(s.server.threads == 64);
  CHECK(s.server.keep_alive_max_requests == 10000);
  CHECK(s.storage.backend == "sqlite");
  CHECK(s.storage.path == "data/argus.db");
  CHECK(s.storage.batch_size == 2000);
  CHECK(s.storage.sqlite_cache_mb == 64);
  CHECK(s.storage.retention == 7 * 86400);
  CHECK_FALSE(s.storage.flush_interval_ms);
  CHECK(argus::config::flush_interval_ms_of(s.storage) == 5);
  CHECK(s.node.host == "127.0.0.1");
  CHECK(s.node.port == 4242);
  CHECK(s.log.level == "info");
  CHECK(s.actors.threads == 2);
  CHECK(s.actors.policy == "lazy-sharing");
  CHECK(s.actors.routers == 2);
  CHECK(s.actors.malloc_arenas == argus::config::default_malloc_arenas());
  CHECK(s.actors.malloc_arenas >= 2);
  CHECK(s.notifications.keep == 1000);
  CHECK(s.rate_limit.events_per_second == 0);
  CHECK(s.rate_limit.burst == 0);
}

/// A file under the temp folder, removed when the test ends.
struct temp_file {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("argus-config-test-" + argus::domain::random_uuid() + ".yaml");

  explicit temp_file(const std::string& text) {
    std::ofstream out{path};
    out << text;
  }
  ~temp_file() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
};

} // namespace

TEST_CASE("defaults are valid and used for what is missing", "[unit]") {
  settings s;
  check_defaults(s);
  CHECK_FALSE(argus::config::validate(s));
  SECTION("empty text") {
    check_defaults(must_load(""));
  }
  SECTION("only comments") {
    check_defaults(must_load("# nothing\n"));
  }
  SECTION("empty sections") {
    check_defaults(must_load("server:\nstorage: {}\nlog: ~\n"));
  }
  SECTION("one key leaves the others alone") {
    auto loaded = must_load("server:\n  port: 9090\n");
    CHECK(loaded.server.port == 9090);
    CHECK(loaded.server.host == "127.0.0.1");
    CHECK(loaded.storage.backend == "sqlite");
  }
}

TEST_CASE("every key is read", "[unit]") {
  auto s = must_load(R"(
server:
  host: 0.0.0.0
  port: 9000
  read_timeout: 7
  write_timeout: 8
  idle_timeout: 9
  max_body_bytes: 2048
  threads: 16
  keep_alive_max_requests: 50
  reserved_threads: 3
  max_connections: 500
  max_connections_per_address: 20
  header_timeout: 4
  request_timeout: 12
  max_header_bytes: 4096
  allow_plaintext: true
storage:
  backend: memory
  path: /var/lib/argus/x.db
  batch_size: 10
  flush_interval_ms: 20
  sqlite_cache_mb: 16
  retention: 3600
node:
  host: 10.0.0.1
  port: 0
log:
  level: debug
actors:
  threads: 4
  policy: stealing
  routers: 3
  malloc_arenas: 2
notifications:
  keep: 5
)");
  CHECK(s.server.host == "0.0.0.0");
  CHECK(s.server.port == 9000);
  CHECK(s.server.read_timeout_seconds == 7);
  CHECK(s.server.write_timeout_seconds == 8);
  CHECK(s.server.idle_timeout_seconds == 9);
  CHECK(s.server.max_body_bytes == 2048);
  CHECK(s.server.threads == 16);
  CHECK(s.server.keep_alive_max_requests == 50);
  CHECK(s.server.reserved_threads == 3);
  CHECK(s.server.max_connections == 500);
  CHECK(s.server.max_connections_per_address == 20);
  CHECK(s.server.header_timeout_seconds == 4);
  CHECK(s.server.request_timeout_seconds == 12);
  CHECK(s.server.max_header_bytes == 4096);
  CHECK(s.server.allow_plaintext);
  CHECK(s.storage.backend == "memory");
  CHECK(s.storage.path == "/var/lib/argus/x.db");
  CHECK(s.storage.batch_size == 10);
  CHECK(s.storage.flush_interval_ms == 20);
  CHECK(s.storage.sqlite_cache_mb == 16);
  CHECK(s.storage.retention == 3600);
  CHECK(argus::config::flush_interval_ms_of(s.storage) == 20);
  CHECK(s.node.host == "10.0.0.1");
  CHECK(s.node.port == 0); // 0 disables remoting
  CHECK(s.log.level == "debug");
  CHECK(s.actors.threads == 4);
  CHECK(s.actors.policy == "stealing");
  CHECK(s.actors.routers == 3);
  CHECK(s.actors.malloc_arenas == 2);
  CHECK(s.notifications.keep == 5);
}

TEST_CASE("every accepted log level and backend loads", "[unit]") {
  for (auto level : {"debug", "info", "warning", "error"})
    CHECK(must_load(std::string{"log:\n  level: "} + level).log.level == level);
  CHECK(must_load("storage:\n  backend: sqlite\n").storage.backend == "sqlite");
  auto pg = must_load("storage:\n  backend: postgres\n"
                      "  dsn: 'host=db dbname=argus user=argus'\n");
  CHECK(pg.storage.backend == "postgres");
  CHECK(pg.storage.dsn == "host=db dbname=argus user=argus");
  // An in-memory store needs no path.
  CHECK(must_load("storage:\n  backend: memory\n  path: ''\n").storage.path ==
        "");
  // The memory backend's writes cost nothing: they wait for nothing.
  CHECK(argus::config::flush_interval_ms_of(
            must_load("storage:\n  backend: memory\n").storage) == 0);
  CHECK(argus::config::flush_interval_ms_of(
            must_load("storage:\n  backend: memory\n  flush_interval_ms: 3\n")
                .storage) == 3);
}

TEST_CASE("the shipped config file loads with defaults", "[unit]") {
  // tests/unit/config_test.cpp -> the source tree's root.
  auto root =
      std::filesystem::path{__FILE__}.parent_path().parent_path().parent_path();
  auto s = argus::config::load_file((root / "config" / "config.yaml").string());
  REQUIRE(s);
  CHECK(s->server.port == 8080);
  CHECK(s->storage.backend == "sqlite");
  CHECK(s->log.level == "info");
}

TEST_CASE("the default rate limit is read and checked", "[unit]") {
  auto s = load_text("rate_limit:\n  events_per_second: 0.5\n  burst: 3\n");
  REQUIRE(s);
  CHECK(s->rate_limit.events_per_second == 0.5);
  CHECK(s->rate_limit.burst == 3);
  CHECK_THAT(error_of("rate_limit:\n  events_per_second: -1\n"),
             Catch::StartsWith("rate_limit.events_per_second: must be 0"));
  CHECK_THAT(error_of("rate_limit:\n  events_per_second: 0.00001\n"),
             Catch::StartsWith("rate_limit.events_per_second: must be 0"));
  CHECK_THAT(error_of("rate_limit:\n  events_per_second: .nan\n"),
             Catch::StartsWith("rate_limit.events_per_second: must be 0"));
  CHECK_THAT(error_of("rate_limit:\n  events_per_second: fast\n"),
             Catch::StartsWith("rate_limit.events_per_second: not a valid"));
  CHECK_THAT(error_of("rate_limit:\n  burst: -2\n"),
             Catch::StartsWith("rate_limit.burst:"));
  CHECK_THAT(error_of("rate_limit:\n  bursts: 2\n"),
             Catch::StartsWith("rate_limit.bursts: unknown key"));
}

TEST_CASE("unknown sections and keys are named", "[unit]") {
  CHECK_THAT(error_of("serverr:\n  port: 1\n"),
             Catch::StartsWith("serverr: unknown section"));
  CHECK_THAT(error_of("server:\n  prot: 1\n"),
             Catch::StartsWith("server.prot: unknown key"));
  CHECK_THAT(error_of("storage:\n  backnd: memory\n"),
             Catch::StartsWith("storage.backnd: unknown key"));
  CHECK_THAT(error_of("log:\n  lvl: info\n"),
             Catch::StartsWith("log.lvl: unknown key"));
}

TEST_CASE("bad values name their key", "[unit]") {
  struct bad_case {
    const char* yaml;
    const char* key;
  };
  auto c = GENERATE(
      bad_case{"server:\n  port: 0\n", "server.port"},
      bad_case{"server:\n  port: 70000\n", "server.port"},
      bad_case{"server:\n  port: -1\n", "server.port"},
      bad_case{"server:\n  host: ''\n", "server.host"},
      bad_case{"server:\n  read_timeout: 0\n", "server.read_timeout"},
      bad_case{"server:\n  read_timeout: -5\n", "server.read_timeout"},
      bad_case{"server:\n  write_timeout: -1\n", "server.write_timeout"},
      bad_case{"server:\n  idle_timeout: 0\n", "server.idle_timeout"},
      bad_case{"server:\n  max_body_bytes: 100\n", "server.max_body_bytes"},
      bad_case{"server:\n  max_body_bytes: -1\n", "server.max_body_bytes"},
      bad_case{"server:\n  threads: 1\n", "server.threads"},
      bad_case{"server:\n  threads: 5000\n", "server.threads"},
      bad_case{"server:\n  keep_alive_max_requests: 0\n",
               "server.keep_alive_max_requests"},
      bad_case{"storage:\n  backend: oracle\n", "storage.backend"},
      bad_case{"storage:\n  backend: postgres\n", "storage.dsn"},
      bad_case{"storage:\n  backend: postgres\n  dsn: ''\n", "storage.dsn"},
      bad_case{"storage:\n  backend: ''\n", "storage.backend"},
      bad_case{"storage:\n  path: ''\n", "storage.path"},
      bad_case{"storage:\n  batch_size: 0\n", "storage.batch_size"},
      bad_case{"storage:\n  sqlite_cache_mb: 0\n", "storage.sqlite_cache_mb"},
      bad_case{"storage:\n  retention: -1\n", "storage.retention"},
      bad_case{"storage:\n  retention: 9999999999999\n", "storage.retention"},
      bad_case{"storage:\n  sqlite_cache_mb: 70000\n",
               "storage.sqlite_cache_mb"},
      bad_case{"storage:\n  batch_size: -3\n", "storage.batch_size"},
      bad_case{"storage:\n  flush_interval_ms: -1\n",
               "storage.flush_interval_ms"},
      bad_case{"node:\n  host: ''\n", "node.host"},
      bad_case{"node:\n  port: 65536\n", "node.port"},
      bad_case{"log:\n  level: verbose\n", "log.level"},
      bad_case{"log:\n  level: INFO\n", "log.level"},
      bad_case{"actors:\n  threads: 0\n", "actors.threads"},
      bad_case{"actors:\n  threads: 257\n", "actors.threads"},
      bad_case{"actors:\n  policy: random\n", "actors.policy"},
      bad_case{"actors:\n  malloc_arenas: 2000\n", "actors.malloc_arenas"},
      bad_case{"actors:\n  malloc_arenas: -1\n", "actors.malloc_arenas"},
      bad_case{"actors:\n  routers: 0\n", "actors.routers"},
      bad_case{"notifications:\n  keep: 0\n", "notifications.keep"});
  INFO(c.yaml);
  CHECK_THAT(error_of(c.yaml), Catch::StartsWith(std::string{c.key} + ": "));
}

TEST_CASE("values of the wrong type name their key", "[unit]") {
  struct bad_case {
    const char* yaml;
    const char* message;
  };
  auto c = GENERATE(
      bad_case{"server:\n  port: abc\n", "server.port: not a valid value: abc"},
      bad_case{"server:\n  port: 80.5\n", "server.port: not a valid value"},
      bad_case{"server:\n  port: [1, 2]\n",
               "server.port: expected a single value"},
      bad_case{"server:\n  host: {a: 1}\n",
               "server.host: expected a single value"},
      bad_case{"server:\n  read_timeout: soon\n",
               "server.read_timeout: not a valid value"},
      bad_case{"storage:\n  batch_size: many\n",
               "storage.batch_size: not a valid value"},
      bad_case{"storage:\n  backend: [memory]\n",
               "storage.backend: expected a single value"},
      bad_case{"log:\n  level: [info]\n", "log.level: expected a single value"},
      bad_case{"server: 8080\n", "server: expected a mapping"},
      bad_case{"log: [info]\n", "log: expected a mapping"},
      bad_case{"- server\n- storage\n",
               "config: the top level must be a mapping"},
      bad_case{"just text\n", "config: the top level must be a mapping"});
  INFO(c.yaml);
  CHECK_THAT(error_of(c.yaml), Catch::StartsWith(c.message));
}

TEST_CASE("invalid YAML is a bad request", "[unit]") {
  auto yaml = GENERATE("server: [unclosed\n", "server:\n  port: {a: \n",
                       "a: b: c\n", "server:\n  - x\n  port: 1\n",
                       "server:\n\tport: 1\n", "log:\n  level: *nowhere\n");
  INFO(yaml);
  CHECK_THAT(error_of(yaml, ec::bad_request),
             Catch::StartsWith("invalid YAML"));
}

TEST_CASE("files are read and their errors name the file", "[unit]") {
  SECTION("a good file") {
    temp_file f{"server:\n  port: 9191\nlog:\n  level: warning\n"};
    auto s = argus::config::load_file(f.path.string());
    REQUIRE(s);
    CHECK(s->server.port == 9191);
    CHECK(s->log.level == "warning");
    CHECK(s->storage.backend == "sqlite");
  }
  SECTION("a bad value") {
    temp_file f{"storage:\n  backend: oracle\n"};
    auto s = argus::config::load_file(f.path.string());
    REQUIRE_FALSE(s);
    CHECK(argus::code_of(s.error()) == ec::validation_failed);
    auto msg = argus::message_of(s.error());
    CHECK_THAT(msg, Catch::StartsWith(f.path.string() + ": storage.backend"));
    CHECK_THAT(msg, Catch::Contains("oracle"));
  }
  SECTION("bad YAML") {
    temp_file f{"server: [\n"};
    auto s = argus::config::load_file(f.path.string());
    REQUIRE_FALSE(s);
    CHECK(argus::code_of(s.error()) == ec::bad_request);
    CHECK_THAT(argus::message_of(s.error()),
               Catch::StartsWith(f.path.string() + ": invalid YAML"));
  }
  SECTION("a missing file") {
    auto path = (std::filesystem::temp_directory_path() /
                 ("argus-missing-" + argus::domain::random_uuid() + ".yaml"))
                    .string();
    auto s = argus::config::load_file(path);
    REQUIRE_FALSE(s);
    CHECK(argus::code_of(s.error()) == ec::not_found);
    CHECK_THAT(argus::message_of(s.error()), Catch::Contains(path));
  }
}

TEST_CASE("validate names the first bad key of a settings struct", "[unit]") {
  settings s;
  s.server.port = 0;
  s.log.level = "loud";
  auto err = argus::config::validate(s);
  REQUIRE(err);
  CHECK(argus::code_of(err) == ec::validation_failed);
  CHECK_THAT(argus::message_of(err), Catch::StartsWith("server.port: "));
  s.server.port = 1;
  CHECK_THAT(argus::message_of(argus::config::validate(s)),
             Catch::StartsWith("log.level: unknown level 'loud'"));
  s.log.level = "error";
  s.storage.backend = "memory";
  s.storage.path.clear();
  CHECK_FALSE(argus::config::validate(s));
}

TEST_CASE("cluster settings are read and checked", "[unit]") {
  const std::string pg = "storage: {backend: postgres, dsn: 'host=db'}\n";
  auto s = must_load(pg + "cluster:\n"
                          "  node_id: a\n"
                          "  seeds: ['127.0.0.1:4242', 'db.internal:4343']\n"
                          "  heartbeat_interval_ms: 100\n"
                          "  failure_timeout_ms: 900\n");
  CHECK(s.cluster.enabled());
  CHECK(s.cluster.node_id == "a");
  CHECK(s.cluster.seeds ==
        std::vector<std::string>{"127.0.0.1:4242", "db.internal:4343"});
  CHECK(s.cluster.heartbeat_interval_ms == 100);
  CHECK(s.cluster.failure_timeout_ms == 900);
  CHECK_FALSE(must_load("").cluster.enabled());
  CHECK_THAT(error_of("cluster: {node_id: a, seeds: ['127.0.0.1:1']}\n"),
             Catch::Contains("storage.backend") && Catch::Contains("postgres"));
  CHECK_THAT(error_of(pg + "cluster: {seeds: ['127.0.0.1:1']}\n"),
             Catch::Contains("cluster.node_id"));
  CHECK_THAT(error_of(pg + "cluster: {node_id: a, seeds: ['nohost']}\n"),
             Catch::Contains("cluster.seeds"));
  CHECK_THAT(error_of(pg + "cluster: {node_id: a, seeds: {x: 1}}\n"),
             Catch::Contains("cluster.seeds"));
  CHECK_THAT(error_of(pg + "node: {port: 0}\ncluster: {node_id: a}\n"),
             Catch::Contains("node.port"));
  CHECK_THAT(error_of(pg + "cluster: {node_id: a, heartbeat_interval_ms: 500,"
                           " failure_timeout_ms: 500}\n"),
             Catch::Contains("cluster.failure_timeout_ms"));
}

TEST_CASE("notification delivery settings load and are checked", "[unit]") {
  auto defaults = must_load("");
  CHECK(defaults.notifications.retry_initial_ms == 1000);
  CHECK(defaults.notifications.retry_max_ms == 300000);
  CHECK(defaults.notifications.retry_max_attempts == 12);
  CHECK(defaults.notifications.retry_max_age == 86400);
  CHECK(defaults.notifications.max_in_flight == 64);
  CHECK(defaults.notifications.max_in_flight_per_receiver == 4);
  CHECK(defaults.notifications.external_url.empty());
  CHECK(defaults.notifications.inhibition_check_wait == 30);
  auto s = must_load(R"(
notifications:
  retry: {initial_ms: 250, max_ms: 8000, max_attempts: 5, max_age: 600}
  max_in_flight: 10
  max_in_flight_per_receiver: 2
  external_url: https://argus.example
  inhibition_check_wait: 0
)");
  auto p = s.notifications.retry_policy();
  CHECK(p.initial == std::chrono::milliseconds{250});
  CHECK(p.max == std::chrono::milliseconds{8000});
  CHECK(p.max_attempts == 5);
  CHECK(p.max_age == std::chrono::seconds{600});
  CHECK(s.notifications.max_in_flight == 10);
  CHECK(s.notifications.max_in_flight_per_receiver == 2);
  CHECK(s.notifications.external_url == "https://argus.example");
  CHECK(s.notifications.inhibition_check_wait == 0);
  for (auto [yaml, key] : std::vector<std::pair<const char*, const char*>>{
           {"notifications:\n  retry: {initial_ms: 0}\n",
            "notifications.retry.initial_ms"},
           {"notifications:\n  retry: {initial_ms: 500, max_ms: 100}\n",
            "notifications.retry.max_ms"},
           {"notifications:\n  retry: {max_attempts: 0}\n",
            "notifications.retry.max_attempts"},
           {"notifications:\n  retry: {max_age: 0}\n",
            "notifications.retry.max_age"},
           {"notifications:\n  retry: {tries: 3}\n",
            "notifications.retry.tries"},
           {"notifications:\n  max_in_flight_per_receiver: 100\n",
            "notifications.max_in_flight_per_receiver"},
           {"notifications:\n  external_url: argus.example\n",
            "notifications.external_url"},
           {"notifications:\n  inhibition_check_wait: -1\n",
            "notifications.inhibition_check_wait"},
           {"notifications:\n  inhibition_check_wait: 86401\n",
            "notifications.inhibition_check_wait"},
       }) {
    INFO(yaml);
    CHECK_THAT(error_of(yaml), Catch::StartsWith(std::string{key} + ": "));
  }
}

TEST_CASE("auth.mode: required off loopback, off on loopback, off refused "
          "elsewhere (issue 14)",
          "[unit]") {
  CHECK_FALSE(argus::config::auth_required(must_load("")));
  CHECK(argus::config::auth_required(
      must_load("server:\n  host: 0.0.0.0\n  allow_plaintext: true\nnode:\n  "
                "port: 0\n")));
  CHECK(argus::config::auth_required(must_load("auth:\n  mode: required\n")));
  auto off = load_text(
      "server:\n  host: 10.0.0.1\nnode:\n  port: 0\nauth:\n  mode: off\n");
  REQUIRE_FALSE(off);
  CHECK_THAT(argus::message_of(off.error()),
             Catch::StartsWith("auth.mode: off is only allowed"));
  auto bad = load_text("auth:\n  mode: maybe\n");
  REQUIRE_FALSE(bad);
  CHECK_THAT(argus::message_of(bad.error()), Catch::StartsWith("auth.mode"));
  bad = load_text("auth:\n  metrics: sometimes\n");
  REQUIRE_FALSE(bad);
  CHECK_THAT(argus::message_of(bad.error()), Catch::StartsWith("auth.metrics"));
}

TEST_CASE("keys off loopback need HTTPS unless server.allow_plaintext",
          "[unit]") {
  auto plain = load_text("server:\n  host: 0.0.0.0\nnode:\n  port: 0\n");
  REQUIRE_FALSE(plain);
  CHECK_THAT(argus::message_of(plain.error()),
             Catch::StartsWith("server.tls: '0.0.0.0' is not a loopback") &&
                 Catch::Contains("server.allow_plaintext"));
  CHECK(load_text("server:\n  host: 0.0.0.0\n  allow_plaintext: true\n"
                  "node:\n  port: 0\n"));
  // Loopback needs no TLS, keys or not.
  CHECK(load_text("auth:\n  mode: required\n"));
  temp_file cert{"not a certificate"};
  temp_file key{"not a key"};
  auto https = "server:\n  host: 0.0.0.0\n  tls:\n    certificate: " +
               cert.path.string() + "\n    key: " + key.path.string() +
               "\nnode:\n  port: 0\n";
  CHECK(load_text(https));
  auto half = load_text(
      "server:\n  tls:\n    certificate: " + cert.path.string() + "\n");
  REQUIRE_FALSE(half);
  CHECK_THAT(argus::message_of(half.error()),
             Catch::StartsWith("server.tls.key: must be set"));
  auto missing = load_text("server:\n  tls:\n    certificate: /nonexistent\n"
                           "    key: /nonexistent\n");
  REQUIRE_FALSE(missing);
  CHECK_THAT(argus::message_of(missing.error()),
             Catch::StartsWith("server.tls.certificate: cannot read"));
  auto ca_alone =
      load_text("server:\n  tls:\n    client_ca: " + cert.path.string() + "\n");
  REQUIRE_FALSE(ca_alone);
  CHECK_THAT(argus::message_of(ca_alone.error()),
             Catch::StartsWith("server.tls.client_ca: needs"));
  auto timeouts = load_text("server:\n  header_timeout: 10\n"
                            "  request_timeout: 5\n");
  REQUIRE_FALSE(timeouts);
  CHECK_THAT(argus::message_of(timeouts.error()),
             Catch::StartsWith("server.request_timeout"));
}

TEST_CASE("the bootstrap key comes from the environment, else its file",
          "[unit]") {
  auto s = must_load("");
  REQUIRE_FALSE(argus::config::read_bootstrap_key(s, nullptr));
  CHECK(s.auth.bootstrap_key.empty());
  auto path = std::filesystem::temp_directory_path() / "argus-bootstrap.key";
  std::ofstream{path} << "  argus_file_secret \n";
  s.auth.bootstrap_key_file = path.string();
  REQUIRE_FALSE(argus::config::read_bootstrap_key(s, ""));
  CHECK(s.auth.bootstrap_key == "argus_file_secret");
  REQUIRE_FALSE(argus::config::read_bootstrap_key(s, "argus_env_secret"));
  CHECK(s.auth.bootstrap_key == "argus_env_secret");
  std::filesystem::remove(path);
  s.auth.bootstrap_key_file = path.string();
  auto err = argus::config::read_bootstrap_key(s, nullptr);
  REQUIRE(err);
  CHECK_THAT(argus::message_of(err), Catch::Contains(path.string()));
}
