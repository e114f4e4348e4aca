// The storage contract, run against every backend: the repository actor must
// not be able to tell them apart.

#include "actors/storage.hpp"

#include "domain/error.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

using argus::actors::storage;
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

std::unique_ptr<storage> open_or_fail(const std::string& path) {
  auto store = argus::actors::open_sqlite_storage(path);
  if (!store)
    FAIL("open failed: " << argus::message_of(store.error()));
  return std::move(*store);
}

/// One backend under test; sqlite lives in its own temp folder.
struct backend {
  explicit backend(const std::string& kind) {
    if (kind == "memory")
      store = argus::actors::make_memory_storage();
    else
      store = open_or_fail(dir.db());
    REQUIRE(store->backend() == kind);
  }

  temp_dir dir;
  std::unique_ptr<storage> store;
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

void write(storage& store, const alert& a, int64_t delta = 1) {
  REQUIRE_FALSE(store.write({alert_write{a, delta}}));
}

std::vector<alert> must(caf::expected<std::vector<alert>> x) {
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

argus::domain::alert_filter all() {
  argus::domain::alert_filter f;
  f.limit = 1000;
  return f;
}

#define EACH_BACKEND()                                                         \
  auto kind = GENERATE(as<std::string>{}, "memory", "sqlite");                 \
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
  auto expected = next;
  expected.id = first.id;
  expected.created_at = first.created_at;
  check_same(rows[0], expected);
  CHECK(rows[0].event_count == 5);
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
  write(store, make_alert("m1", "a", 3'000));
  write(store, make_alert("m1", "b", 5'000, alert_status::resolved));
  write(store, make_alert("m1", "c", 5'000, alert_status::active,
                          alert_type::child, "a"));
  write(store, make_alert("m2", "a", 4'000, alert_status::resolved,
                          alert_type::child, "x"));
  write(store, make_alert("m2", "d", 1'000));
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

std::vector<std::string> index_names(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::vector<std::string> result;
  if (sqlite3_prepare_v2(db,
                         "SELECT name FROM sqlite_master WHERE type = 'index'"
                         " AND sql IS NOT NULL",
                         -1, &stmt, nullptr) == SQLITE_OK)
    while (sqlite3_step(stmt) == SQLITE_ROW)
      result.emplace_back(
          reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

void fill(storage& store) {
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

void check_filled(storage& store) {
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
  // without the indexes.
  std::string downgrade = "PRAGMA user_version = 1;";
  for (auto& name : index_names(dir.db()))
    downgrade += "DROP INDEX \"" + name + "\";";
  exec_raw(dir.db(), downgrade);
  REQUIRE(query_int(dir.db(), count_indexes) == 0);
  {
    auto store = open_or_fail(dir.db());
    check_filled(*store);
  }
  CHECK(query_int(dir.db(), "PRAGMA user_version") == latest);
  CHECK(query_int(dir.db(), count_indexes) == indexes);
}

TEST_CASE("sqlite storage: a file from a newer schema is refused", "[unit]") {
  temp_dir dir;
  open_or_fail(dir.db());
  exec_raw(dir.db(), "PRAGMA user_version = 999;");
  auto store = argus::actors::open_sqlite_storage(dir.db());
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
    auto store = argus::actors::open_sqlite_storage(path);
    REQUIRE_FALSE(store);
    CHECK(argus::code_of(store.error()) == argus::ec::internal);
    CHECK_THAT(argus::message_of(store.error()), Catch::Contains(path));
  }
  SECTION("the path is a folder") {
    auto path = dir.path.string();
    auto store = argus::actors::open_sqlite_storage(path);
    REQUIRE_FALSE(store);
    CHECK_THAT(argus::message_of(store.error()), Catch::Contains(path));
  }
  SECTION("the file is not a database") {
    auto path = (dir.path / "garbage.db").string();
    std::ofstream{path} << std::string(4096, 'x');
    auto store = argus::actors::open_sqlite_storage(path);
    REQUIRE_FALSE(store);
    CHECK_THAT(argus::message_of(store.error()), Catch::Contains(path));
  }
}
