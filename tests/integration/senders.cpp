#include "integration/senders.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <sstream>

namespace argus::test {

namespace {

/// The program's path; fails the test when it is not installed.
std::string require_program(const std::string& name) {
  auto path = find_program(name);
  INFO(name << " is not installed: run tools/deps.sh");
  REQUIRE_FALSE(path.empty());
  return path;
}

std::string seconds_text(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + "ms";
}

std::string prometheus_yaml(const prometheus_options& opts,
                            const fs::path& rules) {
  std::ostringstream out;
  out << "global:\n"
      << "  scrape_interval: " << seconds_text(opts.interval) << "\n"
      << "  scrape_timeout: " << seconds_text(opts.interval) << "\n"
      << "  evaluation_interval: " << seconds_text(opts.interval) << "\n";
  if (!opts.rules_yaml.empty())
    out << "rule_files: ['" << rules.string() << "']\n";
  if (!opts.alertmanager.empty())
    out << "alerting:\n"
        << "  alertmanagers:\n"
        << "  - path_prefix: '" << opts.path_prefix << "'\n"
        << "    static_configs:\n"
        << "    - targets: ['" << opts.alertmanager << "']\n";
  out << "scrape_configs:\n";
  for (auto& [job, target] : opts.scrape_jobs)
    out << "- job_name: '" << job << "'\n"
        << "  static_configs:\n"
        << "  - targets: ['" << target << "']\n";
  return out.str();
}

} // namespace

// -- scrape_target ------------------------------------------------------------

scrape_target::scrape_target() : svr_(std::make_unique<httplib::Server>()) {
  svr_->Get("/metrics", [this](const httplib::Request&,
                               httplib::Response& res) {
    std::ostringstream out;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      for (auto& [name, value] : gauges_)
        out << "# TYPE " << name << " gauge\n" << name << " " << value << "\n";
    }
    ++scrapes_;
    res.set_content(out.str(), "text/plain; version=0.0.4");
  });
  port_ = static_cast<uint16_t>(svr_->bind_to_any_port("127.0.0.1"));
  REQUIRE(port_ > 0);
  thread_ = std::thread{[this] { svr_->listen_after_bind(); }};
}

scrape_target::~scrape_target() {
  svr_->stop();
  thread_.join();
}

void scrape_target::set(const std::string& name, double value) {
  std::lock_guard<std::mutex> guard{mutex_};
  gauges_[name] = value;
}

std::string scrape_target::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

// -- prometheus_server --------------------------------------------------------

prometheus_server::prometheus_server(const prometheus_options& opts) {
  auto binary = require_program("prometheus");
  auto rules = dir_.path() / "rules.yml";
  if (!opts.rules_yaml.empty())
    write_file(rules,
               "groups:\n- name: argus-test\n  rules:\n" + opts.rules_yaml);
  auto config = dir_.path() / "prometheus.yml";
  write_file(config, prometheus_yaml(opts, rules));
  port_ = free_port();
  proc_ = std::make_unique<child_process>(
      std::vector<std::string>{
          binary, "--config.file=" + config.string(),
          "--storage.tsdb.path=" + (dir_.path() / "data").string(),
          "--web.listen-address=127.0.0.1:" + std::to_string(port_),
          "--rules.alert.resend-delay=" + seconds_text(opts.resend_delay),
          "--log.level=warn"},
      dir_.path() / "prometheus.log");
  http_ = std::make_unique<client>("127.0.0.1", port_);
  auto ready = eventually(
      [&] { return !proc_->running() || http_->get("/-/ready").status == 200; },
      15s);
  INFO("prometheus log:\n" << log());
  REQUIRE(ready);
  REQUIRE(proc_->running());
}

prometheus_server::~prometheus_server() = default;

json prometheus_server::query(const std::string& promql) {
  auto res = http_->get("/api/v1/query?query=" + url_encode(promql));
  if (res.status != 200 || !res.body.is_object())
    return nullptr;
  return res.body["data"]["result"];
}

json prometheus_server::alerts() {
  auto res = http_->get("/api/v1/alerts");
  if (res.status != 200 || !res.body.is_object())
    return nullptr;
  return res.body["data"]["alerts"];
}

void prometheus_server::kill9() {
  proc_->kill9();
}

std::string prometheus_server::log() const {
  return proc_ ? proc_->log() : "";
}

// -- amtool -------------------------------------------------------------------

cli_result run_amtool(const std::string& url,
                      const std::vector<std::string>& args) {
  std::vector<std::string> argv{require_program("amtool"),
                                "--alertmanager.url=" + url};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, 20s);
}

} // namespace argus::test
