// The WAL checkpointer: a journal mark counts as durable only once a
// checkpoint has copied every commit up to it into the synced database
// file, and the SQLite store trims no further than that.

#include "storage/sqlite_checkpointer.hpp"
#include "storage/store.hpp"

#include "domain/error.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using argus::storage::wal_checkpointer;

/// A database in WAL mode with one table, in a folder removed at the end.
struct wal_db {
  fs::path dir = fs::temp_directory_path() /
                 ("argus-checkpoint-test-" + argus::domain::random_uuid());
  std::string path = (dir / "test.db").string();
  sqlite3* writer = nullptr;

  wal_db() {
    fs::create_directories(dir);
    REQUIRE(sqlite3_open(path.c_str(), &writer) == SQLITE_OK);
    exec(writer, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
                 "CREATE TABLE t (x INTEGER);");
  }
  ~wal_db() {
    sqlite3_close(writer);
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  wal_db(const wal_db&) = delete;
  wal_db& operator=(const wal_db&) = delete;

  static void exec(sqlite3* db, const char* sql) {
    char* err = nullptr;
    auto rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    std::string why = err ? err : "";
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
    CHECK(why.empty());
  }

  void insert() { exec(writer, "INSERT INTO t VALUES (1)"); }

  /// The pages in `db`'s WAL (a PASSIVE checkpoint reports them).
  static int frames(sqlite3* db) {
    int in_log = -1;
    int copied = -1;
    REQUIRE(sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE,
                                      &in_log, &copied) == SQLITE_OK);
    return in_log;
  }
};

std::unique_ptr<wal_checkpointer> open_idle(const std::string& path) {
  // An hour between checkpoints: in these tests only checkpoint_now runs.
  auto cp = wal_checkpointer::open(path, std::chrono::hours{1});
  if (!cp)
    FAIL("open failed: " << argus::message_of(cp.error()));
  return std::move(*cp);
}

/// An Argus store in `db`'s folder (a file of its own).
std::unique_ptr<argus::storage::store> open_store_beside(const wal_db& db) {
  auto store =
      argus::storage::open_sqlite_store((db.dir / "argus.db").string());
  if (!store)
    FAIL("open failed: " << argus::message_of(store.error()));
  return std::move(*store);
}

/// Waits up to 10 s for `done`: not a timing check, a wait for a thread.
template <class Predicate>
void wait_for(Predicate done) {
  for (int i = 0; i < 1000 && !done(); ++i)
    std::this_thread::sleep_for(10ms);
}

} // namespace

TEST_CASE("checkpointer: a commit is durable once a checkpoint covers it",
          "[unit]") {
  wal_db db;
  auto cp = open_idle(db.path);
  CHECK(cp->durable_through() == 0);

  db.insert();
  cp->committed(7, 1); // a small WAL wakes no one
  CHECK(cp->durable_through() == 0);
  REQUIRE_FALSE(cp->checkpoint_now());
  CHECK(cp->durable_through() == 7);

  SECTION("a mark never moves back") {
    cp->committed(3, 1);
    REQUIRE_FALSE(cp->checkpoint_now());
    CHECK(cp->durable_through() == 7);
  }

  SECTION("not while a reader keeps part of the WAL from being copied") {
    sqlite3* reader = nullptr;
    REQUIRE(sqlite3_open(db.path.c_str(), &reader) == SQLITE_OK);
    // The reader's snapshot predates the next commit, whose pages the
    // checkpoint may then not copy: that commit is not yet in the file.
    wal_db::exec(reader, "BEGIN; SELECT count(*) FROM t;");
    db.insert();
    cp->committed(9, 2);
    REQUIRE_FALSE(cp->checkpoint_now());
    CHECK(cp->durable_through() == 7);

    wal_db::exec(reader, "COMMIT");
    sqlite3_close(reader);
    REQUIRE_FALSE(cp->checkpoint_now());
    CHECK(cp->durable_through() == 9);
  }
}

TEST_CASE("checkpointer: a large WAL wakes its thread", "[unit]") {
  wal_db db;
  auto cp = open_idle(db.path);
  db.insert();
  cp->committed(5, wal_checkpointer::wake_at_frames);
  wait_for([&] { return cp->durable_through() >= 5; });
  CHECK(cp->durable_through() == 5);
}

TEST_CASE("sqlite storage: the journal may be trimmed only through what a "
          "checkpoint made durable",
          "[unit]") {
  wal_db db; // for its folder
  auto store = open_store_beside(db);
  REQUIRE_FALSE(store->write({}, 12));
  // The store's checkpointer runs every second, so this takes about one.
  wait_for([&] { return store->durable_through(12) >= 12; });
  CHECK(store->durable_through(12) == 12);
  // Never past what the caller committed.
  CHECK(store->durable_through(10) == 10);
}

TEST_CASE("sqlite storage: the WAL stays bounded under steady writes",
          "[unit]") {
  wal_db db; // for its folder
  auto store = open_store_beside(db);
  auto wal = (db.dir / "argus.db-wal").string();
  // Each write adds a new alert: several pages (the row and its indexes),
  // 20,000 pages or more in all.
  uintmax_t largest = 0;
  for (int i = 0; i < 4000; ++i) {
    argus::domain::alert a;
    a.dedup_key = "key-" + std::to_string(i);
    a.event_manager_id = "m1";
    a.id = argus::domain::alert_id_for("m1", a.dedup_key);
    REQUIRE_FALSE(store->write({argus::domain::alert_write{a, 1}}, i + 1));
    largest = std::max(largest, fs::file_size(wal));
  }
  // A page in the WAL is 4 KiB plus a 24-byte header. The writer empties
  // the file past writer_at_frames when no background checkpoint runs, and
  // at twice that in any case, after the transaction that went past it.
  auto bound = (2 * wal_checkpointer::writer_at_frames + 100) * (4096 + 24);
  CHECK(largest <= static_cast<uintmax_t>(bound));
  CHECK(largest > 0);
}

TEST_CASE("checkpointer: the writer restarts the WAL unless a reader holds it",
          "[unit]") {
  wal_db db;
  auto cp = open_idle(db.path);
  using result = wal_checkpointer::restart;
  sqlite3* reader = nullptr;
  REQUIRE(sqlite3_open(db.path.c_str(), &reader) == SQLITE_OK);
  db.insert();
  wal_db::exec(reader, "BEGIN; SELECT count(*) FROM t;");
  db.insert();
  cp->committed(4, 2);
  auto frames_before = wal_db::frames(db.writer);
  REQUIRE(frames_before >= 2);
  // The reader's snapshot needs the WAL: the writer gives up quickly.
  CHECK(cp->restart_log(db.writer, wal_checkpointer::writer_at_frames) ==
        result::reader_in_the_way);
  CHECK(cp->durable_through() == 0);
  db.insert();
  CHECK(wal_db::frames(db.writer) > frames_before); // it only grew

  wal_db::exec(reader, "COMMIT");
  sqlite3_close(reader);
  CHECK(cp->restart_log(db.writer, wal_checkpointer::writer_at_frames) ==
        result::started_over);
  CHECK(cp->durable_through() == 4);
  // The file keeps its size (no cost to cut it); the next commit writes
  // from its start.
  auto size = fs::file_size(db.path + "-wal");
  CHECK(size > 0);
  db.insert();
  CHECK(wal_db::frames(db.writer) == 1);
  CHECK(fs::file_size(db.path + "-wal") == size);
}

TEST_CASE("checkpointer: a database not in WAL mode is refused", "[unit]") {
  wal_db db;
  auto other = (db.dir / "rollback.db").string();
  sqlite3* plain = nullptr;
  REQUIRE(sqlite3_open(other.c_str(), &plain) == SQLITE_OK);
  wal_db::exec(plain, "CREATE TABLE t (x INTEGER);");
  sqlite3_close(plain);
  auto cp = wal_checkpointer::open(other, std::chrono::hours{1});
  REQUIRE_FALSE(cp);
  CHECK_THAT(argus::message_of(cp.error()),
             Catch::Contains(other) && Catch::Contains("not in WAL mode"));
}
