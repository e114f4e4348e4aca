#pragma once

// The integration harness: runs the real `argus` binary as a child process on
// a free port with its own data directory, and speaks real HTTP to it.

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace httplib {
class Client;
} // namespace httplib

namespace argus::test {

class pg_schema;

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

/// How long a polled assertion may take before it fails.
constexpr auto default_deadline = std::chrono::milliseconds{5000};

/// Polls `pred` until it holds or `deadline` passes; true if it held.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds deadline = default_deadline);

/// A fresh folder under the system's temp folder, removed with its contents.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

/// A TCP port on 127.0.0.1, from 20000 to 32000, that nobody listens on
/// right now and that this process has not handed out before.
uint16_t free_port();

/// A name that no other test in this run uses (for manager ids and keys).
std::string unique_name(const std::string& prefix);

/// Writes `text` to `file`, replacing it.
void write_file(const fs::path& file, const std::string& text);

/// Reads a whole file (empty if it does not exist).
std::string read_file(const fs::path& file);

/// The storage backend of the servers a test starts: $ARGUS_TEST_BACKEND
/// (`postgres` in ctest's "pg/" set of the suite), else `sqlite`.
std::string test_backend();

/// What the config file of a test server says.
struct server_options {
  std::string backend = test_backend();
  /// For postgres; when empty, each server gets a fresh schema on the test
  /// PostgreSQL (kept across its restarts).
  std::string dsn;
  /// 0 keeps the server's default.
  size_t max_body_bytes = 0;
  std::string log_level = "warning";
  /// YAML lines appended verbatim (top-level sections).
  std::string extra_yaml;
  /// Publishes the admin actor on a free node port (for argusctl).
  bool remoting = false;
  /// YAML lines appended verbatim inside the `node` section (e.g. `tls`).
  std::string node_yaml;
  /// YAML lines appended verbatim inside the `server` section.
  std::string server_yaml;
  /// YAML lines appended verbatim inside the `storage` section.
  std::string storage_yaml;
  /// Set: the server speaks HTTPS and the harness client trusts this CA
  /// (and shows this client certificate, when set).
  std::string https_ca;
  std::string client_cert;
  std::string client_key;
  /// If set, writes the whole config instead (given the data dir and port).
  std::function<std::string(const fs::path&, uint16_t)> config;
};

/// The YAML config of a server on `port` with its data in `dir`, and its
/// admin actor on `node_port` (0: remoting off).
std::string config_yaml(const fs::path& dir, uint16_t port,
                        const server_options& opts, uint16_t node_port = 0);

/// One HTTP reply: the status, the raw body and the body parsed as JSON
/// (discarded if it is not JSON).
struct response {
  int status = 0;
  std::string text;
  json body;

  /// `body["data"]`, or null.
  json data() const;
  /// `body["error"]["code"]`, or "".
  std::string error_code() const;
  /// `body["error"]["message"]`, or "".
  std::string error_message() const;
  /// True for `{"success": false, "error": {"code": .., "message": ..}}`.
  bool is_error_envelope() const;
};

/// What an HTTPS client trusts and shows; empty `ca`: plain HTTP.
struct client_tls {
  std::string ca;
  std::string cert;
  std::string key;
};

/// A small synchronous HTTP client for one server.
class client {
public:
  client(std::string host, uint16_t port, const client_tls& tls = {});
  ~client();

  response get(const std::string& path);
  response post(const std::string& path, const json& body);
  /// Posts `body` bytes as they are (for malformed bodies).
  response post_raw(const std::string& path, const std::string& body,
                    const std::string& content_type = "application/json");
  /// Posts `body` with `Transfer-Encoding: chunked` (no Content-Length).
  response post_chunked(const std::string& path, const std::string& body);
  response put(const std::string& path, const json& body);
  response del(const std::string& path);
  /// Posts `body` as it is with extra headers (e.g. Content-Encoding).
  response post_with(const std::string& path, const std::string& body,
                     const std::multimap<std::string, std::string>& headers);

  uint16_t port() const { return port_; }

private:
  std::string host_;
  uint16_t port_;
  std::unique_ptr<httplib::Client> cli_;
};

/// Runs `argus` with `args` to completion (for config errors); kills it after
/// `timeout`.
struct run_result {
  int exit_code = -1;
  bool timed_out = false;
  std::string output; ///< stdout and stderr together
};
run_result run_argus(const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = 10s);

/// What one `argusctl` run did.
struct cli_result {
  int exit_code = -1;
  bool timed_out = false;
  std::string out; ///< stdout
  std::string err; ///< stderr
  std::chrono::milliseconds elapsed{0};

  /// stdout parsed as JSON (discarded if it is not JSON).
  nlohmann::json json_out() const;
};

/// Runs `argusctl` with `args` to completion and without the ARGUS_*
/// variables of this environment, plus `env` ("NAME=value"); kills it after
/// `timeout`.
cli_result run_argusctl(const std::vector<std::string>& args,
                        const std::vector<std::string>& env = {},
                        std::chrono::milliseconds timeout = 20s);

/// The full path of program `name` found on $PATH, or "" if there is none.
std::string find_program(const std::string& name);

/// Runs `argv` (argv[0] a full path) to completion with this process's
/// environment; kills it after `timeout`.
cli_result run_program(const std::vector<std::string>& argv,
                       std::chrono::milliseconds timeout = 20s);

/// A program running in the background (a Prometheus server, say), its
/// stdout and stderr in `log`. It gets SIGKILL if the test process dies,
/// and SIGTERM (then SIGKILL) when this object goes.
class child_process {
public:
  child_process(const std::vector<std::string>& argv, fs::path log);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Whether it is still running (reaps it if it exited).
  bool running();
  /// SIGTERM, then SIGKILL after `deadline`; the exit code (-1 if killed).
  int stop(std::chrono::milliseconds deadline = 10s);
  /// SIGKILL, as a crash would end it.
  void kill9();
  std::string log() const;

private:
  pid_t pid_ = -1;
  fs::path log_;
};

/// Percent-encodes a query value or path segment.
std::string url_encode(const std::string& text);

/// RFC 3339 in UTC, seconds precision (as amtool's --end takes it).
std::string rfc3339(std::chrono::system_clock::time_point t);

/// Parses the API's RFC 3339 timestamps (`2024-01-02T03:04:05.678Z`).
std::chrono::system_clock::time_point parse_time(const std::string& text);

/// A running `argus` server with its own temp dir, config and data.
class server {
public:
  explicit server(server_options opts = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Starts the process and waits until /healthz answers.
  void start();
  /// Sends `sig` (SIGTERM by default), then waits for the exit (SIGKILL
  /// after a timeout); returns the exit code (-1 if it had to be killed or
  /// died from a signal).
  int stop(int sig = SIGTERM);
  /// SIGKILL, then reaps the process.
  void kill9();
  /// `stop()` (expecting 0) and `start()` on the same data dir and port.
  int restart();
  bool running() const { return pid_ > 0; }
  /// The process id (-1 when not running), e.g. to SIGSTOP it.
  pid_t pid() const { return pid_; }

  uint16_t port() const { return port_; }
  /// The admin actor's port (0 unless `server_options::remoting`).
  uint16_t node_port() const { return node_port_; }
  /// "127.0.0.1:<node port>", for argusctl's --node.
  std::string node_address() const {
    return "127.0.0.1:" + std::to_string(node_port_);
  }
  const fs::path& dir() const { return dir_.path(); }
  /// What the server wrote to stdout/stderr so far.
  std::string log() const;
  /// The client of this server; the same object across restarts.
  client& http() { return *client_; }

  // -- domain helpers --------------------------------------------------------

  /// Creates a grouping rule; returns its `data` (fails the test if not 201).
  json create_rule(const std::string& grouping_key, int window_seconds,
                   const std::string& name = "rule");
  /// Creates an event manager using `rule_id`; returns its `data`.
  json create_manager(const std::string& rule_id, const std::string& id = "");
  /// A fresh manager with a fresh rule on `grouping_key`; returns its id.
  std::string fresh_manager(const std::string& grouping_key = "class",
                            int window_seconds = 300);

  response post_event(const json& event);
  /// Posts a trigger (extra fields merged in); fails the test if not 202.
  void trigger(const std::string& manager, const std::string& dedup,
               const json& extra = json::object(),
               const std::string& severity = "high");
  /// Posts a resolve; fails the test if not 202.
  void resolve(const std::string& manager, const std::string& dedup);

  /// The alert of (`manager`, `dedup`), or null if there is none (yet).
  json alert(const std::string& manager, const std::string& dedup);
  /// Polls until the alert exists and `pred` holds; returns the last
  /// version seen (null if it never appeared).
  json await_alert(
      const std::string& manager, const std::string& dedup,
      const std::function<bool(const json&)>& pred =
          [](const json&) { return true; },
      std::chrono::milliseconds deadline = default_deadline);
  /// GET /v1/alerts?<query>; returns `data`.
  json alerts(const std::string& query);
  /// The /healthz `data`.
  json health();
  /// Waits until every accepted event has been applied (so that the absence
  /// of a change can be asserted).
  bool settle(std::chrono::milliseconds deadline = default_deadline);
  /// Notifications (newest first) whose parent belongs to `manager`.
  /// `query` filters further (e.g. "state=failed&receiver=ops").
  json notifications_of(const std::string& manager,
                        const std::string& query = "");

private:
  void spawn();

  server_options opts_;
  std::unique_ptr<pg_schema> schema_;
  temp_dir dir_;
  uint16_t port_ = 0;
  uint16_t node_port_ = 0;
  fs::path config_;
  fs::path log_;
  pid_t pid_ = -1;
  std::unique_ptr<client> client_;
};

/// The element of the alert array `alerts` with this dedupKey, or null.
json find_alert(const json& alerts, const std::string& dedup);

/// The dedupKeys of an alert array, in its order.
std::vector<std::string> dedup_keys_of(const json& alerts);

/// Polls the wall clock until it has passed `t` (at most `deadline`).
bool wait_until(std::chrono::system_clock::time_point t,
                std::chrono::milliseconds deadline = 10s);

/// Every alert of a manager, by dedupKey, read through `srv` page by page.
std::map<std::string, json> all_alerts(server& srv, const std::string& manager);

/// A JSON trigger event with the standard fields.
json trigger_event(const std::string& manager, const std::string& dedup,
                   const std::string& summary = "something broke",
                   const std::string& severity = "high");

} // namespace argus::test
