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
//   - each `drop_notifications` step after them (a quarter as many
//     notifications looked at, as the repository does): every parent has its
//     opening and resolution in the outbox, delivered to one receiver, and
//     every active alert its opening, which stays; then a pass that finds
//     nothing to delete, what each later pass costs when no alert went,
// with the resident memory (memory backend) or the file's size (SQLite)
// with the history, after deleting it, and after as many alerts again:
// deleted space is reused, so with retention the store stops growing.
//
//   build/bin/retention_bench [--backend sqlite|memory|postgres]
//       [--alerts 1000000] [--step 2000] [--write 1000] [--dir /tmp/x]
//       [--dsn DSN (postgres: an empty database, e.g. from tools/pg.sh)]
//       [--outbox-pass no (the notifications stay: sizes as before)]

#include "delivery/outbox.hpp"
#include "domain/alert.hpp"
#include "domain/delivery.hpp"
#include "domain/retention.hpp"
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
  /// --outbox-pass no: leaves the notifications (what retention did before
  /// the thirty-third round), to compare the sizes.
  bool outbox_pass = true;
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
    else if (k == "--outbox-pass")
      o.outbox_pass = v != "no";
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

/// The notifications the parents of `batch` made: an opening each, and a
/// resolution for a resolved one.
storage::notifications notes_of(const std::vector<domain::alert_write>& batch) {
  storage::notifications notes;
  for (auto& w : batch) {
    if (w.snapshot->type != domain::alert_type::parent)
      continue;
    auto add = [&](domain::notification_kind kind, domain::time_point at) {
      domain::notification n;
      n.kind = kind;
      n.parent = w.snapshot;
      n.at = at;
      n.id = domain::notification_id_for(w.snapshot->id, kind, at, 1);
      notes.push_back(std::move(n));
    };
    add(domain::notification_kind::parent_opened, w.snapshot->created_at);
    if (w.snapshot->status == domain::alert_status::resolved)
      add(domain::notification_kind::parent_resolved, w.snapshot->resolved_at);
  }
  return notes;
}

/// Alerts (`alert_of(k, active, epoch)` for k from `first` on, `n` of
/// them) with their notifications, in write-behind sized transactions.
void fill(storage::store& store, size_t first, size_t n, bool active) {
  for (size_t i = first; i < first + n; i += 2000) {
    std::vector<domain::alert_write> batch;
    for (size_t k = i; k < std::min(first + n, i + 2000); ++k)
      batch.emplace_back(alert_of(k, active, epoch), 1);
    must(store.write(batch, notes_of(batch), 0), "fill");
  }
}

/// Resolved alerts `first` to `first + n` (each tenth a parent, the rest
/// its children).
void fill_history(storage::store& store, size_t first, size_t n) {
  fill(store, first, n, false);
}

/// Fans every notification out to one receiver, delivered, as the worker
/// would.
void deliver_all(delivery::outbox& box) {
  for (;;) {
    auto entries = box.unfanned(2000);
    if (!entries) {
      std::fprintf(stderr, "unfanned failed: %s\n",
                   to_string(entries.error()).c_str());
      std::exit(1);
    }
    if (entries->empty())
      return;
    std::vector<std::string> ids;
    std::vector<domain::delivery> rows;
    for (auto& e : *entries) {
      ids.push_back(e->env.notification_id);
      auto row = domain::make_delivery(e->env.notification_id, "ops", "bench",
                                       "v:bench", e->env.kind, e->env.at);
      row.seq = e->seq;
      row.state = domain::delivery_state::delivered;
      rows.push_back(std::move(row));
    }
    must(box.fan_out(ids, rows), "fan out");
  }
}

/// Per-step times of one pass.
struct pass {
  std::vector<double> steps;
  size_t dropped = 0;
  double all_ms = 0;

  void report(const char* what, size_t step) {
    std::sort(steps.begin(), steps.end());
    std::printf("%s: deleted %zu in %zu steps of at most %zu: %.0f ms in "
                "all, per step median %.1f ms, max %.1f ms\n",
                what, dropped, steps.size(), step, all_ms,
                steps[steps.size() / 2], steps.back());
  }
};

/// Times `step()` (returning what it deleted and whether more is left)
/// until the pass ends.
template <class Step>
pass time_pass(Step step) {
  pass result;
  auto all_start = clock_type::now();
  for (bool more = true; more;) {
    auto start = clock_type::now();
    auto [n, again] = step();
    result.steps.push_back(ms_since(start));
    result.dropped += n;
    more = again;
  }
  result.all_ms = ms_since(all_start);
  return result;
}

/// A whole `drop_notifications` pass.
pass notification_pass(storage::store& store, domain::time_point cutoff,
                       size_t at_most) {
  uint64_t after = 0;
  return time_pass([&] {
    auto step = store.drop_notifications(cutoff, after, at_most);
    if (!step) {
      std::fprintf(stderr, "drop failed: %s\n",
                   to_string(step.error()).c_str());
      std::exit(1);
    }
    after = step->last_seq;
    return std::pair{step->notifications, step->more};
  });
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
  auto box = store->open_outbox("");
  if (!box) {
    std::fprintf(stderr, "cannot open the outbox: %s\n",
                 to_string(box.error()).c_str());
    return 1;
  }
  // The open work a node keeps anyway, with its openings.
  fill(*store, 0, 10000, true);
  size_t next_active = 10000;
  auto empty_ms = median_write_ms(*store, o.write, 21, &next_active);
  auto empty_size = size_of(o);
  fill_history(*store, 0, o.alerts);
  deliver_all(**box);
  auto full_ms = median_write_ms(*store, o.write, 21, &next_active);
  auto full_size = size_of(o);
  auto cutoff = epoch + std::chrono::hours{2};
  auto alerts = time_pass([&] {
    auto step = store->drop_resolved(cutoff, o.step);
    if (!step) {
      std::fprintf(stderr, "drop failed: %s\n",
                   to_string(step.error()).c_str());
      std::exit(1);
    }
    return std::pair{step->alerts, step->more};
  });
  auto note_step = domain::retention::notifications_per_step(o.step);
  auto notes =
      o.outbox_pass ? notification_pass(*store, cutoff, note_step) : pass{};
  auto again =
      o.outbox_pass ? notification_pass(*store, cutoff, note_step) : pass{};
  auto pruned_ms = median_write_ms(*store, o.write, 21, &next_active);
  auto dropped = alerts.dropped;
  std::printf(
      "backend %s, %zu resolved alerts past the cutoff, 10,000+ active\n",
      o.backend.c_str(), o.alerts);
  std::printf("write of %zu new alerts, median of 21: before the history "
              "%.2f ms; with it %.2f ms (%.2fx); after deleting it %.2f ms "
              "(%.2fx of with it)\n",
              o.write, empty_ms, full_ms, full_ms / empty_ms, pruned_ms,
              pruned_ms / full_ms);
  alerts.report("alerts", o.step);
  if (o.outbox_pass) {
    notes.report("notifications", note_step);
    again.report("notifications, a pass with nothing to delete", note_step);
  }
  auto pruned_size = size_of(o);
  fill_history(*store, o.alerts, o.alerts);
  std::printf("size before the history: %s; with it: %s; after deleting "
              "it: %s; after as many resolved alerts again: %s\n",
              empty_size.c_str(), full_size.c_str(), pruned_size.c_str(),
              size_of(o).c_str());
  box->reset();
  store.reset();
  if (o.backend == "sqlite")
    std::filesystem::remove_all(o.dir);
  // Every group's two notifications went (the memory outbox bounds itself
  // instead), the active alerts' openings stayed.
  auto notes_expected =
      o.backend == "memory" || !o.outbox_pass ? 0 : (o.alerts + 9) / 10 * 2;
  return dropped == o.alerts && notes.dropped == notes_expected &&
                 again.dropped == 0
             ? 0
             : 1;
}
