// The daemon's command line and config file: errors exit 2 with one line
// naming the key; stop signals exit 0.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

namespace {

using namespace argus::test;

/// The output without its trailing newlines.
std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return text;
}

/// Runs argus on a config file holding `yaml`.
run_result run_with_config(const std::string& yaml) {
  temp_dir dir;
  auto file = dir.path() / "config.yaml";
  write_file(file, yaml);
  return run_argus({"--config", file.string()});
}

/// A complete, valid config (on `port`, data in `dir`) in which `line`
/// ("key: value") replaces or joins the keys of `section`.
std::string config_with(const fs::path& dir, uint16_t port,
                        const std::string& section, const std::string& line) {
  std::vector<std::pair<std::string, std::vector<std::string>>> sections = {
      {"server", {"host: 127.0.0.1", "port: " + std::to_string(port)}},
      {"storage", {"path: " + (dir / "argus.db").string()}},
      {"node", {"port: 0"}},
      {"log", {"level: warning"}},
  };
  auto key = line.substr(0, line.find(':') + 1);
  for (auto& [name, lines] : sections)
    if (name == section) {
      lines.erase(std::remove_if(lines.begin(), lines.end(),
                                 [&](const std::string& l) {
                                   return l.rfind(key, 0) == 0;
                                 }),
                  lines.end());
      lines.push_back(line);
    }
  std::string out;
  for (auto& [name, lines] : sections) {
    out += name + ":\n";
    for (auto& l : lines)
      out += "  " + l + "\n";
  }
  return out;
}

void check_config_error(const run_result& r, const std::string& names) {
  INFO("output: " << r.output);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 2);
  auto line = trimmed(r.output);
  CHECK_FALSE(line.empty());
  CHECK(line.find('\n') == std::string::npos);
  CHECK_THAT(line, Catch::Contains(names));
}

} // namespace

TEST_CASE("a missing config file exits 2 naming it", "[integration]") {
  temp_dir dir;
  auto missing = (dir.path() / "nope.yaml").string();
  check_config_error(run_argus({"--config", missing}), missing);
}

TEST_CASE("bad YAML exits 2 with one line", "[integration]") {
  for (auto yaml : {"server: {host: [\n", "server:\n  port: 1\n port: 2\n",
                    "a: b: c\n", "server: [1, 2"}) {
    INFO("yaml: " << yaml);
    check_config_error(run_with_config(yaml), "YAML");
  }
}

TEST_CASE("a valid config starts (the baseline of the cases below)",
          "[integration]") {
  // The same generator as the failing cases, unchanged: the server must come
  // up, so each failure below is due to its one bad key.
  server_options opts;
  opts.config = [](const fs::path& dir, uint16_t port) {
    return config_with(dir, port, "log", "level: warning");
  };
  server s{opts};
  CHECK(s.health()["status"] == "ok");
  CHECK(s.stop() == 0);
}

TEST_CASE("an unknown storage backend exits 2 naming the key",
          "[integration]") {
  temp_dir dir;
  auto r = run_with_config(
      config_with(dir.path(), free_port(), "storage", "backend: oracle"));
  check_config_error(r, "storage.backend");
  CHECK_THAT(r.output, Catch::Contains("oracle"));
}

TEST_CASE("bad config values exit 2 naming the key", "[integration]") {
  temp_dir dir;
  struct bad_value {
    const char* section;
    const char* line;
    const char* key;
  };
  const bad_value cases[] = {
      {"server", "port: abc", "server.port"},
      {"server", "port: 70000", "server.port"},
      {"server", "port: -1", "server.port"},
      {"server", "port: 0", "server.port"},
      {"server", "host: \"\"", "server.host"},
      {"server", "read_timeout: 0", "server.read_timeout"},
      {"server", "write_timeout: soon", "server.write_timeout"},
      {"server", "idle_timeout: -5", "server.idle_timeout"},
      {"server", "max_body_bytes: 10", "server.max_body_bytes"},
      {"server", "max_body_bytes: [1]", "server.max_body_bytes"},
      {"server", "colour: blue", "server.colour"},
      {"storage", "backend: \"\"", "storage.backend"},
      {"storage", "path: \"\"", "storage.path"},
      {"storage", "backend: postgres", "storage.dsn"},
      {"node", "port: 99999", "node.port"},
      {"node", "host: \"\"", "node.host"},
      {"log", "level: verbose", "log.level"},
  };
  for (auto& c : cases) {
    INFO(c.section << "." << c.line);
    check_config_error(run_with_config(config_with(dir.path(), free_port(),
                                                   c.section, c.line)),
                       c.key);
  }
  SECTION("sections must be mappings and known") {
    check_config_error(
        run_with_config(config_with(dir.path(), free_port(), "", "") +
                        "bogus:\n"
                        "  x: 1\n"),
        "bogus");
    check_config_error(run_with_config("log: 5\n"), "log");
  }
}

TEST_CASE("unknown command line arguments exit 2", "[integration]") {
  auto r = run_argus({"--frobnicate"});
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("--frobnicate"));
}

TEST_CASE("SIGTERM and SIGINT stop the server with exit code 0",
          "[integration]") {
  server s;
  auto m = s.fresh_manager("host");
  s.trigger(m, "a", {{"host", "h"}});
  CHECK(s.await_alert(m, "a").is_object());
  CHECK(s.stop(SIGTERM) == 0);
  CHECK_FALSE(s.running());
  // The port is free again once it exited.
  CHECK(s.http().get("/healthz").status == 0);
  s.start();
  CHECK(s.alert(m, "a").is_object());
  CHECK(s.stop(SIGINT) == 0);
}
