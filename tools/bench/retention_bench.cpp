// What storage.retention buys and costs a store (docs/benchmarks.md,
// "thirty-second round"): a store holding --alerts resolved alerts (a
// tenth of them children, all past the cutoff) and 10,000 active ones,
// timed for
//   - a write-behind transaction of --write new alerts, before and after
//     the resolved ones are deleted (the ratio is what retention gives
//     every later write),
//   - each `drop_resolved` step of --step alerts (storage.batch_size: what
//     one step holds the repository's thread, and so delays the writes
//     queued behind it),
// with the resident memory (memory backend) or the file's size (SQLite)
// with the history, after deleting it, and after as many alerts again:
// deleted space is reused, so with retention the store stops growing.
//
//   build/bin/retention_bench [--backend sqlite|memory|postgres]
//       [--alerts 1000000] [--step 2000] [--write 1000] [--dir /tmp/x]
//       [--dsn DSN (postgres: an empty database, e.g. from tools/pg.sh)]

#include "domain/alert.hpp"
#include "storage/store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace argus;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string backend = "sqlite";
  size_t alerts = 1000000;
  size_t step = 2000;
  size_t write = 1000;
  std::string dir = "/tmp/argus-retention-bench";
  /// For --backend postgres: an empty database (its tables are made).
  std::string dsn;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    std::string v = argv[i + 1];
    if (k == "--backend")
      o.backend = v;
    else if (k == "--alerts")
      o.alerts = std::stoul(v);
    else if (k == "--step")
      o.step = std::stoul(v);
    else if (k == "--write")
      o.write = std::stoul(v);
    else if (k == "--dir")
      o.dir = v;
    else if (k == "--dsn")
      o.dsn = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return o;
}

/// loadgen's shapes: a letter and 16 digits.
std::string key_of(char letter, size_t i) {
  return letter + std::to_string(1000000000000000ull + i);
}

const auto epoch = domain::from_millis(1'700'000'000'000);

/// Alert `i` of the bench's manager: every tenth a child of the one
/// before it; resolved an hour after `epoch` unless `active`.
domain::alert alert_of(size_t i, bool active, domain::time_point at) {
  domain::alert a;
  a.dedup_key = key_of(active ? 'a' : 'k', i);
  a.event_manager_id = "bench";
  a.id = domain::alert_id_for("bench", a.dedup_key);
  a.id_is_derived = true;
  a.summary = "benchmark event";
  a.sev = domain::severity::high;
  a.class_name = key_of('g', i / 10);
  a.details = R"({"host":"bench-host-01"})";
  a.has_grouping_value = true;
  a.grouping_value = a.class_name;
  if (!active && i % 10 != 0) {
    a.type = domain::alert_type::child;
    a.parent_dedup_key = key_of('k', i - i % 10);
  }
  a.created_at = at;
  a.updated_at = at;
  a.window_ends_at = at + std::chrono::hours{24};
  if (!active) {
    a.status = domain::alert_status::resolved;
    a.resolved_at = at + std::chrono::hours{1};
  }
  return a;
}

void must(const caf::error& err, const char* what) {
  if (err) {
    std::fprintf(stderr, "%s failed: %s\n", what, to_string(err).c_str());
    std::exit(1);
  }
}

long rss_kib() {
  std::ifstream f{"/proc/self/status"};
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return -1;
}

double ms_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - start)
      .count();
}

/// Median milliseconds of `runs` transactions of `n` new active alerts each
/// (keys from `*next` on).
double median_write_ms(storage::store& store, size_t n, size_t runs,
                       size_t* next) {
  std::vector<double> times;
  for (size_t r = 0; r < runs; ++r) {
    std::vector<domain::alert_write> batch;
    for (size_t i = 0; i < n; ++i)
      batch.emplace_back(alert_of((*next)++, true, epoch), 1);
    auto start = clock_type::now();
    must(store.write(batch), "write");
    times.push_back(ms_since(start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::string size_of(const options& o) {
  if (o.backend == "memory")
    return std::to_string(rss_kib() / 1024) + " MiB resident";
  if (o.backend == "postgres")
    return "(not measured)";
  std::error_code ec;
  auto file = std::filesystem::file_size(o.dir + "/argus.db", ec);
  auto wal = std::filesystem::file_size(o.dir + "/argus.db-wal", ec);
  if (ec)
    wal = 0;
  return std::to_string(file >> 20) + " MiB file + " +
         std::to_string(wal >> 20) + " MiB WAL";
}

/// Resolved alerts `first` to `first + n` (each tenth a parent, the rest
/// its children), in write-behind sized transactions.
void fill_history(storage::store& store, size_t first, size_t n) {
  for (size_t i = first; i < first + n; i += 2000) {
    std::vector<domain::alert_write> batch;
    for (size_t k = i; k < std::min(first + n, i + 2000); ++k)
      batch.emplace_back(alert_of(k, false, epoch), 1);
    must(store.write(batch), "fill");
  }
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  std::unique_ptr<storage::store> store;
  if (o.backend == "memory") {
    store = storage::make_memory_store();
  } else if (o.backend == "postgres") {
    auto opened = storage::open_postgres_store(o.dsn);
    if (!opened) {
      std::fprintf(stderr, "cannot open: %s\n",
                   to_string(opened.error()).c_str());
      return 1;
    }
    store = std::move(*opened);
  } else {
    std::filesystem::remove_all(o.dir);
    auto opened = storage::open_sqlite_store(o.dir + "/argus.db", 64);
    if (!opened) {
      std::fprintf(stderr, "cannot open: %s\n",
                   to_string(opened.error()).c_str());
      return 1;
    }
    store = std::move(*opened);
  }
  size_t next_active = 0;
  // The open work a node keeps anyway.
  for (size_t i = 0; i < 10000; i += 2000) {
    std::vector<domain::alert_write> batch;
    for (size_t k = 0; k < 2000; ++k)
      batch.emplace_back(alert_of(next_active++, true, epoch), 1);
    must(store->write(batch), "fill");
  }
  auto empty_ms = median_write_ms(*store, o.write, 21, &next_active);
  auto empty_size = size_of(o);
  fill_history(*store, 0, o.alerts);
  auto full_ms = median_write_ms(*store, o.write, 21, &next_active);
  auto full_size = size_of(o);
  std::vector<double> steps;
  size_t dropped = 0;
  auto cutoff = epoch + std::chrono::hours{2};
  auto all_start = clock_type::now();
  for (;;) {
    auto start = clock_type::now();
    auto step = store->drop_resolved(cutoff, o.step);
    if (!step) {
      std::fprintf(stderr, "drop failed: %s\n",
                   to_string(step.error()).c_str());
      return 1;
    }
    steps.push_back(ms_since(start));
    dropped += step->alerts;
    if (!step->more)
      break;
  }
  auto all_ms = ms_since(all_start);
  auto pruned_ms = median_write_ms(*store, o.write, 21, &next_active);
  std::sort(steps.begin(), steps.end());
  std::printf(
      "backend %s, %zu resolved alerts past the cutoff, 10,000+ active\n",
      o.backend.c_str(), o.alerts);
  std::printf("write of %zu new alerts, median of 21: before the history "
              "%.2f ms; with it %.2f ms (%.2fx); after deleting it %.2f ms "
              "(%.2fx of with it)\n",
              o.write, empty_ms, full_ms, full_ms / empty_ms, pruned_ms,
              pruned_ms / full_ms);
  std::printf("deleted %zu in %zu steps of at most %zu: %.0f ms in all, "
              "per step median %.1f ms, max %.1f ms\n",
              dropped, steps.size(), o.step, all_ms, steps[steps.size() / 2],
              steps.back());
  auto pruned_size = size_of(o);
  fill_history(*store, o.alerts, o.alerts);
  std::printf("size before the history: %s; with it: %s; after deleting "
              "it: %s; after as many resolved alerts again: %s\n",
              empty_size.c_str(), full_size.c_str(), pruned_size.c_str(),
              size_of(o).c_str());
  store.reset();
  if (o.backend == "sqlite")
    std::filesystem::remove_all(o.dir);
  return dropped == o.alerts ? 0 : 1;
}
