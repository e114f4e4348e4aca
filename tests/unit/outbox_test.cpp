// The outbox contract on the memory outbox and on the SQLite file the
// storage migrates (the worker's own connection): fan-out, pending order,
// updates, listings and the stored forms.

#include "delivery/outbox.hpp"
#include "delivery/sql_outbox.hpp"
#include "domain/error.hpp"
#include "storage/store.hpp"
#include "support/postgres.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <random>

namespace {

using namespace std::chrono_literals;
using namespace argus::domain;
using argus::delivery::delivery_filter;
using argus::delivery::envelope;
using argus::delivery::outbox;

const time_point t0 = from_millis(1'800'000'000'000);

envelope opened(const std::string& dedup) {
  envelope e;
  e.kind = notification_kind::parent_opened;
  e.at = t0;
  alert parent;
  parent.id = alert_id_for("m", dedup);
  parent.dedup_key = dedup;
  parent.event_manager_id = "m";
  parent.summary = "down";
  parent.has_grouping_value = true;
  parent.grouping_value = "db";
  parent.created_at = t0;
  parent.details = R"({"host":"a"})";
  e.parent = std::move(parent);
  e.notification_id = notification_id_for(e.parent->id, e.kind, e.at, 1);
  return e;
}

/// An SQLite file migrated by the store, with `es` in its notifications
/// table as the store's write puts them there.
struct sqlite_file {
  std::filesystem::path dir;
  std::string path;

  explicit sqlite_file(const std::vector<envelope>& es) {
    dir = std::filesystem::temp_directory_path() /
          ("argus-outbox-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    path = (dir / "argus.db").string();
    REQUIRE(argus::storage::open_sqlite_store(path));
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    for (auto& e : es) {
      sqlite3_stmt* s = nullptr;
      sqlite3_prepare_v2(db,
                         "INSERT INTO notifications (id, event_manager_id,"
                         " body) VALUES (?, ?, ?)",
                         -1, &s, nullptr);
      auto body = argus::delivery::to_stored(e);
      sqlite3_bind_text(s, 1, e.notification_id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(s, 2, "m", -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(s, 3, body.c_str(), -1, SQLITE_TRANSIENT);
      REQUIRE(sqlite3_step(s) == SQLITE_DONE);
      sqlite3_finalize(s);
    }
    sqlite3_close(db);
  }

  ~sqlite_file() { std::filesystem::remove_all(dir); }
};

void check_contract(outbox& box, const std::vector<envelope>& es) {
  auto entries = box.unfanned(10);
  REQUIRE(entries);
  REQUIRE(entries->size() == 2);
  CHECK((*entries)[0]->seq < (*entries)[1]->seq);
  CHECK((*entries)[0]->env.notification_id == es[0].notification_id);
  CHECK((*entries)[0]->env.parent->details == R"({"host":"a"})");
  CHECK((*entries)[0]->event_manager_id == "m");
  std::vector<delivery> rows;
  for (auto& entry : *entries)
    for (auto name : {"b", "a"}) {
      auto d = make_delivery(entry->env.notification_id, name, "m", "v:db",
                             entry->env.kind, t0);
      d.seq = entry->seq;
      rows.push_back(d);
    }
  REQUIRE_FALSE(
      box.fan_out({es[0].notification_id, es[1].notification_id}, rows));
  CHECK(box.unfanned(10)->empty());
  auto pending = box.pending(10);
  REQUIRE(pending);
  REQUIRE(pending->size() == 4);
  CHECK((*pending)[0].receiver == "a"); // seq order, then receiver
  CHECK((*pending)[0].notification_id == es[0].notification_id);
  CHECK((*pending)[3].notification_id == es[1].notification_id);
  CHECK(box.pending(3)->size() == 3);

  auto d = (*pending)[0];
  d.state = delivery_state::failed;
  d.attempts = 3;
  d.last_error = "HTTP 503 (gave up after 3 attempts)";
  d.updated_at = t0 + 1s;
  REQUIRE_FALSE(box.update({d}));
  CHECK(box.pending(10)->size() == 3);
  delivery_filter failed;
  failed.state = "failed";
  auto listed = box.list(failed);
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().last_error == d.last_error);
  CHECK(listed->front().attempts == 3);
  CHECK(listed->front().updated_at == t0 + 1s);
  CHECK(listed->front().group == "v:db");
  delivery_filter by_receiver;
  by_receiver.receiver = "b";
  auto bs = box.list(by_receiver);
  REQUIRE(bs->size() == 2);
  CHECK(bs->front().notification_id == es[1].notification_id); // newest first
  CHECK(box.deliveries_of(es[0].notification_id)->size() == 2);
  auto entry = box.entry(es[1].notification_id);
  REQUIRE(entry);
  CHECK(entry->env.parent->dedup_key == "db-2");
  CHECK(argus::code_of(box.entry("nope").error()) == argus::ec::not_found);
}

/// Keys with a NUL byte, which SQLite's JSON functions cut short, and with
/// a 0x01 byte, which PostgreSQL's reading of a body with NUL stands in for.
const std::string nul_key{"db-\0nul", 7};
const std::string one_key{"db-\1one", 7};
const std::string nul_resolved_key{"db-\0nul-resolved", 16};
const std::string nul_reopened_key{"db-\0nul-reopened", 16};
/// A key holding the text "\u0001" (a backslash, then "u0001"), which
/// PostgreSQL's reading of a body alters too.
const std::string text_key{"db-\\u0001text"};
const std::string text_resolved_key{"db-\\u0001text-resolved"};

/// Notifications as the tests for held openings need them: openings of
/// db-1 and db-4 suppressed (held), of db-2 pending, of db-3 suppressed and
/// released since, a suppressed resolution of db-1, suppressed openings of
/// db-5 (resolved since) and db-6 (reopened since: the store's alert is
/// another one), suppressed openings of the keys with a NUL or a 0x01
/// byte (the first two active, the last resolved since), of db-7
/// (resolved since, a NUL byte in its summary), of a NUL key reopened since
/// and of keys with the text "\u0001" (active, and resolved since).
std::vector<envelope> held_case() {
  auto resolved = opened("db-1");
  resolved.kind = notification_kind::parent_resolved;
  resolved.notification_id =
      notification_id_for(resolved.parent->id, resolved.kind, t0, 2);
  auto release = opened("db-3");
  release.notification_id =
      argus::delivery::released_id(release.notification_id);
  // A NUL byte in a held opening's body ("\u0000"), which PostgreSQL's
  // JSON functions refuse.
  auto nul = opened("db-4");
  nul.parent.edit().summary = std::string{"down\0hard", 9};
  auto nul_resolved = opened("db-7");
  nul_resolved.parent.edit().summary = std::string{"down\0hard", 9};
  return {opened("db-1"),
          opened("db-2"),
          resolved,
          opened("db-3"),
          release,
          nul,
          opened("db-5"),
          opened("db-6"),
          opened(nul_key),
          opened(one_key),
          opened(nul_resolved_key),
          nul_resolved,
          opened(nul_reopened_key),
          opened(text_key),
          opened(text_resolved_key)};
}

/// The alerts of `held_case()` as the store has them now.
void store_parents(argus::storage::store& store,
                   const std::vector<envelope>& es) {
  std::vector<alert_write> writes;
  for (auto i : {0, 1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}) {
    auto a = *es[i].parent;
    if (a.dedup_key == "db-5" || a.dedup_key == nul_resolved_key ||
        a.dedup_key == "db-7" || a.dedup_key == text_resolved_key)
      a.status = alert_status::resolved;
    if (a.dedup_key == "db-6" || a.dedup_key == nul_reopened_key)
      a.id = alert_id_for("m", "db-6 again");
    writes.emplace_back(std::move(a), 1);
  }
  REQUIRE_FALSE(store.write(writes));
}

/// Fans `held_case()` out to two receivers each and checks which openings
/// the outbox says are held: with `parents_checked`, those whose parent is
/// the active alert of its dedupKey in the store only.
void check_held(outbox& box, const std::vector<envelope>& es,
                bool parents_checked) {
  auto entries = box.unfanned(100);
  REQUIRE(entries);
  REQUIRE(entries->size() == es.size());
  std::vector<std::string> ids;
  std::vector<delivery> rows;
  for (auto& entry : *entries) {
    ids.push_back(entry->env.notification_id);
    auto key = entry->env.parent->dedup_key.str();
    auto muted =
        entry->env.notification_id != es[4].notification_id && key != "db-2";
    for (auto name : {"b", "a"}) {
      auto d = make_delivery(entry->env.notification_id, name, "m", "v:db",
                             entry->env.kind, t0);
      d.seq = entry->seq;
      if (muted)
        suppress(d, {"s1"}, {});
      rows.push_back(d);
    }
  }
  REQUIRE_FALSE(box.fan_out(ids, rows));
  auto held = box.held_openings();
  REQUIRE(held);
  std::vector<std::string> keys; // newest first, once each (two receivers)
  for (auto& entry : *held)
    keys.push_back(entry.env.parent->dedup_key.str());
  if (parents_checked)
    CHECK(keys ==
          std::vector<std::string>{text_key, one_key, nul_key, "db-4", "db-1"});
  else
    CHECK(keys == std::vector<std::string>{text_resolved_key, text_key,
                                           nul_reopened_key, "db-7",
                                           nul_resolved_key, one_key, nul_key,
                                           "db-6", "db-5", "db-4", "db-1"});
  REQUIRE_FALSE(held->empty());
  CHECK(held->back().env.notification_id == es[0].notification_id);
  CHECK(held->back().event_manager_id == "m");
}

} // namespace

TEST_CASE("the memory outbox keeps the contract", "[unit][delivery]") {
  std::vector<envelope> es{opened("db-1"), opened("db-2")};
  argus::delivery::memory_outbox box;
  box.add("m", es[0]);
  box.add("m", es[1]);
  box.add("m", es[0]); // a replay stores it once
  check_contract(box, es);
}

TEST_CASE("the SQLite outbox keeps the contract", "[unit][delivery]") {
  std::vector<envelope> es{opened("db-1"), opened("db-2")};
  sqlite_file file{es};
  auto box = argus::delivery::open_sqlite_outbox(file.path);
  REQUIRE(box);
  check_contract(**box, es);
}

TEST_CASE("the memory outbox finds the held openings", "[unit][delivery]") {
  auto es = held_case();
  argus::delivery::memory_outbox box;
  for (auto& e : es)
    box.add("m", e);
  check_held(box, es, false);
}

TEST_CASE("the SQLite outbox finds the held openings", "[unit][delivery]") {
  auto es = held_case();
  sqlite_file file{es};
  auto store = argus::storage::open_sqlite_store(file.path);
  REQUIRE(store);
  store_parents(**store, es);
  auto box = argus::delivery::open_sqlite_outbox(file.path);
  REQUIRE(box);
  check_held(**box, es, true);
}

TEST_CASE("the PostgreSQL outbox finds the held openings", "[unit][delivery]") {
  if (argus::test::pg_base_dsn().empty())
    return; // no test server: ctest's "postgres" fixture runs this
  argus::test::pg_schema schema;
  auto store = argus::storage::open_postgres_store(schema.dsn());
  REQUIRE(store);
  auto es = held_case();
  for (auto& e : es)
    schema.exec("INSERT INTO notifications (id, event_manager_id, body)"
                " VALUES ('" +
                e.notification_id + "', 'm', $body$" +
                argus::delivery::to_stored(e) + "$body$)");
  store_parents(**store, es);
  auto box = (*store)->open_outbox("");
  REQUIRE(box);
  check_held(**box, es, true);
}

TEST_CASE("the SQLite outbox finds every held opening, past any page",
          "[unit][delivery]") {
  // The worker used to read the newest 100,000 suppressed deliveries: a
  // restart in a long silence lost the openings held before those.
  constexpr int held = 100'001;
  auto e = opened("db-1");
  sqlite_file file{{}};
  std::vector<alert_write> parents;
  for (int i = 1; i <= held; ++i) {
    auto a = *e.parent;
    a.dedup_key = "db-" + std::to_string(i);
    a.id = alert_id_for("m", a.dedup_key.view());
    parents.emplace_back(std::move(a), 1);
  }
  {
    auto store = argus::storage::open_sqlite_store(file.path);
    REQUIRE(store);
    REQUIRE_FALSE((*store)->write(parents));
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.path.c_str(), &db) == SQLITE_OK);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* note = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO notifications (id, event_manager_id, body)"
                     " VALUES (?, 'm', ?)",
                     -1, &note, nullptr);
  sqlite3_stmt* row = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO deliveries VALUES (?, 'ops', 'm', 'v:db',"
                     " 'parent_opened', ?, 'suppressed', 0, 'silenced by s1',"
                     " 0, 0, 0)",
                     -1, &row, nullptr);
  for (int i = 1; i <= held; ++i) {
    e.parent = parents[i - 1].snapshot;
    e.notification_id = "n-" + std::to_string(i);
    auto body = argus::delivery::to_stored(e);
    sqlite3_bind_text(note, 1, e.notification_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(note, 2, body.c_str(), -1, SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(note) == SQLITE_DONE);
    sqlite3_reset(note);
    sqlite3_bind_text(row, 1, e.notification_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(row, 2, i); // the seq the insert above took
    REQUIRE(sqlite3_step(row) == SQLITE_DONE);
    sqlite3_reset(row);
  }
  sqlite3_finalize(note);
  sqlite3_finalize(row);
  REQUIRE(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto box = argus::delivery::open_sqlite_outbox(file.path);
  REQUIRE(box);
  auto found = (*box)->held_openings();
  REQUIRE(found);
  REQUIRE(found->size() == static_cast<size_t>(held));
  CHECK(found->front().env.parent->dedup_key == "db-100001");
  CHECK(found->back().env.parent->dedup_key == "db-1");
}

TEST_CASE("a stored envelope reads back", "[unit][delivery]") {
  auto e = opened("db-1");
  e.kind = notification_kind::child_added;
  e.child = e.parent;
  e.child.edit().dedup_key = "db-9";
  e.active_children = 4;
  auto back =
      argus::delivery::envelope_from_stored(argus::delivery::to_stored(e));
  REQUIRE(back);
  CHECK(back->notification_id == e.notification_id);
  CHECK(back->kind == notification_kind::child_added);
  CHECK(back->at == t0);
  CHECK(back->child->dedup_key == "db-9");
  CHECK(back->active_children == 4);
  CHECK(back->parent->grouping_value == "db");
  CHECK_FALSE(argus::delivery::envelope_from_stored("[]"));
  CHECK_FALSE(argus::delivery::receivers_from_stored("{}"));
}

TEST_CASE("the memory outbox drops the oldest settled notifications past its "
          "bound, never pending ones",
          "[unit][delivery]") {
  argus::delivery::memory_outbox box{2};
  auto add_fanned = [&](const std::string& key, bool settle) {
    auto e = opened(key);
    box.add("m", e);
    auto row = argus::domain::make_delivery(e.notification_id, "ops", "m", "db",
                                            e.kind, t0);
    REQUIRE_FALSE(box.fan_out({e.notification_id}, {row}));
    if (settle) {
      row.state = argus::domain::delivery_state::delivered;
      REQUIRE_FALSE(box.update({row}));
    }
    return e.notification_id;
  };
  auto first = add_fanned("a", true);
  auto waiting = add_fanned("b", false);
  add_fanned("c", true);
  auto last = add_fanned("d", true);
  // Past the bound the settled "a" went; the pending "b" stays.
  CHECK_FALSE(box.entry(first));
  CHECK(box.entry(waiting));
  // Its delivery rows went with it; the others' rows stay, one each.
  auto rows_of = [&](const std::string& id) {
    auto rows = box.deliveries_of(id);
    REQUIRE(rows);
    return rows->size();
  };
  CHECK(rows_of(first) == 0);
  CHECK(rows_of(waiting) == 1);
  CHECK(rows_of(last) == 1);
  // The rows share seq 0 (none was given one): "b"'s stays pending
  // whatever became of the others'.
  auto pending = box.pending(10);
  REQUIRE(pending);
  REQUIRE(pending->size() == 1);
  CHECK(pending->front().notification_id == waiting);
  auto latest = box.latest(10);
  REQUIRE(latest);
  CHECK(latest->size() <= 3);
}

TEST_CASE("the memory outbox prunes settled entries past its bound",
          "[unit][delivery]") {
  argus::delivery::memory_outbox box{2};
  std::vector<envelope> es;
  auto add = [&](int i) {
    es.push_back(opened("db-" + std::to_string(i)));
    box.add("m", es.back());
  };
  auto kept = [&] {
    std::vector<std::string> keys;
    // Held by name: ranging over `*box.latest(100)` would read a destroyed
    // temporary.
    auto latest = box.latest(100);
    REQUIRE(latest);
    for (auto& entry : *latest)
      keys.push_back(entry.env.parent->dedup_key.str());
    return keys;
  };
  for (int i = 0; i < 5; ++i)
    add(i);
  // Nothing is fanned out yet, so nothing may go.
  CHECK(kept().size() == 5);
  // Fanned out to no receiver: settled, so they go at once, down to the
  // bound (not at the next add: after a burst that may be long in coming).
  REQUIRE_FALSE(box.fan_out(
      {es[0].notification_id, es[1].notification_id, es[2].notification_id},
      {}));
  CHECK(kept() == std::vector<std::string>{"db-4", "db-3"});
  add(5);
  CHECK(kept() == std::vector<std::string>{"db-5", "db-4", "db-3"});
  // Adds alone settle nothing: the kept ones stay.
  add(6);
  CHECK(kept().size() == 4);
  // A later fan-out settles an older entry: it goes with the fan-out.
  REQUIRE_FALSE(box.fan_out({es[3].notification_id}, {}));
  CHECK(kept() == std::vector<std::string>{"db-6", "db-5", "db-4"});
  add(7);
  CHECK(kept() == std::vector<std::string>{"db-7", "db-6", "db-5", "db-4"});
}

TEST_CASE("the memory outbox keeps an entry whose delivery became pending "
          "again",
          "[unit][delivery]") {
  argus::delivery::memory_outbox box{1};
  auto a = opened("a");
  box.add("m", a);
  auto row = argus::domain::make_delivery(a.notification_id, "ops", "m", "db",
                                          a.kind, t0);
  REQUIRE_FALSE(box.fan_out({a.notification_id}, {row}));
  row.state = argus::domain::delivery_state::failed;
  REQUIRE_FALSE(box.update({row}));
  // A manual retry makes the failed delivery pending: no longer settled.
  REQUIRE_FALSE(box.revive(a.notification_id, "", t0 + 1s));
  box.add("m", opened("b"));
  box.add("m", opened("c"));
  CHECK(box.entry(a.notification_id));
  // Delivered now: settled again, and past the bound, so it goes.
  row.state = argus::domain::delivery_state::delivered;
  REQUIRE_FALSE(box.update({row}));
  CHECK_FALSE(box.entry(a.notification_id));
  box.add("m", opened("d"));
  auto latest = box.latest(10);
  REQUIRE(latest);
  CHECK(latest->size() == 3); // b, c and d: not fanned out, all kept
}

TEST_CASE("the memory outbox hands out what is not fanned out, in any order "
          "of fan-outs",
          "[unit][delivery]") {
  argus::delivery::memory_outbox box{1};
  std::vector<envelope> es;
  for (int i = 0; i < 4; ++i) {
    es.push_back(opened("db-" + std::to_string(i)));
    box.add("m", es.back());
  }
  auto unfanned_keys = [&] {
    auto entries = box.unfanned(10);
    REQUIRE(entries);
    std::vector<std::string> keys;
    for (auto& entry : *entries)
      keys.push_back(entry->env.parent->dedup_key.str());
    return keys;
  };
  REQUIRE_FALSE(box.fan_out({es[2].notification_id}, {}));
  CHECK(unfanned_keys() == std::vector<std::string>{"db-0", "db-1", "db-3"});
  REQUIRE_FALSE(box.fan_out({es[0].notification_id}, {}));
  CHECK(unfanned_keys() == std::vector<std::string>{"db-1", "db-3"});
  CHECK(box.unfanned(1)->size() == 1);
  // Past the bound of one, the settled ones went; the others stay.
  CHECK_FALSE(box.entry(es[0].notification_id));
  CHECK_FALSE(box.entry(es[2].notification_id));
  CHECK(box.entry(es[1].notification_id));
  REQUIRE_FALSE(
      box.fan_out({es[1].notification_id, es[3].notification_id}, {}));
  CHECK(unfanned_keys().empty());
  // The newest stays, down to the bound; a new one is handed out.
  auto latest = box.latest(10);
  REQUIRE(latest);
  REQUIRE(latest->size() == 1);
  CHECK(latest->front().env.parent->dedup_key == "db-3");
  es.push_back(opened("db-4"));
  box.add("m", es.back());
  CHECK(unfanned_keys() == std::vector<std::string>{"db-4"});
}

TEST_CASE("the memory outbox's pending deliveries follow every change of "
          "state, fan-out and prune",
          "[unit][delivery]") {
  // `pending` reads an index kept beside the rows; `list` walks every row.
  // Random fan-outs, updates, retries and prunes must leave them agreeing.
  argus::delivery::memory_outbox box{3};
  std::mt19937 rng{20261206};
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const delivery_state states[] = {
      delivery_state::pending, delivery_state::delivered,
      delivery_state::failed, delivery_state::suppressed};
  std::vector<std::string> ids;
  auto from_rows = [&] {
    delivery_filter f;
    f.state = "pending";
    f.limit = -1;
    auto rows = box.list(f);
    REQUIRE(rows);
    std::sort(rows->begin(), rows->end(), [](auto& a, auto& b) {
      return a.seq != b.seq ? a.seq < b.seq : a.receiver < b.receiver;
    });
    return *rows;
  };
  size_t most = 0;
  for (int step = 0; step < 2000; ++step) {
    auto op = pick(4);
    if (op == 0 || ids.empty()) {
      auto e = opened("db-" + std::to_string(step));
      box.add("m", e);
      auto entries = box.unfanned(10);
      REQUIRE(entries);
      std::vector<delivery> rows;
      std::vector<std::string> fanned;
      for (auto& entry : *entries) {
        fanned.push_back(entry->env.notification_id);
        for (auto receiver : {"ops", "dev"}) {
          if (pick(3) == 0)
            continue;
          auto d = make_delivery(entry->env.notification_id, receiver, "m",
                                 "v:db", entry->env.kind, t0);
          d.seq = entry->seq;
          d.state = states[pick(4)];
          rows.push_back(d);
        }
      }
      REQUIRE_FALSE(box.fan_out(fanned, rows));
      ids.push_back(e.notification_id);
    } else if (op == 3) {
      (void)box.revive(ids[pick(static_cast<int>(ids.size()))], "", t0);
    } else {
      auto rows = box.deliveries_of(ids[pick(static_cast<int>(ids.size()))]);
      REQUIRE(rows);
      for (auto& d : *rows)
        d.state = states[pick(4)];
      REQUIRE_FALSE(box.update(*rows));
    }
    auto pending = box.pending(1000);
    REQUIRE(pending);
    auto expected = from_rows();
    REQUIRE(pending->size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      CHECK(pending->at(i).notification_id == expected[i].notification_id);
      CHECK(pending->at(i).receiver == expected[i].receiver);
    }
    if (expected.size() > 2) {
      auto first_two = box.pending(2);
      REQUIRE(first_two);
      REQUIRE(first_two->size() == 2);
      CHECK(first_two->at(1).notification_id == expected[1].notification_id);
      CHECK(first_two->at(1).receiver == expected[1].receiver);
    }
    most = std::max(most, expected.size());
  }
  CHECK(most > 3); // the run had pending rows to compare
}
