#include "integration/harness.hpp"

#include "support/postgres.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace argus::test {

namespace {

using steady = std::chrono::steady_clock;

/// How often polled conditions are checked.
constexpr auto poll_interval = std::chrono::milliseconds{10};

/// How long a server may take to come up or to shut down.
constexpr auto start_deadline = std::chrono::milliseconds{15000};
constexpr auto stop_deadline = std::chrono::milliseconds{15000};

std::string random_suffix() {
  static std::mt19937_64 gen{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string out;
  auto x = gen();
  for (int i = 0; i < 8; ++i, x >>= 4)
    out.push_back(digits[x & 0xf]);
  return out;
}

/// The exit code of a reaped child, or -1 if a signal ended it.
/// The exit code, or minus the signal that ended the process (-100 for
/// anything else).
int exit_code_of(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? -WTERMSIG(status) : -100;
}

/// Waits for `pid` up to `deadline`; the wait status if it exited.
std::optional<int> wait_for_exit(pid_t pid,
                                 std::chrono::milliseconds deadline) {
  auto until = steady::now() + deadline;
  for (;;) {
    int status = 0;
    auto r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return status;
    if (r < 0)
      return std::nullopt;
    if (steady::now() >= until)
      return std::nullopt;
    std::this_thread::sleep_for(poll_interval);
  }
}

/// Waits for `pid` up to `deadline`, then kills (SIGKILL) and reaps it;
/// the wait status if it exited by itself.
std::optional<int> wait_or_kill(pid_t pid, std::chrono::milliseconds deadline) {
  auto status = wait_for_exit(pid, deadline);
  if (!status) {
    ::kill(pid, SIGKILL);
    int ignored = 0;
    ::waitpid(pid, &ignored, 0);
  }
  return status;
}

/// Starts `args` with stdout going to `out` and stderr to `err` (both to
/// `out` when `err` is empty; appended). With `env`, the child gets this
/// process's environment without its ARGUS_* variables, plus `env`
/// ("NAME=value" entries). The child gets SIGKILL if this process dies, so a
/// crashed test leaves no server behind.
pid_t spawn_process(const std::vector<std::string>& args, const fs::path& out,
                    const fs::path& err,
                    const std::vector<std::string>* env = nullptr) {
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  if (env) {
    for (char** e = environ; *e != nullptr; ++e)
      if (std::strncmp(*e, "ARGUS_", 6) != 0)
        env_strings.emplace_back(*e);
    env_strings.insert(env_strings.end(), env->begin(), env->end());
    for (auto& e : env_strings)
      envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  auto out_path = out.string();
  auto err_path = err.string();
  auto parent = ::getpid();
  auto pid = ::fork();
  if (pid < 0)
    throw std::runtime_error("fork failed: " + std::string{strerror(errno)});
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(127); // the parent died before prctl took effect
    int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err_fd = err_path.empty() ? out_fd
                                  : ::open(err_path.c_str(),
                                           O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out_fd < 0 || err_fd < 0 || in < 0)
      ::_exit(127);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::dup2(in, STDIN_FILENO);
    ::close(out_fd);
    if (err_fd != out_fd)
      ::close(err_fd);
    ::close(in);
    if (env)
      ::execve(argv[0], argv.data(), envp.data());
    else
      ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

/// Starts `args` with stdout and stderr going to `log` (appended).
pid_t spawn_process(const std::vector<std::string>& args, const fs::path& log) {
  return spawn_process(args, log, fs::path{});
}

response to_response(const httplib::Result& res) {
  response out;
  if (!res) {
    out.status = 0;
    out.text = "no reply: " + httplib::to_string(res.error());
    return out;
  }
  out.status = res->status;
  out.text = res->body;
  out.body = json::parse(res->body, nullptr, false);
  return out;
}

} // namespace

// -- free helpers -------------------------------------------------------------

bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds deadline) {
  auto until = steady::now() + deadline;
  for (;;) {
    if (pred())
      return true;
    if (steady::now() >= until)
      return false;
    std::this_thread::sleep_for(poll_interval);
  }
}

temp_dir::temp_dir() {
  auto base = fs::temp_directory_path();
  for (int i = 0; i < 100; ++i) {
    auto candidate = base / ("argus-it-" + random_suffix());
    if (fs::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temp dir");
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

uint16_t free_port() {
  // Below the kernel's ephemeral range (32768 and up by default): a port
  // from that range, free now, can be taken by any outgoing connection
  // (to PostgreSQL, between nodes) before the test's server binds it.
  // A port is handed out once per test process: a cluster picks its nodes'
  // ports before any node starts, and a node's HTTP port, picked as it
  // starts, must not be a later node's port, free until that node binds it.
  static std::mutex mtx;
  static std::set<uint16_t> handed_out;
  std::lock_guard<std::mutex> guard{mtx};
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick{20000, 32000};
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto port = static_cast<uint16_t>(pick(rng));
    if (handed_out.count(port) != 0)
      continue;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
      throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    auto bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::close(fd);
    if (bound == 0) {
      handed_out.insert(port);
      return port;
    }
  }
  throw std::runtime_error("no free port found in 20000-32000");
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(++counter) + "-" + random_suffix();
}

void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out{file, std::ios::binary | std::ios::trunc};
  out << text;
}

std::string read_file(const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string test_backend() {
  auto env = std::getenv("ARGUS_TEST_BACKEND");
  return env && *env ? env : "sqlite";
}

namespace {

/// A YAML single-quoted scalar.
std::string yaml_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += '\'';
    out += c;
  }
  return out + "'";
}

} // namespace

std::string config_yaml(const fs::path& dir, uint16_t port,
                        const server_options& opts, uint16_t node_port) {
  std::ostringstream out;
  out << "server:\n"
      << "  host: 127.0.0.1\n"
      << "  port: " << port << "\n";
  if (opts.max_body_bytes > 0)
    out << "  max_body_bytes: " << opts.max_body_bytes << "\n";
  out << opts.server_yaml;
  out << "storage:\n"
      << "  backend: " << opts.backend << "\n"
      << "  path: " << (dir / "argus.db").string() << "\n";
  if (!opts.dsn.empty())
    out << "  dsn: " << yaml_quoted(opts.dsn) << "\n";
  out << opts.storage_yaml;
  out << "node:\n"
      << "  port: " << node_port << "\n"
      << opts.node_yaml << "log:\n"
      << "  level: " << opts.log_level << "\n"
      << opts.extra_yaml;
  return out.str();
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm parts{};
  gmtime_r(&secs, &parts);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buf;
}

std::string url_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xf]);
    }
  }
  return out;
}

std::chrono::system_clock::time_point parse_time(const std::string& text) {
  std::tm parts{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &parts.tm_year,
                  &parts.tm_mon, &parts.tm_mday, &parts.tm_hour, &parts.tm_min,
                  &parts.tm_sec, &millis) != 7)
    throw std::runtime_error("not an RFC 3339 time: " + text);
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  auto secs = ::timegm(&parts);
  return std::chrono::system_clock::from_time_t(secs) +
         std::chrono::milliseconds{millis};
}

json trigger_event(const std::string& manager, const std::string& dedup,
                   const std::string& summary, const std::string& severity) {
  return json{{"event_manager_id", manager},
              {"action", "trigger"},
              {"dedupKey", dedup},
              {"summary", summary},
              {"severity", severity}};
}

json find_alert(const json& alerts, const std::string& dedup) {
  if (alerts.is_array())
    for (auto& a : alerts)
      if (a.value("dedupKey", "") == dedup)
        return a;
  return nullptr;
}

std::vector<std::string> dedup_keys_of(const json& alerts) {
  std::vector<std::string> out;
  if (alerts.is_array())
    for (auto& a : alerts)
      out.push_back(a.value("dedupKey", ""));
  return out;
}

bool wait_until(std::chrono::system_clock::time_point t,
                std::chrono::milliseconds deadline) {
  return eventually([t] { return std::chrono::system_clock::now() > t; },
                    deadline);
}

run_result run_argus(const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout) {
  temp_dir dir;
  auto log = dir.path() / "out.log";
  std::vector<std::string> argv{ARGUS_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  auto pid = spawn_process(argv, log);
  run_result out;
  if (auto status = wait_or_kill(pid, timeout))
    out.exit_code = exit_code_of(*status);
  else
    out.timed_out = true;
  out.output = read_file(log);
  return out;
}

nlohmann::json cli_result::json_out() const {
  return json::parse(out, nullptr, false);
}

namespace {

/// Runs `argv` to its end (or kills it after `timeout`), with stdout and
/// stderr captured apart; `env` adds environment variables.
cli_result run_captured(const std::vector<std::string>& argv,
                        std::chrono::milliseconds timeout,
                        const std::vector<std::string>* env) {
  temp_dir dir;
  auto out_file = dir.path() / "out.log";
  auto err_file = dir.path() / "err.log";
  auto started = steady::now();
  auto pid = spawn_process(argv, out_file, err_file, env);
  cli_result out;
  auto status = wait_or_kill(pid, timeout);
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      steady::now() - started);
  if (status)
    out.exit_code = exit_code_of(*status);
  else
    out.timed_out = true;
  out.out = read_file(out_file);
  out.err = read_file(err_file);
  return out;
}

} // namespace

cli_result run_argusctl(const std::vector<std::string>& args,
                        const std::vector<std::string>& env,
                        std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{ARGUSCTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_captured(argv, timeout, &env);
}

std::string find_program(const std::string& name) {
  auto path = std::getenv("PATH");
  std::istringstream dirs{path ? path : "/usr/bin:/bin"};
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    auto candidate = fs::path{dir.empty() ? "." : dir} / name;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate.string();
  }
  return "";
}

cli_result run_program(const std::vector<std::string>& argv,
                       std::chrono::milliseconds timeout) {
  return run_captured(argv, timeout, nullptr);
}

child_process::child_process(const std::vector<std::string>& argv, fs::path log)
    : log_(std::move(log)) {
  pid_ = spawn_process(argv, log_);
}

child_process::~child_process() {
  stop();
}

bool child_process::running() {
  if (pid_ > 0 && wait_for_exit(pid_, std::chrono::milliseconds{0}))
    pid_ = -1;
  return pid_ > 0;
}

int child_process::stop(std::chrono::milliseconds deadline) {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, SIGTERM);
  auto status = wait_or_kill(pid_, deadline);
  pid_ = -1;
  return status ? exit_code_of(*status) : -1;
}

void child_process::kill9() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int ignored = 0;
  ::waitpid(pid_, &ignored, 0);
  pid_ = -1;
}

std::string child_process::log() const {
  return read_file(log_);
}

// -- response -----------------------------------------------------------------

json response::data() const {
  if (body.is_object() && body.contains("data"))
    return body["data"];
  return nullptr;
}

std::string response::error_code() const {
  if (is_error_envelope() && body["error"]["code"].is_string())
    return body["error"]["code"].get<std::string>();
  return "";
}

std::string response::error_message() const {
  if (is_error_envelope() && body["error"]["message"].is_string())
    return body["error"]["message"].get<std::string>();
  return "";
}

bool response::is_error_envelope() const {
  return body.is_object() && body.value("success", true) == false &&
         body.contains("error") && body["error"].is_object() &&
         body["error"].contains("code") && body["error"].contains("message");
}

// -- client -------------------------------------------------------------------

client::client(std::string host, uint16_t port, const client_tls& tls)
    : host_(std::move(host)), port_(port) {
  if (tls.ca.empty()) {
    cli_ = std::make_unique<httplib::Client>(host_, port_);
  } else {
    cli_ = std::make_unique<httplib::Client>(
        "https://" + host_ + ":" + std::to_string(port_), tls.cert, tls.key);
    cli_->set_ca_cert_path(tls.ca.c_str());
    cli_->enable_server_certificate_verification(true);
  }
  cli_->set_connection_timeout(5, 0);
  cli_->set_read_timeout(15, 0);
  cli_->set_write_timeout(15, 0);
}

client::~client() = default;

response client::get(const std::string& path) {
  return to_response(cli_->Get(path.c_str()));
}

response client::post(const std::string& path, const json& body) {
  return post_raw(path, body.dump());
}

response client::post_raw(const std::string& path, const std::string& body,
                          const std::string& content_type) {
  return to_response(cli_->Post(path.c_str(), body, content_type.c_str()));
}

response client::post_chunked(const std::string& path,
                              const std::string& body) {
  auto provider = [body](size_t offset, httplib::DataSink& sink) {
    // Several chunks, so the server has to put the body together.
    constexpr size_t chunk = 512;
    if (offset < body.size()) {
      auto n = std::min(chunk, body.size() - offset);
      sink.write(body.data() + offset, n);
    } else {
      sink.done();
    }
    return true;
  };
  return to_response(cli_->Post(path.c_str(), provider, "application/json"));
}

response
client::post_with(const std::string& path, const std::string& body,
                  const std::multimap<std::string, std::string>& headers) {
  httplib::Headers h;
  for (auto& [name, value] : headers)
    h.emplace(name, value);
  return to_response(cli_->Post(path.c_str(), h, body, "application/json"));
}

response client::put(const std::string& path, const json& body) {
  return to_response(cli_->Put(path.c_str(), body.dump(), "application/json"));
}

response client::del(const std::string& path) {
  return to_response(cli_->Delete(path.c_str()));
}

// -- server -------------------------------------------------------------------

server::server(server_options opts) : opts_(std::move(opts)) {
  if (opts_.backend == "postgres" && opts_.dsn.empty()) {
    schema_ = std::make_unique<pg_schema>();
    opts_.dsn = schema_->dsn();
  }
  config_ = dir() / "config.yaml";
  log_ = dir() / "argus.log";
  start();
}

server::~server() {
  if (running())
    stop();
}

void server::spawn() {
  write_file(config_, opts_.config
                          ? opts_.config(dir(), port_)
                          : config_yaml(dir(), port_, opts_, node_port_));
  pid_ = spawn_process({ARGUS_BINARY, "--config", config_.string()}, log_);
  // Keep the client across restarts: tests hold references to it.
  if (!client_ || client_->port() != port_)
    client_ = std::make_unique<client>(
        "127.0.0.1", port_,
        client_tls{opts_.https_ca, opts_.client_cert, opts_.client_key});
}

void server::start() {
  REQUIRE_FALSE(running());
  // A port picked as free may be taken before the server binds it; then
  // another one is tried (only on the first start: a restart keeps its port).
  bool first = port_ == 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (first) {
      port_ = free_port();
      if (opts_.remoting)
        node_port_ = free_port();
    }
    spawn();
    auto until = steady::now() + start_deadline;
    bool exited = false;
    while (steady::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exited = true;
        break;
      }
      auto res = client_->get("/healthz");
      if (res.status == 200)
        return;
      std::this_thread::sleep_for(poll_interval);
    }
    if (!exited) {
      ::kill(pid_, SIGKILL);
      int ignored = 0;
      ::waitpid(pid_, &ignored, 0);
      pid_ = -1;
      FAIL("argus did not become healthy on port " << port_ << "; log:\n"
                                                   << log());
    }
    if (!first || log().find("cannot listen") == std::string::npos)
      break;
  }
  FAIL("argus exited during start on port " << port_ << "; log:\n" << log());
}

int server::stop(int sig) {
  // No Catch2 macros here: a shared server stops after the session ended.
  if (!running())
    return -1;
  ::kill(pid_, sig);
  auto status = wait_or_kill(pid_, stop_deadline);
  pid_ = -1;
  return status ? exit_code_of(*status) : -1;
}

void server::kill9() {
  if (!running())
    return;
  ::kill(pid_, SIGKILL);
  int ignored = 0;
  ::waitpid(pid_, &ignored, 0);
  pid_ = -1;
}

int server::restart() {
  auto code = stop();
  start();
  return code;
}

std::string server::log() const {
  return read_file(log_);
}

json server::create_rule(const std::string& grouping_key, int window_seconds,
                         const std::string& name) {
  auto res = http().post("/v1/grouping-rules",
                         {{"name", name},
                          {"grouping_key", grouping_key},
                          {"time_window_seconds", window_seconds}});
  INFO(res.text);
  REQUIRE(res.status == 201);
  return res.data();
}

json server::create_manager(const std::string& rule_id, const std::string& id) {
  json body{{"name", "manager " + id}, {"grouping_rule_id", rule_id}};
  if (!id.empty())
    body["id"] = id;
  auto res = http().post("/v1/event-managers", body);
  INFO(res.text);
  REQUIRE(res.status == 201);
  return res.data();
}

std::string server::fresh_manager(const std::string& grouping_key,
                                  int window_seconds) {
  auto rule = create_rule(grouping_key, window_seconds, unique_name("rule"));
  auto manager =
      create_manager(rule["id"].get<std::string>(), unique_name("em"));
  return manager["id"].get<std::string>();
}

response server::post_event(const json& event) {
  return http().post("/v1/events", event);
}

void server::trigger(const std::string& manager, const std::string& dedup,
                     const json& extra, const std::string& severity) {
  auto event = trigger_event(manager, dedup, "summary of " + dedup, severity);
  for (auto& [key, value] : extra.items())
    event[key] = value;
  auto res = post_event(event);
  INFO("trigger " << event.dump() << " -> " << res.text);
  REQUIRE(res.status == 202);
}

void server::resolve(const std::string& manager, const std::string& dedup) {
  auto res = post_event({{"event_manager_id", manager},
                         {"action", "resolve"},
                         {"dedupKey", dedup}});
  INFO("resolve " << dedup << " -> " << res.text);
  REQUIRE(res.status == 202);
}

json server::alert(const std::string& manager, const std::string& dedup) {
  auto res = http().get("/v1/alerts/" + url_encode(dedup) +
                        "?event_manager_id=" + url_encode(manager));
  if (res.status != 200)
    return nullptr;
  return res.data();
}

json server::await_alert(const std::string& manager, const std::string& dedup,
                         const std::function<bool(const json&)>& pred,
                         std::chrono::milliseconds deadline) {
  json last = nullptr;
  eventually(
      [&] {
        last = alert(manager, dedup);
        return !last.is_null() && pred(last);
      },
      deadline);
  return last;
}

json server::alerts(const std::string& query) {
  auto res = http().get("/v1/alerts?" + query);
  INFO(res.text);
  REQUIRE(res.status == 200);
  return res.data();
}

json server::health() {
  auto res = http().get("/healthz");
  INFO(res.text);
  REQUIRE(res.status == 200);
  return res.data();
}

bool server::settle(std::chrono::milliseconds deadline) {
  return eventually(
      [&] {
        auto res = http().get("/healthz");
        if (res.status != 200)
          return false;
        auto events = res.data()["events"];
        return events["processed"].get<uint64_t>() >=
               events["accepted"].get<uint64_t>();
      },
      deadline);
}

json server::notifications_of(const std::string& manager,
                              const std::string& query) {
  auto res = http().get("/v1/notifications?limit=10000&" + query);
  INFO(res.text);
  REQUIRE(res.status == 200);
  auto out = json::array();
  for (auto& n : res.data())
    if (n["alert"]["event_manager_id"] == manager)
      out.push_back(n);
  return out;
}

std::map<std::string, json> all_alerts(server& srv,
                                       const std::string& manager) {
  std::map<std::string, json> result;
  for (int offset = 0;; offset += 1000) {
    auto page = srv.alerts("event_manager_id=" + manager +
                           "&limit=1000&offset=" + std::to_string(offset));
    for (auto& a : page)
      result[a["dedupKey"].get<std::string>()] = a;
    if (page.size() < 1000)
      break;
  }
  return result;
}

} // namespace argus::test
