// Heap bytes per item of the in-memory structures Argus keeps per group and
// per alert (docs/benchmarks.md, "Issue 15"), measured with mallinfo2()
// around 200,000 items of the memory benchmark's event shape: loadgen's
// 17-byte dedupKeys and grouping values (a letter and 16 digits), longer
// than std::string keeps inline, so each copy of one is a heap block.
//
//   build/bin/heap_probe
#include "domain/alert_key_map.hpp"
#include "domain/flat_map.hpp"
#include "domain/grouping.hpp"
#include "domain/keys.hpp"
#include "storage/store.hpp"
#include <cstdio>
#include <malloc.h>
#include <memory>
#include <unordered_map>
using namespace argus;
static size_t used() {
  return mallinfo2().uordblks;
}
/// loadgen's shapes: a letter and 16 digits.
static std::string key_of(char letter, size_t i) {
  return letter + std::to_string(1000000000000000ull + i);
}
static domain::event ev(size_t i, size_t groups) {
  domain::event e;
  e.event_manager_id = "bench";
  e.dedup_key = key_of('k', i);
  e.summary = "benchmark event";
  e.sev = domain::severity::high;
  e.class_name = key_of('g', i % groups);
  e.details = R"({"host":"bench-host-01"})";
  e.has_grouping_value = true;
  e.grouping_value = e.class_name;
  e.window = std::chrono::hours{24};
  return e;
}
int main() {
  const size_t n = 200000;
  auto now = domain::time_point{} + std::chrono::hours{1000};
  // groups of one alert
  {
    std::vector<domain::group_state> gs;
    gs.reserve(n);
    domain::decision d;
    std::vector<domain::alert_write> writes;
    auto before = used();
    for (size_t i = 0; i < n; ++i) {
      auto e = ev(i, n);
      domain::group_state g;
      g.event_manager_id = e.event_manager_id;
      g.has_value = true;
      g.grouping_value = e.grouping_value;
      gs.push_back(std::move(g));
      domain::apply(gs.back(), e, true, now, d);
    }
    std::printf(
        "group_state heap per 1-alert group: %.0f B (+ sizeof %zu inline)\n",
        double(used() - before) / n, sizeof(domain::group_state));
  }
  // one group, n alerts (children)
  std::vector<domain::alert_write> all;
  {
    domain::group_state g;
    g.event_manager_id = "bench";
    g.has_value = true;
    g.grouping_value = key_of('g', 0);
    domain::decision d;
    const size_t n2 = 20000;
    auto before = used();
    for (size_t i = 0; i < n2; ++i) {
      domain::apply(g, ev(i * 1, 1), true, now, d);
    }
    std::printf("group_state heap per alert (one group): %.0f B\n",
                double(used() - before) / n2);
  }
  // memory store
  {
    std::vector<domain::alert_write> ws;
    ws.reserve(n);
    domain::group_state g;
    g.event_manager_id = "bench";
    g.has_value = true;
    g.grouping_value = key_of('g', 0);
    domain::decision d;
    for (size_t i = 0; i < n; ++i) {
      auto e = ev(i, 100);
      g.grouping_value = e.grouping_value;
      g.open_parent.clear();
      g.active.clear();
      g.links.clear();
      domain::apply(g, e, true, now, d);
      ws.push_back(d.writes.front());
    }
    auto store = storage::make_memory_store(0);
    auto before = used();
    std::vector<domain::alert_write> batch;
    for (size_t i = 0; i < n; i += 1000) {
      batch.assign(ws.begin() + i, ws.begin() + i + 1000);
      store->write(batch, {}, 0);
    }
    batch = {};
    std::printf("memory store heap per alert (snapshots held elsewhere): "
                "%.0f B\n",
                double(used() - before) / n);
  }
  // Groups and the memory store together, as a node with the memory backend
  // keeps them: 20 groups of 10,000 alerts, every decision's writes stored.
  // Then every alert resolves: the groups let go, the store keeps history.
  {
    const size_t groups = 20;
    auto before = used();
    auto store = storage::make_memory_store(0);
    std::vector<domain::group_state> gs(groups);
    for (size_t i = 0; i < groups; ++i) {
      gs[i].event_manager_id = "bench";
      gs[i].has_value = true;
      gs[i].grouping_value = ev(i, groups).grouping_value;
    }
    domain::decision d;
    for (size_t i = 0; i < n; ++i) {
      domain::apply(gs[i % groups], ev(i, groups), true, now, d);
      store->write(d.writes, {}, 0);
    }
    d = {};
    std::printf("groups + memory store heap per active alert: %.0f B\n",
                double(used() - before) / n);
    for (size_t i = 0; i < n; ++i) {
      auto e = ev(i, groups);
      e.act = domain::action::resolve;
      domain::apply(gs[i % groups], e, false, now, d);
      store->write(d.writes, {}, 0);
    }
    d = {};
    gs = {};
    std::printf("memory store heap per resolved alert (groups gone): %.0f B\n",
                double(used() - before) / n);
  }
  // router index: old layouts (group_key by value, then a shared entry in
  // an unordered_map, then one flat map by alert_key) vs the flat map of
  // dedupKeys per manager the router uses now
  {
    struct old_entry {
      domain::group_key g;
      uint64_t last = 0;
    };
    struct new_entry {
      std::shared_ptr<int> g;
      uint64_t last = 0;
    };
    auto g = std::make_shared<int>(0);
    domain::group_key key{"bench", true, key_of('g', 1)};
    // Heap per entry of index `m` (empty) once it maps n dedupKeys to `group`.
    auto per_entry = [&](const char* layout, auto m, const auto& group) {
      auto before = used();
      for (size_t i = 0; i < n; ++i)
        m[domain::alert_key{"bench", key_of('k', i)}].g = group;
      std::printf("router index per alert, %s: %.0f B\n", layout,
                  double(used() - before) / n);
    };
    per_entry("group_key by value",
              std::unordered_map<domain::alert_key, old_entry>{}, key);
    per_entry("shared group entry",
              std::unordered_map<domain::alert_key, new_entry>{}, g);
    per_entry("flat map", domain::flat_map<domain::alert_key, new_entry>{}, g);
    per_entry("flat map per manager", domain::alert_key_map<new_entry>{}, g);
    // The same with a manager id as the API makes them (a UUID): a copy in
    // every entry of the one flat map is a heap block.
    auto per_entry_uuid = [&](const char* layout, auto m) {
      auto before = used();
      const std::string manager = "9b2f6c1e-0000-4000-8000-000000000001";
      for (size_t i = 0; i < n; ++i)
        m[domain::alert_key{manager, key_of('k', i)}].g = g;
      std::printf("router index per alert, UUID manager, %s: %.0f B\n", layout,
                  double(used() - before) / n);
    };
    per_entry_uuid("flat map",
                   domain::flat_map<domain::alert_key, new_entry>{});
    per_entry_uuid("flat map per manager", domain::alert_key_map<new_entry>{});
  }
}
