// kill -9 at any moment under load: after every restart, each event that got
// a 202 is reflected, with the parent/child structure a model of the
// acknowledged events predicts.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace {

using namespace argus::test;

constexpr int classes_per_batch = 5;
constexpr int triggers_per_class = 8;

/// What the load generator sent, batch by batch. Batch `b` triggers
/// `b-<class>-<i>` for classes 0..4 (each class is new, so its first event
/// is the parent and the others its children), and resolves every child of
/// class 0 of batch b-1 plus the parent of class 1 of batch b-1 (which has
/// active children, so it only becomes resolve_requested).
struct batch_record {
  int id = 0;
  /// 202 seen: every event is reflected. Unknown (connection cut by the
  /// kill): any subset in journal order may be.
  bool acked = false;
  bool uncertain = false;
};

std::string key(int batch, int cls, int i) {
  return std::to_string(batch) + "-" + std::to_string(cls) + "-" +
         std::to_string(i);
}

json make_batch(const std::string& manager, int b) {
  json events = json::array();
  for (int c = 0; c < classes_per_batch; ++c)
    for (int i = 0; i < triggers_per_class; ++i)
      events.push_back(
          {{"event_manager_id", manager},
           {"action", "trigger"},
           {"dedupKey", key(b, c, i)},
           {"summary", "load " + key(b, c, i)},
           {"severity", "low"},
           {"class", "b" + std::to_string(b) + "c" + std::to_string(c)}});
  if (b > 0) {
    for (int i = 1; i < triggers_per_class; ++i)
      events.push_back({{"event_manager_id", manager},
                        {"action", "resolve"},
                        {"dedupKey", key(b - 1, 0, i)}});
    events.push_back({{"event_manager_id", manager},
                      {"action", "resolve"},
                      {"dedupKey", key(b - 1, 1, 0)}});
  }
  return events;
}

/// Checks the store against the model of the batches sent so far.
void check_model(server& srv, const std::string& m,
                 const std::vector<batch_record>& batches) {
  REQUIRE(srv.settle());
  auto alerts = all_alerts(srv, m);
  size_t checked = 0;
  for (auto& b : batches) {
    if (!b.acked)
      continue;
    for (int c = 0; c < classes_per_batch; ++c)
      for (int i = 0; i < triggers_per_class; ++i) {
        auto k = key(b.id, c, i);
        auto it = alerts.find(k);
        INFO("batch " << b.id << " key " << k);
        REQUIRE(it != alerts.end());
        auto& a = it->second;
        ++checked;
        if (i == 0) {
          CHECK(a["type"] == "parent");
          CHECK(a["child_count"] == triggers_per_class - 1);
        } else {
          CHECK(a["type"] == "child");
          CHECK(a["parent_dedupKey"] == key(b.id, c, 0));
        }
        // Resolves for this batch come with the next one.
        bool next_acked = b.id + 1 < static_cast<int>(batches.size()) &&
                          batches[b.id + 1].acked;
        bool next_unknown = b.id + 1 < static_cast<int>(batches.size()) &&
                            batches[b.id + 1].uncertain;
        if (next_unknown)
          continue;
        if (c == 0 && i > 0)
          CHECK(a["status"] == (next_acked ? "resolved" : "active"));
        else if (c == 0 && i == 0)
          // Its children all resolved, but nobody resolved the parent.
          CHECK(a["status"] == "active");
        else if (c == 1 && i == 0) {
          CHECK(a["status"] == "active");
          CHECK(a["resolve_requested"] == next_acked);
        } else
          CHECK(a["status"] == "active");
        bool resolved_by_next = (c == 0 && i > 0) || (c == 1 && i == 0);
        int expected_events = resolved_by_next && next_acked ? 2 : 1;
        CHECK(a["event_count"] == expected_events);
      }
  }
  CHECK(checked > 0);
}

} // namespace

TEST_CASE("kill -9 under load loses no acknowledged event", "[integration]") {
  server srv;
  auto m = srv.fresh_manager("class", 3600);
  std::vector<batch_record> batches;
  std::mutex batches_mtx;
  std::mt19937 rng{42};
  for (int round = 0; round < 4; ++round) {
    std::atomic<bool> stop{false};
    // One sender, one batch at a time: the journal order is the send order.
    std::thread load{[&] {
      httplib::Client cli{"127.0.0.1", srv.port()};
      cli.set_connection_timeout(2);
      cli.set_read_timeout(5);
      while (!stop) {
        int id;
        {
          std::lock_guard<std::mutex> guard{batches_mtx};
          id = static_cast<int>(batches.size());
          batches.push_back({id, false, true});
        }
        auto res = cli.Post("/v1/events/batch", make_batch(m, id).dump(),
                            "application/json");
        std::lock_guard<std::mutex> guard{batches_mtx};
        if (res && res->status == 202) {
          batches[id].acked = true;
          batches[id].uncertain = false;
        } else {
          return; // the server is gone; this batch stays uncertain
        }
      }
    }};
    std::this_thread::sleep_for(std::chrono::milliseconds{150 + rng() % 350});
    srv.kill9();
    load.join();
    stop = true;
    srv.start();
    // The next batch's resolves refer to the previous batch; keep the model
    // simple by starting every round with a batch the model can trust.
    std::lock_guard<std::mutex> guard{batches_mtx};
    check_model(srv, m, batches);
    REQUIRE(std::count_if(batches.begin(), batches.end(),
                          [](auto& b) { return b.acked; }) > 0);
  }
}
