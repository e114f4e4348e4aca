// The storage contract, run against every backend: the repository actor must
// not be able to tell them apart.

#include "storage/alert_sql.hpp"
#include "storage/postgres.hpp"
#include "storage/store.hpp"

#include "domain/error.hpp"
#include "support/cutting_proxy.hpp"
#include "support/postgres.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

namespace fs = std::filesystem;

using argus::domain::alert;
using argus::domain::alert_status;
using argus::domain::alert_type;
using argus::domain::alert_write;
using argus::domain::from_millis;
using argus::domain::no_time;

/// A fresh folder under the system's temp folder, removed with everything in
/// it when the test ends.
struct temp_dir {
  fs::path path = fs::temp_directory_path() /
                  ("argus-storage-test-" + argus::domain::random_uuid());

  temp_dir() { fs::create_directories(path); }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string db() const { return (path / "data" / "argus.db").string(); }
};

std::unique_ptr<argus::storage::store> open_or_fail(const std::string& path) {
  auto store = argus::storage::open_sqlite_store(path);
  if (!store)
    FAIL("open failed: " << argus::message_of(store.error()));
  return std::move(*store);
}

std::unique_ptr<argus::storage::store> open_pg_or_fail(const std::string& dsn) {
  auto store = argus::storage::open_postgres_store(dsn);
  if (!store)
    FAIL("open failed: " << argus::message_of(store.error()));
  return std::move(*store);
}

/// The backends under test: PostgreSQL too when there is a test server
/// (ctest's "postgres" fixture or $ARGUS_TEST_PG_DSN).
std::vector<std::string> backends() {
  std::vector<std::string> result{"memory", "sqlite"};
  if (!argus::test::pg_base_dsn().empty())
    result.emplace_back("postgres");
  return result;
}

/// One backend under test; sqlite lives in its own temp folder, postgres in
/// its own schema.
struct backend {
  explicit backend(const std::string& kind) {
    if (kind == "memory") {
      store = argus::storage::make_memory_store();
    } else if (kind == "postgres") {
      schema = std::make_unique<argus::test::pg_schema>();
      store = open_pg_or_fail(schema->dsn());
    } else {
      store = open_or_fail(dir.db());
    }
    REQUIRE(store->backend() == kind);
  }

  temp_dir dir;
  std::unique_ptr<argus::test::pg_schema> schema;
  std::unique_ptr<argus::storage::store> store;
};

/// An alert with every field set to something other than its default, and
/// times on whole milliseconds (the resolution the stores keep).
alert make_alert(const std::string& manager, const std::string& key,
                 int64_t created_ms, alert_status status = alert_status::active,
                 alert_type type = alert_type::parent,
                 const std::string& parent = {}) {
  alert a;
  a.id = argus::domain::alert_id_for(manager, key);
  a.dedup_key = key;
  a.event_manager_id = manager;
  a.summary = "summary of " + key;
  a.sev = argus::domain::severity::high;
  a.class_name = "disk";
  a.type = type;
  a.status = status;
  a.has_grouping_value = true;
  a.grouping_value = "host-1";
  a.parent_dedup_key = parent;
  a.child_count = type == alert_type::parent ? 2 : 0;
  a.resolve_requested = true;
  a.event_count = 999; // ignored by the stores: the delta counts
  a.created_at = from_millis(created_ms);
  a.updated_at = from_millis(created_ms + 500);
  a.resolved_at = status == alert_status::resolved
                      ? from_millis(created_ms + 900)
                      : no_time;
  a.window_ends_at = from_millis(created_ms + 60'000);
  a.details = R"({"region":"eu","n":1})";
  return a;
}

void write(argus::storage::store& store, const alert& a, int64_t delta = 1) {
  REQUIRE_FALSE(store.write({alert_write{a, delta}}));
}

template <class T>
T must(caf::expected<T> x) {
  if (!x)
    FAIL("query failed: " << argus::message_of(x.error()));
  return std::move(*x);
}

/// "manager/dedupKey" of each alert, in the order given.
std::vector<std::string> keys_of(const std::vector<alert>& alerts) {
  std::vector<std::string> result;
  for (auto& a : alerts)
    result.push_back(a.event_manager_id + "/" + a.dedup_key);
  return result;
}

std::vector<std::string> sorted_keys_of(const std::vector<alert>& alerts) {
  auto result = keys_of(alerts);
  std::sort(result.begin(), result.end());
  return result;
}

void check_same(const alert& x, const alert& y) {
  CHECK(x.id == y.id);
  CHECK(x.dedup_key == y.dedup_key);
  CHECK(x.event_manager_id == y.event_manager_id);
  CHECK(x.summary == y.summary);
  CHECK(x.sev == y.sev);
  CHECK(x.class_name == y.class_name);
  CHECK(x.type == y.type);
  CHECK(x.status == y.status);
  CHECK(x.has_grouping_value == y.has_grouping_value);
  CHECK(x.grouping_value == y.grouping_value);
  CHECK(x.parent_dedup_key == y.parent_dedup_key);
  CHECK(x.child_count == y.child_count);
  CHECK(x.resolve_requested == y.resolve_requested);
  CHECK(x.created_at == y.created_at);
  CHECK(x.updated_at == y.updated_at);
  CHECK(x.resolved_at == y.resolved_at);
  CHECK(x.window_ends_at == y.window_ends_at);
  CHECK(x.details == y.details);
}

/// Checks that `stored` is `written` merged into `first`: every column
/// from the write, except the id and creation time the stored row keeps.
void check_merged(const alert& stored, const alert& written,
                  const alert& first) {
  auto expected = written;
  expected.id = first.id;
  expected.created_at = first.created_at;
  check_same(stored, expected);
}

argus::domain::alert_filter all() {
  argus::domain::alert_filter f;
  f.limit = 1000;
  return f;
}

/// Five alerts of two managers, of each status and type, two created at
/// the same time: what the listing and count tests filter.
void write_listing_sample(argus::storage::store& store) {
  write(store, make_alert("m1", "a", 3'000));
  write(store, make_alert("m1", "b", 5'000, alert_status::resolved));
  write(store, make_alert("m1", "c", 5'000, alert_status::active,
                          alert_type::child, "a"));
  write(store, make_alert("m2", "a", 4'000, alert_status::resolved,
                          alert_type::child, "x"));
  write(store, make_alert("m2", "d", 1'000));
}

#define EACH_BACKEND()                                                         \
  auto kind = GENERATE(from_range(backends()));                                \
  INFO("backend: " << kind);                                                   \
  backend b{kind};                                                             \
  auto& store = *b.store

} // namespace

TEST_CASE("storage: a new alert reads back with every field", "[unit]") {
  EACH_BACKEND();
  auto a = make_alert("m1", "disk-full", 1'700'000'000'123);
  write(store, a, 3);
  auto rows = must(store.list(all()));
  REQUIRE(rows.size() == 1);
  check_same(rows[0], a);
  CHECK(rows[0].event_count == 3);
  SECTION("with defaults and empty texts too") {
    alert plain;
    plain.id = "id-2";
    plain.dedup_key = "plain";
    plain.event_manager_id = "m1";
    plain.details = "";
    write(store, plain, 0);
    auto found = must(store.by_dedup_key("m1", "plain"));
    REQUIRE(found.size() == 1);
    check_same(found[0], plain);
    CHECK(found[0].event_count == 0);
    CHECK(found[0].resolved_at == no_time);
  }
}

TEST_CASE("storage: a write merges into the stored alert", "[unit]") {
  EACH_BACKEND();
  auto first = make_alert("m1", "k", 1'000);
  write(store, first, 1);
  auto next = make_alert("m1", "k", 9'000, alert_status::resolved,
                         alert_type::child, "p");
  next.id = "another-id";
  next.summary = "changed";
  next.sev = argus::domain::severity::medium;
  next.class_name = "cpu";
  next.has_grouping_value = false;
  next.grouping_value = "";
  next.child_count = 7;
  next.resolve_requested = false;
  next.details = R"({"changed":true})";
  write(store, next, 4);
  auto rows = must(store.list(all()));
  REQUIRE(rows.size() == 1);
  check_merged(rows[0], next, first);
  CHECK(rows[0].event_count == 5);
}

TEST_CASE("storage: a write carrying its dedupKey hash lands on the same row "
          "as one without",
          "[unit]") {
  EACH_BACKEND();
  // Grouping actors send the hash along (alert_write::dedup_hash), tests
  // and restores do not; enough keys in one call that the memory store
  // loads slots ahead by the carried hashes too.
  std::vector<alert_write> carried, plain;
  for (int i = 0; i < 40; ++i) {
    auto a = make_alert("m1", "key-" + std::to_string(i), 1'000 + i);
    alert_write w{a, 1};
    w.dedup_hash = argus::domain::text_hash(a.dedup_key);
    carried.push_back(std::move(w));
    plain.push_back(alert_write{a, 2});
  }
  REQUIRE_FALSE(store.write(carried));
  REQUIRE_FALSE(store.write(plain));
  auto rows = must(store.list(all()));
  REQUIRE(rows.size() == 40);
  for (auto& row : rows)
    CHECK(row.event_count == 3);
}

TEST_CASE("storage: a write that keeps status and parent merges the same",
          "[unit]") {
  // SQLite writes such a change with an UPDATE that leaves the status and
  // parent columns (and their indexes) alone; the result must not differ.
  EACH_BACKEND();
  auto parent =
      make_alert("m1", "p", 500, alert_status::active, alert_type::parent);
  auto first = make_alert("m1", "k", 1'000, alert_status::active,
                          alert_type::child, "p");
  write(store, parent, 1);
  write(store, first, 1);
  auto next = first;
  next.id = "another-id";
  next.created_at = from_millis(7'000);
  next.updated_at = from_millis(9'000);
  next.summary = "changed";
  next.sev = argus::domain::severity::medium;
  next.child_count = 3;
  next.details = R"({"changed":true})";
  next.last_seq = 12;
  write(store, next, 2);
  auto rows = must(store.by_dedup_key("m1", "k"));
  REQUIRE(rows.size() == 1);
  check_merged(rows[0], next, first);
  CHECK(rows[0].event_count == 3);
  CHECK(rows[0].last_seq == 12);
  // The reads by status and by parent still find it, once.
  auto active = all();
  active.status = "active";
  CHECK(must(store.list(active)).size() == 2);
  auto children = must(store.children("m1", "p"));
  REQUIRE(children.size() == 1);
  CHECK(children[0].summary == "changed");
}

TEST_CASE("storage: one write call applies its changes in order", "[unit]") {
  EACH_BACKEND();
  auto a = make_alert("m1", "k", 1'000);
  auto b2 = a;
  b2.summary = "second";
  auto other = make_alert("m2", "k", 2'000);
  REQUIRE_FALSE(store.write(
      {alert_write{a, 1}, alert_write{b2, 2}, alert_write{other, 5}}));
  auto rows = must(store.list(all()));
  REQUIRE(keys_of(rows) == std::vector<std::string>{"m2/k", "m1/k"});
  CHECK(rows[1].summary == "second");
  CHECK(rows[1].event_count == 3);
  CHECK(rows[0].event_count == 5);
  SECTION("an empty batch changes nothing") {
    REQUIRE_FALSE(store.write({}));
    CHECK(must(store.list(all())).size() == 2);
  }
}

TEST_CASE("storage: a long write across managers keeps each manager's "
          "alerts apart",
          "[unit]") {
  EACH_BACKEND();
  // Longer than the memory store's look-ahead, with the same dedupKeys in
  // two managers and runs of each manager of different lengths.
  std::vector<alert_write> writes;
  std::vector<std::string> managers;
  for (int i = 0; i < 40; ++i) {
    auto manager = (i % 5 < 3) ? "m1" : (i % 5 == 3 ? "m2" : "m3");
    auto a = make_alert(manager, "k" + std::to_string(i % 20), 1'000 + i);
    a.summary = std::string{manager} + "#" + std::to_string(i);
    writes.push_back(alert_write{a, 1});
    managers.emplace_back(manager);
  }
  REQUIRE_FALSE(store.write(writes));
  for (size_t i = 20; i < writes.size(); ++i) {
    // The later write of a (manager, dedupKey) wins; the others stay.
    auto& a = *writes[i].snapshot;
    auto found = must(store.by_dedup_key(managers[i], a.dedup_key.str()));
    REQUIRE(found.size() == 1);
    CHECK(found[0].event_manager_id == managers[i]);
    CHECK(found[0].summary == a.summary);
  }
  std::set<std::string> distinct;
  for (size_t i = 0; i < writes.size(); ++i)
    distinct.insert(managers[i] + "/" + writes[i].snapshot->dedup_key.str());
  CHECK(must(store.list(all())).size() == distinct.size());
}

TEST_CASE("storage: a re-triggered resolved alert keeps its identity",
          "[unit]") {
  EACH_BACKEND();
  auto a = make_alert("m1", "k", 1'000);
  write(store, a, 1);
  auto resolved = a;
  resolved.status = alert_status::resolved;
  resolved.resolved_at = from_millis(5'000);
  resolved.updated_at = from_millis(5'000);
  write(store, resolved, 0);
  auto stored = must(store.by_dedup_key("m1", "k"));
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].status == alert_status::resolved);
  CHECK(stored[0].resolved_at == from_millis(5'000));

  // The grouping actor sends a fresh snapshot: new id, new creation time.
  auto again = make_alert("m1", "k", 8'000);
  again.id = "fresh-id";
  write(store, again, 1);
  stored = must(store.by_dedup_key("m1", "k"));
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].id == a.id);
  CHECK(stored[0].created_at == from_millis(1'000));
  CHECK(stored[0].updated_at == from_millis(8'500));
  CHECK(stored[0].status == alert_status::active);
  CHECK(stored[0].resolved_at == no_time);
  CHECK(stored[0].event_count == 2);
}

TEST_CASE("storage: list filters, orders and pages", "[unit]") {
  EACH_BACKEND();
  write_listing_sample(store);
  auto list = [&](argus::domain::alert_filter f) {
    return keys_of(must(store.list(f)));
  };
  using keys = std::vector<std::string>;
  auto f = all();
  // Newest first; equal times by dedupKey.
  CHECK(list(f) == keys{"m1/b", "m1/c", "m2/a", "m1/a", "m2/d"});
  f.event_manager_id = "m2";
  CHECK(list(f) == keys{"m2/a", "m2/d"});
  f = all();
  f.status = "active";
  CHECK(list(f) == keys{"m1/c", "m1/a", "m2/d"});
  f.status = "resolved";
  CHECK(list(f) == keys{"m1/b", "m2/a"});
  f = all();
  f.type = "child";
  CHECK(list(f) == keys{"m1/c", "m2/a"});
  f = all();
  f.event_manager_id = "m1";
  f.status = "active";
  f.type = "parent";
  CHECK(list(f) == keys{"m1/a"});
  f = all();
  f.limit = 2;
  CHECK(list(f) == keys{"m1/b", "m1/c"});
  f.offset = 2;
  CHECK(list(f) == keys{"m2/a", "m1/a"});
  f.offset = 4;
  CHECK(list(f) == keys{"m2/d"});
  f.offset = 5;
  CHECK(list(f).empty());
  f = all();
  f.limit = 0;
  CHECK(list(f).empty());
  f = all();
  f.event_manager_id = "nobody";
  CHECK(list(f).empty());
  f = all();
  f.status = "sleeping";
  CHECK(list(f).empty());
}

TEST_CASE("storage: list_where pages what the check keeps, with the total",
          "[unit]") {
  EACH_BACKEND();
  for (auto [key, ms] : {std::pair{"k1", 9'000},
                         {"x2", 8'000},
                         {"k3", 7'000},
                         {"k4", 7'000},
                         {"x5", 5'000},
                         {"k6", 4'000}})
    write(store, make_alert("m1", key, ms));
  write(store, make_alert("m1", "k7", 6'000, alert_status::resolved));
  write(store, make_alert("m1", "k8", 3'000, alert_status::active,
                          alert_type::child, "k1"));
  write(store, make_alert("m2", "k9", 10'000));
  // The check reads a text a group writes.
  auto k_summaries = [](const alert& a) {
    return a.summary.rfind("summary of k", 0) == 0;
  };
  auto page = [&](argus::domain::alert_filter f, int64_t scan) {
    auto found = must(store.list_where(f, k_summaries, scan));
    return std::pair{found.total, keys_of(found.alerts)};
  };
  using keys = std::vector<std::string>;
  argus::domain::alert_filter f{"m1", "active", "parent", 2, 0};
  CHECK(page(f, -1) == std::pair{int64_t{4}, keys{"m1/k1", "m1/k3"}});
  f.offset = 2;
  CHECK(page(f, -1) == std::pair{int64_t{4}, keys{"m1/k4", "m1/k6"}});
  f.offset = 4;
  CHECK(page(f, -1) == std::pair{int64_t{4}, keys{}});
  // Only the `scan` newest of the filter's are looked at: k1, x2, k3.
  f.offset = 0;
  CHECK(page(f, 3) == std::pair{int64_t{2}, keys{"m1/k1", "m1/k3"}});
  CHECK(page(f, 0) == std::pair{int64_t{0}, keys{}});
  // Every manager, every status and type: resolved rows are checked too.
  f = {"", "", "", 100, 0};
  CHECK(page(f, -1) ==
        std::pair{int64_t{7}, keys{"m2/k9", "m1/k1", "m1/k3", "m1/k4", "m1/k7",
                                   "m1/k6", "m1/k8"}});
  // An empty check keeps every alert: the page is the listing's, the total
  // its count, both cut to the `scan` newest.
  f = {"m1", "active", "parent", 2, 1};
  auto every = [&](int64_t scan) {
    auto found = must(store.list_where(f, {}, scan));
    return std::pair{found.total, keys_of(found.alerts)};
  };
  CHECK(every(-1) == std::pair{int64_t{6}, keys{"m1/x2", "m1/k3"}});
  CHECK(every(2) == std::pair{int64_t{2}, keys{"m1/x2"}});
  CHECK(every(1) == std::pair{int64_t{1}, keys{}});
  f.limit = -1;
  CHECK(every(4) == std::pair{int64_t{4}, keys{"m1/x2", "m1/k3", "m1/k4"}});
  f = {"m1", "", "", 100, 0};
  CHECK(every(-1).first == 8);
  // The page holds the stored alerts, merged across writes: the first
  // creation time, the counts summed.
  auto again = make_alert("m1", "k6", 11'000);
  again.summary = "summary of k6, again";
  write(store, again, 2);
  f = {"m1", "active", "parent", 1, 3};
  auto found = must(store.list_where(f, k_summaries, -1));
  REQUIRE(keys_of(found.alerts) == keys{"m1/k6"});
  auto stored = must(store.by_dedup_key("m1", "k6"));
  REQUIRE(stored.size() == 1);
  check_same(found.alerts.front(), stored.front());
  CHECK(found.alerts.front().event_count == 3);
  CHECK(found.alerts.front().created_at == argus::domain::from_millis(4'000));
  CHECK(found.alerts.front().summary == "summary of k6, again");
}

TEST_CASE("storage: count_matching counts each combination of filters",
          "[unit]") {
  EACH_BACKEND();
  write_listing_sample(store);
  // Every combination, against the listing's own count.
  for (auto manager : {"", "m1", "m2", "nobody"})
    for (auto status : {"", "active", "resolved"})
      for (auto type : {"", "parent", "child"}) {
        argus::domain::alert_filter f{manager, status, type, 1, 5};
        INFO(manager << " " << status << " " << type);
        auto every = f;
        every.limit = -1;
        every.offset = 0;
        CHECK(must(store.count_matching(f)) ==
              static_cast<int64_t>(must(store.list(every)).size()));
      }
  CHECK(must(store.count_matching({"", "", "", 0, 0})) == 5);
  CHECK(must(store.count_matching({"m1", "active", "", 0, 0})) == 2);
}

TEST_CASE("storage: active_where keeps the active alerts of one manager "
          "that the test accepts, with every field",
          "[unit]") {
  EACH_BACKEND();
  write(store, make_alert("m1", "outage-a", 3'000));
  write(store, make_alert("m1", "outage-b", 5'000, alert_status::resolved));
  write(store, make_alert("m1", "disk-c", 5'000, alert_status::active,
                          alert_type::child, "outage-a"));
  write(store, make_alert("m1", "outage-d", 6'000, alert_status::active,
                          alert_type::child, "outage-a"));
  write(store, make_alert("m2", "outage-e", 1'000));
  const argus::domain::column_filter every; // unrestricted
  auto outages = [](const alert& a) {
    return a.dedup_key.view().rfind("outage-", 0) == 0;
  };
  auto kept = must(store.active_where("m1", every, outages));
  using keys = std::vector<std::string>;
  CHECK(sorted_keys_of(kept) == keys{"m1/outage-a", "m1/outage-d"});
  for (auto& a : kept) {
    auto listed = must(store.by_dedup_key("m1", a.dedup_key.str()));
    REQUIRE(listed.size() == 1);
    check_same(a, listed.front());
  }
  auto everything = [](const alert&) { return true; };
  CHECK(sorted_keys_of(must(store.active_where("m1", every, everything))) ==
        keys{"m1/disk-c", "m1/outage-a", "m1/outage-d"});
  CHECK(must(store.active_where("nobody", every, everything)).empty());
  // A re-triggered alert is active again; a resolved one is not.
  write(store, make_alert("m1", "outage-b", 7'000));
  write(store, make_alert("m1", "outage-a", 8'000, alert_status::resolved));
  CHECK(sorted_keys_of(must(store.active_where("m1", every, outages))) ==
        keys{"m1/outage-b", "m1/outage-d"});
}

TEST_CASE("storage: active_where reads each kept row whole, whatever the "
          "rows before it held",
          "[unit]") {
  EACH_BACKEND();
  // Rows that differ in every field a row may leave empty or NULL, written
  // in an order that puts a full row next to a plain one both ways: a read
  // that reuses one alert for each row must not carry a field over.
  const argus::domain::column_filter every; // unrestricted
  auto full = [&](const std::string& key, int64_t at) {
    auto a = make_alert("m1", key, at, alert_status::active, alert_type::child,
                        "p-" + key);
    a.resolve_requested = true;
    a.resolved_by = argus::domain::resolution::event;
    a.resolved_at = from_millis(at + 5); // stored whatever the status
    a.sev = argus::domain::severity::medium;
    a.class_name = "net-" + key;
    a.has_grouping_value = true;
    a.grouping_value = "value-" + key;
    a.details = R"({"labels":{"alertname":")" + key + R"("}})";
    a.acknowledged = true;
    a.acknowledged_at = from_millis(at + 1);
    a.acknowledged_by = "alice";
    a.acknowledged_until = from_millis(at + 2);
    a.expires_at = from_millis(at + 3);
    a.auto_resolve_at = from_millis(at + 4);
    a.last_seq = 40 + static_cast<uint64_t>(at);
    return a;
  };
  auto plain = [&](const std::string& key, int64_t at) {
    alert a;
    a.id = argus::domain::alert_id_for("m1", key);
    a.dedup_key = key;
    a.event_manager_id = "m1";
    a.created_at = a.updated_at = from_millis(at);
    a.details = "";
    return a;
  };
  write(store, plain("a-plain", 1'000));
  write(store, full("b-full", 2'000), 3);
  write(store, plain("c-plain", 3'000));
  write(store, full("d-full", 4'000), 3);
  write(store, plain("e-plain", 5'000));
  auto everything = [](const alert&) { return true; };
  auto read = must(store.active_where("m1", every, everything));
  REQUIRE(read.size() == 5);
  for (auto& a : read) {
    auto listed = must(store.by_dedup_key("m1", a.dedup_key.str()));
    REQUIRE(listed.size() == 1);
    auto& b = listed.front();
    INFO(a.dedup_key.str());
    check_same(a, b);
    CHECK(a.event_count == b.event_count);
    CHECK(a.last_seq == b.last_seq);
    CHECK(a.expires_at == b.expires_at);
    CHECK(a.acknowledged == b.acknowledged);
    CHECK(a.acknowledged_at == b.acknowledged_at);
    CHECK(a.acknowledged_by == b.acknowledged_by);
    CHECK(a.acknowledged_until == b.acknowledged_until);
    CHECK(a.resolved_by == b.resolved_by);
    CHECK(a.auto_resolve_at == b.auto_resolve_at);
    CHECK(a.id_is_derived == b.id_is_derived);
  }
  // Only the full rows, kept from among the plain ones.
  auto acknowledged = must(store.active_where(
      "m1", every, [](const alert& a) { return a.acknowledged; }));
  using keys = std::vector<std::string>;
  CHECK(sorted_keys_of(acknowledged) == keys{"m1/b-full", "m1/d-full"});
  for (auto& a : acknowledged)
    CHECK(a.class_name == "net-" + a.dedup_key.str());
}

TEST_CASE("storage: active_where selects by the column filter in the store",
          "[unit]") {
  EACH_BACKEND();
  using argus::domain::column_filter;
  using argus::domain::severity;
  auto with = [&](const std::string& key, severity sev,
                  const std::string& class_name, const std::string& summary) {
    auto a = make_alert("m1", key, 1'000 + static_cast<int64_t>(key.size()));
    a.sev = sev;
    a.class_name = class_name;
    a.summary = summary;
    write(store, a);
  };
  with("k1", severity::high, "outage", "db down");
  with("k2", severity::low, "disk", "full");
  with("k3", severity::medium, "net", std::string{"nul\0here", 9});
  with("k4", severity::low, "Outage", "db down!");
  with("k5", severity::low, "", "quiet");
  // Texts JSON escapes, and a 0x01 byte (PostgreSQL stores it escaped).
  const std::string odd_class = "a\"b\\c\n\t \u00e9t\u00e9 \U0001F642";
  with("k8", severity::low, odd_class, "x\1y");
  write(store, make_alert("m1", "k6", 9'000, alert_status::resolved));
  write(store, make_alert("m2", "k7", 9'000)); // another manager's
  auto everything = [](const alert&) { return true; };
  // What the store returns must be exactly the active alerts of m1 the
  // filter admits, as `column_filter::admits` says.
  const column_filter every;
  auto all_active = must(store.active_where("m1", every, everything));
  REQUIRE(all_active.size() == 6);
  auto expect = [&](const column_filter& f) {
    std::vector<alert> admitted;
    for (auto& a : all_active)
      if (f.admits(a))
        admitted.push_back(a);
    return sorted_keys_of(admitted);
  };
  auto check = [&](const column_filter& f) {
    CHECK(sorted_keys_of(must(store.active_where("m1", f, everything))) ==
          expect(f));
  };
  using keys = std::vector<std::string>;
  column_filter by_class;
  by_class.restricted = true;
  by_class.class_name = {"outage"}; // exact: not "Outage"
  CHECK(expect(by_class) == keys{"m1/k1"});
  check(by_class);
  column_filter mixed;
  mixed.restricted = true;
  mixed.severity = {"medium"};
  mixed.summary = {"db down!"};
  mixed.dedup_key = {"k2", "k6", "k7"}; // k6 is resolved, k7 m2's
  CHECK(expect(mixed) == keys{"m1/k2", "m1/k3", "m1/k4"});
  check(mixed);
  column_filter empty_class;
  empty_class.restricted = true;
  empty_class.class_name = {""};
  CHECK(expect(empty_class) == keys{"m1/k5"});
  check(empty_class);
  column_filter nothing;
  nothing.restricted = true;
  CHECK(must(store.active_where("m1", nothing, everything)).empty());
  column_filter escaped;
  escaped.restricted = true;
  escaped.class_name = {odd_class};
  CHECK(expect(escaped) == keys{"m1/k8"});
  check(escaped);
  // Byte for byte: another case is another value.
  column_filter other_case;
  other_case.restricted = true;
  other_case.severity = {"HIGH"};
  other_case.summary = {"DB DOWN"};
  other_case.dedup_key = {"K1"};
  CHECK(expect(other_case).empty());
  check(other_case);
  // A value SQL cannot compare as stored: the store reads unrestricted and
  // filters itself, with the same answer.
  column_filter with_nul;
  with_nul.restricted = true;
  with_nul.summary = {std::string{"nul\0here", 9}, "full"};
  CHECK(expect(with_nul) == keys{"m1/k2", "m1/k3"});
  check(with_nul);
  column_filter with_one;
  with_one.restricted = true;
  with_one.summary = {"\1", "quiet"};
  CHECK(expect(with_one) == keys{"m1/k5"});
  check(with_one);
  column_filter stored_one;
  stored_one.restricted = true;
  stored_one.summary = {"x\1y"};
  CHECK(expect(stored_one) == keys{"m1/k8"});
  check(stored_one);
  // `keep` still decides among the admitted.
  auto only_k1 = [](const alert& a) { return a.dedup_key == "k1"; };
  CHECK(sorted_keys_of(must(store.active_where("m1", mixed, only_k1))).empty());
}

TEST_CASE("storage: alert_sql::filter_values are JSON arrays, or none for "
          "what SQL cannot compare",
          "[unit]") {
  using argus::domain::column_filter;
  namespace alert_sql = argus::storage::alert_sql;
  column_filter f;
  CHECK_FALSE(alert_sql::filter_values(f)); // unrestricted
  f.restricted = true;
  auto none = alert_sql::filter_values(f);
  REQUIRE(none);
  CHECK(*none == std::array<std::string, 4>{"[]", "[]", "[]", "[]"});
  f.severity = {"high"};
  f.class_name = {"a\"b", "c"};
  f.dedup_key = {"\u00e9t\u00e9"};
  auto values = alert_sql::filter_values(f);
  REQUIRE(values);
  CHECK((*values)[0] == R"(["high"])");
  CHECK((*values)[1] == R"(["a\"b","c"])");
  CHECK((*values)[2] == "[]");
  CHECK((*values)[3] == "[\"\u00e9t\u00e9\"]");
  f.summary = {std::string{"x\0", 2}};
  CHECK_FALSE(alert_sql::filter_values(f));
  f.summary = {"x\1"};
  CHECK_FALSE(alert_sql::filter_values(f));
  f.summary = {"\xff\xfe"}; // not UTF-8
  CHECK_FALSE(alert_sql::filter_values(f));
}

TEST_CASE("storage: by_dedup_key looks across managers or in one", "[unit]") {
  EACH_BACKEND();
  write(store, make_alert("m2", "k", 1'000));
  write(store, make_alert("m1", "k", 2'000, alert_status::resolved));
  write(store, make_alert("m1", "other", 3'000));
  CHECK(sorted_keys_of(must(store.by_dedup_key("", "k"))) ==
        std::vector<std::string>{"m1/k", "m2/k"});
  auto one = must(store.by_dedup_key("m1", "k"));
  REQUIRE(one.size() == 1);
  CHECK(one[0].event_manager_id == "m1");
  CHECK(one[0].status == alert_status::resolved);
  CHECK(must(store.by_dedup_key("m3", "k")).empty());
  CHECK(must(store.by_dedup_key("", "missing")).empty());
}

TEST_CASE("storage: children of a parent, newest first", "[unit]") {
  EACH_BACKEND();
  write(store, make_alert("m1", "p", 1'000));
  write(store, make_alert("m1", "c1", 2'000, alert_status::active,
                          alert_type::child, "p"));
  write(store, make_alert("m1", "c2", 3'000, alert_status::resolved,
                          alert_type::child, "p"));
  write(store, make_alert("m1", "c3", 3'000, alert_status::active,
                          alert_type::child, "q"));
  write(store, make_alert("m2", "c4", 4'000, alert_status::active,
                          alert_type::child, "p"));
  CHECK(keys_of(must(store.children("m1", "p"))) ==
        std::vector<std::string>{"m1/c2", "m1/c1"});
  CHECK(keys_of(must(store.children("m2", "p"))) ==
        std::vector<std::string>{"m2/c4"});
  CHECK(must(store.children("m1", "c1")).empty());
  CHECK(must(store.children("m3", "p")).empty());
  SECTION("a child that moves to another parent leaves the first") {
    auto moved = make_alert("m1", "c1", 2'000, alert_status::active,
                            alert_type::child, "q");
    write(store, moved, 1);
    CHECK(keys_of(must(store.children("m1", "p"))) ==
          std::vector<std::string>{"m1/c2"});
    CHECK(keys_of(must(store.children("m1", "q"))) ==
          std::vector<std::string>{"m1/c3", "m1/c1"});
  }
  SECTION("a child that resolves stays its parent's, once") {
    auto resolved = make_alert("m1", "c1", 2'000, alert_status::resolved,
                               alert_type::child, "p");
    write(store, resolved, 1);
    write(store, resolved, 1);
    auto kids = must(store.children("m1", "p"));
    CHECK(keys_of(kids) == std::vector<std::string>{"m1/c2", "m1/c1"});
    CHECK(kids[1].status == alert_status::resolved);
  }
}

TEST_CASE("storage: active children counted per parent, in the order asked",
          "[unit]") {
  EACH_BACKEND();
  write(store, make_alert("m1", "p", 1'000));
  write(store, make_alert("m1", "q", 1'000));
  for (auto [key, status, parent] :
       {std::tuple{"c1", alert_status::active, "p"},
        std::tuple{"c2", alert_status::resolved, "p"},
        std::tuple{"c3", alert_status::active, "p"},
        std::tuple{"c4", alert_status::active, "q"}})
    write(store,
          make_alert("m1", key, 2'000, status, alert_type::child, parent));
  // Another manager's child of a parent with the same dedupKey.
  write(store, make_alert("m2", "c5", 2'000, alert_status::active,
                          alert_type::child, "p"));
  // Only children count (as when the console read active children).
  write(store, make_alert("m1", "not-a-child", 2'000, alert_status::active,
                          alert_type::parent, "p"));
  using counts = std::vector<int64_t>;
  CHECK(must(store.active_children_counts("m1", {"q", "p", "none", "c1"})) ==
        counts{1, 2, 0, 0});
  CHECK(must(store.active_children_counts("m2", {"p"})) == counts{1});
  CHECK(must(store.active_children_counts("m3", {"p"})) == counts{0});
  CHECK(must(store.active_children_counts("m1", {})).empty());
  SECTION("parent keys with quotes, backslashes, commas and NUL bytes") {
    // PostgreSQL's override sends the keys as one text[] literal.
    std::vector<std::string> odd{
        "a\"b", "c\\d", "e,f", "{g}", std::string{"h\0i\1", 4}, "NULL"};
    for (size_t i = 0; i < odd.size(); ++i)
      for (size_t k = 0; k <= i; ++k)
        write(store,
              make_alert(
                  "m4", "kid-" + std::to_string(i) + "-" + std::to_string(k),
                  2'000, alert_status::active, alert_type::child, odd[i]));
    CHECK(must(store.active_children_counts("m4", odd)) ==
          counts{1, 2, 3, 4, 5, 6});
    CHECK(must(store.active_children_counts("m4", {"{g}", "a\"b", "{g}"})) ==
          counts{4, 1, 4});
  }
  SECTION("a child that resolves or moves is no longer counted") {
    write(store,
          make_alert("m1", "c1", 2'000, alert_status::resolved,
                     alert_type::child, "p"),
          1);
    write(store,
          make_alert("m1", "c3", 2'000, alert_status::active, alert_type::child,
                     "q"),
          1);
    CHECK(must(store.active_children_counts("m1", {"p", "q"})) == counts{0, 2});
  }
}

TEST_CASE("storage: open work holds active alerts and children of active "
          "parents",
          "[unit]") {
  EACH_BACKEND();
  // An active parent with an active and a resolved child.
  write(store, make_alert("m1", "p", 1'000));
  write(store, make_alert("m1", "p-c1", 2'000, alert_status::active,
                          alert_type::child, "p"));
  write(store, make_alert("m1", "p-c2", 3'000, alert_status::resolved,
                          alert_type::child, "p"));
  // A resolved parent with a resolved child: done, not open work.
  write(store, make_alert("m1", "r", 1'000, alert_status::resolved));
  write(store, make_alert("m1", "r-c1", 2'000, alert_status::resolved,
                          alert_type::child, "r"));
  // Another manager: its resolved child of a "p" is not m1's business, and
  // its own parent "p" is resolved.
  write(store, make_alert("m2", "p", 1'000, alert_status::resolved));
  write(store, make_alert("m2", "p-c9", 2'000, alert_status::resolved,
                          alert_type::child, "p"));
  // A lone active alert in m2.
  write(store, make_alert("m2", "solo", 5'000));
  auto work = must(store.open_work());
  CHECK(sorted_keys_of(work) ==
        std::vector<std::string>{"m1/p", "m1/p-c1", "m1/p-c2", "m2/solo"});
  auto c2 = std::find_if(work.begin(), work.end(),
                         [](const alert& a) { return a.dedup_key == "p-c2"; });
  REQUIRE(c2 != work.end());
  CHECK(c2->status == alert_status::resolved);
  CHECK(c2->parent_dedup_key == "p");
}

TEST_CASE("storage: count_by_status counts active and resolved", "[unit]") {
  EACH_BACKEND();
  using counts = std::pair<int64_t, int64_t>;
  auto count = [&] {
    auto x = store.count_by_status();
    REQUIRE(x);
    return *x;
  };
  CHECK(count() == counts{0, 0});
  write(store, make_alert("m1", "a", 1'000));
  write(store, make_alert("m1", "b", 1'000));
  write(store, make_alert("m2", "a", 1'000, alert_status::resolved));
  CHECK(count() == counts{2, 1});
  // Resolving moves an alert between the counts; re-triggering moves it back.
  write(store, make_alert("m1", "a", 1'000, alert_status::resolved), 0);
  CHECK(count() == counts{1, 2});
  write(store, make_alert("m2", "a", 1'000), 1);
  CHECK(count() == counts{2, 1});
}

/// Calls `drop_resolved` until nothing more is left (each call at most
/// `at_most`); the alerts dropped in all.
size_t drop_all_resolved(argus::storage::store& store, int64_t cutoff_ms,
                         size_t at_most) {
  size_t total = 0;
  for (int calls = 0; calls < 100; ++calls) {
    auto dropped = store.drop_resolved(from_millis(cutoff_ms), at_most);
    REQUIRE(dropped);
    total += dropped->alerts;
    if (!dropped->more)
      return total;
  }
  FAIL("drop_resolved kept saying there was more");
  return total;
}

TEST_CASE("storage: drop_resolved deletes alerts resolved before the cutoff, "
          "a child only with its parent",
          "[unit]") {
  EACH_BACKEND();
  // Resolved at created + 900 ms; the cutoff is 10,000 ms.
  // A resolved group past the cutoff: parent and child go.
  write(store, make_alert("m1", "old", 1'000, alert_status::resolved));
  write(store, make_alert("m1", "old-c", 2'000, alert_status::resolved,
                          alert_type::child, "old"));
  // An active parent's resolved child stays: it is the parent's open work.
  write(store, make_alert("m1", "open", 1'000));
  write(store, make_alert("m1", "open-c", 2'000, alert_status::resolved,
                          alert_type::child, "open"));
  write(store, make_alert("m1", "open-c2", 3'000, alert_status::active,
                          alert_type::child, "open"));
  // A parent resolved after the cutoff keeps its old child with it.
  write(store, make_alert("m1", "late", 9'500, alert_status::resolved));
  write(store, make_alert("m1", "late-c", 2'000, alert_status::resolved,
                          alert_type::child, "late"));
  // A child whose parent is not stored goes on its own.
  write(store, make_alert("m2", "orphan", 2'000, alert_status::resolved,
                          alert_type::child, "gone"));
  // Resolved past the cutoff by a hair, and just not.
  write(store, make_alert("m2", "edge-old", 9'099, alert_status::resolved));
  write(store, make_alert("m2", "edge-new", 9'100, alert_status::resolved));
  // An old alert that is active stays whatever its age.
  write(store, make_alert("m2", "active", 1));

  auto at_most = GENERATE(size_t{1}, size_t{1000});
  INFO("at most " << at_most << " per call");
  CHECK(drop_all_resolved(store, 10'000, at_most) == 4);
  CHECK(sorted_keys_of(must(store.list(all()))) ==
        std::vector<std::string>{"m1/late", "m1/late-c", "m1/open", "m1/open-c",
                                 "m1/open-c2", "m2/active", "m2/edge-new"});
  auto counts = store.count_by_status();
  REQUIRE(counts);
  CHECK(*counts == std::pair<int64_t, int64_t>{3, 4});
  // The indexes over the rows that stayed answer as before.
  CHECK(sorted_keys_of(must(store.children("m1", "open"))) ==
        std::vector<std::string>{"m1/open-c", "m1/open-c2"});
  CHECK(keys_of(must(store.children("m1", "late"))) ==
        std::vector<std::string>{"m1/late-c"});
  CHECK(must(store.children("m1", "old")).empty());
  CHECK(must(store.by_dedup_key("", "old")).empty());
  CHECK(sorted_keys_of(must(store.open_work())) ==
        std::vector<std::string>{"m1/open", "m1/open-c", "m1/open-c2",
                                 "m2/active"});
  auto active = all();
  active.status = "active";
  CHECK(sorted_keys_of(must(store.list(active))) ==
        std::vector<std::string>{"m1/open", "m1/open-c2", "m2/active"});
  // Nothing more to drop at the same cutoff; the later parent and its
  // child go together once the cutoff passes it.
  CHECK(drop_all_resolved(store, 10'000, at_most) == 0);
  CHECK(drop_all_resolved(store, 10'401, at_most) == 3);
  CHECK(sorted_keys_of(must(store.list(all()))) ==
        std::vector<std::string>{"m1/open", "m1/open-c", "m1/open-c2",
                                 "m2/active"});
  // A dropped alert that triggers again is a new row, with only the new
  // events counted.
  write(store, make_alert("m1", "old", 20'000), 2);
  auto again = must(store.by_dedup_key("m1", "old"));
  REQUIRE(again.size() == 1);
  CHECK(again[0].created_at == from_millis(20'000));
  CHECK(again[0].event_count == 2);
  CHECK(again[0].id == argus::domain::alert_id_for("m1", "old"));
}

TEST_CASE("storage: drop_resolved in small steps leaves the indexes of the "
          "rows that stay whole",
          "[unit]") {
  EACH_BACKEND();
  // 60 groups of a parent and three children, in two managers; every
  // third group resolved long ago (it goes), every third active with a
  // resolved child (it stays), every third resolved lately (it stays).
  std::vector<std::string> kept_active, kept_all;
  for (int g = 0; g < 60; ++g) {
    auto manager = g % 2 == 0 ? std::string{"m1"} : std::string{"m2"};
    auto parent = "p" + std::to_string(g);
    auto kind = g % 3;
    auto created = kind == 2 ? 20'000 : 1'000;
    auto status = kind == 1 ? alert_status::active : alert_status::resolved;
    write(store, make_alert(manager, parent, created, status));
    for (int c = 0; c < 3; ++c) {
      auto child = parent + "-c" + std::to_string(c);
      auto child_status =
          kind == 1 && c == 0 ? alert_status::active : alert_status::resolved;
      write(store, make_alert(manager, child, 1'000 + c, child_status,
                              alert_type::child, parent));
      if (kind != 0)
        kept_all.push_back(manager + "/" + child);
      if (kind == 1 && c == 0)
        kept_active.push_back(manager + "/" + child);
    }
    if (kind != 0)
      kept_all.push_back(manager + "/" + parent);
    if (kind == 1)
      kept_active.push_back(manager + "/" + parent);
  }
  std::sort(kept_all.begin(), kept_all.end());
  std::sort(kept_active.begin(), kept_active.end());
  CHECK(drop_all_resolved(store, 10'000, 7) == 20 * 4);
  CHECK(sorted_keys_of(must(store.list(all()))) == kept_all);
  auto active = all();
  active.status = "active";
  CHECK(sorted_keys_of(must(store.list(active))) == kept_active);
  auto counts = store.count_by_status();
  REQUIRE(counts);
  CHECK(counts->first == static_cast<int64_t>(kept_active.size()));
  CHECK(counts->second ==
        static_cast<int64_t>(kept_all.size() - kept_active.size()));
  for (int g = 0; g < 60; ++g) {
    auto manager = g % 2 == 0 ? std::string{"m1"} : std::string{"m2"};
    auto parent = "p" + std::to_string(g);
    INFO(manager << "/" << parent);
    CHECK(must(store.children(manager, parent)).size() ==
          (g % 3 == 0 ? 0u : 3u));
  }
  // Open work: the active groups with all their children.
  CHECK(must(store.open_work()).size() == 20 * 4);
}

TEST_CASE("memory storage: a retention pass lets go of the texts only "
          "deleted alerts used",
          "[unit]") {
  // The memory store interns the class and grouping value of resolved
  // alerts; once a pass deleted every alert with one, a new alert with an
  // equal text gets a block of its own again instead of the old one.
  auto store = argus::storage::make_memory_store();
  auto old = make_alert("m1", "a", 1'000, alert_status::resolved);
  old.grouping_value = std::string{"host-9"};
  write(*store, old);
  old = alert{};
  auto kept = make_alert("m1", "b", 50'000, alert_status::resolved);
  write(*store, kept); // "disk" and "host-1" stay in use
  auto dropped = store->drop_resolved(from_millis(10'000), 1000);
  REQUIRE(dropped);
  CHECK(dropped->alerts == 1);
  auto fresh = make_alert("m1", "c", 60'000, alert_status::resolved);
  fresh.grouping_value = std::string{"host-9"};
  write(*store, fresh);
  auto read = must(store->by_dedup_key("m1", "c"));
  REQUIRE(read.size() == 1);
  CHECK(read[0].grouping_value.shares_with(fresh.grouping_value));
  // A text still in use stays interned: an equal text shares its block.
  auto other = make_alert("m1", "d", 60'000, alert_status::resolved);
  other.class_name = std::string{"disk"};
  write(*store, other);
  auto b = must(store->by_dedup_key("m1", "b"));
  auto d = must(store->by_dedup_key("m1", "d"));
  REQUIRE(b.size() == 1);
  REQUIRE(d.size() == 1);
  CHECK(d[0].class_name.shares_with(b[0].class_name));
  CHECK_FALSE(d[0].class_name.shares_with(other.class_name));
}

TEST_CASE("storage: rules and managers round-trip through the catalog",
          "[unit]") {
  EACH_BACKEND();
  argus::domain::grouping_rule rule;
  rule.id = "r1";
  rule.name = "by host";
  rule.grouping_key = "host";
  rule.time_window_seconds = 300;
  rule.created_at = from_millis(1'000);
  rule.updated_at = from_millis(2'000);
  argus::domain::event_manager manager;
  manager.id = "m1";
  manager.name = "ops";
  manager.description = "the ops team";
  manager.grouping_rule_id = "r1";
  manager.webhook_url = "https://example.org/hook";
  manager.created_at = from_millis(3'000);
  manager.updated_at = from_millis(4'000);
  argus::domain::receiver pager;
  pager.name = "pager";
  pager.url = "https://events.example/v2";
  pager.format = argus::domain::receiver_format::pagerduty;
  pager.headers = {{"X-Team", "db"}};
  pager.secret = "s3cret";
  pager.timeout_ms = 2500;
  pager.types = {argus::domain::notification_kind::child_added};
  pager.child_added_per_minute = 7;
  pager.routing_key = "KEY";
  manager.receivers = {pager, argus::domain::webhook_receiver("http://h/x")};
  REQUIRE_FALSE(store.put(rule));
  REQUIRE_FALSE(store.put(manager));

  auto cat = store.load_catalog();
  REQUIRE(cat);
  REQUIRE(cat->rules.size() == 1);
  REQUIRE(cat->managers.size() == 1);
  auto& r = cat->rules.at("r1");
  CHECK(r.id == "r1");
  CHECK(r.name == "by host");
  CHECK(r.grouping_key == "host");
  CHECK(r.time_window_seconds == 300);
  CHECK(r.created_at == from_millis(1'000));
  CHECK(r.updated_at == from_millis(2'000));
  auto& m = cat->managers.at("m1");
  CHECK(m.id == "m1");
  CHECK(m.name == "ops");
  CHECK(m.description == "the ops team");
  CHECK(m.grouping_rule_id == "r1");
  CHECK(m.webhook_url == "https://example.org/hook");
  REQUIRE(m.receivers.size() == 2);
  auto& got = m.receivers[0];
  CHECK(got.name == "pager");
  CHECK(got.url == "https://events.example/v2");
  CHECK(got.format == argus::domain::receiver_format::pagerduty);
  CHECK(got.headers == pager.headers);
  CHECK(got.secret == "s3cret"); // the store keeps it; replies never show it
  CHECK(got.timeout_ms == 2500);
  CHECK(got.types == pager.types);
  CHECK(got.child_added_per_minute == 7);
  CHECK(got.routing_key == "KEY");
  CHECK(m.receivers[1].url == "http://h/x");
  CHECK(m.created_at == from_millis(3'000));
  CHECK(m.updated_at == from_millis(4'000));
  CHECK(cat->rule_of("m1") == &r);

  SECTION("put replaces by id") {
    rule.name = "by region";
    rule.time_window_seconds = 60;
    rule.updated_at = from_millis(9'000);
    manager.webhook_url = "";
    REQUIRE_FALSE(store.put(rule));
    REQUIRE_FALSE(store.put(manager));
    cat = store.load_catalog();
    REQUIRE(cat);
    REQUIRE(cat->rules.size() == 1);
    CHECK(cat->rules.at("r1").name == "by region");
    CHECK(cat->rules.at("r1").time_window_seconds == 60);
    CHECK(cat->rules.at("r1").updated_at == from_millis(9'000));
    REQUIRE(cat->managers.size() == 1);
    CHECK(cat->managers.at("m1").webhook_url.empty());
  }
  SECTION("erase removes by id, and unknown ids are no error") {
    argus::domain::grouping_rule other = rule;
    other.id = "r2";
    REQUIRE_FALSE(store.put(other));
    REQUIRE_FALSE(store.erase_manager("m1"));
    REQUIRE_FALSE(store.erase_rule("r1"));
    REQUIRE_FALSE(store.erase_rule("nope"));
    REQUIRE_FALSE(store.erase_manager("nope"));
    cat = store.load_catalog();
    REQUIRE(cat);
    CHECK(cat->managers.empty());
    REQUIRE(cat->rules.size() == 1);
    CHECK(cat->rules.count("r2") == 1);
  }
}

TEST_CASE("storage: texts with NUL bytes read back and sort as bytes",
          "[unit]") {
  EACH_BACKEND();
  // JSON can carry "\u0000"; PostgreSQL text cannot hold it as it is.
  std::string manager("m\1", 2);
  std::string key("nul\0key", 7);
  auto a = make_alert(manager, key, 1'000);
  a.summary = std::string("a\0b\1c\1", 6);
  a.grouping_value = std::string("\0", 1);
  write(store, a, 1);
  auto found = must(store.by_dedup_key(manager, key));
  REQUIRE(found.size() == 1);
  check_same(found[0], a);
  CHECK(must(store.by_dedup_key(manager, "nul")).empty());
  // Equal creation times: dedupKeys in byte order.
  for (auto k : {std::string("x\2", 2), std::string("x\1", 2),
                 std::string("x\0", 2), std::string("x")})
    write(store, make_alert("m2", k, 5'000), 1);
  auto f = all();
  f.event_manager_id = "m2";
  auto rows = must(store.list(f));
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].dedup_key == "x");
  CHECK(rows[1].dedup_key == std::string("x\0", 2));
  CHECK(rows[2].dedup_key == std::string("x\1", 2));
  CHECK(rows[3].dedup_key == std::string("x\2", 2));
}

TEST_CASE("storage: last_seq reads back and keeps the larger value", "[unit]") {
  EACH_BACKEND();
  auto a = make_alert("m1", "k", 1'000);
  a.last_seq = 7;
  write(store, a, 1);
  auto stored = must(store.by_dedup_key("m1", "k"));
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].last_seq == 7);
  // An older sequence changes the other fields but not last_seq.
  auto older = a;
  older.last_seq = 5;
  older.summary = "older";
  write(store, older, 1);
  stored = must(store.by_dedup_key("m1", "k"));
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].last_seq == 7);
  CHECK(stored[0].summary == "older");
  auto newer = a;
  newer.last_seq = 9;
  write(store, newer, 1);
  stored = must(store.by_dedup_key("m1", "k"));
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].last_seq == 9);
  CHECK(stored[0].event_count == 3);
}

TEST_CASE("storage: the applied mark moves with writes and never back",
          "[unit]") {
  EACH_BACKEND();
  auto mark = [&] {
    auto x = store.applied_through();
    if (!x)
      FAIL("applied_through failed: " << argus::message_of(x.error()));
    return *x;
  };
  CHECK(mark() == 0);
  REQUIRE_FALSE(
      store.write({alert_write{make_alert("m1", "a", 1'000), 1}}, 10));
  CHECK(mark() == 10);
  // 0 leaves it as it is; a lower mark does not move it back.
  REQUIRE_FALSE(store.write({alert_write{make_alert("m1", "b", 1'000), 1}}, 0));
  CHECK(mark() == 10);
  REQUIRE_FALSE(store.write({alert_write{make_alert("m1", "c", 1'000), 1}}, 4));
  CHECK(mark() == 10);
  // A batch without changes may still move it (the events were ignored).
  REQUIRE_FALSE(store.write({}, 12));
  CHECK(mark() == 12);
  CHECK(must(store.list(all())).size() == 3);
}

TEST_CASE("storage: applied_after lists alerts changed after a position",
          "[unit]") {
  EACH_BACKEND();
  auto with_seq = [](alert a, uint64_t seq) {
    a.last_seq = seq;
    return a;
  };
  write(store, with_seq(make_alert("m1", "a", 1'000), 3));
  write(store, with_seq(make_alert("m1", "b", 2'000), 8));
  write(store, with_seq(make_alert("m2", "c", 3'000), 0));
  write(store,
        with_seq(make_alert("m2", "d", 4'000, alert_status::resolved), 12));
  using keys = std::vector<std::string>;
  CHECK(sorted_keys_of(must(store.applied_after(5))) == keys{"m1/b", "m2/d"});
  CHECK(sorted_keys_of(must(store.applied_after(0))) ==
        keys{"m1/a", "m1/b", "m2/d"});
  CHECK(must(store.applied_after(12)).empty());
  auto d = must(store.applied_after(11));
  REQUIRE(d.size() == 1);
  CHECK(d[0].status == alert_status::resolved);
  CHECK(d[0].last_seq == 12);
}

// --- sqlite only
// --------------------------------------------------------------

namespace {

/// Runs SQL on a database file directly, behind the store's back.
void exec_raw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  auto rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  INFO(sqlite3_errmsg(db));
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

/// The first column of the first row of a query, as an integer.
int64_t query_int(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  int64_t result = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    result = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

/// Indexes created by the schema (SQLite's own have no SQL text).
constexpr const char* count_indexes =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT "
    "NULL";

/// Column `column` of each row `sql` returns, as text.
std::vector<std::string> column_texts(const std::string& path,
                                      const std::string& sql, int column) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::vector<std::string> result;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK)
    while (sqlite3_step(stmt) == SQLITE_ROW)
      result.emplace_back(
          reinterpret_cast<const char*>(sqlite3_column_text(stmt, column)));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

std::vector<std::string> index_names(const std::string& path) {
  return column_texts(path,
                      "SELECT name FROM sqlite_master WHERE type = 'index'"
                      " AND sql IS NOT NULL",
                      0);
}

void fill(argus::storage::store& store) {
  write(store, make_alert("m1", "p", 1'000), 2);
  write(store,
        make_alert("m1", "c", 2'000, alert_status::resolved, alert_type::child,
                   "p"),
        1);
  argus::domain::grouping_rule rule;
  rule.id = "r1";
  rule.name = "by host";
  rule.grouping_key = "host";
  rule.time_window_seconds = 60;
  REQUIRE_FALSE(store.put(rule));
  argus::domain::event_manager manager;
  manager.id = "m1";
  manager.name = "ops";
  manager.grouping_rule_id = "r1";
  REQUIRE_FALSE(store.put(manager));
}

void check_filled(argus::storage::store& store) {
  auto rows = must(store.list(all()));
  REQUIRE(keys_of(rows) == std::vector<std::string>{"m1/c", "m1/p"});
  check_same(rows[1], make_alert("m1", "p", 1'000));
  CHECK(rows[1].event_count == 2);
  CHECK(rows[0].status == alert_status::resolved);
  CHECK(rows[0].resolved_at == from_millis(2'900));
  auto cat = store.load_catalog();
  REQUIRE(cat);
  CHECK(cat->rules.at("r1").grouping_key == "host");
  CHECK(cat->managers.at("m1").grouping_rule_id == "r1");
}

} // namespace

TEST_CASE("storage: the alerts of one read share the texts they repeat",
          "[unit]") {
  EACH_BACKEND();
  if (kind == "memory")
    return; // hands out the alerts as they were written
  // Longer than a std::string keeps inline, as manager ids and grouping
  // values are.
  std::string manager = "manager-6f1c0c52-3a51";
  write(store, make_alert(manager, "parent-key", 1'000));
  for (int i = 0; i < 3; ++i)
    write(store,
          make_alert(manager, "child-" + std::to_string(i), 2'000 + i,
                     alert_status::active, alert_type::child, "parent-key"));
  auto rows = must(store.list(all()));
  REQUIRE(rows.size() == 4);
  for (size_t i = 1; i < rows.size(); ++i) {
    CHECK(rows[i].event_manager_id.shares_with(rows[0].event_manager_id));
    CHECK(rows[i].class_name.shares_with(rows[0].class_name));
    CHECK(rows[i].grouping_value.shares_with(rows[0].grouping_value));
  }
  // Newest first: the three children, then their parent.
  CHECK(rows[1].parent_dedup_key.shares_with(rows[0].parent_dedup_key));
  CHECK(rows[2].parent_dedup_key.shares_with(rows[0].parent_dedup_key));
  CHECK(rows[0].parent_dedup_key == "parent-key");
  CHECK(rows[3].parent_dedup_key.empty());
  // Each row's own texts are its own.
  CHECK_FALSE(rows[1].dedup_key.shares_with(rows[0].dedup_key));
  CHECK(rows[0].event_manager_id == manager);
}

TEST_CASE("storage: a stored alert with a spelling this build does not know "
          "fails the read, naming it",
          "[unit]") {
  EACH_BACKEND();
  if (kind == "memory")
    return; // keeps the values, not their spellings
  write(store, make_alert("m1", "a", 1'000));
  for (auto [column, spelling] :
       std::vector<std::pair<std::string, std::string>>{
           {"severity", "urgent"},
           {"status", "sleeping"},
           {"resolved_by", "magic"}}) {
    auto sql = "UPDATE alerts SET " + column + " = '" + spelling + "'";
    if (kind == "sqlite")
      exec_raw(b.dir.db(), sql);
    else
      b.schema->exec(sql);
    auto rows = store.list(all());
    REQUIRE_FALSE(rows);
    CHECK(argus::message_of(rows.error()) == kind + ": alert m1/a has an " +
                                                 "unknown " + column + " '" +
                                                 spelling + "'");
    write(store, make_alert("m1", "a", 1'000)); // mended for the next one
  }
}

TEST_CASE("sqlite storage: data survives closing and reopening", "[unit]") {
  temp_dir dir;
  {
    auto store = open_or_fail(dir.db());
    fill(*store);
  }
  auto store = open_or_fail(dir.db());
  check_filled(*store);
  // Merging still works against rows written by the earlier connection.
  write(*store, make_alert("m1", "p", 7'000), 3);
  auto p = must(store->by_dedup_key("m1", "p"));
  REQUIRE(p.size() == 1);
  CHECK(p[0].event_count == 5);
  CHECK(p[0].created_at == from_millis(1'000));
}

TEST_CASE("sqlite storage: the file is created in WAL mode", "[unit]") {
  temp_dir dir;
  open_or_fail(dir.db());
  CHECK(fs::exists(dir.db()));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.db().c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  std::string mode =
      reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  CHECK(mode == "wal");
}

TEST_CASE("sqlite storage: the open parents are counted and paged from "
          "their own index",
          "[unit]") {
  namespace sql = argus::storage::alert_sql;
  using argus::domain::alert_filter;
  // The console's selections get the statements that name the index's
  // condition; any other status or type gets the plain combination.
  CHECK(sql::combination_of(alert_filter{"", "active", "parent", 50, 0}) ==
        sql::open_parents);
  CHECK(sql::combination_of(alert_filter{"m1", "active", "parent", 50, 0}) ==
        sql::open_parents_of_manager);
  CHECK(sql::combination_of(alert_filter{"m1", "resolved", "parent", 50, 0}) ==
        7);
  CHECK(sql::combination_of(alert_filter{"", "active", "child", 50, 0}) == 3);
  temp_dir dir;
  {
    auto store = open_or_fail(dir.db());
    fill(*store);
  }
  auto plan = [&](const std::string& statement) {
    std::string steps;
    for (auto& step :
         column_texts(dir.db(), "EXPLAIN QUERY PLAN " + statement, 3))
      steps += step + " ; "; // so an index's name is followed by a space
    return steps;
  };
  for (auto [combination, index] :
       {std::pair{sql::open_parents, "alerts_open_parents"},
        {sql::open_parents_of_manager, "alerts_open_parents_by_manager"}}) {
    INFO("combination " << combination);
    // Counted without reading a table row...
    CHECK_THAT(plan(sql::count(sql::sqlite, combination)),
               Catch::Contains(std::string{"COVERING INDEX "} + index + " "));
    // ...and paged in the index's order, not sorted.
    auto listing = plan(sql::list(sql::sqlite, combination));
    CHECK_THAT(listing, Catch::Contains(std::string{"INDEX "} + index + " "));
    CHECK_THAT(listing, !Catch::Contains("TEMP B-TREE"));
  }
}

TEST_CASE("sqlite storage: reopening migrates an older file and keeps its "
          "data",
          "[unit]") {
  temp_dir dir;
  {
    auto store = open_or_fail(dir.db());
    fill(*store);
  }
  auto latest = query_int(dir.db(), "PRAGMA user_version");
  auto indexes = query_int(dir.db(), count_indexes);
  REQUIRE(latest >= 2);
  REQUIRE(indexes > 0);
  // Turn the file back into what the first schema version made: tables
  // without the indexes, the journal's column and the meta table.
  std::string downgrade = "PRAGMA user_version = 1;";
  for (auto& name : index_names(dir.db()))
    downgrade += "DROP INDEX \"" + name + "\";";
  downgrade += "ALTER TABLE alerts DROP COLUMN last_seq; DROP TABLE meta;";
  downgrade += "ALTER TABLE event_managers DROP COLUMN receivers;"
               "DROP TABLE notifications; DROP TABLE deliveries;";
  // And without what step 5 added (issue 12).
  downgrade += "ALTER TABLE grouping_rules DROP COLUMN grouping_keys;"
               "ALTER TABLE event_managers DROP COLUMN am_severity;"
               "ALTER TABLE alerts DROP COLUMN expires_at_ms;";
  // ... and without what step 6 added (acknowledgement, routing keys).
  downgrade += "ALTER TABLE alerts DROP COLUMN acknowledged;"
               "ALTER TABLE alerts DROP COLUMN acknowledged_at_ms;"
               "ALTER TABLE alerts DROP COLUMN acknowledged_by;"
               "ALTER TABLE alerts DROP COLUMN acknowledged_until_ms;"
               "ALTER TABLE event_managers DROP COLUMN routing_key;"
               "ALTER TABLE event_managers DROP COLUMN ack_timeout_seconds;";
  // ... and without step 7's silences (issue 13).
  downgrade += "DROP TABLE silences;";
  // ... and without what step 8 added (auto-resolve, issue 13).
  downgrade += "ALTER TABLE grouping_rules DROP COLUMN "
               "auto_resolve_after_seconds;"
               "ALTER TABLE event_managers DROP COLUMN "
               "auto_resolve_after_seconds;"
               "ALTER TABLE alerts DROP COLUMN resolved_by;"
               "ALTER TABLE alerts DROP COLUMN auto_resolve_at_ms;";
  // ... and without step 9's API keys and audit log (issue 14).
  downgrade += "DROP TABLE api_keys; DROP TABLE audit_log;";
  // ... and without step 10's rate limits (issue 14).
  downgrade += "ALTER TABLE event_managers DROP COLUMN rate_limit;";
  // ... and without step 11's inhibit rules (issue 13; the schedules went
  // with the silences' table).
  downgrade += "ALTER TABLE event_managers DROP COLUMN inhibit_rules;";
  exec_raw(dir.db(), downgrade);
  REQUIRE(query_int(dir.db(), count_indexes) == 0);
  {
    auto store = open_or_fail(dir.db());
    check_filled(*store);
    // Step 6 gave the manager that predates routing keys one of its own.
    auto cat = store->load_catalog();
    REQUIRE(cat);
    CHECK(cat->managers.at("m1").routing_key.size() ==
          argus::domain::routing_key_length);
    // Step 10 left the manager on the node's default rate limit.
    CHECK_FALSE(cat->managers.at("m1").has_rate_limit);
  }
  CHECK(query_int(dir.db(), "PRAGMA user_version") == latest);
  CHECK(query_int(dir.db(), count_indexes) == indexes);
}

TEST_CASE("sqlite storage: a file from a newer schema is refused", "[unit]") {
  temp_dir dir;
  open_or_fail(dir.db());
  exec_raw(dir.db(), "PRAGMA user_version = 999;");
  auto store = argus::storage::open_sqlite_store(dir.db());
  REQUIRE_FALSE(store);
  CHECK(argus::code_of(store.error()) == argus::ec::internal);
  auto msg = argus::message_of(store.error());
  CHECK_THAT(msg, Catch::Contains(dir.db()));
  CHECK_THAT(msg, Catch::Contains("999"));
}

TEST_CASE("sqlite storage: an unopenable path gives an error naming it",
          "[unit]") {
  temp_dir dir;
  SECTION("its folder cannot be created") {
    // A regular file where a folder should be stops create_directories even
    // for root.
    auto blocker = dir.path / "not-a-folder";
    std::ofstream{blocker} << "x";
    auto path = (blocker / "sub" / "argus.db").string();
    auto store = argus::storage::open_sqlite_store(path);
    REQUIRE_FALSE(store);
    CHECK(argus::code_of(store.error()) == argus::ec::internal);
    CHECK_THAT(argus::message_of(store.error()), Catch::Contains(path));
  }
  SECTION("the path is a folder") {
    auto path = dir.path.string();
    auto store = argus::storage::open_sqlite_store(path);
    REQUIRE_FALSE(store);
    CHECK_THAT(argus::message_of(store.error()), Catch::Contains(path));
  }
  SECTION("the file is not a database") {
    auto path = (dir.path / "garbage.db").string();
    std::ofstream{path} << std::string(4096, 'x');
    auto store = argus::storage::open_sqlite_store(path);
    REQUIRE_FALSE(store);
    CHECK_THAT(argus::message_of(store.error()), Catch::Contains(path));
  }
}

// --- postgres only
// -------------------------------------------------------------

namespace {

using argus::test::pg_schema;

int64_t schema_indexes(const pg_schema& schema) {
  return schema.query_int("SELECT COUNT(*) FROM pg_indexes WHERE schemaname ="
                          " current_schema() AND indexname LIKE 'alerts_by_%'");
}

int64_t schema_version(const pg_schema& schema) {
  return schema.query_int("SELECT MAX(version) FROM schema_migrations");
}

} // namespace

TEST_CASE("postgres storage: data survives closing and reopening", "[unit]") {
  pg_schema schema;
  {
    auto store = open_pg_or_fail(schema.dsn());
    fill(*store);
    REQUIRE_FALSE(store->write({}, 42));
  }
  auto store = open_pg_or_fail(schema.dsn());
  check_filled(*store);
  CHECK(*store->applied_through() == 42);
  write(*store, make_alert("m1", "p", 7'000), 3);
  auto p = must(store->by_dedup_key("m1", "p"));
  REQUIRE(p.size() == 1);
  CHECK(p[0].event_count == 5);
  CHECK(p[0].created_at == from_millis(1'000));
}

TEST_CASE("postgres storage: reopening migrates an older schema and keeps "
          "its data",
          "[unit]") {
  pg_schema schema;
  {
    auto store = open_pg_or_fail(schema.dsn());
    fill(*store);
  }
  auto latest = schema_version(schema);
  auto indexes = schema_indexes(schema);
  REQUIRE(latest == argus::storage::pg::latest_schema_version());
  REQUIRE(latest >= 2);
  REQUIRE(indexes > 0);
  // Back to what version 1 made: the tables without the indexes, and one
  // journal (no writer ids).
  schema.exec("DELETE FROM schema_migrations WHERE version > 1");
  schema.exec("ALTER TABLE journal DROP CONSTRAINT journal_pkey");
  schema.exec("ALTER TABLE journal DROP COLUMN node_id");
  schema.exec("ALTER TABLE journal DROP COLUMN forward_id");
  schema.exec("ALTER TABLE journal DROP COLUMN done");
  schema.exec("ALTER TABLE event_managers DROP COLUMN receivers");
  schema.exec("ALTER TABLE journal ADD PRIMARY KEY (seq)");
  // And without what step 5 added (issue 12).
  schema.exec("ALTER TABLE grouping_rules DROP COLUMN grouping_keys");
  schema.exec("ALTER TABLE event_managers DROP COLUMN am_severity");
  schema.exec("ALTER TABLE alerts DROP COLUMN expires_at_ms");
  schema.exec("ALTER TABLE journal DROP COLUMN expires_at_ns");
  // And without what step 7 added (acknowledgement, routing keys); the
  // routing key's index goes with its column.
  for (auto column : {"acknowledged", "acknowledged_at_ms", "acknowledged_by",
                      "acknowledged_until_ms"})
    schema.exec(std::string{"ALTER TABLE alerts DROP COLUMN "} + column);
  schema.exec("ALTER TABLE event_managers DROP COLUMN routing_key");
  schema.exec("ALTER TABLE event_managers DROP COLUMN ack_timeout_seconds");
  schema.exec("ALTER TABLE journal DROP COLUMN actor");
  schema.exec("ALTER TABLE journal DROP COLUMN ack_timeout_ns");
  // Step 8: the outbox tables (their indexes go with them).
  schema.exec("DROP TABLE notifications");
  schema.exec("DROP TABLE deliveries");
  // Step 9: silences (issue 13).
  schema.exec("DROP TABLE silences");
  // Step 10: auto-resolve (issue 13).
  schema.exec("ALTER TABLE grouping_rules DROP COLUMN "
              "auto_resolve_after_seconds");
  schema.exec("ALTER TABLE event_managers DROP COLUMN "
              "auto_resolve_after_seconds");
  schema.exec("ALTER TABLE alerts DROP COLUMN resolved_by");
  schema.exec("ALTER TABLE alerts DROP COLUMN auto_resolve_at_ms");
  schema.exec("ALTER TABLE journal DROP COLUMN auto_resolve_after_ns");
  // Step 11: API keys and the audit log (issue 14).
  schema.exec("DROP TABLE api_keys");
  schema.exec("DROP TABLE audit_log");
  // Step 12: each manager's rate limit (issue 14).
  schema.exec("ALTER TABLE event_managers DROP COLUMN rate_limit");
  // Step 13: inhibit rules (issue 13; schedules went with the silences).
  schema.exec("ALTER TABLE event_managers DROP COLUMN inhibit_rules");
  // Step 15: the cluster's fenced writers (their indexes go with them).
  schema.exec("DROP TABLE fenced_writers");
  // Step 16 made the indexes of the open parents.
  for (auto name :
       {"alerts_by_created", "alerts_by_manager", "alerts_by_status",
        "alerts_by_dedup_key", "alerts_by_parent", "alerts_by_last_seq",
        "alerts_open_parents", "alerts_open_parents_by_manager"})
    schema.exec(std::string{"DROP INDEX "} + name);
  REQUIRE(schema_indexes(schema) == 0);
  {
    auto store = open_pg_or_fail(schema.dsn());
    check_filled(*store);
    // Step 7 gave the manager that predates routing keys one of its own.
    auto cat = store->load_catalog();
    REQUIRE(cat);
    CHECK(cat->managers.at("m1").routing_key.size() ==
          argus::domain::routing_key_length);
    // Step 12 left the manager on the node's default rate limit.
    CHECK_FALSE(cat->managers.at("m1").has_rate_limit);
  }
  CHECK(schema_version(schema) == latest);
  CHECK(schema_indexes(schema) == indexes);
}

TEST_CASE("postgres storage: a database from a newer schema is refused",
          "[unit]") {
  pg_schema schema;
  open_pg_or_fail(schema.dsn());
  schema.exec("INSERT INTO schema_migrations (version) VALUES (999)");
  auto store = argus::storage::open_postgres_store(schema.dsn());
  REQUIRE_FALSE(store);
  CHECK(argus::code_of(store.error()) == argus::ec::internal);
  auto msg = argus::message_of(store.error());
  CHECK_THAT(msg, Catch::StartsWith("postgres: "));
  CHECK_THAT(msg, Catch::Contains("999"));
}

TEST_CASE("postgres storage: nodes opening a new database at once migrate it "
          "once",
          "[unit]") {
  pg_schema schema;
  constexpr int nodes = 4;
  std::vector<std::string> errors(nodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < nodes; ++i)
    threads.emplace_back([&, i] {
      auto store = argus::storage::open_postgres_store(schema.dsn());
      if (!store)
        errors[i] = argus::message_of(store.error());
    });
  for (auto& t : threads)
    t.join();
  for (auto& e : errors)
    CHECK(e.empty());
  CHECK(schema.query_int("SELECT COUNT(*) FROM schema_migrations") ==
        argus::storage::pg::latest_schema_version());
}

TEST_CASE("postgres storage: an unreachable server is unavailable", "[unit]") {
  // Port 1 on loopback: nothing listens there.
  auto store = argus::storage::open_postgres_store(
      "host=127.0.0.1 port=1 dbname=argus user=argus connect_timeout=2");
  REQUIRE_FALSE(store);
  CHECK(argus::code_of(store.error()) == argus::ec::unavailable);
  auto msg = argus::message_of(store.error());
  CHECK_THAT(msg, Catch::StartsWith("postgres: cannot connect"));
  CHECK_THAT(msg, Catch::Contains("127.0.0.1"));
}

TEST_CASE("postgres storage: a lost connection is replaced on the next call",
          "[unit]") {
  pg_schema schema;
  // Its own application name, so that only this store's session is ended.
  auto app = "argus_lost_" + schema.name();
  auto store = open_pg_or_fail(schema.dsn() + " application_name=" + app);
  write(*store, make_alert("m1", "a", 1'000), 1);
  auto terminate = [&] {
    CHECK(schema.query_int("SELECT COUNT(*) FROM (SELECT pg_terminate_backend"
                           "(pid) FROM pg_stat_activity WHERE"
                           " application_name = '" +
                           app + "') AS t") == 1);
  };
  SECTION("a read") {
    terminate();
    CHECK(must(store->list(all())).size() == 1);
  }
  SECTION("a write") {
    terminate();
    write(*store, make_alert("m1", "b", 2'000), 1);
    CHECK(must(store->list(all())).size() == 2);
  }
}

TEST_CASE("postgres storage: a failed batch changes nothing, mark included",
          "[unit]") {
  pg_schema schema;
  auto store = open_pg_or_fail(schema.dsn());
  // PostgreSQL refuses bytes that are not UTF-8 (the HTTP front never lets
  // them through): the second change fails.
  auto bad = make_alert("m1", "bad", 2'000);
  bad.summary = "not \xff UTF-8";
  auto err = store->write(
      {alert_write{make_alert("m1", "good", 1'000), 1}, alert_write{bad, 1}},
      50);
  REQUIRE(err);
  CHECK(argus::code_of(err) == argus::ec::internal);
  CHECK_THAT(argus::message_of(err), Catch::StartsWith("postgres: "));
  CHECK(must(store->list(all())).empty());
  CHECK(*store->applied_through() == 0);
  // The connection is still good for the next batch.
  write(*store, make_alert("m1", "good", 1'000), 1);
  CHECK(must(store->list(all())).size() == 1);
}

TEST_CASE("postgres storage: a batch larger than one pipeline chunk",
          "[unit]") {
  pg_schema schema;
  auto store = open_pg_or_fail(schema.dsn());
  std::vector<alert_write> writes;
  for (int i = 0; i < 1500; ++i) {
    auto a = make_alert("m1", "k" + std::to_string(i % 1000), 1'000 + i);
    a.last_seq = static_cast<uint64_t>(i + 1);
    writes.push_back({a, 1});
  }
  REQUIRE_FALSE(store->write(writes, 1500));
  auto rows = must(store->list(all()));
  CHECK(rows.size() == 1000);
  auto k0 = must(store->by_dedup_key("m1", "k0"));
  REQUIRE(k0.size() == 1);
  CHECK(k0[0].event_count == 2);
  CHECK(k0[0].last_seq == 1001);
  CHECK(k0[0].created_at == from_millis(1'000));
  CHECK(*store->applied_through() == 1500);
}

// --- a COMMIT whose reply never arrives
// ------------------------------------------------

using argus::test::cutting_proxy;

TEST_CASE("postgres storage: a connection lost in a batch applies it once "
          "or not at all",
          "[unit]") {
  pg_schema schema;
  cutting_proxy proxy{schema.dsn()};
  auto store = open_pg_or_fail(proxy.via(schema.dsn()));
  auto count_of = [&](const std::string& key) {
    auto rows = must(store->by_dedup_key("m1", key));
    REQUIRE(rows.size() == 1);
    return rows[0].event_count;
  };
  SECTION("the server is back at once: the write succeeds") {
    proxy.cut_after("COMMIT");
    REQUIRE_FALSE(
        store->write({alert_write{make_alert("m1", "a", 1'000), 1}}, 7));
    CHECK(count_of("a") == 1);
    CHECK(*store->applied_through() == 7);
  }
  SECTION("a connection lost before COMMIT applies nothing") {
    write(*store, make_alert("m1", "a", 1'000), 1);
    // Bind messages name the prepared upsert.
    proxy.cut_after("argus_upsert_alert");
    auto err = store->write({alert_write{make_alert("m1", "a", 1'000), 1},
                             alert_write{make_alert("m1", "b", 2'000), 1}},
                            7);
    REQUIRE(err);
    CHECK(argus::code_of(err) == argus::ec::unavailable);
    CHECK(count_of("a") == 1);
    CHECK(must(store->by_dedup_key("m1", "b")).empty());
    CHECK(*store->applied_through() == 0);
  }
  SECTION("the server stays away: the retry does not apply it again") {
    proxy.cut_after("COMMIT");
    proxy.refuse = true;
    std::vector<alert_write> first{{make_alert("m1", "a", 1'000), 1}};
    auto err = store->write(first, 7);
    REQUIRE(err);
    CHECK(argus::code_of(err) == argus::ec::unavailable);
    // Still away: the retry fails as a whole and stays in doubt.
    CHECK(store->write(first, 7));
    proxy.refuse = false;
    // The repository retries its pending changes, with more behind them.
    auto retry = first;
    retry.push_back({make_alert("m1", "b", 2'000), 1});
    REQUIRE_FALSE(store->write(retry, 9));
    CHECK(count_of("a") == 1);
    CHECK(count_of("b") == 1);
    CHECK(*store->applied_through() == 9);
  }
  SECTION("the old session still runs its commit: the retry waits for it") {
    // A deferred trigger holds the commit until the test lets it go.
    const std::string held = "4243, hashtext(current_schema()) & 2147483647";
    argus::test::pg_session holder{schema.dsn()};
    holder.exec("SELECT pg_advisory_lock(" + held + ")");
    schema.exec("CREATE FUNCTION held_commit() RETURNS trigger"
                " LANGUAGE plpgsql AS $$ BEGIN"
                " PERFORM pg_advisory_xact_lock_shared(" +
                held +
                "); RETURN NULL; END $$;"
                " CREATE CONSTRAINT TRIGGER held_commit AFTER INSERT OR UPDATE"
                " ON alerts DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
                " WHEN (NEW.dedup_key = 'a') EXECUTE FUNCTION held_commit()");
    proxy.cut_after("COMMIT");
    std::vector<alert_write> first{{make_alert("m1", "a", 1'000), 1}};
    REQUIRE(store->write(first, 7));
    // Let go well after the store stops asking whether it committed (about
    // a second): a build that then writes the batch again counts it twice.
    std::thread release{[&] {
      std::this_thread::sleep_for(std::chrono::milliseconds{1500});
      holder.exec("SELECT pg_advisory_unlock(" + held + ")");
    }};
    auto retry = first;
    retry.push_back({make_alert("m1", "b", 2'000), 1});
    auto err = store->write(retry, 9);
    release.join();
    if (err) {
      CHECK(argus::code_of(err) == argus::ec::unavailable);
      REQUIRE_FALSE(store->write(retry, 9));
    }
    CHECK(count_of("a") == 1);
    CHECK(count_of("b") == 1);
    CHECK(*store->applied_through() == 9);
  }
}

TEST_CASE("storage: auto-resolve fields read back (issue 13)",
          "[unit][auto_resolve]") {
  EACH_BACKEND();
  auto a = make_alert("m1", "idle", 1'700'000'000'123);
  a.auto_resolve_at = from_millis(1'700'000'600'123);
  write(store, a, 1);
  auto found = must(store.by_dedup_key("m1", "idle"));
  REQUIRE(found.size() == 1);
  CHECK(found[0].auto_resolve_at == a.auto_resolve_at);
  CHECK(found[0].resolved_by == argus::domain::resolution::none);
  a.status = argus::domain::alert_status::resolved;
  a.resolved_at = a.auto_resolve_at;
  a.resolved_by = argus::domain::resolution::automatic;
  a.auto_resolve_at = no_time;
  write(store, a, 0);
  found = must(store.by_dedup_key("m1", "idle"));
  REQUIRE(found.size() == 1);
  CHECK(found[0].resolved_by == argus::domain::resolution::automatic);
  CHECK(found[0].auto_resolve_at == no_time);

  argus::domain::grouping_rule rule;
  rule.id = "r1";
  rule.name = "by host";
  rule.grouping_key = "host";
  rule.time_window_seconds = 300;
  rule.auto_resolve_after_seconds = 3600;
  argus::domain::event_manager manager;
  manager.id = "m1";
  manager.name = "ops";
  manager.grouping_rule_id = "r1";
  manager.auto_resolve_after_seconds = 90;
  REQUIRE_FALSE(store.put(rule));
  REQUIRE_FALSE(store.put(manager));
  auto cat = store.load_catalog();
  REQUIRE(cat);
  CHECK(cat->rules.at("r1").auto_resolve_after_seconds == 3600);
  CHECK(cat->managers.at("m1").auto_resolve_after_seconds == 90);
  // An update that turns it off is stored too.
  manager.auto_resolve_after_seconds = 0;
  REQUIRE_FALSE(store.put(manager));
  cat = store.load_catalog();
  REQUIRE(cat);
  CHECK(cat->managers.at("m1").auto_resolve_after_seconds == 0);
}

TEST_CASE("storage: a manager's rate limit round-trips (issue 14)",
          "[unit][rate_limit]") {
  EACH_BACKEND();
  argus::domain::grouping_rule rule;
  rule.id = "r1";
  rule.name = "by host";
  rule.grouping_key = "host";
  rule.time_window_seconds = 300;
  argus::domain::event_manager manager;
  manager.id = "m1";
  manager.name = "ops";
  manager.grouping_rule_id = "r1";
  REQUIRE_FALSE(store.put(rule));
  REQUIRE_FALSE(store.put(manager));
  auto cat = store.load_catalog();
  REQUIRE(cat);
  CHECK_FALSE(cat->managers.at("m1").has_rate_limit);
  // A fractional rate reads back exactly.
  manager.has_rate_limit = true;
  manager.rate = {0.1, 3};
  REQUIRE_FALSE(store.put(manager));
  cat = store.load_catalog();
  REQUIRE(cat);
  CHECK(cat->managers.at("m1").has_rate_limit);
  CHECK(cat->managers.at("m1").rate == argus::domain::rate_limit{0.1, 3});
  // Explicitly unlimited is not the same as the node's default.
  manager.rate = {0, 0};
  REQUIRE_FALSE(store.put(manager));
  cat = store.load_catalog();
  REQUIRE(cat);
  CHECK(cat->managers.at("m1").has_rate_limit);
  CHECK(cat->managers.at("m1").rate.unlimited());
  // Back to the default.
  manager.has_rate_limit = false;
  manager.rate = {};
  REQUIRE_FALSE(store.put(manager));
  cat = store.load_catalog();
  REQUIRE(cat);
  CHECK_FALSE(cat->managers.at("m1").has_rate_limit);
}

TEST_CASE("storage: silences round-trip through the catalog", "[unit]") {
  EACH_BACKEND();
  argus::domain::silence s;
  s.id = "s1";
  s.matchers = {{"alertname", "Disk\nFull", false, true},
                {"severity", "crit.*", true, false}};
  s.event_manager_id = "m1";
  s.starts_at = from_millis(1'000);
  s.ends_at = from_millis(9'000);
  s.created_by = "alice";
  s.comment = "deploy";
  s.updated_at = from_millis(2'000);
  REQUIRE_FALSE(store.put(s));
  s.ends_at = from_millis(5'000); // expired: replaced, not added
  REQUIRE_FALSE(store.put(s));
  auto cat = store.load_catalog();
  REQUIRE(cat);
  REQUIRE(cat->silences.size() == 1);
  auto& back = cat->silences.at("s1");
  CHECK(back.event_manager_id == "m1");
  CHECK(back.starts_at == from_millis(1'000));
  CHECK(back.ends_at == from_millis(5'000));
  CHECK(back.created_by == "alice");
  CHECK(back.comment == "deploy");
  CHECK(back.updated_at == from_millis(2'000));
  REQUIRE(back.matchers.size() == 2);
  CHECK(back.matchers[0].value == "Disk\nFull");
  CHECK(back.matchers[1].is_regex);
  CHECK_FALSE(back.matchers[1].is_equal);
}

TEST_CASE("storage: schedules and inhibit rules round-trip through the "
          "catalog (issue 13)",
          "[unit]") {
  EACH_BACKEND();
  argus::domain::silence s;
  s.id = "w1";
  s.matchers = {{"service", "db", false, true}};
  s.starts_at = from_millis(1'000);
  s.ends_at = argus::domain::forever;
  s.created_by = "alice";
  s.comment = "weekly maintenance";
  s.updated_at = from_millis(2'000);
  s.recurrence.time_zone = "Europe/Berlin";
  s.recurrence.days = {"sat", "sun"};
  s.recurrence.start = "02:00";
  s.recurrence.duration_seconds = 7200;
  REQUIRE_FALSE(store.put(s));
  auto plain = s;
  plain.id = "s1";
  plain.recurrence = {};
  plain.ends_at = from_millis(9'000);
  REQUIRE_FALSE(store.put(plain));

  argus::domain::grouping_rule rule;
  rule.id = "r1";
  rule.name = "by host";
  rule.grouping_key = "host";
  rule.time_window_seconds = 60;
  REQUIRE_FALSE(store.put(rule));
  argus::domain::event_manager manager;
  manager.id = "m1";
  manager.name = "ops";
  manager.grouping_rule_id = "r1";
  manager.inhibit_rules = {{{{"severity", "high", false, true}},
                            {{"severity", "high", false, false},
                             {"labels.team", "a\\b\nc", true, true}},
                            {"cluster", "labels.env"}},
                           {{{"class", "outage", false, true}},
                            {{"class", "disk", false, true}},
                            {}}};
  REQUIRE_FALSE(store.put(manager));

  auto cat = store.load_catalog();
  REQUIRE(cat);
  auto& w = cat->silences.at("w1");
  CHECK(w.ends_at == argus::domain::forever);
  CHECK(w.recurrence.time_zone == "Europe/Berlin");
  CHECK(w.recurrence.days == std::vector<std::string>{"sat", "sun"});
  CHECK(w.recurrence.start == "02:00");
  CHECK(w.recurrence.duration_seconds == 7200);
  CHECK(cat->silences.at("s1").recurrence.empty());
  auto& rules = cat->managers.at("m1").inhibit_rules;
  REQUIRE(rules.size() == 2);
  CHECK(rules[0].source_matchers.size() == 1);
  REQUIRE(rules[0].target_matchers.size() == 2);
  CHECK_FALSE(rules[0].target_matchers[0].is_equal);
  CHECK(rules[0].target_matchers[1].value == "a\\b\nc");
  CHECK(rules[0].target_matchers[1].is_regex);
  CHECK(rules[0].equal == std::vector<std::string>{"cluster", "labels.env"});
  CHECK(rules[1].equal.empty());
  CHECK(rules[1].target_matchers[0].value == "disk");

  // A cron schedule replaces the days form; rules can be removed.
  s.recurrence.days.clear();
  s.recurrence.start.clear();
  s.recurrence.cron = "30 1 * * mon-fri";
  REQUIRE_FALSE(store.put(s));
  manager.inhibit_rules.clear();
  REQUIRE_FALSE(store.put(manager));
  cat = store.load_catalog();
  REQUIRE(cat);
  CHECK(cat->silences.at("w1").recurrence.cron == "30 1 * * mon-fri");
  CHECK(cat->silences.at("w1").recurrence.days.empty());
  CHECK(cat->managers.at("m1").inhibit_rules.empty());
}

TEST_CASE("storage: API keys round-trip through the catalog (issue 14)",
          "[unit]") {
  EACH_BACKEND();
  argus::domain::api_key k;
  k.id = "0a0b0c0d0e0f";
  k.prefix = "argus_0a0b0c0d0e0f_abcd";
  k.hash = std::string(64, 'e');
  k.key_role = argus::domain::role::ingest;
  k.managers = {"m1", "m\n2"};
  k.created_at = from_millis(1'000);
  k.expires_at = from_millis(9'000);
  k.created_by = "argusctl";
  REQUIRE_FALSE(store.put(k));
  k.revoked_at = from_millis(5'000); // revoking replaces
  REQUIRE_FALSE(store.put(k));
  auto cat = store.load_catalog();
  REQUIRE(cat);
  REQUIRE(cat->keys.size() == 1);
  auto& back = cat->keys.at(k.id);
  CHECK(back.prefix == k.prefix);
  CHECK(back.hash == k.hash);
  CHECK(back.key_role == argus::domain::role::ingest);
  CHECK(back.managers == k.managers);
  CHECK(back.created_at == from_millis(1'000));
  CHECK(back.expires_at == from_millis(9'000));
  CHECK(back.revoked_at == from_millis(5'000));
  CHECK(back.created_by == "argusctl");
  // No expiry and no revocation read back as unset.
  k.id = "other";
  k.key_role = argus::domain::role::admin;
  k.managers.clear();
  k.expires_at = k.revoked_at = argus::domain::no_time;
  REQUIRE_FALSE(store.put(k));
  cat = store.load_catalog();
  REQUIRE(cat);
  CHECK(cat->keys.at("other").expires_at == argus::domain::no_time);
  CHECK(cat->keys.at("other").revoked_at == argus::domain::no_time);
  CHECK(cat->keys.at("other").managers.empty());
}

namespace {

std::vector<argus::domain::audit_entry>
audit_of(argus::storage::store& store, const argus::domain::audit_filter& f) {
  auto x = store.audit(f);
  if (!x)
    FAIL("audit read failed: " << argus::message_of(x.error()));
  return std::move(*x);
}

} // namespace

TEST_CASE("storage: the audit log reads newest first, from a time, bounded "
          "(issue 14)",
          "[unit]") {
  EACH_BACKEND();
  for (int i = 1; i <= 5; ++i) {
    argus::domain::audit_entry e;
    e.id = "a" + std::to_string(i);
    e.at = from_millis(i * 1'000);
    e.actor = i % 2 ? "argusctl" : "0a0b0c0d0e0f";
    e.action = "create";
    e.kind = "rule";
    e.object_id = "r" + std::to_string(i);
    e.event_manager_id = i == 3 ? "m1" : "";
    REQUIRE_FALSE(store.append(e));
  }
  argus::domain::audit_filter f;
  auto all = audit_of(store, f);
  REQUIRE(all.size() == 5);
  CHECK(all[0].id == "a5");
  CHECK(all[4].id == "a1");
  CHECK(all[2].event_manager_id == "m1");
  CHECK(all[2].actor == "argusctl");
  CHECK(all[3].actor == "0a0b0c0d0e0f");
  CHECK(all[2].at == from_millis(3'000));
  CHECK(all[2].kind == "rule");
  CHECK(all[2].object_id == "r3");
  f.since = from_millis(3'000);
  auto recent = audit_of(store, f);
  REQUIRE(recent.size() == 3);
  CHECK(recent[2].id == "a3");
  f.limit = 2;
  recent = audit_of(store, f);
  REQUIRE(recent.size() == 2);
  CHECK(recent[0].id == "a5");
  CHECK(recent[1].id == "a4");
}
