// In-process pipeline benchmark: events/s through the router and grouping
// actors (no HTTP, no JSON, memory store), next to a baseline of the same
// number of plain CAF messages to a no-op actor, in the same run.
//
//   build/bin/pipeline_bench [--events N] [--runs R] [--json FILE]
//                            [--groups G] [--threads T] [--policy P]
//                            [--print-window 1] [--baseline-runs B]
//                            [--manager-id ID]
//
// --threads and --policy set the pipeline's scheduler (`actors.threads`,
// `actors.policy`; defaults: the server's, 2 and lazy-sharing); the
// baseline keeps 2 threads and CAF's sharing, so ratios compare settings
// against the same reference.
// --print-window prints each timed pipeline run's start and end on
// CLOCK_MONOTONIC to stderr, so a profile taken with
// `perf record -k CLOCK_MONOTONIC` can be cut to it (`perf script --time`):
// the node's start and shutdown stay out of the picture.
// --baseline-runs 0 leaves the baseline out (no ratios): for counting the
// pipeline's own instructions under callgrind (tools/bench/instructions_ab.py).
// Each timed pipeline run calls `timed_window_opens` before its first event
// and `timed_window_closes` once their work is done (after the timing, which
// ends when all are applied), so callgrind can count only the events' work
// (`--zero-before`, `--dump-before`).
// --manager-id names the event manager (default "bench", as every round
// before it measured). The server gives managers uuids, 36 characters that
// every alert id, group key and store row hashes; a uuid here counts that.
#include "actors/node.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"
#include "domain/error.hpp"
#ifdef ARGUS_WITH_TCMALLOC
#include "prefault.hpp"
#endif

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace argus;

size_t bench_threads = 2;
bool print_window = false;
std::string bench_policy = config::actor_settings{}.policy;
std::string bench_manager = "bench";
using clock_type = std::chrono::steady_clock;

struct figures {
  double median, min, max;
};

/// steady_clock is CLOCK_MONOTONIC on Linux, the clock perf can stamp with.
double monotonic_seconds(clock_type::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// Marks for callgrind: instructions_ab.py zeroes its counts when the first
// is called and dumps them when the second is, so the node's start, the
// events' making and the shutdown stay out of the count. Never inlined, so
// both exist as functions to name, and different, so the linker does not
// fold them into one.
volatile int timed_window_mark = 0;
[[gnu::noinline]] void timed_window_opens() {
  timed_window_mark = 1;
}
[[gnu::noinline]] void timed_window_closes() {
  timed_window_mark = 2;
}

/// Waits until the work the events caused is done: every alert change
/// stored and no notification stored for 20 ms (the delivery worker fans
/// them out as they come). Not timed: it only makes the counted window end
/// where the events' work does, rather than wherever the repository's
/// backlog happens to be when the last event is applied.
void settle(const actors::metrics& stats) {
  auto quiet_since = clock_type::now();
  auto seen = stats.notifications.load();
  while (clock_type::now() - quiet_since < std::chrono::milliseconds{20}) {
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
    auto now_seen = stats.notifications.load();
    if (now_seen != seen || stats.store_backlog() > 0) {
      seen = now_seen;
      quiet_since = clock_type::now();
    }
  }
}

figures summarize(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return {xs[xs.size() / 2], xs.front(), xs.back()};
}

config::settings bench_settings() {
  config::settings s;
  s.storage.backend = "memory";
  s.node.port = 0;
  s.log.level = "error";
  s.actors.threads = bench_threads;
  s.actors.policy = bench_policy;
  return s;
}

/// Events per second for `n` plain messages to a counting actor.
double baseline_rate(size_t n) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto counter = std::make_shared<std::atomic<size_t>>(0);
  auto sink = sys.spawn([counter](caf::event_based_actor*) -> caf::behavior {
    return {[counter](const std::string&, int64_t) { ++*counter; }};
  });
  std::string payload(64, 'x');
  auto start = clock_type::now();
  for (size_t i = 0; i < n; ++i)
    caf::anon_send(sink, payload, static_cast<int64_t>(i));
  while (*counter < n)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  return n / secs;
}

/// Events per second through routers and grouping actors with `groups`
/// distinct grouping values.
double pipeline_rate(size_t n, size_t groups) {
  argus::log::set_level("error");
  auto s = bench_settings();
  auto started = actors::node::start(s);
  if (!started) {
    std::fprintf(stderr, "start failed: %s\n",
                 message_of(started.error()).c_str());
    std::exit(1);
  }
  auto& node = **started;
  caf::scoped_actor self{node.system()};
  domain::grouping_rule rule;
  rule.name = "bench";
  rule.grouping_key = "class";
  rule.time_window_seconds = 3600;
  std::string rule_id;
  self->request(node.catalog(), std::chrono::seconds{5}, atom::create::value,
                rule)
      .receive([&](domain::grouping_rule& r) { rule_id = r.id; },
               [](caf::error&) { std::exit(1); });
  domain::event_manager manager;
  manager.id = bench_manager;
  manager.name = "bench";
  manager.grouping_rule_id = rule_id;
  self->request(node.catalog(), std::chrono::seconds{5}, atom::create::value,
                manager)
      .receive([](domain::event_manager&) {},
               [](caf::error&) { std::exit(1); });
  // Pre-built events with fresh dedupKeys, so the loop measures the actors.
  std::vector<domain::event> events(n);
  for (size_t i = 0; i < n; ++i) {
    auto& e = events[i];
    e.event_manager_id = bench_manager;
    e.dedup_key = "k" + std::to_string(i);
    e.summary = "benchmark event";
    e.sev = domain::severity::high;
    e.class_name = "c" + std::to_string(i % groups);
    e.has_grouping_value = true;
    e.grouping_value = e.class_name;
    e.window = std::chrono::hours{1};
  }
  auto& router = node.router_for(bench_manager);
  auto& applied = node.stats().events_applied;
  timed_window_opens();
  auto start = clock_type::now();
  for (auto& e : events)
    caf::anon_send(router, atom::apply::value, std::move(e));
  while (applied.load() < n)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  auto end = clock_type::now();
  settle(node.stats());
  timed_window_closes();
  if (print_window)
    std::fprintf(stderr, "timed window: %.6f,%.6f\n", monotonic_seconds(start),
                 monotonic_seconds(end));
  auto secs = std::chrono::duration<double>(end - start).count();
  return n / secs;
}

} // namespace

int main(int argc, char** argv) {
#ifdef ARGUS_WITH_TCMALLOC
  argus::prefault_heap_growth(); // as the server does
#endif
  size_t events = 200000;
  int runs = 3;
  int baseline_runs = -1; // as many as `runs`
  std::string json_path;
  std::vector<size_t> group_counts{1, 1000, 100000};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--events")
      events = std::stoul(argv[i + 1]);
    else if (flag == "--runs")
      runs = std::stoi(argv[i + 1]);
    else if (flag == "--json")
      json_path = argv[i + 1];
    else if (flag == "--groups")
      group_counts = {std::stoul(argv[i + 1])};
    else if (flag == "--threads")
      bench_threads = std::stoul(argv[i + 1]);
    else if (flag == "--policy")
      bench_policy = argv[i + 1];
    else if (flag == "--print-window")
      print_window = std::string{argv[i + 1]} != "0";
    else if (flag == "--baseline-runs")
      baseline_runs = std::stoi(argv[i + 1]);
    else if (flag == "--manager-id")
      bench_manager = argv[i + 1];
  }
  if (baseline_runs < 0)
    baseline_runs = runs;
  std::vector<double> base;
  for (int r = 0; r < baseline_runs; ++r)
    base.push_back(baseline_rate(events));
  // Without a baseline, ratios print as 0.
  auto b = base.empty() ? figures{0, 0, 0} : summarize(base);
  std::printf("%-28s %14s %14s %14s %8s\n", "case", "median ev/s", "min", "max",
              "ratio");
  if (!base.empty())
    std::printf("%-28s %14.0f %14.0f %14.0f %8.2f\n", "baseline: caf messages",
                b.median, b.min, b.max, 1.0);
  std::string json = "{\"events\":" + std::to_string(events) +
                     ",\"baseline\":" + std::to_string(b.median) +
                     ",\"cases\":[";
  bool first = true;
  for (size_t groups : group_counts) {
    std::vector<double> xs;
    for (int r = 0; r < runs; ++r)
      xs.push_back(pipeline_rate(events, groups));
    auto f = summarize(xs);
    auto name = "pipeline, " + std::to_string(groups) + " groups";
    std::printf("%-28s %14.0f %14.0f %14.0f %8.2f\n", name.c_str(), f.median,
                f.min, f.max, b.median > 0 ? f.median / b.median : 0.0);
    json += std::string{first ? "" : ","} +
            "{\"groups\":" + std::to_string(groups) +
            ",\"median\":" + std::to_string(f.median) +
            ",\"min\":" + std::to_string(f.min) +
            ",\"max\":" + std::to_string(f.max) + "}";
    first = false;
  }
  json += "]}";
  if (!json_path.empty())
    std::ofstream{json_path} << json << "\n";
  return 0;
}
