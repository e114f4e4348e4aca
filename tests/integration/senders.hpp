#pragma once

// The real senders of the Alertmanager API, from Debian's packages
// (tools/deps.sh installs them): a Prometheus server and amtool. Each runs
// with its own temp config, on free ports, and is waited for by polling.

#include "integration/harness.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
} // namespace httplib

namespace argus::test {

/// A scrape target on a free port whose gauges the test sets, so a
/// Prometheus rule over them fires and stops when the test says.
class scrape_target {
public:
  scrape_target();
  ~scrape_target();
  scrape_target(const scrape_target&) = delete;
  scrape_target& operator=(const scrape_target&) = delete;

  /// Sets gauge `name` (unlabelled) to `value` from the next scrape on.
  void set(const std::string& name, double value);
  /// How many scrapes it has answered.
  int scrapes() const { return scrapes_.load(); }
  /// "127.0.0.1:<port>".
  std::string address() const;

private:
  std::unique_ptr<httplib::Server> svr_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<int> scrapes_{0};
  mutable std::mutex mutex_;
  std::map<std::string, double> gauges_;
};

/// What a test Prometheus does: its scrape jobs and alerting rules, and the
/// Alertmanager it sends to.
struct prometheus_options {
  /// `host:port` of the Alertmanager API (Argus) and its path prefix
  /// (`/am/<manager>`); empty: no alerting section.
  std::string alertmanager;
  std::string path_prefix;
  /// Scrape jobs: name -> `host:port` (metrics path /metrics).
  std::map<std::string, std::string> scrape_jobs;
  /// YAML of the rule list (the items under `rules:`), or empty.
  std::string rules_yaml;
  /// Scrape and rule evaluation interval. Prometheus applies discovered
  /// targets (scrape and Alertmanager) about 5 s after it starts, whatever
  /// this is.
  std::chrono::milliseconds interval{500};
  /// --rules.alert.resend-delay: how often firing alerts are re-sent. A
  /// firing alert's endsAt is 4 x max(interval, this) ahead of its
  /// evaluation.
  std::chrono::milliseconds resend_delay{2000};
};

/// A running `prometheus` (2.42 from Debian) with its own temp dir.
class prometheus_server {
public:
  explicit prometheus_server(const prometheus_options& opts);
  ~prometheus_server();

  uint16_t port() const { return port_; }
  /// The `result` of an instant query (`/api/v1/query`), or null when the
  /// query fails.
  json query(const std::string& promql);
  /// The alerts Prometheus holds (`/api/v1/alerts`), or null.
  json alerts();
  /// Stops it with SIGKILL, as a crash would (no resolved alerts sent).
  void kill9();
  std::string log() const;

private:
  temp_dir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<child_process> proc_;
  std::unique_ptr<client> http_;
};

/// Runs `amtool` with `args` after `--alertmanager.url=<url>`.
cli_result run_amtool(const std::string& url,
                      const std::vector<std::string>& args);

} // namespace argus::test
