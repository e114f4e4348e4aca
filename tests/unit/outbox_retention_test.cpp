// Retention of the SQL outboxes: a notification older than the retention
// leaves the outbox with its deliveries once its group is closed, unless
// something is left to deliver. Run on SQLite and, with a test server,
// PostgreSQL.

#include "delivery/outbox.hpp"
#include "domain/error.hpp"
#include "storage/store.hpp"
#include "support/postgres.hpp"

#include <catch2/catch.hpp>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <random>
#include <thread>

namespace {

using namespace std::chrono_literals;
using namespace argus::domain;
using argus::storage::store;

const time_point t0 = from_millis(1'800'000'000'000);
const time_point cutoff = t0 + 10s;

/// The backends with an SQL outbox: SQLite in a temp folder, and
/// PostgreSQL in a schema of its own when there is a test server.
std::vector<std::string> sql_backends() {
  std::vector<std::string> result{"sqlite"};
  if (!argus::test::pg_base_dsn().empty())
    result.emplace_back("postgres");
  return result;
}

struct sql_backend {
  explicit sql_backend(const std::string& kind) {
    if (kind == "postgres") {
      schema = std::make_unique<argus::test::pg_schema>();
      auto opened = argus::storage::open_postgres_store(schema->dsn());
      REQUIRE(opened);
      db = std::move(*opened);
    } else {
      dir =
          std::filesystem::temp_directory_path() /
          ("argus-outbox-retention-" + std::to_string(std::random_device{}()));
      auto opened = argus::storage::open_sqlite_store((dir / "a.db").string());
      REQUIRE(opened);
      db = std::move(*opened);
    }
    auto opened = db->open_outbox("");
    REQUIRE(opened);
    box = std::move(*opened);
  }
  ~sql_backend() {
    box.reset();
    db.reset();
    if (!dir.empty())
      std::filesystem::remove_all(dir);
  }

  std::filesystem::path dir;
  std::unique_ptr<argus::test::pg_schema> schema;
  std::unique_ptr<store> db;
  std::shared_ptr<argus::delivery::outbox> box;
};

/// A parent alert of manager "m", resolved 2 s after t0 unless `active`.
alert parent(const std::string& key, bool active = false) {
  alert a;
  a.id = alert_id_for("m", key);
  a.dedup_key = key;
  a.event_manager_id = "m";
  a.summary = "down";
  a.class_name = "disk";
  a.status = active ? alert_status::active : alert_status::resolved;
  a.created_at = t0;
  a.updated_at = t0 + 2s;
  if (!active)
    a.resolved_at = t0 + 2s;
  return a;
}

notification note(const alert& p, notification_kind kind, time_point at) {
  notification n;
  n.kind = kind;
  n.parent = p;
  n.at = at;
  n.id = notification_id_for(p.id, kind, at, 1);
  return n;
}

/// Calls `drop_notifications` from the start of the outbox until the pass
/// ends, `at_most` per call; the notifications dropped in all.
size_t drop_pass(store& db, size_t at_most) {
  size_t total = 0;
  uint64_t after = 0;
  for (int calls = 0; calls < 100; ++calls) {
    auto dropped = db.drop_notifications(cutoff, after, at_most);
    if (!dropped)
      FAIL(argus::message_of(dropped.error()));
    total += dropped->notifications;
    CHECK(dropped->last_seq >= after);
    after = dropped->last_seq;
    if (!dropped->more)
      return total;
  }
  FAIL("drop_notifications kept saying there was more");
  return total;
}

void set_state(argus::delivery::outbox& box, const std::string& id,
               delivery_state state) {
  auto rows = box.deliveries_of(id);
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  auto row = rows->front();
  row.state = state;
  REQUIRE_FALSE(box.update({row}));
}

} // namespace

TEST_CASE("SQL outboxes: a notification goes once it is older than the "
          "retention, its group closed and nothing is left to deliver",
          "[unit][delivery]") {
  auto kind = GENERATE(from_range(sql_backends()));
  auto at_most = GENERATE(size_t{1}, size_t{1000});
  INFO("backend " << kind << ", at most " << at_most << " per call");
  sql_backend b{kind};
  auto gone = parent("gone");
  // A NUL byte in its body ("\u0000"), which PostgreSQL's JSON functions
  // refuse to read.
  gone.summary = std::string{"down\0hard", 9};
  auto open = parent("open", true);
  auto waiting = parent("waiting");
  auto unfanned = parent("unfanned");
  // Keys with a NUL byte, which SQLite's JSON functions cut short, and
  // with a 0x01 byte, which PostgreSQL's reading of a body with NUL stands
  // in for: looked up as the body has them.
  auto nul = parent(std::string{"nul\0key", 7});
  auto nul_open = parent(std::string{"nul\0open", 8}, true);
  auto one = parent(std::string{"one\1key", 7});
  auto one_open = parent(std::string{"one\1open", 8}, true);
  // Its key's row is another alert now (stored under another id): its
  // opening's parent is not the active alert of the key.
  auto nul_reopened = parent(std::string{"nul\0reopened", 12});
  auto nul_reopened_now = parent(nul_reopened.dedup_key.str(), true);
  nul_reopened_now.id = alert_id_for("m", "another");
  // Keys holding the text "\u0000" or "\u0001" (a backslash, then
  // "u0000"), which PostgreSQL's reading of bodies alters too.
  auto text_open = parent("text\\u0000open", true);
  auto text_gone = parent("text\\u0001gone");
  // Resolved after the cutoff: the alert stays, its old opening goes.
  auto recent = parent("recent");
  recent.resolved_at = cutoff + 5s;
  // Triggered again since its old opening (same row, same id): while it
  // is active its notifications stay.
  auto flap = parent("flap", true);
  std::vector<notification> notes{
      note(gone, notification_kind::parent_opened, t0),
      note(gone, notification_kind::parent_resolved, t0 + 2s),
      note(open, notification_kind::parent_opened, t0),
      note(waiting, notification_kind::parent_opened, t0),
      note(waiting, notification_kind::parent_resolved, t0 + 2s),
      note(unfanned, notification_kind::parent_opened, t0),
      note(nul, notification_kind::parent_opened, t0),
      note(recent, notification_kind::parent_opened, t0),
      note(flap, notification_kind::parent_opened, t0),
      note(nul_open, notification_kind::parent_opened, t0),
      note(one, notification_kind::parent_opened, t0),
      note(one_open, notification_kind::parent_opened, t0),
      note(nul_reopened, notification_kind::parent_opened, t0),
      note(text_open, notification_kind::parent_opened, t0),
      note(text_gone, notification_kind::parent_opened, t0),
      // Made after the cutoff (its parent is not stored: the pass stops
      // before looking it up).
      note(parent("later"), notification_kind::parent_opened, cutoff + 1s),
  };
  std::vector<alert_write> writes;
  for (auto* a :
       {&gone, &open, &waiting, &unfanned, &nul, &recent, &flap, &nul_open,
        &one, &one_open, &nul_reopened_now, &text_open, &text_gone})
    writes.emplace_back(*a, 1);
  REQUIRE_FALSE(b.db->write(writes, notes, 0));

  // Fanned out to one receiver each, but for "unfanned"; delivered, but
  // for a failed one (settled too) and "waiting"'s pending resolution.
  auto entries = b.box->unfanned(100);
  REQUIRE(entries);
  REQUIRE(entries->size() == notes.size());
  std::vector<std::string> ids;
  std::vector<delivery> rows;
  for (auto& entry : *entries) {
    if (entry->env.notification_id == notes[5].id)
      continue;
    ids.push_back(entry->env.notification_id);
    auto row = make_delivery(entry->env.notification_id, "ops", "m", "v:db",
                             entry->env.kind, t0);
    row.seq = entry->seq;
    row.state = delivery_state::delivered;
    if (entry->env.notification_id == notes[1].id)
      row.state = delivery_state::failed;
    if (entry->env.notification_id == notes[4].id)
      row.state = delivery_state::pending;
    rows.push_back(row);
  }
  REQUIRE_FALSE(b.box->fan_out(ids, rows));

  CHECK(drop_pass(*b.db, at_most) == 8);
  auto stored = [&](const notification& n) {
    return static_cast<bool>(b.box->entry(n.id));
  };
  // "gone"'s two, with their deliveries, "waiting"'s delivered opening,
  // "recent"'s opening, those of the resolved keys with a NUL, a 0x01 or a
  // "\u0001" text and that of the key whose row is another alert went.
  for (auto i : {0, 1, 3, 6, 7, 10, 12, 14}) {
    INFO("notification " << i);
    CHECK_FALSE(stored(notes[i]));
  }
  CHECK(argus::code_of(b.box->entry(notes[0].id).error()) ==
        argus::ec::not_found);
  CHECK(b.box->deliveries_of(notes[0].id)->empty());
  CHECK(b.box->deliveries_of(notes[1].id)->empty());
  // An open group's, a pending one, one not fanned out, the re-triggered
  // key's, the open keys' with a NUL, a 0x01 or a "\u0000" text, and the
  // one made after the cutoff stay.
  for (auto i : {2, 4, 5, 8, 9, 11, 13, 15}) {
    INFO("notification " << i);
    CHECK(stored(notes[i]));
  }
  CHECK(b.box->deliveries_of(notes[2].id)->size() == 1);
  CHECK(b.box->pending(10)->size() == 1);
  auto latest = b.box->latest(100);
  REQUIRE(latest);
  CHECK(latest->size() == 8);
  // Deleting the alerts changes nothing more.
  auto alerts = b.db->drop_resolved(cutoff, 1000);
  REQUIRE(alerts);
  // gone, waiting, unfanned, nul, one, text_gone
  CHECK(alerts->alerts == 6);
  CHECK(drop_pass(*b.db, at_most) == 0);

  // Once delivered, the pending one goes in the next pass; once resolved,
  // the re-triggered key's old opening goes.
  set_state(*b.box, notes[4].id, delivery_state::delivered);
  CHECK(drop_pass(*b.db, at_most) == 1);
  CHECK_FALSE(stored(notes[4]));
  auto flap_resolved = flap;
  flap_resolved.status = alert_status::resolved;
  flap_resolved.resolved_at = cutoff + 5s;
  REQUIRE_FALSE(b.db->write({alert_write{flap_resolved, 0}}));
  CHECK(drop_pass(*b.db, at_most) == 1);
  CHECK_FALSE(stored(notes[8]));
  CHECK(drop_pass(*b.db, at_most) == 0);
}

TEST_CASE("memory storage: the outbox is bounded on its own and "
          "drop_notifications deletes nothing",
          "[unit][delivery]") {
  auto db = argus::storage::make_memory_store();
  auto p = parent("gone");
  REQUIRE_FALSE(db->write({alert_write{p, 1}},
                          {note(p, notification_kind::parent_opened, t0)}, 0));
  REQUIRE(db->drop_resolved(cutoff, 1000)->alerts == 1);
  auto dropped = db->drop_notifications(cutoff, 7, 1000);
  REQUIRE(dropped);
  CHECK(dropped->notifications == 0);
  CHECK(dropped->last_seq == 7);
  CHECK_FALSE(dropped->more);
}

namespace {

/// Stores `p` with its notification `n` (the only one not fanned out yet)
/// and fans it out to `receivers`, each delivery in `state`.
void store_fanned_out(sql_backend& b, const alert& p, const notification& n,
                      delivery_state state,
                      const std::vector<std::string>& receivers = {"ops"}) {
  REQUIRE_FALSE(b.db->write({alert_write{p, 1}}, {n}, 0));
  auto entries = b.box->unfanned(10);
  REQUIRE(entries);
  REQUIRE(entries->size() == 1);
  std::vector<delivery> rows;
  for (auto& receiver : receivers) {
    auto row = make_delivery(n.id, receiver, "m", "v:db", n.kind, t0);
    row.seq = entries->front()->seq;
    row.state = state;
    rows.push_back(row);
  }
  REQUIRE_FALSE(b.box->fan_out({n.id}, rows));
}

/// A resolved parent's opening, fanned out to `receivers`, each delivery
/// failed for good: what retention deletes and a manual retry revives.
const notification& dead_letter(sql_backend& b,
                                const std::vector<std::string>& receivers = {
                                    "ops"}) {
  static const auto gone = parent("gone");
  static const auto opening = note(gone, notification_kind::parent_opened, t0);
  store_fanned_out(b, gone, opening, delivery_state::failed, receivers);
  return opening;
}

/// An outbox that runs `before_update` ahead of each update, to put a
/// retention pass between a retry's read and its write.
class racing_outbox : public argus::delivery::outbox {
public:
  racing_outbox(argus::delivery::outbox& inner,
                std::function<void()> before_update)
      : inner_(inner), before_update_(std::move(before_update)) {}

  caf::expected<std::vector<argus::delivery::shared_entry>>
  unfanned(size_t limit) override {
    return inner_.unfanned(limit);
  }
  caf::error fan_out(const std::vector<std::string>& ids,
                     const std::vector<delivery>& rows) override {
    return inner_.fan_out(ids, rows);
  }
  caf::expected<std::vector<delivery>> pending(size_t limit) override {
    return inner_.pending(limit);
  }
  caf::error update(const std::vector<delivery>& rows) override {
    before_update_();
    return inner_.update(rows);
  }
  caf::expected<argus::delivery::outbox_entry>
  entry(const std::string& id) override {
    return inner_.entry(id);
  }
  caf::expected<std::vector<delivery>>
  list(const argus::delivery::delivery_filter& f) override {
    return inner_.list(f);
  }
  caf::expected<std::vector<delivery>>
  deliveries_of(const std::string& id) override {
    return inner_.deliveries_of(id);
  }
  caf::expected<std::vector<argus::delivery::outbox_entry>>
  latest(size_t limit) override {
    return inner_.latest(limit);
  }

private:
  argus::delivery::outbox& inner_;
  std::function<void()> before_update_;
};

} // namespace

TEST_CASE("SQL outboxes: a retry of a notification retention deleted "
          "meanwhile says it is not found",
          "[unit][delivery]") {
  auto kind = GENERATE(from_range(sql_backends()));
  INFO("backend " << kind);
  sql_backend b{kind};
  auto& opening = dead_letter(b);
  racing_outbox racing{*b.box, [&] { CHECK(drop_pass(*b.db, 1000) == 1); }};
  auto err = racing.revive(opening.id, "", cutoff);
  REQUIRE(err);
  CHECK(argus::code_of(err) == argus::ec::not_found);
  CHECK(argus::message_of(err).find("deleted") != std::string::npos);
  CHECK(b.box->pending(10)->empty());
  // Without the race, a retry revives it, and retention leaves it alone.
  sql_backend again{kind};
  auto& kept = dead_letter(again);
  REQUIRE_FALSE(again.box->revive(kept.id, "", cutoff));
  CHECK(drop_pass(*again.db, 1000) == 0);
  CHECK(again.box->pending(10)->size() == 1);
}

TEST_CASE("PostgreSQL outbox retention: a delivery made pending while a step "
          "deletes stays, with its notification and its other deliveries",
          "[unit][delivery]") {
  if (argus::test::pg_base_dsn().empty())
    return; // no test server: ctest's "postgres" fixture runs this
  sql_backend b{"postgres"};
  auto& opening = dead_letter(b, {"dev", "ops"});
  // A retry's write to one receiver, not committed yet: the step reads
  // the deliveries as failed, and its delete waits for the row.
  std::unique_ptr<PGconn, decltype(&PQfinish)> retry{
      PQconnectdb(b.schema->dsn().c_str()), &PQfinish};
  REQUIRE(PQstatus(retry.get()) == CONNECTION_OK);
  auto exec = [&](const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> r{
        PQexec(retry.get(), sql.c_str()), &PQclear};
    REQUIRE(PQresultStatus(r.get()) == PGRES_COMMAND_OK);
  };
  exec("BEGIN");
  exec("UPDATE deliveries SET state = 'pending' WHERE notification_id = '" +
       opening.id + "' AND receiver = 'ops'");
  caf::expected<argus::storage::store::dropped_notifications> step{
      caf::error{}};
  std::thread retention{
      [&] { step = b.db->drop_notifications(cutoff, 0, 1000); }};
  // Until the step waits for the retry's row lock: a step that came after
  // the commit would read the delivery as pending and keep it anyway, and
  // so would not test the wait.
  auto waits_for_retry = "SELECT count(*) FROM pg_stat_activity WHERE " +
                         std::to_string(PQbackendPID(retry.get())) +
                         " = ANY(pg_blocking_pids(pid))";
  bool waited = false;
  for (int i = 0; i < 1000 && !waited; ++i) {
    waited = b.schema->query_int(waits_for_retry) > 0;
    if (!waited)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  exec("COMMIT");
  CHECK(waited);
  retention.join();
  REQUIRE(step);
  CHECK(step->notifications == 0);
  CHECK(b.box->entry(opening.id));
  auto pending = b.box->pending(10);
  REQUIRE(pending);
  CHECK(pending->size() == 1);
  // The failed delivery to "dev" stays too: the listing shows the whole
  // notification as long as it is kept.
  auto rows = b.box->deliveries_of(opening.id);
  REQUIRE(rows);
  CHECK(rows->size() == 2);
}

TEST_CASE("SQL outboxes: a body retention cannot read keeps its "
          "notification, and the pass goes on past it",
          "[unit][delivery]") {
  auto kind = GENERATE(from_range(sql_backends()));
  INFO("backend " << kind);
  sql_backend b{kind};
  auto& opening = dead_letter(b); // goes
  // Made before the cutoff, fanned out, its parent key with a NUL byte
  // (so looked up from the body), and a kind this build does not know (a
  // newer node's, say): the body does not read.
  auto body =
      std::string{R"({"notification_id":"odd","kind":"paged","at_ms":)"} +
      std::to_string(to_millis(t0)) +
      R"(,"parent":{"id":"x","dedup_key":"odd\u0000key"}})";
  auto insert = "INSERT INTO notifications (id, event_manager_id, body,"
                " fanned_out) VALUES ('odd', 'm', '" +
                body + "', " + (kind == "postgres" ? "true" : "1") + ")";
  auto odd_ones = [&] {
    constexpr const char* count =
        "SELECT count(*) FROM notifications WHERE id = 'odd'";
    if (b.schema)
      return b.schema->query_int(count);
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((b.dir / "a.db").string().c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, count, -1, &s, nullptr);
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  };
  if (b.schema) {
    b.schema->exec(insert);
  } else {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((b.dir / "a.db").string().c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr) ==
          SQLITE_OK);
    sqlite3_close(db);
  }
  REQUIRE(odd_ones() == 1);
  auto later = parent("later-gone");
  auto later_note = note(later, notification_kind::parent_opened, t0);
  store_fanned_out(b, later, later_note, delivery_state::delivered);

  CHECK(drop_pass(*b.db, 1000) == 2);
  CHECK_FALSE(b.box->entry(opening.id));
  CHECK_FALSE(b.box->entry(later_note.id));
  CHECK(odd_ones() == 1);
}

TEST_CASE("PostgreSQL outbox retention: two nodes deleting the same "
          "notifications at once both succeed, and each goes once",
          "[unit][delivery]") {
  if (argus::test::pg_base_dsn().empty())
    return; // no test server: ctest's "postgres" fixture runs this
  sql_backend b{"postgres"};
  constexpr int count = 3000;
  std::vector<alert_write> writes;
  std::vector<notification> notes;
  for (int i = 0; i < count; ++i) {
    auto p = parent("gone-" + std::to_string(i));
    notes.push_back(note(p, notification_kind::parent_opened, t0));
    writes.emplace_back(std::move(p), 1);
  }
  REQUIRE_FALSE(b.db->write(writes, notes, 0));
  auto entries = b.box->unfanned(count);
  REQUIRE(entries);
  REQUIRE(entries->size() == static_cast<size_t>(count));
  std::vector<std::string> ids;
  std::vector<delivery> rows;
  for (auto& entry : *entries) {
    ids.push_back(entry->env.notification_id);
    for (auto receiver : {"ops", "dev"}) {
      auto row = make_delivery(entry->env.notification_id, receiver, "m",
                               "v:db", entry->env.kind, t0);
      row.seq = entry->seq;
      row.state = delivery_state::delivered;
      rows.push_back(row);
    }
  }
  REQUIRE_FALSE(b.box->fan_out(ids, rows));
  // The other node: its own connection to the same tables.
  auto other = argus::storage::open_postgres_store(b.schema->dsn());
  REQUIRE(other);
  auto pass = [](store& db, size_t& dropped, std::string& failure) {
    uint64_t after = 0;
    for (;;) {
      auto step = db.drop_notifications(cutoff, after, 100);
      if (!step) {
        failure = argus::message_of(step.error());
        return;
      }
      dropped += step->notifications;
      after = step->last_seq;
      if (!step->more)
        return;
    }
  };
  size_t here = 0;
  size_t there = 0;
  std::string here_failed;
  std::string there_failed;
  std::thread node{[&] { pass(**other, there, there_failed); }};
  pass(*b.db, here, here_failed);
  node.join();
  CHECK(here_failed.empty());
  CHECK(there_failed.empty());
  // Each went once. Where the two took a notification's deliveries
  // between them, neither deleted it (each had seen one left): the next
  // pass does.
  CHECK(here + there <= static_cast<size_t>(count));
  CHECK(drop_pass(*b.db, 1000) == count - here - there);
  CHECK(b.schema->query_int("SELECT count(*) FROM notifications") == 0);
  CHECK(b.schema->query_int("SELECT count(*) FROM deliveries") == 0);
}
